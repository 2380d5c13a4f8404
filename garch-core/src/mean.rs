//! The conditional mean: residuals, their regressors, starting values and forecasts.
//!
//! Three means, as `arch` 8.0 has them (`arch/univariate/mean.py`): `ConstantMean` (`mu`),
//! `ZeroMean`, and `ARX` with `lags = p`, a constant and no exogenous regressors, the AR(p)
//! mean `r_t = c + φ_1 r_{t−1} + … + φ_p r_{t−p} + ε_t` with parameters `Const, y[1], …, y[p]`.
//! The AR(p) conventions are `ARX`'s, read off its source:
//!
//! * **Sample.** The regressors of observation `t` are `[1, r_{t−1}, …, r_{t−p}]`; the first `p`
//!   observations serve only as regressors (`hold_back = max lag`), so residuals, variances and
//!   the likelihood cover the remaining `T − p` observations, and `nobs` is `T − p`.
//! * **Starting values.** The mean starts at the least-squares estimate `pinv(X)·y` on that
//!   sample (`HARX._fit_no_arch_normal_errors_params`); its residuals are the starting residuals
//!   from which the backcast, the variance bounds and the variance starting grid are computed,
//!   **once**: during the optimisation the backcast does not move with the mean parameters
//!   (`ARCHModel.fit`), so the analytic gradient has no backcast term.
//! * **Forecasts.** The mean forecast is the AR recursion from the last `p` observations,
//!   forecasts replacing observations beyond the sample (`_ar_forecast`); the residual-variance
//!   forecast is the variance process's own, from a backcast recomputed from the residuals at
//!   the fitted mean (`HARX.forecast`). `arch`'s `forecast(...).variance` of an AR model is the
//!   variance of the return `r_{T+h}`, `Σ_{i<h} ψ_i² σ²_{T+h−i}` with `ψ` the AR impulse
//!   response (`_ar_to_impulse`); [`return_variances`] computes it.
//!
//! The residual derivatives `∂ε_t/∂c = −1`, `∂ε_t/∂φ_i = −r_{t−i}` flow through the variance
//! recursions (the private `variance` module) as regressor rows.

use nalgebra::{DMatrix, DVector};

use crate::spec::MeanModel;
use crate::variance::lane_sum;

/// The row-major `(T − p) × (1 + p)` regressor matrix of an AR(p) mean: row `t − p` is
/// `[1, y_{t−1}, …, y_{t−p}]`. `None` for the constant and zero means, whose residual
/// derivative is handled by the kernels directly.
pub(crate) fn regressors(mean: MeanModel, y: &[f64]) -> Option<Vec<f64>> {
    let MeanModel::Ar(lags) = mean else {
        return None;
    };
    let p = lags.get();
    let k = 1 + p;
    let mut x = Vec::with_capacity(y.len().saturating_sub(p) * k);
    for t in p..y.len() {
        x.push(1.0);
        x.extend((1..=p).map(|i| y[t - i]));
    }
    Some(x)
}

/// Residuals `ε_t = y_t − m_t` at the mean parameters `b` (the first `mean.n_params()` of a
/// parameter vector; a whole parameter vector may be given), for `t = hold_back .. T`.
pub fn residuals(mean: MeanModel, b: &[f64], y: &[f64]) -> Vec<f64> {
    match mean {
        MeanModel::Constant => {
            let mu = b[0];
            y.iter().map(|v| v - mu).collect()
        }
        MeanModel::Zero => y.to_vec(),
        MeanModel::Ar(lags) => {
            let p = lags.get();
            let mut e = vec![0.0; y.len().saturating_sub(p)];
            ar_residuals_into(b, y, p, &mut e);
            e
        }
    }
}

/// AR(p) residuals into `out` (length `T − p`): `y_t − (c + Σ φ_i y_{t−i})`, the regressors
/// times the coefficients summed in `arch`'s column order.
pub(crate) fn ar_residuals_into(b: &[f64], y: &[f64], p: usize, out: &mut [f64]) {
    let b = &b[..=p];
    debug_assert_eq!(out.len(), y.len().saturating_sub(p));
    for (i, e) in out.iter_mut().enumerate() {
        let t = i + p;
        let mut m = b[0];
        for (j, phi) in b[1..].iter().enumerate() {
            m += phi * y[t - 1 - j];
        }
        *e = y[t] - m;
    }
}

/// `arch`'s starting values of the mean parameters: `ȳ` (constant), none (zero), the
/// least-squares AR coefficients `pinv(X)·y` on the sample after the hold-back (AR).
pub fn starting_mean(mean: MeanModel, y: &[f64]) -> Vec<f64> {
    match mean {
        MeanModel::Constant => vec![lane_sum(y, |v| v) / y.len() as f64],
        MeanModel::Zero => Vec::new(),
        MeanModel::Ar(lags) => {
            let p = lags.get();
            let k = 1 + p;
            let x = regressors(mean, y).expect("AR has regressors");
            let rows = y.len().saturating_sub(p);
            // Normal equations XᵀX b = Xᵀy, solved by the pseudo-inverse of the k × k matrix:
            // the minimum-norm least-squares solution, `pinv(X)·y`, also for a rank-deficient X
            // (a constant series).
            let mut xtx = DMatrix::<f64>::zeros(k, k);
            let mut xty = DVector::<f64>::zeros(k);
            for (row, &yt) in x.chunks_exact(k).zip(&y[p..]).take(rows) {
                for i in 0..k {
                    xty[i] += row[i] * yt;
                    for j in 0..=i {
                        xtx[(i, j)] += row[i] * row[j];
                    }
                }
            }
            for i in 0..k {
                for j in 0..i {
                    xtx[(j, i)] = xtx[(i, j)];
                }
            }
            // A series whose squares overflow has no least-squares start: NaN starts make the
            // fit fail with its "not finite at the starting values" error. (nalgebra's SVD
            // never returns on non-finite input, hence the check, and a bounded SVD besides.)
            if !(xtx.iter().all(|v| v.is_finite()) && xty.iter().all(|v| v.is_finite())) {
                return vec![f64::NAN; k];
            }
            let tol = 1e-15 * xtx.norm();
            let pinv = xtx
                .try_svd(true, true, f64::EPSILON, 1_000)
                .and_then(|svd| svd.pseudo_inverse(tol).ok())
                .unwrap_or_else(|| DMatrix::zeros(k, k));
            (pinv * xty).iter().copied().collect()
        }
    }
}

/// Conditional-mean forecasts `E_T[r_{T+h}]`, `h = 1..=horizon`: `μ` (constant), 0 (zero), the
/// AR recursion from the last `p` observations (`arch`'s `_ar_forecast`).
pub fn mean_forecasts(mean: MeanModel, b: &[f64], y: &[f64], horizon: usize) -> Vec<f64> {
    match mean {
        MeanModel::Constant => vec![b[0]; horizon],
        MeanModel::Zero => vec![0.0; horizon],
        MeanModel::Ar(lags) => {
            let p = lags.get();
            let b = &b[..=p];
            // The last p observations, oldest first, then the forecasts.
            let mut path: Vec<f64> = y[y.len() - p..].to_vec();
            for _ in 0..horizon {
                let m = path.len();
                let mut f = b[0];
                for (j, phi) in b[1..].iter().enumerate() {
                    f += phi * path[m - 1 - j];
                }
                path.push(f);
            }
            path.split_off(p)
        }
    }
}

/// The AR impulse response `ψ_0 = 1, ψ_1, …, ψ_{h−1}` of the coefficients `phi`
/// (`arch`'s `_ar_to_impulse`); `[1, 0, 0, …]` without AR terms.
pub fn impulse_response(phi: &[f64], horizon: usize) -> Vec<f64> {
    let mut psi = vec![0.0; horizon];
    if horizon == 0 {
        return psi;
    }
    psi[0] = 1.0;
    for i in 1..horizon {
        psi[i] = (1..=phi.len().min(i))
            .map(|j| phi[j - 1] * psi[i - j])
            .sum();
    }
    psi
}

/// Variances of the returns `r_{T+h}` from the residual-variance forecasts `residual_var`
/// (`σ²_{T+1}, …`): `Σ_{i<h} ψ_i² σ²_{T+h−i}`, what `arch` reports as `forecast(...).variance`.
/// Equal to the residual variances for the constant and zero means.
pub fn return_variances(mean: MeanModel, b: &[f64], residual_var: &[f64]) -> Vec<f64> {
    let MeanModel::Ar(lags) = mean else {
        return residual_var.to_vec();
    };
    let psi = impulse_response(&b[1..=lags.get()], residual_var.len());
    (0..residual_var.len())
        .map(|h| (0..=h).map(|i| psi[i] * psi[i] * residual_var[h - i]).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_an_exact_ar() {
        // y_t = 0.5 + 0.3 y_{t−1} − 0.2 y_{t−2} + a small deterministic wiggle.
        let mut y = vec![1.0, -0.5];
        for t in 2..400 {
            let w = ((t * 37 % 101) as f64 - 50.0) / 50.0;
            y.push(0.5 + 0.3 * y[t - 1] - 0.2 * y[t - 2] + w);
        }
        let mean = MeanModel::ar(2).unwrap();
        let b = starting_mean(mean, &y);
        let e = residuals(mean, &b, &y);
        assert_eq!(e.len(), 398);
        // Least squares: residuals orthogonal to every regressor.
        let x = regressors(mean, &y).unwrap();
        for j in 0..3 {
            let dot: f64 = x.chunks_exact(3).zip(&e).map(|(r, e)| r[j] * e).sum();
            assert!(dot.abs() < 1e-9, "column {j}: {dot}");
        }
    }

    #[test]
    fn impulse_and_forecasts() {
        let phi = [0.5, 0.2];
        let psi = impulse_response(&phi, 4);
        assert_eq!(psi, vec![1.0, 0.5, 0.45, 0.325]);
        let mean = MeanModel::ar(2).unwrap();
        let f = mean_forecasts(mean, &[1.0, 0.5, 0.2], &[9.0, 2.0, 4.0], 2);
        assert_eq!(
            f,
            vec![1.0 + 0.5 * 4.0 + 0.2 * 2.0, 1.0 + 0.5 * 3.4 + 0.2 * 4.0]
        );
        let rv = return_variances(mean, &[1.0, 0.5, 0.2], &[1.0, 2.0]);
        assert_eq!(rv, vec![1.0, 2.0 + 0.25]);
    }
}
