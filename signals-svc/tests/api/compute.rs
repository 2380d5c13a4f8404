use serde_json::json;

use crate::helpers::{assert_problem, path, spawn_app};

#[tokio::test]
async fn computes_aligned_arrays_matching_the_core() {
    let app = spawn_app().await;
    let close = path(300, 9);
    let r = app
        .post(
            "/v1/signals/compute",
            json!({"close": close, "rsi_period": 14, "bb_period": 20, "bb_k": 2}),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    for key in [
        "rsi",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "percent_b",
        "bandwidth",
        "signal",
        "reasons",
    ] {
        assert_eq!(v[key].as_array().unwrap().len(), 300, "{key}");
    }
    assert!(v["rsi"][13].is_null() && v["rsi"][14].is_number());
    assert!(v["bb_upper"][18].is_null() && v["bb_upper"][19].is_number());
    let core = indicators::rsi(&close, 14).unwrap();
    assert_eq!(
        v["rsi"][100].as_f64().unwrap().to_bits(),
        core.get(100).unwrap().to_bits()
    );
}

#[tokio::test]
async fn compute_errors() {
    let app = spawn_app().await;
    let close = path(100, 1);
    assert_problem(
        app.post(
            "/v1/signals/compute",
            json!({"close": close, "rsi_period": 1}),
            None,
        )
        .await,
        400,
        Some("rsi_period"),
    )
    .await;
    assert_problem(
        app.post(
            "/v1/signals/compute",
            json!({"close": close, "bb_k": 0}),
            None,
        )
        .await,
        400,
        Some("bb_k"),
    )
    .await;
    assert_problem(
        app.post("/v1/signals/compute", json!({"close": []}), None)
            .await,
        422,
        Some("close"),
    )
    .await;
    assert_problem(
        app.post("/v1/signals/compute", json!({"close": [1.0, -2.0]}), None)
            .await,
        422,
        Some("close[1]"),
    )
    .await;
    assert_problem(
        app.post(
            "/v1/signals/compute",
            json!({"close": [1.0, 2.0], "timestamps": ["a"]}),
            None,
        )
        .await,
        422,
        Some("timestamps"),
    )
    .await;
    assert_problem(
        app.post("/v1/signals/compute", json!({"closes": [1.0]}), None)
            .await,
        422,
        None,
    )
    .await;
    let big = json!({"close": vec![100.123_456_789_012_34; 20_000]});
    assert_problem(app.post("/v1/signals/compute", big, None).await, 413, None).await;
}
