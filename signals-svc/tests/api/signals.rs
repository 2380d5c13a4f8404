use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn system_endpoints() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").await.status(), 200);
    let r: serde_json::Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(r["symbols"], 2);
    let _ = app.get("/v1/signals").await;
    let m = app.get("/metrics").await.text().await.unwrap();
    assert!(m.contains("route=\"/v1/signals\""), "{m}");
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    for p in [
        "/v1/assets",
        "/v1/assets/{symbol}/signals",
        "/v1/signals",
        "/v1/signals/compute",
        "/v1/assets/{symbol}/bars",
        "/v1/stream",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
}

#[tokio::test]
async fn assets_and_signals() {
    let app = spawn_app().await;
    let a: serde_json::Value = app.get("/v1/assets").await.json().await.unwrap();
    assert_eq!(a[0]["symbol"], "AAA");
    assert_eq!(a[0]["bars"], 156);
    assert_eq!(a[0]["first_timestamp"], "2024-01-02T14:30:00Z");

    let v: serde_json::Value = app
        .get("/v1/assets/AAA/signals?limit=50")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["interval"], "5m");
    let pts = &v["points"];
    assert_eq!(pts["close"].as_array().unwrap().len(), 50);
    assert_eq!(pts["rsi"].as_array().unwrap().len(), 50);
    let l = &v["latest"];
    let rsi = l["rsi"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&rsi));
    assert!(l["bb_lower"].as_f64().unwrap() <= l["bb_middle"].as_f64().unwrap());
    assert!(["long", "short", "flat"].contains(&l["signal"].as_str().unwrap()));
    assert!(l["reasons"].is_array());

    // Warm-up is null, not 0: with limit covering everything, the first RSI values are null.
    let v: serde_json::Value = app
        .get("/v1/assets/aaa/signals?limit=1000&interval=1h")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["points"]["close"].as_array().unwrap().len(),
        14,
        "2 sessions of 7 hourly bars"
    );
    assert!(v["points"]["rsi"][0].is_null());
    assert!(v["points"]["bb_upper"][0].is_null());
}

#[tokio::test]
async fn screener_sorts() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/signals?sort=rsi&order=desc")
        .await
        .json()
        .await
        .unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let r0 = rows[0]["rsi"].as_f64().unwrap();
    let r1 = rows[1]["rsi"].as_f64().unwrap();
    assert!(r0 >= r1);
    let v: serde_json::Value = app
        .get("/v1/signals?order=desc")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["rows"][0]["symbol"], "BBB");
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/assets/ZZZ/signals").await, 404, Some("symbol")).await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?rsi_period=1").await,
        400,
        Some("rsi_period"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?bb_period=1").await,
        400,
        Some("bb_period"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?bb_k=0").await,
        400,
        Some("bb_k"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?bb_k=-1").await,
        400,
        Some("bb_k"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?limit=0").await,
        400,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?limit=100000000").await,
        400,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?interval=2m").await,
        400,
        Some("interval"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?rsi_period=x").await,
        400,
        Some("rsi_period"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?oversold=80").await,
        400,
        Some("overbought"),
    )
    .await;
    assert_problem(app.get("/v1/signals?sort=volume").await, 400, Some("sort")).await;
    // Every route that publishes sort/order checks them (the per-asset route ignored them).
    assert_problem(
        app.get("/v1/assets/AAA/signals?sort=volume").await,
        400,
        Some("sort"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/signals?order=up").await,
        400,
        Some("order"),
    )
    .await;
    assert_problem(app.get("/v1/signals?order=up").await, 400, Some("order")).await;
}
