//! Risk measures, coverage tests and forecast-evaluation statistics against the independent
//! scipy/numpy implementation of `scripts/fixtures/gen_backtest_fixtures.py`.
//!
//! Tolerances (issue #16): VaR and ES of the normal and standardised t ≤ 1e-12 relative;
//! Kupiec, Christoffersen, Mincer–Zarnowitz and Diebold–Mariano statistics and p-values
//! ≤ 1e-10 (relative, absolute below 1).

mod common;

use backtest::coverage::{christoffersen, kupiec};
use backtest::loss::{diebold_mariano, mincer_zarnowitz, qlike};
use backtest::risk::measures;
use common::{fixture, floats, rel};
use garch_core::{Distribution, MeanModel, ModelSpec, VolatilityModel};

/// Relative error, absolute for magnitudes below one (p-values, statistics near zero).
fn err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

#[test]
fn var_and_es_match_scipy() {
    let mut worst = 0.0f64;
    for c in fixture()["tails"].as_array().unwrap() {
        let dist = if c["dist"] == "t" {
            Distribution::StudentT
        } else {
            Distribution::Normal
        };
        let spec = ModelSpec::new(MeanModel::Constant, VolatilityModel::garch(), dist);
        // Any variance parameters: only μ and the shape enter.
        let mut params = vec![c["mu"].as_f64().unwrap(), 0.01, 0.05, 0.9];
        params.extend(floats(&c["shape"]));
        let level = c["level"].as_f64().unwrap();
        let mu = params[0];
        let (var, es) =
            measures(&spec, &params, mu, c["sigma2"].as_f64().unwrap(), &[level]).unwrap();
        let (ev, ee) = (c["var"].as_f64().unwrap(), c["es"].as_f64().unwrap());
        for (got, want, what) in [(var[0], ev, "VaR"), (es[0], ee, "ES")] {
            let d = rel(got, want);
            worst = worst.max(d);
            assert!(d <= 1e-12, "{dist} {c}: {what} {got} vs scipy {want}");
        }
    }
    eprintln!("worst VaR/ES relative error {worst:.1e}");
}

#[test]
fn coverage_tests_match_numpy() {
    let mut worst = 0.0f64;
    for c in fixture()["coverage"].as_array().unwrap() {
        let hits: Vec<bool> = c["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let a = c["level"].as_f64().unwrap();
        let k = kupiec(&hits, a).unwrap();
        let ch = christoffersen(&hits, a).unwrap();
        assert_eq!(k.exceedances as u64, c["exceedances"].as_u64().unwrap());
        let t: Vec<u64> = c["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(ch.transitions.map(|v| v as u64).to_vec(), t);
        for (got, key) in [
            (k.lr, "lr_uc"),
            (k.p_value, "p_uc"),
            (ch.lr_ind, "lr_ind"),
            (ch.p_value_ind, "p_ind"),
            (ch.lr_cc, "lr_cc"),
            (ch.p_value_cc, "p_cc"),
        ] {
            let want = c[key].as_f64().unwrap();
            let d = err(got, want);
            worst = worst.max(d);
            assert!(d <= 1e-10, "{key}: {got} vs numpy {want}");
        }
    }
    eprintln!("worst coverage error {worst:.1e}");
}

#[test]
fn mincer_zarnowitz_and_diebold_mariano_match_numpy() {
    let l = &fixture()["losses"];
    let (proxy, f1, f2) = (floats(&l["proxy"]), floats(&l["f1"]), floats(&l["f2"]));
    let q1: Vec<f64> = proxy
        .iter()
        .zip(&f1)
        .map(|(p, h)| qlike(*p, *h).unwrap())
        .collect();
    let q2: Vec<f64> = proxy
        .iter()
        .zip(&f2)
        .map(|(p, h)| qlike(*p, *h).unwrap())
        .collect();
    for (ours, theirs) in q1.iter().zip(floats(&l["qlike1"])) {
        assert!(err(*ours, theirs) <= 1e-12);
    }
    let mz = mincer_zarnowitz(&proxy, &f1).unwrap();
    let dm = diebold_mariano(&q1, &q2, None).unwrap();
    assert_eq!(dm.lags as u64, l["dm_lag"].as_u64().unwrap());
    let mut worst = 0.0f64;
    for (got, key) in [
        (mz.a, "mz_a"),
        (mz.b, "mz_b"),
        (mz.r2, "mz_r2"),
        (dm.statistic, "dm_stat"),
        (dm.p_value, "dm_p"),
    ] {
        let want = l[key].as_f64().unwrap();
        let d = err(got, want);
        worst = worst.max(d);
        assert!(d <= 1e-10, "{key}: {got} vs numpy {want}");
    }
    eprintln!("worst MZ/DM error {worst:.1e}");
}
