use garch_core::{ModelSpec, simulate};
use serde_json::json;

use crate::helpers::{assert_problem, spawn_with};
use crate::support::param_names;

fn returns(n: usize) -> Vec<f64> {
    simulate(ModelSpec::default(), &[0.05, 0.02, 0.08, 0.9], n, 77)
        .unwrap()
        .returns
}

fn prices(n: usize) -> Vec<f64> {
    let mut p = 100.0;
    std::iter::once(100.0)
        .chain(returns(n).into_iter().map(|r| {
            p *= (r / 100.0).exp();
            p
        }))
        .collect()
}

#[tokio::test]
async fn fits_posted_prices_returns_and_csv() {
    // No token configured: posted fits are open.
    let app = spawn_with(None).await;
    let r = app
        .post_json(
            "/v1/volatility/fit",
            json!({"prices": prices(400), "model": "gjr", "horizon": 3}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["report"]["nobs"], 400);
    assert_eq!(v["forecast"]["steps"].as_array().unwrap().len(), 3);
    assert!(v["symbol"].is_null());

    let dates: Vec<String> = (0..400).map(|i| format!("d{i:04}")).collect();
    let r = app
        .post_json(
            "/v1/volatility/fit",
            json!({"returns": returns(400), "dates": dates, "mean": "zero", "dist": "t"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data_through"], "d0399");
    assert_eq!(v["report"]["params"][0]["name"], "omega");

    let mut csv = String::from("date,close\n");
    for (i, p) in prices(300).iter().enumerate() {
        csv.push_str(&format!("2020-{i:04},{p}\n"));
    }
    let r = app
        .client
        .post(format!(
            "{}/v1/volatility/fit?model=egarch&horizon=2",
            app.base
        ))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["report"]["spec"]["volatility"]["kind"], "egarch");
}

#[tokio::test]
async fn posted_series_errors() {
    // No token configured: posted fits are open.
    let app = spawn_with(None).await;
    // The query is checked for JSON bodies too (it used to be ignored, so ?model=AAA passed).
    assert_problem(
        app.post_json(
            "/v1/volatility/fit?model=AAA",
            json!({"returns": ([0.5, -0.4, 0.3, -0.2, 0.1].repeat(60))}),
        )
        .await,
        400,
        Some("model"),
    )
    .await;
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({"returns": [0.1, -0.2, 0.3]}))
            .await,
        422,
        Some("returns"),
    )
    .await;
    let mut p = prices(300);
    p[3] = -1.0;
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({"prices": p}))
            .await,
        422,
        Some("prices[3]"),
    )
    .await;
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({"returns": vec![0.5; 300]}))
            .await,
        422,
        Some("returns"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/volatility/fit",
            json!({"prices": prices(300), "returns": returns(300)}),
        )
        .await,
        400,
        Some("returns"),
    )
    .await;
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({})).await,
        400,
        Some("prices"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/volatility/fit",
            json!({"returns": returns(300), "model": "x"}),
        )
        .await,
        400,
        Some("model"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/volatility/fit",
            json!({"returns": returns(300), "horizon": 0}),
        )
        .await,
        400,
        Some("horizon"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/volatility/fit",
            json!({"returns": returns(300), "colour": 1}),
        )
        .await,
        400,
        Some("colour"),
    )
    .await;
    assert_problem(
        app.post_json("/v1/volatility/fit", json!({"returns": "abc"}))
            .await,
        400,
        None,
    )
    .await;
    let r = app
        .client
        .post(format!("{}/v1/volatility/fit", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, Some("body")).await;
    let r = app
        .client
        .post(format!("{}/v1/volatility/fit", app.base))
        .header("content-type", "text/plain")
        .body("1,2")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, Some("content-type")).await;
    let r = app
        .client
        .post(format!("{}/v1/volatility/fit", app.base))
        .header("content-type", "text/csv")
        .body("date,close\n1,abc\n")
        .send()
        .await
        .unwrap();
    assert_problem(r, 422, Some("prices[0]")).await;
    // Over the 64 KiB limit of the test app.
    let big = json!({"returns": vec![0.123_456_789_012_345; 20_000]});
    assert_problem(
        app.post_json("/v1/volatility/fit", big).await,
        413,
        Some("body"),
    )
    .await;
}

#[tokio::test]
async fn posted_fit_with_an_ar_mean() {
    let app = spawn_with(None).await;
    let r = app
        .post_json(
            "/v1/volatility/fit",
            json!({"returns": returns(400), "mean": "ar", "lags": 2, "horizon": 3}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["report"]["nobs"], 398);
    let names = param_names(&v["report"]);
    assert_eq!(names[..3], ["Const", "y[1]", "y[2]"]);
    assert!(v["forecast"]["steps"][0]["mean"].as_f64().is_some());
    // From the query string, case-insensitive.
    let r = app
        .post_json(
            "/v1/volatility/fit?mean=AR&lags=1",
            json!({"returns": returns(300)}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["report"]["params"][1]["name"], "y[1]");
    for (path, body, field) in [
        (
            "/v1/volatility/fit",
            json!({"returns": returns(300), "mean": "ar"}),
            "lags",
        ),
        (
            "/v1/volatility/fit",
            json!({"returns": returns(300), "mean": "ar", "lags": 0}),
            "lags",
        ),
        (
            "/v1/volatility/fit",
            json!({"returns": returns(300), "mean": "ar", "lags": 11}),
            "lags",
        ),
        (
            "/v1/volatility/fit",
            json!({"returns": returns(300), "lags": 2}),
            "lags",
        ),
        (
            "/v1/volatility/fit?lags=2&mean=zero",
            json!({"returns": returns(300)}),
            "lags",
        ),
        (
            "/v1/volatility/fit?mean=ar&lags=99",
            json!({"returns": returns(300)}),
            "lags",
        ),
        (
            "/v1/volatility/fit",
            json!({"returns": returns(300), "mean": "ar(2)"}),
            "mean",
        ),
    ] {
        assert_problem(app.post_json(path, body).await, 400, Some(field)).await;
    }
}
