use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_with};

#[tokio::test]
async fn refits_sequentially_and_in_parallel() {
    let app = spawn_app().await;
    for mode in ["sequential", "parallel"] {
        let r = app.post_json("/v1/fits", json!({"mode": mode})).await;
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["mode"], mode);
        let s = v["symbols"].as_array().unwrap();
        assert_eq!(s.len(), 2);
        assert!(
            s.iter()
                .all(|x| x["ok"] == true && x["seconds"].as_f64().unwrap() > 0.0)
        );
        assert!(v["fits_per_second"].as_f64().unwrap() > 0.0);
    }
    let p = assert_problem(
        app.post_json("/v1/fits", json!({"mode": "distributed"}))
            .await,
        503,
        Some("mode"),
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("NATS"));
    assert!(p["detail"].as_str().unwrap().contains("--nats"));
    assert_problem(
        app.post_json("/v1/fits", json!({"mode": "quantum"})).await,
        422,
        None,
    )
    .await;
    assert_problem(
        app.post_json("/v1/fits", json!({})).await,
        422,
        Some("mode"),
    )
    .await;
}

#[tokio::test]
async fn reload_needs_a_configured_token() {
    let app = spawn_with(None).await;
    let url = format!("{}/v1/data/reload", app.base);
    assert_problem(app.client.post(&url).send().await.unwrap(), 403, None).await;
    // An empty token is no token: "Bearer " must not pass.
    let app = spawn_with(Some(String::new())).await;
    let url = format!("{}/v1/data/reload", app.base);
    let r = app
        .client
        .post(&url)
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;
}

#[tokio::test]
async fn reload_swaps_the_data_atomically() {
    let app = spawn_app().await;
    let url = format!("{}/v1/data/reload", app.base);
    let r = app.client.post(&url).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_problem(r, 401, Some("authorization")).await;
    assert_problem(
        app.client
            .post(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap(),
        401,
        Some("authorization"),
    )
    .await;

    // Drop BBB from the file and reload: the new snapshot has one symbol.
    let text = std::fs::read_to_string(&app.data).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains(",BBB,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&app.data, kept).unwrap();
    let r = app
        .client
        .post(&url)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["symbols"], 1);
    assert_problem(
        app.get("/v1/assets/BBB/volatility").await,
        404,
        Some("symbol"),
    )
    .await;
    assert_eq!(app.get("/v1/assets/AAA/volatility").await.status(), 200);

    // A broken file: the reload fails, the old data stays.
    std::fs::write(&app.data, "date,symbol,close\n2020-01-01,AAA,abc\n").unwrap();
    assert_problem(
        app.client
            .post(&url)
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap(),
        422,
        Some("data"),
    )
    .await;
    assert_eq!(app.get("/v1/assets/AAA/volatility").await.status(), 200);
}
