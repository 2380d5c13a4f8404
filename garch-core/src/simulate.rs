//! Seeded simulation of every model, for data generation and parameter-recovery tests.
//!
//! Semantics follow `arch`'s `simulate` (`volatility.py`): the first `max(p, o, q)` variances
//! start at the unconditional level (`ω/(1 − persistence)`, EGARCH `ω/(1 − β)` in logs), a
//! burn-in is discarded, and Student-t shocks are `t_ν·√((ν−2)/ν)` so they have unit variance
//! (each law's shocks are in its file of the private `distribution` module).
//! An AR(p) mean runs `arch`'s `ARX` recursion `r_t = c + Σ φ_i r_{t−i} + ε_t` on the
//! simulated residuals, its first `p` values at the unconditional mean `c/(1 − Σφ)` (0 when
//! `Σφ ≥ 1`), inside the burn-in.
//! The RNG is ChaCha8 (portable and stable across platforms and `rand` releases).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::distribution::Innovations;
use crate::fit::{FitError, check_params};
use crate::spec::{MeanModel, ModelSpec, VolatilityModel};
use crate::variance::SQRT_2_OVER_PI;

/// Observations simulated and discarded before the returned sample.
pub const BURN_IN: usize = 500;

/// A simulated sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Returns `y_t = m_t + σ_t z_t` (`m_t` the conditional mean).
    pub returns: Vec<f64>,
    /// Conditional variances `σ²_t`.
    pub conditional_variance: Vec<f64>,
}

/// Simulates `nobs` returns of `spec` at `params` (in `arch` order) after a burn-in of
/// [`BURN_IN`], with a ChaCha8 RNG seeded by `seed`.
pub fn simulate(
    spec: ModelSpec,
    params: &[f64],
    nobs: usize,
    seed: u64,
) -> Result<Simulation, FitError> {
    check_params(&spec, params)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(simulate_with_rng(spec, params, nobs, &mut rng))
}

/// As [`simulate`], drawing from a caller's RNG (to simulate many series from one stream).
pub fn simulate_with_rng<R: Rng>(
    spec: ModelSpec,
    params: &[f64],
    nobs: usize,
    rng: &mut R,
) -> Simulation {
    let layout = spec.layout();
    let shape = layout
        .nu
        .map_or(&[][..], |n| &params[n..n + layout.n_shape]);
    let mut shocks = Innovations::new(spec.distribution, shape);
    let total = nobs + BURN_IN;
    let z: Vec<f64> = (0..total).map(|_| shocks.draw(rng)).collect();
    let v = layout.vol;
    let mut sigma2 = vec![0.0; total];
    let mut eps = vec![0.0f64; total];
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            let omega = params[v];
            let alpha = &params[v + 1..v + 1 + p];
            let gamma = &params[v + 1 + p..v + 1 + p + o];
            let beta = &params[v + 1 + p + o..v + 1 + p + o + q];
            let pers: f64 = alpha.iter().sum::<f64>()
                + gamma.iter().sum::<f64>() / 2.0
                + beta.iter().sum::<f64>();
            let init = omega / (1.0 - pers);
            let max_lag = p.max(o).max(q);
            for t in 0..total {
                sigma2[t] = if t < max_lag {
                    init
                } else {
                    let mut s = omega;
                    for (i, a) in alpha.iter().enumerate() {
                        s += a * eps[t - 1 - i].powi(2);
                    }
                    for (j, gm) in gamma.iter().enumerate() {
                        let e = eps[t - 1 - j];
                        if e < 0.0 {
                            s += gm * e * e;
                        }
                    }
                    for (k, b) in beta.iter().enumerate() {
                        s += b * sigma2[t - 1 - k];
                    }
                    s
                };
                eps[t] = z[t] * sigma2[t].sqrt();
            }
        }
        VolatilityModel::Egarch => {
            let (omega, alpha, gamma, beta) =
                (params[v], params[v + 1], params[v + 2], params[v + 3]);
            let mut h = omega / (1.0 - beta);
            for t in 0..total {
                if t > 0 {
                    h = omega
                        + alpha * (z[t - 1].abs() - SQRT_2_OVER_PI)
                        + gamma * z[t - 1]
                        + beta * h;
                }
                sigma2[t] = h.exp();
                eps[t] = z[t] * sigma2[t].sqrt();
            }
        }
    }
    let returns = match spec.mean {
        MeanModel::Constant => eps[BURN_IN..].iter().map(|e| params[0] + e).collect(),
        MeanModel::Zero => eps[BURN_IN..].to_vec(),
        MeanModel::Ar(lags) => {
            let p = lags.get();
            let (c, phi) = (params[0], &params[1..=p]);
            let sum_phi: f64 = phi.iter().sum();
            let init = if sum_phi < 1.0 {
                c / (1.0 - sum_phi)
            } else {
                0.0
            };
            let mut y = vec![init; total];
            for t in p..total {
                let mut r = c;
                for (i, f) in phi.iter().enumerate() {
                    r += f * y[t - 1 - i];
                }
                y[t] = r + eps[t];
            }
            y.split_off(BURN_IN)
        }
    };
    Simulation {
        returns,
        conditional_variance: sigma2.split_off(BURN_IN),
    }
}
