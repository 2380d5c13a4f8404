//! Agreement with Python `arch` 8.0 for the AR(p) mean (`ARX` with `lags = p`, a constant, no
//! exogenous regressors), on fixtures made by `scripts/fixtures/gen_arch_ar_fixtures.py`: S&P 500
//! daily returns with AR(1), US core CPI monthly inflation with AR(1) and AR(2), and an
//! AR(2)-GJR-t series simulated by `arch` itself with AR(2); each with GARCH, GJR and EGARCH ×
//! normal, t, skewed t and GED (48 cases).
//!
//! Tolerances (issue #17): log-likelihood at fixed parameters within 1e-10 relative (and the
//! conditional variances); fitted log-likelihood ≥ arch's − 1e-6 on every case; parameters within
//! 1e-4 (relative for the scale parameters GARCH ω, η and ν); robust and classic standard errors
//! within 1e-3 relative; mean, residual-variance and return-variance forecasts within 1e-6
//! relative at the same parameters.

mod common;

use common::{Case, assert_fixed_matches_arch, load_cases, rel};
use garch_core::{
    CovarianceType, Distribution, FitOptions, ForecastOptions, MeanModel, ModelSpec,
    VolatilityModel, arch_starting_values, fit, fix, standard_errors,
};

const SERIES: [&str; 3] = ["sp500_ar", "core_cpi", "sim_ar2_gjr_t"];

fn cases() -> Vec<Case> {
    let out = load_cases("arch_ar", &SERIES, |c| {
        let volatility: VolatilityModel = c["model"].as_str().unwrap().parse().unwrap();
        let distribution: Distribution = c["dist"].as_str().unwrap().parse().unwrap();
        let lags = c["lags"].as_u64().unwrap() as usize;
        let mean = MeanModel::from_name_and_lags("ar", Some(lags)).unwrap();
        assert_eq!(c["mean"].as_str().unwrap().parse::<MeanModel>(), Ok(mean));
        ModelSpec::new(mean, volatility, distribution)
    });
    // Every law × model with AR(1) on two series and AR(2) on two.
    assert_eq!(out.len(), 48);
    out
}

#[test]
fn parameter_names_and_starting_values_match_arch() {
    let mut worst = 0.0f64;
    for case in cases() {
        let names: Vec<String> = case.json["param_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let n = n.as_str().unwrap();
                // arch numbers first-order variance terms (alpha[1]); the mean's y[1] stays.
                if n.starts_with("y[") {
                    n.to_string()
                } else {
                    n.replace("[1]", "")
                }
            })
            .collect();
        assert_eq!(case.spec.param_names(), names, "{}", case.label);
        // The least-squares mean start, the variance grid on its residuals and the shape rule.
        let ours = arch_starting_values(&case.returns, case.spec);
        let theirs = case.floats(&["start", "x0"]);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            worst = worst.max((a - b).abs() / b.abs().max(1.0));
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "{} start[{i}] ({}): ours {a} arch {b}",
                case.label,
                names[i]
            );
        }
    }
    eprintln!("largest starting-value difference: {worst:.2e}");
}

#[test]
fn fixed_parameter_loglikelihood_matches_arch() {
    let mut worst = 0.0f64;
    for case in cases() {
        let (model, diff) = assert_fixed_matches_arch(&case);
        worst = worst.max(diff);
        let lags = case.spec.mean.hold_back();
        assert_eq!(model.report().nobs, case.returns.len() - lags);
        assert_eq!(
            model.conditional_variance().len(),
            case.returns.len() - lags
        );
    }
    eprintln!("largest fixed-parameter log-likelihood difference: {worst:.2e} relative");
}

/// Every fit converges and reaches arch's log-likelihood − 1e-6 or more. Parameters are within
/// 1e-4 of arch's (relative for GARCH ω, η and ν) where arch's optimum is the optimum, i.e. its
/// log-likelihood is within 1e-6 of ours; there a difference beyond 1e-4 is accepted only at a
/// log-likelihood at least arch's and when it is statistically nil, at most 2e-3 of arch's
/// robust standard error (flat directions of small samples: ν ≈ 30 on 742 monthly CPI values).
/// Where arch's SLSQP (ftol 1e-6) stopped more than 1e-6 below our optimum, its parameters are
/// not the optimum's and are not compared; those cases are listed.
#[test]
fn fits_reach_arch_optimum_or_better() {
    let (mut worst_param, mut gain, mut worst_ll) = (0.0f64, f64::NEG_INFINITY, f64::INFINITY);
    let (mut by_se, mut worst_se, mut short) = (0, 0.0f64, Vec::new());
    let mut failures = Vec::new();
    for case in cases() {
        let model = fit(&case.returns, case.spec, &FitOptions::default()).expect("fit");
        let r = model.report();
        let arch_ll = case.float(&["fit", "loglik"]);
        assert_eq!(r.nobs, case.float(&["fit", "nobs"]) as usize);
        if !r.converged {
            failures.push(format!("{}: not converged: {}", case.label, r.status));
        }
        if r.log_likelihood < arch_ll - 1e-6 {
            failures.push(format!(
                "{}: loglik {} < arch {arch_ll} ({})",
                case.label, r.log_likelihood, r.status
            ));
        }
        gain = gain.max(r.log_likelihood - arch_ll);
        worst_ll = worst_ll.min(r.log_likelihood - arch_ll);
        let theirs = case.floats(&["fit", "params"]);
        if r.log_likelihood > arch_ll + 1e-6 {
            // arch's SLSQP stopped measurably short of the optimum: its parameters are not the
            // optimum's, so they are not compared (listed in the summary instead).
            short.push(format!(
                "{} (+{:.1e})",
                case.label,
                r.log_likelihood - arch_ll
            ));
            continue;
        }
        let se = case.floats(&["fit", "std_err_robust"]);
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
            let in_se = (a - b).abs() / se[i];
            if err <= 1e-4 {
                worst_param = worst_param.max(err);
            } else if r.log_likelihood >= arch_ll && in_se <= 2e-3 {
                by_se += 1;
                worst_se = worst_se.max(in_se);
            } else {
                failures.push(format!(
                    "{} {}: ours {a} arch {b} ({in_se:.2e} SE; loglik ours {} arch {arch_ll})",
                    case.label, names[i], r.log_likelihood
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "largest parameter difference within 1e-4: {worst_param:.2e}; {by_se} parameter(s) \
         beyond it within {worst_se:.2e} SE at a higher log-likelihood; arch stopped more \
         than 1e-6 short on {}: {:?}; log-likelihood minus arch's: worst \
         {worst_ll:.2e}, best {gain:.2e}",
        short.len(),
        short
    );
}

#[test]
fn standard_errors_match_arch() {
    let mut worst = (0.0f64, String::new());
    let mut failures = Vec::new();
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
                if rel(*a, *b) > 1e-3 {
                    failures.push(format!("{} {key}[{i}]: ours {a} arch {b}", case.label));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "largest standard-error difference: {:.2e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn forecasts_match_arch_at_the_same_parameters() {
    let mut worst = [0.0f64; 3];
    for case in cases() {
        let params = case.floats(&["forecast", "params"]);
        let means = case.floats(&["forecast", "mean"]);
        let resid_var = case.floats(&["forecast", "residual_variance"]);
        let ret_var = case.floats(&["forecast", "variance"]);
        let model = fix(&case.returns, case.spec, &params).expect("feasible");
        // EGARCH's variance is analytic at h = 1 only (beyond, both arch and we simulate); its
        // mean forecasts are analytic at every horizon.
        let f = model
            .forecast(means.len(), &ForecastOptions::default())
            .expect("forecast");
        for (step, b) in f.steps.iter().zip(&means) {
            worst[0] = worst[0].max(rel(step.mean, *b));
            assert!(
                rel(step.mean, *b) <= 1e-6,
                "{} mean h={}: ours {} arch {b}",
                case.label,
                step.horizon,
                step.mean
            );
        }
        let ours_ret = f.return_variances(&model);
        for ((step, b), (r, c)) in f
            .steps
            .iter()
            .zip(&resid_var)
            .zip(ours_ret.iter().zip(&ret_var))
        {
            worst[1] = worst[1].max(rel(step.variance, *b));
            worst[2] = worst[2].max(rel(*r, *c));
            assert!(
                rel(step.variance, *b) <= 1e-6,
                "{} residual variance h={}: ours {} arch {b}",
                case.label,
                step.horizon,
                step.variance
            );
            assert!(
                rel(*r, *c) <= 1e-6,
                "{} return variance h={}: ours {r} arch {c}",
                case.label,
                step.horizon
            );
        }
    }
    eprintln!(
        "largest forecast differences (relative): mean {:.2e}, residual variance {:.2e}, \
         return variance {:.2e}",
        worst[0], worst[1], worst[2]
    );
}
