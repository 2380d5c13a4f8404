//! `POST /v1/assets/{symbol}/prices`: validation (all or nothing), forecasts that follow the
//! appended closes without a refit, the refit policy, the SSE stream.

use std::path::Path;

use futures_util::StreamExt;
use garch_core::{
    Distribution, FitOptions, ForecastOptions, MeanModel, ModelSpec, Prices, Returns,
    VolatilityModel, fit, fix,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, iso_date, spawn_configured, spawn_with};

/// The returns market-svc serves for `symbol` once `closes` are appended to the data file's.
fn extended_returns(data: &Path, symbol: &str, closes: &[f64]) -> Returns {
    let daily = market_data::load_daily(data).unwrap();
    let series = daily.series.iter().find(|s| s.symbol == symbol).unwrap();
    let mut prices = series.prices.as_slice().to_vec();
    prices.extend_from_slice(closes);
    Prices::new(prices).unwrap().to_returns().unwrap()
}

fn params(body: &Value) -> Vec<f64> {
    body["report"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect()
}

fn variances(body: &Value) -> Vec<f64> {
    body["forecast"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["variance"].as_f64().unwrap())
        .collect()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// Closes for the three days after the fixture's last date (2016-12-01 = day 700).
fn closes(values: &[f64]) -> Value {
    let prices: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"date": iso_date(701 + i as i64), "close": c}))
        .collect();
    json!({ "prices": prices })
}

const GJR_T: &str = "/v1/assets/BBB/volatility?model=gjr&dist=t";

#[tokio::test]
async fn appended_closes_are_filtered_through_the_cached_parameters() {
    // No refit by count: the parameters stay those estimated on the file's data.
    let app = spawn_configured(Some("s3cret".into()), |c| c.refit_every = 0).await;
    let before_aaa = get_json(&app, "/v1/assets/AAA/volatility").await;
    let before_bbb = get_json(&app, GJR_T).await;
    assert_eq!(before_aaa["data_through"], iso_date(700));
    assert_eq!(before_aaa["fitted_through"], iso_date(700));
    assert_eq!(before_aaa["observations_since_fit"], 0);
    let last = |b: &Value| b["report"]["nobs"].as_u64().unwrap();
    assert_eq!(last(&before_aaa), 700);

    let new_closes = [61.3, 58.9, 60.2];
    for (symbol, base) in [("AAA", 1.0), ("BBB", 1.1)] {
        let values: Vec<f64> = new_closes.iter().map(|c| c * base).collect();
        let r = app
            .post(
                &format!("/v1/assets/{symbol}/prices"),
                closes(&values),
                Some("s3cret"),
            )
            .await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["appended"], 3);
        assert_eq!(body["observations"], 704);
        assert_eq!(body["data_through"], iso_date(703));
        assert_eq!(body["refits_started"], json!([]));
    }

    for (path, before, symbol, base, spec) in [
        (
            "/v1/assets/AAA/volatility",
            &before_aaa,
            "AAA",
            1.0,
            ModelSpec::default(),
        ),
        (
            GJR_T,
            &before_bbb,
            "BBB",
            1.1,
            ModelSpec::new(
                MeanModel::Constant,
                VolatilityModel::gjr(),
                Distribution::StudentT,
            ),
        ),
    ] {
        let after = get_json(&app, path).await;
        assert_eq!(after["data_through"], iso_date(703), "{symbol}");
        assert_eq!(after["fitted_through"], iso_date(700), "{symbol}");
        assert_eq!(after["observations_since_fit"], 3);
        // The estimation is the one from before the append, untouched.
        assert_eq!(after["report"], before["report"]);
        // The forecast is `fix` on the extended series with those parameters.
        let values: Vec<f64> = new_closes.iter().map(|c| c * base).collect();
        let returns = extended_returns(&app.data, symbol, &values);
        let reference = fix(&returns, spec, &params(before))
            .unwrap()
            .forecast(10, &ForecastOptions::default())
            .unwrap();
        let got = variances(&after);
        assert_eq!(got.len(), 10);
        for (g, r) in got.iter().zip(&reference.steps) {
            let rel = (g - r.variance).abs() / r.variance;
            assert!(rel <= 1e-12, "{symbol}: {g} vs {} ({rel:e})", r.variance);
        }
        // And it moved: the new returns entered the variance recursion.
        assert_ne!(variances(before)[0], got[0], "{symbol}");
    }
    // The history follows too: one more conditional volatility per appended close.
    let history = get_json(&app, "/v1/assets/AAA/history?limit=3").await;
    assert_eq!(
        history["dates"],
        json!([iso_date(701), iso_date(702), iso_date(703)])
    );
    assert_eq!(history["realized_volatility"], json!([null, null, null]));
}

#[tokio::test]
async fn the_refit_policy_swaps_in_a_fit_equal_to_a_fresh_one_bit_for_bit() {
    let app = spawn_configured(None, |c| c.refit_every = 2).await;
    let before = get_json(&app, "/v1/assets/AAA/volatility").await;
    // Subscribe before the append.
    let stream = app.client.get(app.url("/v1/stream")).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut events = stream.bytes_stream();

    let values = [62.0, 60.5];
    let r = app
        .post_json("/v1/assets/AAA/prices", closes(&values))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["refits_started"], json!([ModelSpec::default()]));

    // The stream announces the filtered forecast, then the refit.
    let mut text = String::new();
    let mut reasons = Vec::new();
    while reasons.len() < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), events.next())
            .await
            .expect("an event within a minute")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            if !frame.contains("event: forecast") {
                continue;
            }
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            let event: Value = serde_json::from_str(data).unwrap();
            assert_eq!(event["symbol"], "AAA");
            assert_eq!(event["data_through"], iso_date(702));
            reasons.push(event["reason"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(reasons, ["append", "refit"]);

    let after = get_json(&app, "/v1/assets/AAA/volatility").await;
    assert_eq!(after["data_through"], iso_date(702));
    assert_eq!(after["fitted_through"], iso_date(702));
    assert_eq!(after["observations_since_fit"], 0);
    assert_ne!(params(&after), params(&before), "re-estimated");
    let fresh = fit(
        &extended_returns(&app.data, "AAA", &values),
        ModelSpec::default(),
        &FitOptions::default(),
    )
    .unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&params(&after)), bits(fresh.params()));
    assert_eq!(
        after["report"]["log_likelihood"]
            .as_f64()
            .unwrap()
            .to_bits(),
        fresh.report().log_likelihood.to_bits()
    );
    let reference = fresh.forecast(10, &ForecastOptions::default()).unwrap();
    let want: Vec<f64> = reference.steps.iter().map(|s| s.variance).collect();
    assert_eq!(bits(&variances(&after)), bits(&want));
}

#[tokio::test]
async fn bad_appends_are_refused_whole_and_name_the_field() {
    let app = spawn_with(Some("s3cret".into())).await;
    let post = |body: Value| {
        let app = &app;
        async move {
            app.post("/v1/assets/AAA/prices", body, Some("s3cret"))
                .await
        }
    };
    let ok = |i: i64| json!({"date": iso_date(701 + i), "close": 60.0});
    // Not after the last date of the data.
    let r = post(json!({"prices": [{"date": iso_date(700), "close": 60.0}]})).await;
    assert_problem(r, 409, Some("prices[0].date")).await;
    // A duplicate inside the batch, after a valid close: nothing of it is applied.
    let r = post(json!({"prices": [ok(0), ok(1), ok(1)]})).await;
    assert_problem(r, 409, Some("prices[2].date")).await;
    let r = post(json!({"prices": [ok(0), {"date": iso_date(702), "close": 0.0}]})).await;
    assert_problem(r, 422, Some("prices[1].close")).await;
    let r = post(json!({"prices": [ok(0), {"date": iso_date(702), "close": -3.0}]})).await;
    assert_problem(r, 422, Some("prices[1].close")).await;
    let r = post(json!({"prices": [{"date": "2016-12-32", "close": 60.0}]})).await;
    assert_problem(r, 422, Some("prices[0].date")).await;
    let r = post(json!({"prices": [{"date": "02/12/2016", "close": 60.0}]})).await;
    assert_problem(r, 422, Some("prices[0].date")).await;
    let r = post(json!({"prices": []})).await;
    assert_problem(r, 422, Some("prices")).await;
    // A non-finite close cannot be written in JSON; a string is refused like any bad body.
    let r = post(json!({"prices": [{"date": iso_date(701), "close": "NaN"}]})).await;
    let body = assert_problem(r, 422, None).await;
    assert!(body["detail"].as_str().unwrap().contains("close"), "{body}");
    let r = post(json!({"prices": [ok(0)], "extra": 1})).await;
    assert_problem(r, 422, None).await;
    let r = app
        .post(
            "/v1/assets/NOPE/prices",
            json!({"prices": [ok(0)]}),
            Some("s3cret"),
        )
        .await;
    assert_problem(r, 404, Some("symbol")).await;
    let r = app
        .post("/v1/assets/AAA/prices", json!({"prices": [ok(0)]}), None)
        .await;
    assert_eq!(r.status(), 401);
    let r = app
        .post(
            "/v1/assets/AAA/prices",
            json!({"prices": [ok(0)]}),
            Some("wrong"),
        )
        .await;
    assert!(matches!(r.status().as_u16(), 401 | 403));

    // Nothing was applied, nothing was stored.
    let assets = get_json(&app, "/v1/assets").await;
    assert_eq!(assets[0]["observations"], 701);
    assert_eq!(assets[0]["last_date"], iso_date(700));
    let store = app
        .data
        .parent()
        .unwrap()
        .join("store")
        .join(market_svc::config::STORE_FILE);
    let stored = market_data::store::Store::open(&store)
        .unwrap()
        .closes()
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");

    // The same valid close is then accepted, case-insensitively by symbol.
    let r = app
        .post(
            "/v1/assets/aaa/prices",
            json!({"prices": [ok(0)]}),
            Some("s3cret"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let assets = get_json(&app, "/v1/assets").await;
    assert_eq!(assets[0]["last_date"], iso_date(701));
}
