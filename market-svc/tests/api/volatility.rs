use crate::helpers::{assert_problem, iso_date, spawn_app};
use crate::support::param_names;

#[tokio::test]
async fn serves_a_cached_fit_and_forecast() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/assets/AAA/volatility")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["symbol"], "AAA");
    assert_eq!(v["data_through"], iso_date(700));
    assert_eq!(v["report"]["converged"], true);
    assert_eq!(v["report"]["nobs"], 700);
    let names = param_names(&v["report"]);
    assert_eq!(names, ["mu", "omega", "alpha", "beta"]);
    for key in [
        "log_likelihood",
        "aic",
        "bic",
        "persistence",
        "half_life_days",
        "annualized_volatility",
    ] {
        assert!(v["report"][key].is_number(), "{key}");
    }
    let steps = v["forecast"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 10);
    for key in ["variance", "volatility", "annualized_volatility"] {
        assert!(steps[0][key].as_f64().unwrap() > 0.0);
    }
    // Cached: same fit time and identical body.
    let again: serde_json::Value = app
        .get("/v1/assets/AAA/volatility")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v, again);
    let egarch: serde_json::Value = app
        .get("/v1/assets/BBB/volatility?model=egarch&dist=t&horizon=30")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(egarch["forecast"]["steps"].as_array().unwrap().len(), 30);
    assert_eq!(egarch["forecast"]["method"], "simulation");
    assert_eq!(egarch["report"]["params"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn bad_queries_name_the_field() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/v1/assets/NOPE/volatility").await,
        404,
        Some("symbol"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/volatility?horizon=0").await,
        400,
        Some("horizon"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/volatility?horizon=1001").await,
        400,
        Some("horizon"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/volatility?horizon=abc").await,
        400,
        Some("horizon"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/volatility?horizon=-3").await,
        400,
        Some("horizon"),
    )
    .await;
    let p = assert_problem(
        app.get("/v1/assets/AAA/volatility?model=arma").await,
        400,
        Some("model"),
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("garch, gjr, egarch"));
    assert_problem(
        app.get("/v1/assets/AAA/volatility?dist=cauchy").await,
        400,
        Some("dist"),
    )
    .await;
    assert_problem(
        app.get("/v1/volatility?horizon=0").await,
        400,
        Some("horizon"),
    )
    .await;
}

#[tokio::test]
async fn screener_has_a_row_per_symbol() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/volatility?model=gjr&horizon=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["horizon"], 5);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["symbol"], "AAA");
    assert_eq!(rows[1]["symbol"], "BBB");
    for r in rows {
        assert!(r["annualized_forecast"].as_f64().unwrap() > 0.0);
        assert!(r["persistence"].as_f64().unwrap() < 1.0);
        assert_eq!(r["converged"], true);
        assert!(r["error"].is_null());
    }
}

#[tokio::test]
async fn new_laws_and_forecast_intervals() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/assets/AAA/volatility?dist=skewt&horizon=5&levels=0.05,0.5,0.95")
        .await
        .json()
        .await
        .unwrap();
    let names = param_names(&v["report"]);
    assert_eq!(names, ["mu", "omega", "alpha", "beta", "eta", "lambda"]);
    let steps = v["intervals"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    for s in steps {
        let q: Vec<f64> = s["quantiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["value"].as_f64().unwrap())
            .collect();
        assert!(q[0] < q[1] && q[1] < q[2], "{q:?}");
    }
    // Without levels there are no intervals (and the cached body is served).
    let plain: serde_json::Value = app
        .get("/v1/assets/AAA/volatility?dist=ged")
        .await
        .json()
        .await
        .unwrap();
    assert!(plain.get("intervals").is_none());
    assert_eq!(plain["report"]["spec"]["distribution"], "ged");
    for bad in [
        "0.05,1", "abc", "0", "0.1,-0.2", ".30.e", "5e-2", "0.", "1.0", "00.5", "0.5,",
    ] {
        assert_problem(
            app.get(&format!("/v1/assets/AAA/volatility?levels={bad}"))
                .await,
            400,
            Some("levels"),
        )
        .await;
    }
}

#[tokio::test]
async fn an_ar_mean_is_served_with_its_mean_forecasts() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/assets/AAA/volatility?mean=ar&lags=2&horizon=3")
        .await
        .json()
        .await
        .unwrap();
    let names = param_names(&v["report"]);
    assert_eq!(names[..3], ["Const", "y[1]", "y[2]"]);
    // The mean path of an AR forecast moves towards the unconditional mean.
    let steps = v["forecast"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["mean"].is_number()));
    let rows: serde_json::Value = app
        .get("/v1/volatility?mean=zero")
        .await
        .json()
        .await
        .unwrap();
    assert!(!rows["rows"].as_array().unwrap().is_empty(), "{rows}");
    for bad in ["mean=ar", "lags=2", "mean=ar&lags=0"] {
        assert_problem(
            app.get(&format!("/v1/assets/AAA/volatility?{bad}")).await,
            400,
            Some("lags"),
        )
        .await;
    }
}
