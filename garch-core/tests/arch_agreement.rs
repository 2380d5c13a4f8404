//! Agreement with Python `arch` 8.0 on fixtures made by `scripts/fixtures/gen_arch_fixtures.py`
//! (two real series shipped with `arch`, three simulated ones; every model × distribution).
//!
//! Tolerances are the ones the project promises (issue #2): log-likelihood at fixed parameters
//! ≤ 1e-9 relative; fitted log-likelihood ≥ arch's − 1e-6; parameters within 1e-4 (relative for
//! the scale parameters ω and ν); robust standard errors ≤ 1e-3 relative; forecasts ≤ 1e-6
//! relative at the same parameters.
//!
//! Two exceptions, both where arch's own number is not reproducible, and both asserted to occur
//! only there: a Student-t fit to normal data has no finite ν optimum (ν drifts towards its
//! bound of 500 and arch's SLSQP stops wherever its 1e-6 tolerance is met), so when arch's ν
//! exceeds [`NU_UNIDENTIFIED`] (i) parameters are compared only if arch reached our optimum,
//! and (ii) ν's standard error, the inverse of a nearly singular Hessian entry, is not compared
//! (its value moves at the 1e-2 level with summation order alone).

mod common;

use common::rel;
use std::path::PathBuf;

use garch_core::{
    CovarianceType, Distribution, FitOptions, ForecastOptions, MeanModel, ModelSpec, Returns,
    VolatilityModel, arch_starting_values, fit, fix, standard_errors,
};
use serde_json::Value;

const SERIES: [&str; 5] = [
    "sp500",
    "nasdaq",
    "sim_garch_normal",
    "sim_gjr_t",
    "sim_egarch_normal",
];

struct Case {
    series: String,
    returns: Returns,
    spec: ModelSpec,
    json: Value,
}

impl Case {
    fn label(&self) -> String {
        format!("{} {}", self.series, self.spec)
    }
    fn floats(&self, path: &[&str]) -> Vec<f64> {
        let mut v = &self.json;
        for p in path {
            v = &v[*p];
        }
        v.as_array()
            .unwrap_or_else(|| panic!("{}: missing {path:?}", self.label()))
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    }
    fn float(&self, path: &[&str]) -> f64 {
        let mut v = &self.json;
        for p in path {
            v = &v[*p];
        }
        v.as_f64()
            .unwrap_or_else(|| panic!("{}: missing {path:?}", self.label()))
    }
}

fn cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arch");
    let mut out = Vec::new();
    for name in SERIES {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["arch_version"], "8.0.0");
        let returns: Vec<f64> = doc["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let returns = Returns::new(returns).expect("valid returns");
        for c in doc["cases"].as_array().unwrap() {
            let volatility: VolatilityModel = c["model"].as_str().unwrap().parse().unwrap();
            let distribution: Distribution = c["dist"].as_str().unwrap().parse().unwrap();
            let mean: MeanModel = c["mean"].as_str().unwrap().parse().unwrap();
            out.push(Case {
                series: name.to_string(),
                returns: returns.clone(),
                spec: ModelSpec::new(mean, volatility, distribution),
                json: c.clone(),
            });
        }
    }
    assert_eq!(out.len(), 32, "every model × distribution on five series");
    out
}

/// Above this arch's ν estimate means "normal tails": the likelihood is flat in ν.
const NU_UNIDENTIFIED: f64 = 50.0;

impl Case {
    fn nu_unidentified(&self) -> bool {
        self.spec.distribution == Distribution::StudentT
            && *self.floats(&["fit", "params"]).last().unwrap() > NU_UNIDENTIFIED
    }
}

#[test]
fn starting_values_match_arch() {
    for case in cases() {
        let ours = arch_starting_values(&case.returns, case.spec);
        let theirs = case.floats(&["starting_values"]);
        assert_eq!(ours.len(), theirs.len(), "{}", case.label());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "{} start[{i}]: ours {a} arch {b}",
                case.label()
            );
        }
    }
}

#[test]
fn fixed_parameter_loglikelihood_matches_arch() {
    for case in cases() {
        let params = case.floats(&["fixed", "params"]);
        let model = fix(&case.returns, case.spec, &params).expect("feasible fixed params");
        let ll = model.report().log_likelihood;
        let expected = case.float(&["fixed", "loglik"]);
        assert!(
            rel(ll, expected) <= 1e-9,
            "{}: loglik {ll} vs arch {expected}",
            case.label()
        );
        let s2 = model.conditional_variance();
        let head = case.floats(&["fixed", "conditional_variance_head"]);
        for (i, (a, b)) in s2.iter().zip(&head).enumerate() {
            assert!(rel(*a, *b) <= 1e-9, "{} σ²[{i}] {a} vs {b}", case.label());
        }
        let last = case.float(&["fixed", "conditional_variance_last"]);
        assert!(
            rel(*s2.last().unwrap(), last) <= 1e-9,
            "{} σ²_T",
            case.label()
        );
    }
}

#[test]
fn fits_reach_arch_optimum_or_better() {
    let mut worst_param = 0.0f64;
    for case in cases() {
        let model = fit(&case.returns, case.spec, &FitOptions::default()).expect("fit");
        let r = model.report();
        let arch_ll = case.float(&["fit", "loglik"]);
        assert!(r.converged, "{}: {}", case.label(), r.status);
        assert!(
            r.log_likelihood >= arch_ll - 1e-6,
            "{}: loglik {} < arch {arch_ll}",
            case.label(),
            r.log_likelihood
        );
        if r.log_likelihood > arch_ll + 1e-4 {
            // arch stopped short of the optimum: comparing parameters would compare against
            // an arbitrary point. Only legitimate when ν is unidentified.
            assert!(
                case.nu_unidentified(),
                "{}: loglik {} exceeds arch's {arch_ll} though ν is identified",
                case.label(),
                r.log_likelihood
            );
            eprintln!(
                "{}: arch stopped {:.1e} short of the optimum (ν unidentified); params not compared",
                case.label(),
                r.log_likelihood - arch_ll
            );
            continue;
        }
        let theirs = case.floats(&["fit", "params"]);
        let names = case.spec.param_names();
        for (i, (a, b)) in model.params().iter().zip(&theirs).enumerate() {
            // ω of GARCH/GJR is a positive scale (relative); EGARCH's ω is a log-variance
            // intercept that may be ~0 or negative (absolute).
            let scale_param = (names[i] == "omega"
                && case.spec.volatility != VolatilityModel::Egarch)
                || names[i] == "nu";
            let err = if scale_param {
                rel(*a, *b)
            } else {
                (a - b).abs()
            };
            worst_param = worst_param.max(err);
            assert!(
                err <= 1e-4,
                "{} {}: ours {a} arch {b} (loglik ours {} arch {arch_ll})",
                case.label(),
                names[i],
                r.log_likelihood
            );
        }
    }
    eprintln!("largest parameter difference: {worst_param:.2e}");
}

#[test]
fn robust_standard_errors_match_arch() {
    let mut worst = (0.0f64, String::new());
    for case in cases() {
        let params = case.floats(&["fit", "params"]);
        for (kind, key) in [
            (CovarianceType::Robust, "std_err_robust"),
            (CovarianceType::Classic, "std_err_classic"),
        ] {
            let ours = standard_errors(&case.returns, case.spec, &params, kind)
                .expect("feasible")
                .expect("non-singular Hessian");
            let theirs = case.floats(&["fit", key]);
            let names = case.spec.param_names();
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                if names[i] == "nu" && case.nu_unidentified() {
                    continue;
                }
                if rel(*a, *b) > worst.0 {
                    worst = (rel(*a, *b), format!("{} {key}[{i}]", case.label()));
                }
                assert!(
                    rel(*a, *b) <= 1e-3,
                    "{} {key}[{i}]: ours {a} arch {b}",
                    case.label()
                );
            }
        }
    }
    eprintln!(
        "largest standard-error difference: {:.2e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn forecasts_match_arch_at_the_same_parameters() {
    for case in cases() {
        let params = case.floats(&["forecast", "params"]);
        let expected = case.floats(&["forecast", "variance"]);
        let model = fix(&case.returns, case.spec, &params).expect("feasible");
        let f = model
            .forecast(expected.len(), &ForecastOptions::default())
            .expect("forecast");
        for (step, b) in f.steps.iter().zip(&expected) {
            assert!(
                rel(step.variance, *b) <= 1e-6,
                "{} h={}: ours {} arch {b}",
                case.label(),
                step.horizon,
                step.variance
            );
        }
    }
}
