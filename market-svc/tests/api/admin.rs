use serde_json::json;

use crate::helpers::{
    assert_problem, spawn_app, spawn_with, spawn_with_body_limit, spawn_with_budget,
};

#[tokio::test]
async fn refits_sequentially_and_in_parallel() {
    // No token configured: refits are open (with one, see below).
    let app = spawn_with(None).await;
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

#[tokio::test]
async fn with_a_token_configured_refits_and_posted_fits_need_it() {
    let app = spawn_app().await; // token "s3cret"
    let body = json!({"mode": "sequential"});
    let refused = app.post_json("/v1/fits", body.clone()).await;
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_problem(refused, 401, Some("authorization")).await;
    // The token is checked before the body: no hint about the API without it.
    assert_problem(
        app.post_json("/v1/fits", json!({"mode": "quantum"})).await,
        401,
        Some("authorization"),
    )
    .await;
    assert_problem(
        app.post("/v1/fits", body.clone(), Some("wrong")).await,
        401,
        Some("authorization"),
    )
    .await;
    assert_eq!(
        app.post("/v1/fits", body, Some("s3cret")).await.status(),
        200
    );
    let series = json!({"returns": ([0.5, -0.4, 0.3, -0.2, 0.1].repeat(60))});
    assert_problem(
        app.post_json("/v1/volatility/fit", series.clone()).await,
        401,
        Some("authorization"),
    )
    .await;
    assert_eq!(
        app.post("/v1/volatility/fit", series, Some("s3cret"))
            .await
            .status(),
        200
    );
    // Reads stay open.
    assert_eq!(app.get("/v1/assets/AAA/volatility").await.status(), 200);
}

#[tokio::test]
async fn expensive_requests_beyond_the_budget_are_shed_with_retry_after() {
    // One running, none queued: of many concurrent heavy fits, some must be shed at once.
    let app = spawn_with_budget(1, 0).await;
    // EGARCH-t on 50,000 returns with a simulated 1,000-day forecast: about a second of CPU,
    // so the six requests overlap on any machine.
    let long: Vec<f64> = (0..50_000)
        .map(|i| ((i * 7919 % 1000) as f64 / 500.0 - 1.0) * (1.0 + (i % 17) as f64 / 10.0))
        .collect();
    let body = json!({"returns": long, "model": "egarch", "dist": "t", "horizon": 1000});
    let posts = (0..6).map(|_| app.post_json("/v1/volatility/fit", body.clone()));
    let responses = futures_util::future::join_all(posts).await;
    let (mut ok, mut shed) = (0, 0);
    for r in responses {
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(r.headers()["retry-after"], "1");
                let p = assert_problem(r, 503, None).await;
                assert_eq!(p["type"], "/problems/overloaded");
                shed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "the admitted request runs");
    assert!(shed >= 1, "requests beyond the budget are shed ({ok} ok)");
    // The budget is free again afterwards, and cached reads never took it.
    assert_eq!(app.get("/v1/assets/AAA/volatility").await.status(), 200);
    assert_eq!(
        app.post_json(
            "/v1/volatility/fit",
            json!({"returns": ([0.5, -0.4, 0.3].repeat(100))})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn posted_series_longer_than_the_documented_maximum_are_refused() {
    let app = spawn_with_body_limit(16 * 1024 * 1024).await;
    let too_long = vec![0.1; market_svc::routes::volatility::MAX_POSTED_OBSERVATIONS + 1];
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({"returns": too_long}))
            .await,
        400,
        Some("returns"),
    )
    .await;
}
