//! The parameter covariance, as `arch`'s `compute_param_cov` (`arch/univariate/base.py`):
//! `H⁻¹ B H⁻¹ / T` (robust, Bollerslev–Wooldridge) or `H⁻¹ / T` (classic). `H` and the score
//! covariance `B` come exactly from the second-order pass where the model has one; else, for
//! GARCH/GJR (the skewed t, higher orders, AR means), `H` from central differences of the
//! analytic gradient (2k gradient passes instead of `approx_hess3`'s 2k(k+1) value passes),
//! and where the likelihood is kinked in a mean parameter (EGARCH; the GED with a mean) from
//! `arch`'s own second differences (statsmodels' `approx_hess3`); `B` from the analytic
//! per-observation scores.

use nalgebra::{DMatrix, DVector};

use crate::likelihood::{Likelihood, SecondOrder};
use crate::report::CovarianceType;
use crate::spec::VolatilityModel;

/// Parameter covariance at `params` (see the module docs). `None` if the Hessian is singular.
pub(crate) fn covariance(
    lik: &Likelihood<'_>,
    params: &[f64],
    kind: CovarianceType,
) -> Option<DMatrix<f64>> {
    let robust = kind == CovarianceType::Robust;
    if let Some(so) = lik.second_order(params, robust) {
        return covariance_from_second_order(&so, lik.nobs(), kind);
    }
    let h = if kinked_in_mean(lik) {
        approx_hess3(lik, params)
    } else {
        gradient_hessian(lik, params)
    };
    let b = robust.then(|| score_covariance(lik, params));
    sandwich(h, b, lik.nobs())
}

/// The covariance from an analytic second-order pass: `H = −∇²ℓ/T` and, for the robust
/// flavour, `B` the sample covariance of the scores (numpy's `cov`, ddof = 1, as arch).
/// `None` if `H` is singular or the robust flavour is asked of a pass without scores.
pub(super) fn covariance_from_second_order(
    so: &SecondOrder,
    nobs: usize,
    kind: CovarianceType,
) -> Option<DMatrix<f64>> {
    let k = so.grad.len();
    let tf = nobs as f64;
    let h = DMatrix::from_row_slice(k, k, &so.hess) / -tf;
    let b = match kind {
        CovarianceType::Classic => None,
        CovarianceType::Robust => {
            let m = so.scores.as_ref()?;
            let sum = DVector::from_column_slice(&m.sum);
            Some(
                (DMatrix::from_row_slice(k, k, &m.outer) - &sum * sum.transpose() / tf)
                    / (tf - 1.0),
            )
        }
    };
    sandwich(h, b, nobs)
}

/// `H⁻¹ B H⁻¹ / T` (robust, given `B`) or `H⁻¹ / T` (classic), as arch's `compute_param_cov`.
fn sandwich(h: DMatrix<f64>, b: Option<DMatrix<f64>>, nobs: usize) -> Option<DMatrix<f64>> {
    let tf = nobs as f64;
    let h_inv = h.try_inverse()?;
    match b {
        Some(b) => Some(&h_inv * b * &h_inv / tf),
        None => Some(h_inv / tf),
    }
}

/// Whether the likelihood fails to be twice differentiable in a mean parameter, so that its
/// Hessian depends on the differencing scale and only `arch`'s own scale reproduces `arch`'s
/// standard errors: EGARCH (its `|z|`, see [`approx_hess3`]) and the GED with a constant or AR
/// mean (its `|z|^ν` has an unbounded second derivative at `z = 0` for `ν < 2`; on S&P 500
/// AR(1)-GJR-GED the gradient-difference Hessian moved the `y[1]` standard error by 2.6 % from
/// `arch`'s, `approx_hess3` agrees to 1e-3).
fn kinked_in_mean(lik: &Likelihood<'_>) -> bool {
    lik.spec().volatility == VolatilityModel::Egarch
        || (lik.spec().distribution == crate::spec::Distribution::Ged
            && lik.spec().layout().n_mean > 0)
}

/// `H = ∂²(−ℓ)/∂θ² / T` from central differences of the analytic gradient, steps
/// ε^(1/3)·max(|θ|, 0.1) (ω's capped at a quarter of ω), symmetrised. The GARCH/GJR likelihood
/// is smooth in every parameter (GJR's indicator switches only where a residual is exactly
/// zero), so this is the Hessian to ~1e-10 relative, far inside the 1e-3 the standard errors
/// are held to against arch's numerical ones.
fn gradient_hessian(lik: &Likelihood<'_>, params: &[f64]) -> DMatrix<f64> {
    let k = params.len();
    let tf = lik.nobs() as f64;
    let omega = lik.spec().layout().vol;
    let mut h = DMatrix::<f64>::zeros(k, k);
    let mut gp = vec![0.0; k];
    let mut gm = vec![0.0; k];
    for j in 0..k {
        let mut step = f64::EPSILON.cbrt() * params[j].abs().max(0.1);
        if j == omega {
            step = step.min(0.25 * params[j]);
        }
        let mut x = params.to_vec();
        x[j] = params[j] + step;
        lik.value_and_gradient(&x, &mut gp, None);
        x[j] = params[j] - step;
        lik.value_and_gradient(&x, &mut gm, None);
        for i in 0..k {
            h[(i, j)] = -(gp[i] - gm[i]) / (2.0 * step) / tf;
        }
    }
    (&h + h.transpose()) * 0.5
}

/// `H = ∂²(−ℓ)/∂θ² / T` exactly as arch computes it: statsmodels' `approx_hess3`, second
/// differences of the log-likelihood with steps ε^(1/4)·max(|θ|, 0.1). Used where there is no
/// analytic Hessian (EGARCH, higher orders). For EGARCH it is the right choice, not only a
/// fallback: its |z| makes the likelihood kinked in μ wherever a residual crosses zero, so any
/// Hessian depends on the differencing scale, and arch's scale gives arch's standard errors.
/// GARCH's ω step is capped at a quarter of ω so the recursion never sees a negative intercept.
fn approx_hess3(lik: &Likelihood<'_>, params: &[f64]) -> DMatrix<f64> {
    let k = params.len();
    let tf = lik.nobs() as f64;
    let omega_index = match lik.spec().volatility {
        VolatilityModel::Garch(_) => Some(lik.spec().layout().vol),
        VolatilityModel::Egarch => None,
    };
    let steps: Vec<f64> = params
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let h = f64::EPSILON.powf(0.25) * x.abs().max(0.1);
            if Some(i) == omega_index {
                h.min(0.25 * x)
            } else {
                h
            }
        })
        .collect();
    // The four shifted points of every (i, j), evaluated together (EGARCH interleaves
    // several passes over the data; each value is the same as alone).
    let mut points = Vec::with_capacity(2 * k * (k + 1));
    for i in 0..k {
        for j in i..k {
            let (hi, hj) = (steps[i], steps[j]);
            for (di, dj) in [(hi, hj), (hi, -hj), (-hi, hj), (-hi, -hj)] {
                let mut x = params.to_vec();
                x[i] += di;
                x[j] += dj;
                points.push(x);
            }
        }
    }
    // A diagonal term's (θᵢ + hᵢ) − hᵢ and (θᵢ − hᵢ) + hᵢ are usually θᵢ itself, bit for bit:
    // points that coincide are evaluated once (the same bits give the same value), which
    // spares up to 2k − 1 of the 2k(k + 1) passes.
    let mut distinct: Vec<&Vec<f64>> = Vec::with_capacity(points.len());
    let slots: Vec<usize> = points
        .iter()
        .map(|p| {
            let same = |q: &&Vec<f64>| q.iter().zip(p).all(|(a, b)| a.to_bits() == b.to_bits());
            distinct.iter().position(same).unwrap_or_else(|| {
                distinct.push(p);
                distinct.len() - 1
            })
        })
        .collect();
    let distinct: Vec<Vec<f64>> = distinct.into_iter().cloned().collect();
    let distinct_values = lik.values(&distinct);
    let mut values = slots.iter().map(|&i| -distinct_values[i]);
    let mut f = || values.next().expect("four values per (i, j)");
    let mut h = DMatrix::<f64>::zeros(k, k);
    for i in 0..k {
        for j in i..k {
            let (hi, hj) = (steps[i], steps[j]);
            let (pp, pm, mp, mm) = (f(), f(), f(), f());
            let v = (pp - pm - (mp - mm)) / (4.0 * hi * hj) / tf;
            h[(i, j)] = v;
            h[(j, i)] = v;
        }
    }
    h
}

/// Sample covariance of the analytic per-observation scores (ddof = 1), from their sum and
/// sum of outer products ([`Likelihood::score_moments`]), as the second-order pass gives them.
fn score_covariance(lik: &Likelihood<'_>, params: &[f64]) -> DMatrix<f64> {
    let k = params.len();
    let tf = lik.nobs() as f64;
    let (sum, outer) = lik.score_moments(params);
    let sum = DVector::from_column_slice(&sum);
    (DMatrix::from_row_slice(k, k, &outer) - &sum * sum.transpose() / tf) / (tf - 1.0)
}
