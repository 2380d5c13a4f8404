//! The analytic gradient agrees with finite differences, for every model, distribution and mean,
//! at parameters away from the optimum (where the gradient is large enough to compare), and on
//! random series and parameters (proptest).

use garch_core::{
    Distribution, GarchOrders, MeanModel, ModelSpec, Returns, VolatilityModel,
    log_likelihood_with_gradient, simulate,
};
use proptest::prelude::*;

/// Central difference with Richardson extrapolation (error O(h⁴)).
///
/// The log-likelihood is smooth in every parameter except the mean: EGARCH's |e_t| (and GJR's
/// 1[e_t < 0]) change form where μ crosses a return. So μ's step stays below a quarter of the
/// distance from μ to the nearest return, or a difference straddling that kink would be
/// compared with the analytic derivative, which is exact away from the kink.
fn numeric_gradient(returns: &Returns, spec: ModelSpec, params: &[f64]) -> Vec<f64> {
    let ll = |p: &[f64]| log_likelihood_with_gradient(returns, spec, p).unwrap().0;
    let mu = (spec.mean == MeanModel::Constant).then_some(0);
    (0..params.len())
        .map(|i| {
            let mut h = 1e-4 * params[i].abs().max(1e-2);
            if Some(i) == mu {
                let gap = returns
                    .as_slice()
                    .iter()
                    .map(|y| (y - params[i]).abs())
                    .fold(f64::INFINITY, f64::min);
                h = h.min(gap / 4.0);
            }
            let central = |h: f64| {
                let (mut a, mut b) = (params.to_vec(), params.to_vec());
                a[i] += h;
                b[i] -= h;
                (ll(&a) - ll(&b)) / (2.0 * h)
            };
            (4.0 * central(h / 2.0) - central(h)) / 3.0
        })
        .collect()
}

fn all_specs() -> Vec<(ModelSpec, Vec<f64>)> {
    use Distribution::*;
    use MeanModel::*;
    let g212 = VolatilityModel::Garch(GarchOrders::new(2, 1, 2).unwrap());
    vec![
        (
            ModelSpec::new(Constant, VolatilityModel::garch(), Normal),
            vec![0.03, 0.05, 0.12, 0.8],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::garch(), StudentT),
            vec![0.03, 0.05, 0.12, 0.8, 5.0],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::gjr(), Normal),
            vec![0.03, 0.05, 0.04, 0.15, 0.8],
        ),
        (
            ModelSpec::new(Zero, VolatilityModel::gjr(), StudentT),
            vec![0.05, 0.04, 0.15, 0.8, 8.0],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::egarch(), Normal),
            vec![0.03, 0.02, 0.15, -0.07, 0.9],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::egarch(), StudentT),
            vec![0.03, 0.02, 0.15, -0.07, 0.9, 7.0],
        ),
        (
            ModelSpec::new(Zero, g212, Normal),
            vec![0.04, 0.05, 0.03, 0.08, 0.4, 0.35],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::garch(), SkewT),
            vec![0.03, 0.05, 0.12, 0.8, 6.0, -0.2],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::gjr(), SkewT),
            vec![0.03, 0.05, 0.04, 0.15, 0.8, 9.0, 0.3],
        ),
        (
            ModelSpec::new(Zero, VolatilityModel::egarch(), SkewT),
            vec![0.02, 0.15, -0.07, 0.9, 5.0, 0.1],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::egarch(), SkewT),
            vec![0.03, 0.02, 0.15, -0.07, 0.9, 7.0, -0.4],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::garch(), Ged),
            vec![0.03, 0.05, 0.12, 0.8, 1.4],
        ),
        (
            ModelSpec::new(Zero, VolatilityModel::gjr(), Ged),
            vec![0.05, 0.04, 0.15, 0.8, 2.6],
        ),
        (
            ModelSpec::new(Constant, VolatilityModel::egarch(), Ged),
            vec![0.03, 0.02, 0.15, -0.07, 0.9, 1.2],
        ),
    ]
}

fn sample(seed: u64, n: usize) -> Returns {
    let truth = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::gjr(),
        Distribution::StudentT,
    );
    let sim = simulate(truth, &[0.04, 0.03, 0.03, 0.12, 0.87, 6.0], n, seed).unwrap();
    Returns::new(sim.returns).unwrap()
}

#[test]
fn analytic_gradient_matches_finite_differences() {
    let returns = sample(11, 1500);
    for (spec, params) in all_specs() {
        let (_, analytic) = log_likelihood_with_gradient(&returns, spec, &params).unwrap();
        let numeric = numeric_gradient(&returns, spec, &params);
        for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            let scale = a.abs().max(n.abs()).max(1.0);
            assert!(
                (a - n).abs() <= 1e-6 * scale,
                "{spec} d/d{}: analytic {a} numeric {n}",
                spec.param_names()[i]
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradient_matches_on_random_inputs(
        seed in 0u64..1_000,
        which in 0usize..14,
        jitter in 0.7f64..1.3,
    ) {
        let returns = sample(seed, 400);
        let (spec, mut params) = all_specs()[which].clone();
        // Scale the lag coefficients down so the perturbed point stays stationary.
        let v = usize::from(spec.mean == MeanModel::Constant);
        params[v] *= jitter;
        for p in &mut params[v + 1..v + spec.volatility.n_params()] {
            *p *= 0.95;
        }
        let (_, analytic) = log_likelihood_with_gradient(&returns, spec, &params).unwrap();
        let numeric = numeric_gradient(&returns, spec, &params);
        for (a, n) in analytic.iter().zip(&numeric) {
            prop_assert!((a - n).abs() <= 1e-5 * a.abs().max(n.abs()).max(1.0), "{spec}: {a} vs {n}");
        }
    }

    #[test]
    fn variance_path_is_positive_and_finite(
        seed in 0u64..1_000,
        which in 0usize..14,
    ) {
        let returns = sample(seed, 300);
        let (spec, params) = all_specs()[which].clone();
        let model = garch_core::fix(&returns, spec, &params).unwrap();
        prop_assert!(model.conditional_variance().iter().all(|v| v.is_finite() && *v > 0.0));
        prop_assert!(model.report().log_likelihood.is_finite());
    }
}

/// AR(p) means: the residual derivatives `∂ε_t/∂Const = −1`, `∂ε_t/∂y[i] = −y_{t−i}` through
/// every variance recursion and law. A mean parameter's step stays below a quarter of the step
/// that would move the nearest residual across zero (the kinks of EGARCH's |z|, GJR's indicator
/// and the GED's |z|^ν).
#[test]
fn ar_mean_gradient_matches_finite_differences() {
    use Distribution::*;
    let returns = sample(23, 1200);
    let y = returns.as_slice();
    let ar = |p| MeanModel::ar(p).unwrap();
    let cases = [
        (
            ar(1),
            VolatilityModel::garch(),
            Normal,
            vec![0.03, 0.1, 0.05, 0.12, 0.8],
        ),
        (
            ar(2),
            VolatilityModel::garch(),
            StudentT,
            vec![0.03, 0.1, -0.05, 0.05, 0.12, 0.8, 6.0],
        ),
        (
            ar(2),
            VolatilityModel::gjr(),
            SkewT,
            vec![0.02, -0.1, 0.05, 0.05, 0.04, 0.15, 0.8, 7.0, -0.2],
        ),
        (
            ar(1),
            VolatilityModel::gjr(),
            Ged,
            vec![0.03, 0.08, 0.05, 0.04, 0.15, 0.8, 1.4],
        ),
        (
            ar(1),
            VolatilityModel::egarch(),
            Normal,
            vec![0.03, 0.1, 0.02, 0.15, -0.07, 0.9],
        ),
        (
            ar(3),
            VolatilityModel::egarch(),
            StudentT,
            vec![0.03, 0.1, -0.05, 0.02, 0.02, 0.15, -0.07, 0.9, 7.0],
        ),
        (
            ar(2),
            VolatilityModel::egarch(),
            Ged,
            vec![0.03, 0.1, -0.05, 0.02, 0.15, -0.07, 0.9, 1.3],
        ),
        (
            ar(2),
            VolatilityModel::Garch(GarchOrders::new(2, 1, 2).unwrap()),
            Normal,
            vec![0.03, 0.1, -0.05, 0.04, 0.05, 0.03, 0.08, 0.4, 0.35],
        ),
    ];
    for (mean, vol, dist, params) in cases {
        let spec = ModelSpec::new(mean, vol, dist);
        let p = mean.hold_back();
        let e = garch_core::mean::residuals(mean, &params, y);
        let ll = |x: &[f64]| log_likelihood_with_gradient(&returns, spec, x).unwrap().0;
        let (_, analytic) = log_likelihood_with_gradient(&returns, spec, &params).unwrap();
        for (i, a) in analytic.iter().enumerate() {
            let mut h = 1e-4 * params[i].abs().max(1e-2);
            if i < mean.n_params() {
                // Regressor of parameter i at observation t: 1 or y_{t−i}.
                let gap = e
                    .iter()
                    .enumerate()
                    .map(|(s, r)| {
                        let x = if i == 0 { 1.0 } else { y[s + p - i] };
                        r.abs() / x.abs().max(1e-300)
                    })
                    .fold(f64::INFINITY, f64::min);
                h = h.min(gap / 4.0);
            }
            let central = |h: f64| {
                let (mut up, mut down) = (params.clone(), params.clone());
                up[i] += h;
                down[i] -= h;
                (ll(&up) - ll(&down)) / (2.0 * h)
            };
            let n = (4.0 * central(h / 2.0) - central(h)) / 3.0;
            assert!(
                (a - n).abs() <= 1e-6 * a.abs().max(n.abs()).max(1.0),
                "{spec} d/d{}: analytic {a} numeric {n}",
                spec.param_names()[i]
            );
        }
    }
}
