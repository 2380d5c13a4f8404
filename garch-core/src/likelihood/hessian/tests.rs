//! Tests of the second-order passes: against differences of the analytic gradient, and the
//! adjoint pass against the forward recursions.

use super::*;
use crate::distribution::StudentT;
use crate::spec::{Distribution, MeanModel, ModelSpec};

fn series(n: usize) -> Vec<f64> {
    // A deterministic heavy-tailed series with volatility clusters.
    let mut s2: f64 = 1.0;
    crate::test_support::uniforms(0x2545_f491_4f6c_dd1d)
        .take(n)
        .map(|u| {
            let z = (u - 0.5) * 3.4;
            let e = s2.sqrt() * z * (1.0 + z * z * 0.1);
            s2 = 0.05 + 0.08 * e * e + 0.9 * s2;
            e + 0.04
        })
        .collect()
}

/// The first-order layouts the second-order pass covers, at interior parameters.
fn cases() -> [(MeanModel, VolatilityModel, Distribution, &'static [f64]); 6] {
    [
        (
            MeanModel::Constant,
            VolatilityModel::garch(),
            Distribution::Normal,
            &[0.04, 0.06, 0.09, 0.88],
        ),
        (
            MeanModel::Zero,
            VolatilityModel::garch(),
            Distribution::Normal,
            &[0.06, 0.09, 0.88],
        ),
        (
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::Normal,
            &[0.04, 0.05, 0.04, 0.06, 0.88],
        ),
        (
            MeanModel::Constant,
            VolatilityModel::garch(),
            Distribution::StudentT,
            &[0.04, 0.06, 0.09, 0.88, 6.5],
        ),
        (
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::StudentT,
            &[0.04, 0.05, 0.04, 0.06, 0.88, 8.0],
        ),
        (
            MeanModel::Zero,
            VolatilityModel::gjr(),
            Distribution::StudentT,
            &[0.05, 0.04, 0.06, 0.88, 5.0],
        ),
    ]
}

/// The analytic Hessian against central differences of the analytic gradient (the forward-mode
/// pass, independent of the second-order one), and the two passes' values and gradients.
#[test]
fn hessian_matches_differences_of_the_gradient() {
    let y = series(1500);
    let cases = cases();
    for (mean, vol, dist, params) in cases {
        let spec = ModelSpec::new(mean, vol, dist);
        let e0 = crate::fit::starting_resids(&spec, &y);
        let lik = Likelihood::new(spec, &y, &e0);
        let so = lik.second_order(params, true).expect("first-order model");
        let k = params.len();
        let mut g = vec![0.0; k];
        let ll = lik.forward_value_and_gradient(params, &mut g, None);
        assert!((so.ll - ll).abs() <= 1e-10 * ll.abs(), "{spec}: value");
        for i in 0..k {
            assert!(
                (so.grad[i] - g[i]).abs() <= 1e-10 * g[i].abs().max(1.0),
                "{spec}: grad"
            );
        }
        for j in 0..k {
            let h = 1e-5 * params[j].abs().max(1e-2);
            let (mut up, mut down) = (params.to_vec(), params.to_vec());
            up[j] += h;
            down[j] -= h;
            let (mut gu, mut gd) = (vec![0.0; k], vec![0.0; k]);
            lik.forward_value_and_gradient(&up, &mut gu, None);
            lik.forward_value_and_gradient(&down, &mut gd, None);
            for i in 0..k {
                let fd = (gu[i] - gd[i]) / (2.0 * h);
                let an = so.hess[i * k + j];
                let scale = (so.hess[i * k + i] * so.hess[j * k + j]).abs().sqrt();
                assert!(
                    (fd - an).abs() <= 1e-6 * scale,
                    "{spec}: H[{i}][{j}] analytic {an} vs differences {fd}"
                );
                assert_eq!(
                    an.to_bits(),
                    so.hess[j * k + i].to_bits(),
                    "{spec}: symmetry"
                );
            }
        }
        // The score moments: their sum is the gradient, the outer sum is positive.
        let m = so.scores.expect("asked for scores");
        for i in 0..k {
            assert!(
                (m.sum[i] - g[i]).abs() <= 1e-8 * g[i].abs().max(1.0),
                "{spec}: Σg_t"
            );
            assert!(m.outer[i * k + i] > 0.0);
        }
    }
}

/// The adjoint pass against the forward recursions of `pass_bounded`, where no variance
/// is bounded: the same value, gradient, Hessian and score moments up to rounding, and
/// the same conditional variances bit for bit.
#[test]
fn adjoint_pass_matches_the_forward_recursions() {
    let y = series(1003);
    let cases = cases();
    fn both<const N: usize, const MU: bool, const GAMMA: bool, D: SecondOrderDensity>(
        lik: &Likelihood<'_>,
        params: &[f64],
        density: D,
    ) -> (SecondOrder, SecondOrder) {
        let fast = lik
            .pass::<N, MU, GAMMA, D, true, true>(params, density)
            .expect("inside the bounds");
        let forward = lik
            .pass_bounded::<N, MU, GAMMA, D, true>(params, density)
            .expect("inside the bounds");
        (fast, forward)
    }
    for (mean, vol, dist, params) in cases {
        let spec = ModelSpec::new(mean, vol, dist);
        let e0 = crate::fit::starting_resids(&spec, &y);
        let lik = Likelihood::new(spec, &y, &e0);
        let t = match dist {
            Distribution::StudentT => {
                let nu = params[params.len() - 1];
                Some(StudentT::new(nu).second_order())
            }
            Distribution::Normal => None,
            Distribution::SkewT | Distribution::Ged => unreachable!("no second-order pass"),
        };
        let (fast, forward) = match (params.len(), mean == MeanModel::Constant, t) {
            (4, true, None) => both::<4, true, false, _>(&lik, params, Normal),
            (3, false, None) => both::<3, false, false, _>(&lik, params, Normal),
            (5, true, None) => both::<5, true, true, _>(&lik, params, Normal),
            (5, true, Some(t)) => both::<5, true, false, _>(&lik, params, t),
            (6, true, Some(t)) => both::<6, true, true, _>(&lik, params, t),
            (5, false, Some(t)) => both::<5, false, true, _>(&lik, params, t),
            _ => unreachable!(),
        };
        let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-12 * scale;
        assert!(
            close(fast.ll, forward.ll, forward.ll.abs()),
            "{spec}: value"
        );
        let k = params.len();
        for i in 0..k {
            let gi = forward.grad[i].abs().max(1.0);
            assert!(close(fast.grad[i], forward.grad[i], gi), "{spec}: grad {i}");
            let (fs, bs) = (
                fast.scores.as_ref().unwrap(),
                forward.scores.as_ref().unwrap(),
            );
            assert!(close(fs.sum[i], bs.sum[i], gi), "{spec}: Σg {i}");
            for j in 0..k {
                let scale = (forward.hess[i * k + i] * forward.hess[j * k + j])
                    .abs()
                    .sqrt();
                let (a, b) = (fast.hess[i * k + j], forward.hess[i * k + j]);
                assert!(close(a, b, scale), "{spec}: H[{i}][{j}] {a} vs {b}");
                let scale = (bs.outer[i * k + i] * bs.outer[j * k + j]).sqrt();
                let (a, b) = (fs.outer[i * k + j], bs.outer[i * k + j]);
                assert!(close(a, b, scale), "{spec}: Σgg[{i}][{j}] {a} vs {b}");
            }
        }
        assert!(
            fast.sigma2
                .iter()
                .zip(&forward.sigma2)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{spec}: σ²"
        );
    }
}

/// The first-order pass is the second-order pass without its Hessian terms: the same value and
/// gradient, bit for bit, on every layout (Newton compares values across the two).
#[test]
fn first_order_pass_is_the_second_orders_value_and_gradient() {
    let y = series(1003);
    for (mean, vol, dist, params) in cases() {
        let spec = ModelSpec::new(mean, vol, dist);
        let e0 = crate::fit::starting_resids(&spec, &y);
        let lik = Likelihood::new(spec, &y, &e0);
        let so = lik.second_order(params, false).expect("first-order model");
        let fo = lik.first_order(params).expect("first-order model");
        assert_eq!(fo.ll.to_bits(), so.ll.to_bits(), "{spec}: value");
        assert_eq!(fo.grad.len(), so.grad.len());
        for (i, (a, b)) in fo.grad.iter().zip(&so.grad).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{spec}: grad {i}: {a} vs {b}");
        }
    }
}
