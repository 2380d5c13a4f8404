//! The exact Hessian of the log-likelihood of a first-order GARCH/GJR model (constant or zero
//! mean, normal or Student-t errors) in one pass, alongside the value, the gradient and,
//! when asked, the moments of the per-observation scores.
//!
//! It extends the recursive gradient of [`crate::variance`] by one order: with
//! `σ²_t = ω + (α + γ·1[e_{t−1}<0])·e²_{t−1} + β·σ²_{t−1}` the first derivatives `d_t = ∂σ²_t/∂θ`
//! follow `d_t = x_t + β·d_{t−1}` and the second derivatives
//! `D_t = β·D_{t−1} + e_β d_{t−1}ᵀ + d_{t−1} e_βᵀ + M_t`, where `M_t` holds the μ terms of
//! `(α+γ·1)·e²` (Fiorentini, Calzolari and Panattoni 1996 give the first-order recursion; the
//! second order is its derivative). The log density `ℓ_t(σ², e, ν)` then contributes
//! `H += ℓ_σσ d dᵀ + ℓ_σ D + (μ and ν cross terms)`.
//!
//! The sum `Σ ℓ_σ D` is taken backwards (the adjoint of the linear recursions in `D`, see
//! `Likelihood::pass`), so a pass runs `σ²_t` and `d_t` forwards and two scalar recursions
//! backwards instead of carrying `D_t`'s entries; where a variance is bounded the forward
//! recursions of `Likelihood::pass_bounded` are used.
//!
//! Newton's method on this Hessian converges in a handful of passes where a quasi-Newton
//! method needs dozens, and the same pass gives the sandwich covariance's two matrices
//! exactly, without `arch`'s second differences (which this Hessian reproduces to their own
//! truncation error: see the tests of `fit`).
//!
//! The folder follows the pass:
//! * this file: the results ([`SecondOrder`]), the entry point and its dispatch to a
//!   monomorphised pass per parameter layout and density, and the block of recursion outputs
//!   both passes share;
//! * `adjoint`: the usual pass (forward sweep by blocks, adjoint backward sweep); with its
//!   `HESS` flag off it sums only the value and gradient terms and skips the backward sweep
//!   ([`Likelihood::first_order`], about 56 % of the instructions: a warm start's first Newton
//!   step on the previous window's Hessian);
//! * `lanes`: its register-blocked four-lane sums;
//! * `bounded`: the fallback pass with forward recursions of `D_t`, where a variance is floored;
//! * `assemble`: from either pass's totals to the value, gradient, Hessian and score moments.

// Index loops mirror the matrix algebra (several arrays indexed by the same i, j).
#![allow(clippy::needless_range_loop)]

mod adjoint;
mod assemble;
mod bounded;
mod lanes;
#[cfg(test)]
mod tests;

use super::Likelihood;
use crate::distribution::{Density, Normal, SecondOrderDensity};
use crate::spec::VolatilityModel;

/// Value, gradient and Hessian of the total log-likelihood at one parameter vector.
#[derive(Debug, Clone)]
pub(crate) struct SecondOrder {
    /// Log-likelihood.
    pub ll: f64,
    /// Gradient of the log-likelihood.
    pub grad: Vec<f64>,
    /// Hessian of the log-likelihood, row-major `k × k` (negative definite at a maximum).
    pub hess: Vec<f64>,
    /// Moments of the per-observation scores, when asked for.
    pub scores: Option<ScoreMoments>,
    /// The conditional variances `σ²_t`, bit for bit those of [`Likelihood::value_into`] (the
    /// same operations in the same order), so that a fit need not run a value pass to report
    /// them at its last Newton point.
    pub sigma2: Vec<f64>,
}

/// Value and gradient of the total log-likelihood at one parameter vector
/// ([`Likelihood::first_order`]).
#[derive(Debug, Clone)]
pub(crate) struct FirstOrder {
    /// Log-likelihood.
    pub ll: f64,
    /// Gradient of the log-likelihood.
    pub grad: Vec<f64>,
}

/// `Σ_t g_t` and `Σ_t g_t g_tᵀ` of the per-observation scores `g_t`: enough for their sample
/// covariance (the "meat" of the sandwich) without storing a `T × k` matrix.
#[derive(Debug, Clone)]
pub(crate) struct ScoreMoments {
    /// Σ g_t.
    pub sum: Vec<f64>,
    /// Σ g_t g_tᵀ, row-major `k × k`.
    pub outer: Vec<f64>,
}

impl Likelihood<'_> {
    /// Whether [`Self::second_order`] covers this model (first-order GARCH or GJR with a
    /// constant or zero mean; an AR mean has no second-order pass).
    pub(crate) fn has_second_order(&self) -> bool {
        self.regressors.is_none()
            && matches!(self.spec.volatility, VolatilityModel::Garch(g)
            if g.p() == 1 && g.o() <= 1 && g.q() == 1)
    }

    /// Value, gradient and exact Hessian at `params` in one pass; with `scores`, also the
    /// moments of the per-observation scores. `None` for models without the pass (see
    /// [`Self::has_second_order`]) and where a variance exceeds its upper bound.
    pub(crate) fn second_order(&self, params: &[f64], scores: bool) -> Option<SecondOrder> {
        if !self.has_second_order() {
            return None;
        }
        let out = match self.density(params) {
            Density::StudentT(t) => {
                // The constant and its derivative as the first-order pass has them.
                let mut out = self.dispatch(params, t.second_order(), scores, true)?;
                // C''(ν), once per observation.
                let n = self.layout.nu.expect("Student-t has ν");
                let k = params.len();
                out.hess[n * k + n] += self.y.len() as f64 * t.d2_constant();
                out
            }
            Density::Normal => self.dispatch(params, Normal, scores, true)?,
            // No second-order pass for these laws: L-BFGS and the numerical Hessian instead.
            Density::SkewT(_) | Density::Ged(_) => return None,
        };
        Some(out)
    }

    /// The value and gradient of [`Self::second_order`] (bit for bit: the same operations)
    /// from the same pass without its Hessian terms, at about half its cost: for a Newton step
    /// on a Hessian known from elsewhere. Same coverage as [`Self::second_order`].
    pub(crate) fn first_order(&self, params: &[f64]) -> Option<FirstOrder> {
        if !self.has_second_order() {
            return None;
        }
        let out = match self.density(params) {
            Density::StudentT(t) => self.dispatch(params, t.second_order(), false, false)?,
            Density::Normal => self.dispatch(params, Normal, false, false)?,
            Density::SkewT(_) | Density::Ged(_) => return None,
        };
        Some(FirstOrder {
            ll: out.ll,
            grad: out.grad,
        })
    }

    fn dispatch<D: SecondOrderDensity>(
        &self,
        params: &[f64],
        density: D,
        scores: bool,
        hessian: bool,
    ) -> Option<SecondOrder> {
        let VolatilityModel::Garch(g) = self.spec.volatility else {
            unreachable!("second-order pass is for GARCH/GJR");
        };
        // The layout as compile-time constants, so that every index into the per-observation
        // arrays is a constant and the arrays live in registers.
        let key = (
            self.layout.len,
            self.layout.mu.is_some(),
            g.o() == 1,
            scores,
            hessian,
        );
        macro_rules! arms {
            ($(($n:literal, $mu:literal, $gamma:literal)),*) => {
                match key {
                    $(
                        ($n, $mu, $gamma, false, true) => self
                            .pass::<$n, $mu, $gamma, D, false, true>(params, density)
                            .or_else(|| self.pass_bounded::<$n, $mu, $gamma, D, false>(params, density)),
                        ($n, $mu, $gamma, true, true) => self
                            .pass::<$n, $mu, $gamma, D, true, true>(params, density)
                            .or_else(|| self.pass_bounded::<$n, $mu, $gamma, D, true>(params, density)),
                        // Value and gradient only; where a variance is bounded, the bounded
                        // pass with its Hessian (rare: not worth a variant of its own).
                        ($n, $mu, $gamma, _, false) => self
                            .pass::<$n, $mu, $gamma, D, false, false>(params, density)
                            .or_else(|| self.pass_bounded::<$n, $mu, $gamma, D, false>(params, density)),
                    )*
                    _ => unreachable!("first-order GARCH has 3 to 6 parameters"),
                }
            };
        }
        arms!(
            (3, false, false),
            (4, true, false),
            (4, false, true),
            (4, false, false),
            (5, true, true),
            (5, true, false),
            (5, false, true),
            (6, true, true)
        )
    }
}

/// Observations per block of the second-order pass: its column arrays stay in L1.
const BLOCK: usize = 64;

/// One block's recursion outputs, column-wise.
struct Block<const N: usize> {
    /// `σ²_t` (the bounded pass; the adjoint pass writes them straight into its output).
    s2: [f64; BLOCK],
    e: [f64; BLOCK],
    /// `∂σ²_t/∂θ_i`, one column per parameter.
    d: [[f64; BLOCK]; N],
}

impl<const N: usize> Block<N> {
    fn new() -> Self {
        Self {
            s2: [0.0; BLOCK],
            e: [0.0; BLOCK],
            d: [[0.0; BLOCK]; N],
        }
    }
}
