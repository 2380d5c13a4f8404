//! The backtest routes over real HTTP: one symbol's backtest against the library's own run,
//! the model ranking, universe runs in two modes with equal digests, and every bad setting.

use backtest::{BacktestConfig, Scheme};
use garch_core::{FitOptions, ModelSpec};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, iso_date, spawn_app, spawn_configured};
use crate::support::param_names;

/// AAA's returns as the service computes them from the data file.
fn returns_of(app_data: &std::path::Path, symbol: &str) -> Vec<f64> {
    let data = market_data::load_daily(app_data).unwrap();
    data.get(symbol)
        .unwrap()
        .returns()
        .unwrap()
        .as_slice()
        .to_vec()
}

#[tokio::test]
async fn a_symbol_backtest_is_the_library_run_with_dates_and_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Bars on the last two days: the last day gets a realized-variance proxy (the first day
    // of the bars has no overnight return, so it keeps the squared return).
    let bars = dir.path().join("bars.csv");
    let mut text = String::from("timestamp,symbol,open,high,low,close,volume\n");
    let mut close = 100.0f64;
    for day in ["2016-11-30", "2016-12-01"] {
        for i in 0..78 {
            let (h, m) = (14 + (30 + 5 * i) / 60, (30 + 5 * i) % 60);
            let open = close;
            close *= if i % 2 == 0 { 1.002 } else { 0.999 };
            let (high, low) = (open.max(close), open.min(close));
            text.push_str(&format!(
                "{day}T{h:02}:{m:02}:00Z,AAA,{open},{high},{low},{close},100\n"
            ));
        }
    }
    std::fs::write(&bars, text).unwrap();
    let app = spawn_configured(None, |c| c.bars = bars.clone()).await;

    let url = "/v1/assets/aaa/backtest?window=500&refit_every=20&levels=0.05,.01,0.05&limit=30";
    let resp = app.get(url).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["symbol"], "AAA");
    assert_eq!(v["refit_count"], 10);
    assert_eq!(v["days"], 200);
    let path = v["path"].as_array().unwrap();
    assert_eq!(path.len(), 30);
    assert_eq!(path.last().unwrap()["date"], iso_date(700));
    // The windows forecasting the returned days (returns 670..699) are refits 8 and 9; refit 9
    // estimates on returns 180..679 (return i is dated day i + 1).
    let refits = v["refits"].as_array().unwrap();
    assert_eq!(refits.len(), 2);
    assert_eq!(refits[1]["first_date"], iso_date(181));
    assert_eq!(refits[1]["last_date"], iso_date(680));
    assert_eq!(v["config"]["levels"], json!([0.01, 0.05]));
    for key in ["0.01", "0.05"] {
        assert!(v["kupiec"][key]["p_value"].is_number(), "{key}");
        assert!(v["christoffersen"][key]["conditional_coverage"]["lr"].is_number());
    }
    assert_eq!(v["realized_variance_days"], 1);
    assert_eq!(path.last().unwrap()["proxy_kind"], "realized_variance");
    assert_eq!(path[28]["proxy_kind"], "squared_return");

    // The same numbers as the library's own run on the same returns, bit for bit.
    let y = returns_of(&app.data, "AAA");
    let config = BacktestConfig::new(Scheme::Rolling, 500, 20, &[0.01, 0.05], &[]).unwrap();
    let bt = backtest::run(&y, ModelSpec::default(), &config, &FitOptions::default()).unwrap();
    let last = bt.path.last().unwrap();
    let served = path.last().unwrap();
    assert_eq!(
        served["variance"].as_f64().unwrap().to_bits(),
        last.variance.to_bits()
    );
    assert_eq!(
        served["var"]["0.01"].as_f64().unwrap().to_bits(),
        last.var[0].to_bits()
    );
    assert_eq!(
        served["es"]["0.05"].as_f64().unwrap().to_bits(),
        last.es[1].to_bits()
    );
    assert_eq!(
        refits[1]["log_likelihood"].as_f64().unwrap().to_bits(),
        bt.refits[9].report.log_likelihood.to_bits()
    );
    let exceeded = bt.path.iter().filter(|d| d.exceedance[1]).count();
    assert_eq!(v["kupiec"]["0.05"]["exceedances"], exceeded);

    // Cached: a second request answers the same body.
    let again: Value = app.get(url).await.json().await.unwrap();
    assert_eq!(again, v);
    // limit=0: the summary alone.
    let summary: Value = app
        .get("/v1/assets/AAA/backtest?window=500&refit_every=20&levels=0.05,0.01&limit=0")
        .await
        .json()
        .await
        .unwrap();
    assert!(summary["path"].as_array().unwrap().is_empty());
    assert_eq!(summary["kupiec"], v["kupiec"]);
}

#[tokio::test]
async fn bad_settings_name_their_field() {
    let app = spawn_app().await;
    let cases = [
        ("window=50", 400, "window"),
        ("window=100001", 400, "window"),
        ("window=700", 422, "window"),
        ("refit_every=0", 400, "refit_every"),
        ("levels=0.5", 400, "levels"),
        ("levels=0.01,abc", 400, "levels"),
        ("limit=-1", 400, "limit"),
        ("model=arima", 400, "model"),
        ("dist=cauchy", 400, "dist"),
        ("expanding=maybe", 400, "expanding"),
        ("mean=ar", 400, "lags"),
        ("lags=2", 400, "lags"),
        ("mean=ar&lags=11", 400, "lags"),
    ];
    for (query, status, field) in cases {
        let resp = app.get(&format!("/v1/assets/AAA/backtest?{query}")).await;
        assert_problem(resp, status, Some(field)).await;
    }
    assert_problem(
        app.get("/v1/assets/ZZZ/backtest").await,
        404,
        Some("symbol"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/models?window=700").await,
        422,
        Some("window"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/AAA/models?refit_every=0").await,
        400,
        Some("refit_every"),
    )
    .await;
}

#[tokio::test]
async fn models_are_ranked_by_mean_qlike() {
    let app = spawn_app().await;
    let resp = app
        .get("/v1/assets/BBB/models?window=600&refit_every=50&levels=0.05")
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len() + v["failed"].as_array().unwrap().len(), 12);
    assert!(models.len() >= 6, "{v}");
    assert_eq!(v["days"], 100);
    let qlike: Vec<f64> = models
        .iter()
        .map(|m| m["mean_qlike"].as_f64().unwrap())
        .collect();
    assert!(qlike.windows(2).all(|w| w[0] <= w[1]), "{qlike:?}");
    for (i, m) in models.iter().enumerate() {
        assert_eq!(m["rank"], i + 1);
        assert_eq!(m["dm_vs_best"].is_null(), i == 0);
        assert!(m["bic"].is_number());
        assert_eq!(m["summary"]["days"], 100);
    }
}

#[tokio::test]
async fn universe_runs_agree_across_modes_and_need_the_token() {
    let app = spawn_app().await;
    let body = |mode: &str| json!({"mode": mode, "model": "gjr", "window": 500, "refit_every": 25, "block": 3});
    assert_problem(
        app.post("/v1/backtests", body("parallel"), None).await,
        401,
        None,
    )
    .await;
    let mut runs = Vec::new();
    for mode in ["sequential", "parallel"] {
        let resp = app.post("/v1/backtests", body(mode), Some("s3cret")).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["mode"], mode);
        assert_eq!(v["refits"], 16);
        assert!(v["total_seconds"].as_f64().unwrap() > 0.0);
        let assets = v["assets"].as_array().unwrap();
        let symbols: Vec<&str> = assets
            .iter()
            .map(|a| a["symbol"].as_str().unwrap())
            .collect();
        assert_eq!(symbols, ["AAA", "BBB"]);
        assert!(
            assets
                .iter()
                .all(|a| a["error"].is_null() && a["days"] == 200)
        );
        runs.push(v);
    }
    assert_eq!(runs[0]["threads"], 1);
    assert_eq!(runs[0]["digest"], runs[1]["digest"]);
    assert_eq!(runs[0]["assets"], runs[1]["assets"]);
    // Without NATS, distributed is a documented 503 naming the mode.
    let resp = app
        .post("/v1/backtests", body("distributed"), Some("s3cret"))
        .await;
    assert_problem(resp, 503, Some("mode")).await;
    let resp = app
        .post(
            "/v1/backtests",
            json!({"mode": "parallel", "block": 0}),
            Some("s3cret"),
        )
        .await;
    assert_problem(resp, 400, Some("block")).await;
}

#[tokio::test]
async fn a_long_backtest_answers_pending_then_the_cached_result() {
    // No wait at all: the first request can only answer 202; the computation goes on.
    let app = spawn_configured(None, |c| c.budget.backtest_wait = 0.0).await;
    let url = "/v1/assets/BBB/backtest?model=gjr&dist=t&window=600&refit_every=10&limit=5";
    let resp = app.get(url).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.headers()["retry-after"], "5");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    let mut done = None;
    for _ in 0..600 {
        let resp = app.get(url).await;
        if resp.status() == 200 {
            done = Some(resp.json::<Value>().await.unwrap());
            break;
        }
        assert_eq!(resp.status(), 202);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = done.expect("the computation finishes and is served");
    assert_eq!(v["refit_count"], 10);
    assert_eq!(v["path"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn an_ar_mean_backtest_forecasts_the_conditional_mean() {
    let app = spawn_app().await;
    let resp = app
        .get("/v1/assets/AAA/backtest?mean=ar&lags=1&window=500&refit_every=50&limit=3")
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    let names = param_names(&v["refits"][0]);
    assert_eq!(names[..2], ["Const", "y[1]"]);
    // The VaR moves with the day's AR mean: the library's day mean, bit for bit.
    let y = returns_of(&app.data, "AAA");
    let spec: ModelSpec = serde_json::from_value(v["spec"].clone()).unwrap();
    let config = BacktestConfig::new(Scheme::Rolling, 500, 50, &[0.01, 0.05], &[]).unwrap();
    let bt = backtest::run(&y, spec, &config, &FitOptions::default()).unwrap();
    let last = bt.path.last().unwrap();
    let params: Vec<f64> = bt
        .refits
        .last()
        .unwrap()
        .report
        .params
        .iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(last.mean, params[0] + params[1] * y[last.index - 1]);
    let served = v["path"].as_array().unwrap().last().unwrap()["var"]["0.01"]
        .as_f64()
        .unwrap();
    assert_eq!(served.to_bits(), last.var[0].to_bits());
}
