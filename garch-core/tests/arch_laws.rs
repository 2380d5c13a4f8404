//! Agreement with Python `arch` 8.0 for the skewed Student-t and GED error laws, on fixtures made
//! by `scripts/fixtures/gen_arch_law_fixtures.py` (S&P 500, NASDAQ and WTI crude daily returns,
//! two series simulated by `arch` itself; GARCH, GJR and EGARCH × both laws, constant mean, and
//! two zero-mean cases).
//!
//! Tolerances (issue #17): log-likelihood at fixed parameters within 1e-10 relative (and the
//! conditional variances); fitted log-likelihood ≥ arch's − 1e-6 on every case; parameters within
//! 1e-4 (relative for the scale parameters GARCH ω, η and ν); robust and classic standard errors
//! within 1e-3 relative; forecasts within 1e-6 relative at the same parameters. No case is exempt:
//! no fit in these fixtures has an unidentified shape.

mod common;

use common::{Case, assert_fixed_matches_arch, load_cases, rel};
use garch_core::{
    CovarianceType, Distribution, FitOptions, ForecastOptions, MeanModel, ModelSpec,
    VolatilityModel, arch_starting_values, fit, fix, standard_errors,
};

const SERIES: [&str; 5] = ["sp500", "nasdaq", "wti", "sim_gjr_skewt", "sim_egarch_ged"];

fn cases() -> Vec<Case> {
    let out = load_cases("arch_laws", &SERIES, |c| {
        let volatility: VolatilityModel = c["model"].as_str().unwrap().parse().unwrap();
        let distribution: Distribution = c["dist"].as_str().unwrap().parse().unwrap();
        let mean: MeanModel = c["mean"].as_str().unwrap().parse().unwrap();
        ModelSpec::new(mean, volatility, distribution)
    });
    assert_eq!(
        out.len(),
        32,
        "every model × law on five series, two zero-mean cases"
    );
    out
}

#[test]
fn parameter_names_and_starting_values_match_arch() {
    for case in cases() {
        let names: Vec<String> = case.json["param_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().replace("[1]", ""))
            .collect();
        assert_eq!(case.spec.param_names(), names, "{}", case.label);
        let ours = arch_starting_values(&case.returns, case.spec);
        let theirs = case.floats(&["starting_values"]);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "{} start[{i}]: ours {a} arch {b}",
                case.label
            );
        }
    }
}

#[test]
fn fixed_parameter_loglikelihood_matches_arch() {
    let mut worst = 0.0f64;
    for case in cases() {
        worst = worst.max(assert_fixed_matches_arch(&case).1);
    }
    eprintln!("largest fixed-parameter log-likelihood difference: {worst:.2e} relative");
}

#[test]
fn fits_reach_arch_optimum_or_better() {
    let (mut worst_param, mut gain) = (0.0f64, f64::NEG_INFINITY);
    for case in cases() {
        let model = fit(&case.returns, case.spec, &FitOptions::default()).expect("fit");
        let r = model.report();
        let arch_ll = case.float(&["fit", "loglik"]);
        assert!(r.converged, "{}: {}", case.label, r.status);
        assert!(
            r.log_likelihood >= arch_ll - 1e-6,
            "{}: loglik {} < arch {arch_ll}",
            case.label,
            r.log_likelihood
        );
        gain = gain.max(r.log_likelihood - arch_ll);
        let theirs = case.floats(&["fit", "params"]);
        let names = case.spec.param_names();
        for (i, (a, b)) in model.params().iter().zip(&theirs).enumerate() {
            let scale_param = (names[i] == "omega"
                && case.spec.volatility != VolatilityModel::Egarch)
                || names[i] == "nu"
                || names[i] == "eta";
            let err = if scale_param {
                rel(*a, *b)
            } else {
                (a - b).abs()
            };
            worst_param = worst_param.max(err);
            assert!(
                err <= 1e-4,
                "{} {}: ours {a} arch {b} (loglik ours {} arch {arch_ll})",
                case.label,
                names[i],
                r.log_likelihood
            );
        }
    }
    eprintln!(
        "largest parameter difference: {worst_param:.2e}; largest gain over arch: {gain:.2e}"
    );
}

#[test]
fn standard_errors_match_arch() {
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
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                if rel(*a, *b) > worst.0 {
                    worst = (rel(*a, *b), format!("{} {key}[{i}]", case.label));
                }
                assert!(
                    rel(*a, *b) <= 1e-3,
                    "{} {key}[{i}]: ours {a} arch {b}",
                    case.label
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
                case.label,
                step.horizon,
                step.variance
            );
        }
    }
}
