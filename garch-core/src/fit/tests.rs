//! Tests of the two optimisers against each other and of the covariance reused from
//! Newton's last pass.

use super::*;
use crate::simulate::simulate;
use crate::spec::{Distribution, MeanModel, VolatilityModel};

fn series(spec: ModelSpec, params: &[f64], n: usize, seed: u64) -> Vec<f64> {
    simulate(spec, params, n, seed).unwrap().returns
}

/// Newton on the exact Hessian and the reparameterised L-BFGS find the same optimum, and
/// the covariance, log-likelihood and variances taken from Newton's last pass are the ones
/// computed afresh.
#[test]
fn newton_agrees_with_lbfgs_and_reuses_its_last_pass() {
    let gjr_t = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::gjr(),
        Distribution::StudentT,
    );
    let y = series(gjr_t, &[0.04, 0.02, 0.03, 0.1, 0.88, 7.0], 3000, 11);
    for (vol, dist) in [
        (VolatilityModel::garch(), Distribution::Normal),
        (VolatilityModel::garch(), Distribution::StudentT),
        (VolatilityModel::gjr(), Distribution::Normal),
        (VolatilityModel::gjr(), Distribution::StudentT),
    ] {
        for mean in [MeanModel::Constant, MeanModel::Zero] {
            let spec = ModelSpec::new(mean, vol, dist);
            let e0 = starting_resids(&spec, &y);
            let lik = Likelihood::new(spec, &y, &e0);
            let transform = Transform::new(spec);
            let start = starting_values(&lik, &y, &e0);
            let options = FitOptions::default();
            let mut evaluations = 0;
            let newton =
                newton::maximise(&lik, &transform, &start, None, &options, &mut evaluations)
                    .unwrap_or_else(|| panic!("{spec}: Newton did not converge"));
            assert!(evaluations <= 12, "{spec}: {evaluations} passes");
            // The last pass reports the optimum as a value pass would: the same variances,
            // the log-likelihood up to summation order.
            let (ll, sigma2) = lik.conditional_variance(&newton.params);
            assert!(
                newton
                    .last
                    .sigma2
                    .iter()
                    .map(|x| x.to_bits())
                    .eq(sigma2.iter().map(|x| x.to_bits())),
                "{spec}: conditional variances"
            );
            assert!(
                (newton.last.ll - ll).abs() <= 1e-12 * ll.abs(),
                "{spec}: log-likelihood"
            );
            let lbfgs = optimise(&lik, &transform, &start, &options).unwrap();
            let (ll_newton, ll_lbfgs) = (lik.value(&newton.params), lik.value(&lbfgs.params));
            assert!(
                ll_newton >= ll_lbfgs - 1e-9,
                "{spec}: {ll_newton} < {ll_lbfgs}"
            );
            for (a, b) in newton.params.iter().zip(&lbfgs.params) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{spec}: {a} vs {b}"
                );
            }
            for kind in [CovarianceType::Robust, CovarianceType::Classic] {
                let fresh = covariance(&lik, &newton.params, kind).unwrap();
                let mut last = newton.last.clone();
                if kind == CovarianceType::Robust && last.scores.is_none() {
                    last = lik.second_order(&newton.params, true).unwrap();
                }
                let reused = covariance_from_second_order(&last, y.len(), kind).unwrap();
                assert!(
                    (&fresh - &reused).abs().max() <= 1e-10 * fresh.abs().max(),
                    "{spec} {kind:?}"
                );
            }
        }
    }
}

/// An optimum on a constraint (data with no ARCH effect: α → 0) makes Newton give up
/// early; the fit still converges through L-BFGS and says where it ended.
#[test]
fn newton_hands_constrained_optima_to_lbfgs() {
    let garch = ModelSpec::default();
    let y = series(garch, &[0.03, 0.05, 0.0, 0.9], 3000, 3);
    let spec = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::garch(),
        Distribution::Normal,
    );
    let e0 = starting_resids(&spec, &y);
    let lik = Likelihood::new(spec, &y, &e0);
    let transform = Transform::new(spec);
    let start = starting_values(&lik, &y, &e0);
    let mut evaluations = 0;
    let newton = newton::maximise(
        &lik,
        &transform,
        &start,
        None,
        &FitOptions::default(),
        &mut evaluations,
    );
    assert!(
        newton.is_none(),
        "α → 0 is on a bound: Newton cannot converge there"
    );
    assert!(evaluations < 60, "gave up after {evaluations} passes");
    let model = fit(&Returns::new(y).unwrap(), spec, &FitOptions::default()).unwrap();
    assert!(model.report().converged, "{}", model.report().status);
    assert!(!model.report().at_bounds.is_empty());
}

/// A warm start with the previous window's Hessian reaches the optimum the exact path reaches,
/// on every one of forty consecutive rolling windows and each first-order layout; and one
/// with the wrong sign (damped into a gradient step, or no step at all) still gets there.
#[test]
fn warm_starts_with_a_known_hessian_reach_the_exact_paths_optimum() {
    let gjr_t = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::gjr(),
        Distribution::StudentT,
    );
    let y = series(gjr_t, &[0.04, 0.02, 0.03, 0.1, 0.88, 7.0], 1040, 5);
    let options = FitOptions {
        grid_restarts: false,
        ..FitOptions::default()
    };
    for (vol, dist) in [
        (VolatilityModel::garch(), Distribution::Normal),
        (VolatilityModel::gjr(), Distribution::StudentT),
    ] {
        for mean in [MeanModel::Constant, MeanModel::Zero] {
            let spec = ModelSpec::new(mean, vol, dist);
            let window = |s: usize| Returns::new(y[s..s + 1000].to_vec()).unwrap();
            let mut previous = fit(&window(0), spec, &options).unwrap();
            let mut cheaper = 0;
            for s in 1..=40 {
                let with_hessian =
                    fit_warm(&window(s), spec, &options, &previous.warm_start()).unwrap();
                let exact = fit_from(&window(s), spec, &options, previous.params()).unwrap();
                let (a, b) = (with_hessian.report(), exact.report());
                assert!(
                    a.converged && b.converged,
                    "{spec} window {s}: {}",
                    a.status
                );
                assert!(
                    (a.log_likelihood - b.log_likelihood).abs() <= 1e-9,
                    "{spec} window {s}: {} vs {}",
                    a.log_likelihood,
                    b.log_likelihood
                );
                for (p, q) in with_hessian.params().iter().zip(exact.params()) {
                    assert!(
                        (p - q).abs() <= 1e-6 * q.abs().max(1e-3),
                        "{spec} window {s}"
                    );
                }
                cheaper += usize::from(a.function_evaluations <= b.function_evaluations);
                previous = with_hessian;
            }
            // The known Hessian replaces the exact first pass and the step is as good: never
            // more second-order passes than the exact path, on most windows the same count.
            assert!(cheaper >= 30, "{spec}: {cheaper} of 40");
        }
    }
    // The wrong sign: the first step is a damped gradient step (or the exact one).
    let spec = ModelSpec::default();
    let first = fit(&Returns::new(y[..1000].to_vec()).unwrap(), spec, &options).unwrap();
    let mut wrong = first.warm_start();
    wrong.hessian = wrong.hessian.map(|h| h.iter().map(|v| -v).collect());
    let next = Returns::new(y[1..1001].to_vec()).unwrap();
    let fell_back = fit_warm(&next, spec, &options, &wrong).unwrap();
    let exact = fit_from(&next, spec, &options, first.params()).unwrap();
    assert!(
        fell_back.report().converged,
        "{}",
        fell_back.report().status
    );
    let gap = fell_back.report().log_likelihood - exact.report().log_likelihood;
    assert!(gap.abs() <= 1e-9, "{gap}");
    for (p, q) in fell_back.params().iter().zip(exact.params()) {
        assert!((p - q).abs() <= 1e-6 * q.abs().max(1e-3));
    }
}

/// A report rebuilt from its essentials is the report, bit for bit: every law and model, a
/// fixed-parameter report (no standard errors), and the wrong number of values refused.
#[test]
fn reports_come_back_from_their_essentials() {
    let gjr_t = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::gjr(),
        Distribution::StudentT,
    );
    let y = Returns::new(series(gjr_t, &[0.04, 0.02, 0.03, 0.1, 0.88, 7.0], 1500, 9)).unwrap();
    let bits = |r: &FitReport| serde_json::to_string(r).unwrap();
    let mut reports = Vec::new();
    for (vol, dist) in [
        (VolatilityModel::garch(), Distribution::Normal),
        (VolatilityModel::gjr(), Distribution::StudentT),
        (VolatilityModel::egarch(), Distribution::SkewT),
        (VolatilityModel::garch(), Distribution::Ged),
    ] {
        let spec = ModelSpec::new(MeanModel::Constant, vol, dist);
        reports.push(
            fit(&y, spec, &FitOptions::default())
                .unwrap()
                .report()
                .clone(),
        );
    }
    let fixed = fix(&y, ModelSpec::default(), &[0.04, 0.05, 0.08, 0.9]).unwrap();
    reports.push(fixed.report().clone());
    for r in reports {
        let back = FitReport::from_essentials(r.spec, r.essentials()).unwrap();
        assert_eq!(bits(&back), bits(&r), "{}", r.spec);
        for (a, b) in back.params.iter().zip(&r.params) {
            assert_eq!(a.t_stat.map(f64::to_bits), b.t_stat.map(f64::to_bits));
            assert_eq!(a.p_value.map(f64::to_bits), b.p_value.map(f64::to_bits));
        }
    }
    let mut short = fixed.report().essentials();
    short.values.pop();
    assert!(FitReport::from_essentials(ModelSpec::default(), short).is_err());
}
