//! `market-svc backtest` as a user runs it: the real binary on the bundled data.

use std::path::PathBuf;

use serde_json::Value;

mod support;

use support::{bin, succeeded};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// `market-svc backtest` of ACME on the bundled daily data, before the test's own arguments.
fn backtest_command() -> std::process::Command {
    let mut cmd = bin();
    cmd.arg("backtest")
        .arg("--input")
        .arg(data("simulated_daily_data.csv"))
        .args(["--symbol", "ACME"]);
    cmd
}

fn backtest(extra: &[&str]) -> std::process::Output {
    backtest_command().args(extra).output().unwrap()
}

/// GJR-t, window 1000, refits every 100, two levels, a 5-day horizon, JSON.
const GJR_T_JSON: [&str; 14] = [
    "--model",
    "gjr",
    "--dist",
    "t",
    "--window",
    "1000",
    "--refit-every",
    "100",
    "--levels",
    "0.05,0.01",
    "--horizons",
    "5",
    "--format",
    "json",
];

#[test]
fn json_has_refits_path_and_summary() {
    let out = backtest(&[&GJR_T_JSON[..], &["--bars"]].concat());
    // `--bars` without a value is a usage error: clap's, before anything runs.
    assert!(!out.status.success());
    let bars = data("simulated_5min_data.csv");
    let out = succeeded(backtest_command().args(GJR_T_JSON).arg("--bars").arg(&bars));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let refits = v["refits"].as_array().unwrap();
    assert_eq!(refits.len(), 16); // 1519 out-of-sample days / 100
    assert_eq!(refits[0]["params"].as_array().unwrap().len(), 6);
    assert!(refits[0]["first_date"].as_str().unwrap() < refits[0]["last_date"].as_str().unwrap());
    assert!(refits[0]["log_likelihood"].as_f64().unwrap() < 0.0);
    let path = v["path"].as_array().unwrap();
    assert_eq!(path.len(), 1519);
    let day = &path[0];
    assert!(day["date"].as_str().unwrap() > refits[0]["last_date"].as_str().unwrap());
    for key in ["0.01", "0.05"] {
        assert!(day["var"][key].as_f64().unwrap() < 0.0);
        assert!(day["es"][key].as_f64().unwrap() < day["var"][key].as_f64().unwrap());
        assert!(day["exceedance"][key].is_boolean());
        let k = &v["kupiec"][key];
        assert!(k["lr"].as_f64().unwrap() >= 0.0 && k["p_value"].as_f64().unwrap() <= 1.0);
        assert!(k["exceedances"].as_u64().is_some() && k["expected"].as_f64().unwrap() > 0.0);
        assert!(v["christoffersen"][key]["independence"]["p_value"].is_number());
    }
    assert!(day["horizons"]["5"].as_f64().unwrap() > 0.0);
    assert!(v["traffic_light"]["zone"].is_string());
    assert!(v["qlike"].as_f64().unwrap() > 0.0 && v["mse"].as_f64().unwrap() > 0.0);
    assert!(v["mincer_zarnowitz"]["b"].is_number());
    // The bundled bars cover some of the out-of-sample days: those use realized variance.
    let rv = v["realized_variance_days"].as_u64().unwrap();
    assert!(rv > 0 && rv + v["squared_return_days"].as_u64().unwrap() == 1519);
    assert!(path.iter().any(|d| d["proxy_kind"] == "realized_variance"));
}

#[test]
fn csv_and_table() {
    let out = backtest(&["--refit-every", "250", "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "date,return,variance,var_0.01,es_0.01,exceedance_0.01,var_0.05,es_0.05,exceedance_0.05,proxy,proxy_kind"
    );
    assert_eq!(lines.count(), 1519);
    let out = backtest(&["--refit-every", "250", "--expanding"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Expanding window 1000") && text.contains("Kupiec LR"));
    assert!(text.contains("Basel traffic light"));
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    for (args, field) in [
        (vec!["--window", "5000"], "window"),
        (vec!["--window", "20"], "window"),
        (vec!["--refit-every", "0"], "refit_every"),
        (vec!["--levels", "0.5"], "levels"),
        (vec!["--levels", "0"], "levels"),
        (vec!["--levels", "abc"], "levels"),
        (vec!["--horizons", "0"], "horizons"),
    ] {
        let out = backtest(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("market-svc: error: {field}")),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}
