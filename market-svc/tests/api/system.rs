use crate::helpers::spawn_app;

#[tokio::test]
async fn health_ready_metrics_openapi() {
    let app = spawn_app().await;
    let h: serde_json::Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(h["status"], "ok");
    let r = app.get("/ready").await;
    assert_eq!(r.status(), 200);
    let r: serde_json::Value = r.json().await.unwrap();
    assert_eq!(r["symbols"], 2);
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("CCC"),
        "the short symbol is reported: {warnings}"
    );

    let _ = app.get("/v1/assets").await;
    let m = app.get("/metrics").await.text().await.unwrap();
    assert!(
        m.contains("http_requests_total{method=\"GET\",route=\"/v1/assets\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(m.contains("garch_fits_total 2"), "{m}");
    assert!(m.contains("garch_fit_duration_seconds_count 2"), "{m}");

    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/ready",
        "/v1/assets",
        "/v1/assets/{symbol}/volatility",
        "/v1/assets/{symbol}/history",
        "/v1/volatility",
        "/v1/volatility/fit",
        "/v1/fits",
        "/v1/data/reload",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["FitReport"].is_object());
}

#[tokio::test]
async fn unknown_route_is_a_problem() {
    let app = spawn_app().await;
    crate::helpers::assert_problem(app.get("/v2/nothing").await, 404, None).await;
}
