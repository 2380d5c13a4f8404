//! Agreement with `arch` 8.0's own rolling loop (fixture: `gen_backtest_fixtures.py`): NASDAQ,
//! window 1000, refit every 50, 12 refits, GARCH(1,1)-normal and GJR(1,1,1)-t.
//!
//! Promised tolerances (issue #16): every window's log-likelihood ≥ arch's − 1e-6; parameters
//! within 1e-4 (relative for the scale parameters ω and ν, as garch-core's arch tests); the
//! one-step variances and the 1 % VaR within 1e-6 relative at the same parameters.
//!
//! arch's default fit stops SLSQP at ftol 1e-6, which on these windows leaves ω up to 7e-4
//! (relative) short of the optimum with a log-likelihood 3e-8 to 3e-7 below ours: parameters
//! are compared with the same arch fit run to `tol=1e-12` (arch's own optimum), the default
//! stop's distance is reported. As in
//! garch-core's tests, where ν is unidentified (arch's ν > 50: the likelihood is flat in ν and
//! SLSQP stops wherever its tolerance is met) parameters are compared only when arch reached
//! our optimum; the log-likelihood is always compared.

mod common;

use backtest::risk::{day_mean, measures};
use backtest::universe::run_block;
use backtest::{BacktestConfig, Scheme};
use common::{fixture, floats, nasdaq, rel};
use garch_core::{
    Distribution, FitOptions, MeanModel, ModelSpec, VolatilityModel, continued_variance,
};

const NU_UNIDENTIFIED: f64 = 50.0;

fn spec_of(case: &serde_json::Value) -> ModelSpec {
    let vol = if case["o"] == 1 {
        VolatilityModel::gjr()
    } else {
        VolatilityModel::garch()
    };
    let dist = if case["dist"] == "t" {
        Distribution::StudentT
    } else {
        Distribution::Normal
    };
    let mean = match case["lags"].as_u64() {
        Some(p) => MeanModel::from_name_and_lags("ar", Some(p as usize)).unwrap(),
        None => MeanModel::Constant,
    };
    ModelSpec::new(mean, vol, dist)
}

#[test]
fn rolling_refits_match_arch() {
    let y = nasdaq();
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 50, &[0.01], &[]).unwrap();
    // params vs arch's optimum, variance and VaR at arch's params, variance at ours, params vs
    // arch's default fit.
    let mut worst = [0.0f64; 5];
    let mut compared = 0;
    for case in fixture()["rolling"].as_array().unwrap() {
        let spec = spec_of(case);
        let refs = case["refits"].as_array().unwrap();
        let windows = &config.windows(y.len())[..refs.len()];
        let block = run_block(&y, spec, &config, &FitOptions::default(), windows, 0).unwrap();
        for (j, (ours, theirs)) in block.refits.iter().zip(refs).enumerate() {
            let label = format!("{spec} refit {j}");
            assert_eq!(
                ours.window.start as u64,
                theirs["first_obs"].as_u64().unwrap()
            );
            assert_eq!(ours.window.end as u64, theirs["last_obs"].as_u64().unwrap());
            let arch_ll = theirs["log_likelihood"].as_f64().unwrap();
            let r = &ours.report;
            assert!(r.converged, "{label}: {}", r.status);
            assert!(
                r.log_likelihood >= arch_ll - 1e-6,
                "{label}: loglik {} < arch {arch_ll}",
                r.log_likelihood
            );
            let arch_params = floats(&theirs["params"]);
            let tight = floats(&theirs["tight_params"]);
            let tight_ll = theirs["tight_log_likelihood"].as_f64().unwrap();
            assert!(
                r.log_likelihood >= tight_ll - 1e-6,
                "{label}: loglik {} < arch (tol 1e-12) {tight_ll}",
                r.log_likelihood
            );
            let names = spec.param_names();
            let nu_unidentified = spec.distribution == Distribution::StudentT
                && *tight.last().unwrap() > NU_UNIDENTIFIED;
            let compare = |reference: &[f64], worst: &mut f64, assert_close: bool| {
                for ((p, a), name) in r.params.iter().zip(reference).zip(&names) {
                    let d = if name == "omega" || name == "nu" {
                        rel(p.value, *a)
                    } else {
                        (p.value - a).abs()
                    };
                    *worst = worst.max(d);
                    if assert_close {
                        assert!(d <= 1e-4, "{label}: {name} {} vs arch {a}", p.value);
                    }
                }
            };
            // Against arch's optimum (SLSQP to tol 1e-12), unless ν is unidentified and arch
            // stopped short of our optimum.
            if !(nu_unidentified && r.log_likelihood > tight_ll + 1e-6) {
                compare(&tight, &mut worst[0], true);
                compared += 1;
            } else {
                eprintln!(
                    "{label}: ν unidentified, arch (tol 1e-12) stopped {:.1e} short at ν = {:.1}, \
                     ours ν = {:.1}; parameters not compared",
                    r.log_likelihood - tight_ll,
                    tight.last().unwrap(),
                    r.params.last().unwrap().value
                );
            }
            // Against arch's default fit (SLSQP's ftol 1e-6 stop): reported only.
            compare(&arch_params, &mut worst[4], false);
            // The forecast machinery at arch's own parameters: arch's one-step variances and
            // 1 % VaR of the 50 days after the window.
            let w = ours.window;
            // With an AR(p) mean the path starts at the sample's p-th observation.
            let p = spec.mean.hold_back();
            let lo = w.start;
            let path = continued_variance(
                spec,
                &arch_params,
                &y[lo..],
                w.end - lo,
                w.forecast_end - lo,
            )
            .unwrap();
            let arch_var = floats(&theirs["variance"]);
            let arch_q = floats(&theirs["var_01"]);
            assert_eq!(arch_var.len(), w.forecast_end - w.end);
            for (k, t) in (w.end..w.forecast_end).enumerate() {
                let v = path[t - lo - p];
                let d = rel(v, arch_var[k]);
                worst[1] = worst[1].max(d);
                assert!(
                    d <= 1e-6,
                    "{label} day {t}: variance {v} vs arch {}",
                    arch_var[k]
                );
                let mu = day_mean(&spec, &arch_params, &y, t);
                let (q, _) = measures(&spec, &arch_params, mu, v, &[0.01]).unwrap();
                let d = rel(q[0], arch_q[k]);
                worst[2] = worst[2].max(d);
                assert!(
                    d <= 1e-6,
                    "{label} day {t}: VaR {} vs arch {}",
                    q[0],
                    arch_q[k]
                );
            }
            // With our own (at least as likely) parameters the path differs by as much as the
            // parameters do; reported, not asserted.
            for (k, t) in (w.end..w.forecast_end).enumerate() {
                let day = &block.path[t - block.path[0].index];
                assert_eq!(day.index, t);
                worst[3] = worst[3].max(rel(day.variance, arch_var[k]));
            }
        }
    }
    eprintln!(
        "worst: params vs arch's optimum {:.1e} ({compared} of 24 windows compared), variance at \
         arch's params {:.1e}, 1% VaR at arch's params {:.1e}; at our params: variance {:.1e}, \
         params vs arch's default stop {:.1e}",
        worst[0], worst[1], worst[2], worst[3], worst[4]
    );
    assert!(
        compared >= 12,
        "too few windows with comparable parameters: {compared}"
    );
}
