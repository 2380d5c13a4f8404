//! `market-svc fit` as a user runs it: the real binary, real files.

use std::path::{Path, PathBuf};

use garch_core::{ModelSpec, simulate};

mod support;

use support::{bin, param_names, succeeded};

/// `market-svc fit --input FILE ARGS… --format json`, which must succeed: its JSON.
fn fit_json(file: &Path, args: &[&str]) -> serde_json::Value {
    let out = succeeded(
        bin()
            .args(["fit", "--input"])
            .arg(file)
            .args(args)
            .args(["--format", "json"]),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// ISO date of day `n` after 2000-01-01.
fn iso_date(n: i64) -> String {
    let day0 = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    (day0 + chrono::Days::new(n as u64)).to_string()
}

fn write_prices(dir: &Path, name: &str, long: bool) -> PathBuf {
    let sim = simulate(ModelSpec::default(), &[0.05, 0.02, 0.08, 0.9], 800, 3).unwrap();
    let mut text = String::from(if long {
        "Date,Symbol,Close\n"
    } else {
        "date,close\n"
    });
    let symbols = if long { vec!["AAA", "BBB"] } else { vec![""] };
    for sym in symbols {
        let mut price = 100.0;
        for (i, r) in sim.returns.iter().enumerate() {
            price *= (r / 100.0).exp();
            let date = iso_date(i as i64);
            if long {
                text.push_str(&format!("{date},{sym},{price}\n"));
            } else {
                text.push_str(&format!("{date},{price}\n"));
            }
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fits_a_single_series_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = write_prices(dir, "single.csv", false);
    let v = fit_json(&file, &["--model", "gjr", "--dist", "t", "--horizon", "5"]);
    assert_eq!(v["report"]["nobs"], 799);
    assert_eq!(v["report"]["converged"], true);
    let names = param_names(&v["report"]);
    assert_eq!(names, ["mu", "omega", "alpha", "gamma", "beta", "nu"]);
    assert_eq!(v["forecast"]["steps"].as_array().unwrap().len(), 5);
    assert_eq!(v["data_through"], iso_date(799));
    assert_eq!(
        v["symbol"], "single",
        "a single-series file is named after the file"
    );
}

#[test]
fn long_format_needs_a_symbol_and_prints_a_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = write_prices(dir, "long.csv", true);
    let out = bin().args(["fit", "--input"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("choose one with --symbol") && err.contains("AAA"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one readable line: {err}");

    let out = succeeded(bin().args(["fit", "--symbol", "BBB", "--input"]).arg(&file));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("BBB") && table.contains("omega") && table.contains("log-likelihood"));

    let out = bin()
        .args(["fit", "--symbol", "ZZZ", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbol 'ZZZ' not found"));
}

#[test]
fn bad_files_fail_with_one_line_naming_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = [
        (
            "nocol.csv",
            "date,open\n2020-01-01,1\n",
            "missing required column 'close",
        ),
        (
            "nan.csv",
            "date,close\n2020-01-01,1\n2020-01-02,abc\n",
            "(line 3), column 'close'",
        ),
        (
            "neg.csv",
            "date,close\n2020-01-01,1\n2020-01-02,-4\n",
            "(line 3), column 'close'",
        ),
        (
            "baddate.csv",
            "date,close\n2020-01-01,1\n2020-13-02,4\n",
            "(line 3), column 'date'",
        ),
        (
            "dup.csv",
            "date,close\n2020-01-01,1\n2020-01-01,2\n",
            "duplicate date",
        ),
        (
            "short.csv",
            "date,close\n2020-01-01,1\n2020-01-02,2\n2020-01-03,1.5\n",
            "enough observations",
        ),
        ("empty.csv", "date,close\n", "empty"),
    ];
    for (name, text, needle) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = bin().args(["fit", "--input"]).arg(&path).output().unwrap();
        assert!(!out.status.success(), "{name} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{name}: {err}");
        assert!(
            err.contains(name),
            "{name}: the message names the file: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
    let out = bin()
        .args(["fit", "--input", "/nonexistent/file.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = bin()
        .args(["fit", "--model", "arma", "--input", "x.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model"));
}

#[test]
fn new_laws_and_forecast_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_prices(tmp.path(), "single.csv", false);
    let v = fit_json(
        &file,
        &[
            "--dist",
            "skewt",
            "--horizon",
            "3",
            "--intervals",
            "0.05,0.95",
        ],
    );
    let names = param_names(&v["report"]);
    assert_eq!(names, ["mu", "omega", "alpha", "beta", "eta", "lambda"]);
    let steps = v["intervals"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for s in steps {
        let q = s["quantiles"].as_array().unwrap();
        assert_eq!(q[0]["level"], 0.05);
        assert!(q[0]["value"].as_f64().unwrap() < q[1]["value"].as_f64().unwrap());
    }
    assert_eq!(v["intervals"]["method"], "simulation");

    let out = bin()
        .args(["fit", "--input"])
        .arg(&file)
        .args(["--dist", "ged", "--intervals", "0.05,1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("between 0 and 1"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one readable line: {err}");
}

#[test]
fn ar_mean_with_lags_and_bad_lags_fail_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_prices(tmp.path(), "single.csv", false);
    let v = fit_json(&file, &["--mean", "ar", "--lags", "2", "--horizon", "3"]);
    // 799 returns, the first two only regressors.
    assert_eq!(v["report"]["nobs"], 797);
    let names = param_names(&v["report"]);
    assert_eq!(names, ["Const", "y[1]", "y[2]", "omega", "alpha", "beta"]);
    let steps = v["forecast"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["mean"].as_f64().is_some()));
    for bad in [
        &["--mean", "ar"][..],
        &["--mean", "ar", "--lags", "0"],
        &["--mean", "ar", "--lags", "11"],
        &["--mean", "constant", "--lags", "2"],
        &["--lags", "1"],
    ] {
        let out = bin()
            .args(["fit", "--input"])
            .arg(&file)
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{bad:?}: {err}");
        assert!(err.contains("lags"), "{bad:?}: {err}");
    }
}
