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

#[tokio::test]
async fn unreadable_data_keeps_the_service_unready_and_says_why() {
    use market_svc::config::ServeConfig;
    use market_svc::startup;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("broken.csv");
    std::fs::write(&data, "date,symbol,close\n2020-01-01,AAA,abc\n").unwrap();
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data,
        bars: dir.join("none.csv"),
        store: None,
        refit_every: 20,
        token: None,
        log_format: svc_kit::telemetry::LogFormat::Text,
        request_timeout_secs: 30,
        body_limit: 1024,
        distributed: Default::default(),
        budget: Default::default(),
    };
    let app = startup::build(&config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    assert_eq!(
        reqwest::get(format!("{base}/health"))
            .await
            .unwrap()
            .status(),
        200
    );
    for _ in 0..200 {
        let r = reqwest::get(format!("{base}/ready")).await.unwrap();
        let p = crate::helpers::assert_problem(r, 503, None).await;
        let detail = p["detail"].as_str().unwrap().to_string();
        if detail.contains("cannot load") {
            assert!(
                detail.contains("broken.csv") && detail.contains("'close'"),
                "{detail}"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the load error never showed on /ready");
}
