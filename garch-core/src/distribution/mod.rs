//! The error laws of the standardised shocks `z_t = ε_t/σ_t`, one file per law, as `arch` has
//! one class per law (`arch/univariate/distribution.py`).
//!
//! Everything the numerics ask of a law lives in its file:
//! * its per-pass constants (the `lnΓ` terms of Student-t and their derivatives in ν) and its
//!   log-likelihood from a pass's sums (`Σ ln σ²`, `Σ e²/σ²`, `Σ ln(1 + q)`);
//! * the first partial derivatives of its log density in `σ²`, `e` and its shape parameter,
//!   for the value and gradient passes ([`Density`]);
//! * the second partial derivatives, for the exact Hessian pass ([`SecondOrderDensity`]);
//! * its unit-variance shocks, for simulation and simulated forecasts ([`Innovations`]).
//!
//! Users choose a law with [`Distribution`]; [`Density::new`] turns the choice and the
//! parameter vector's ν into per-pass constants. The value and gradient passes match on
//! [`Density`] once per observation (a branch that always goes the same way); the
//! second-order pass is generic over [`SecondOrderDensity`], so each law gets its own
//! monomorphised loops. A new law (skewed t, GED) is a new file here plus one variant of
//! [`Density`] and of [`Innovations`], and an impl of [`SecondOrderDensity`] if the Hessian
//! pass is to cover it.
//!
//! [`ShockLaw`] is the public face of a law at fixed shape parameters: density, CDF, quantile
//! and expected shortfall of the unit-variance shocks, for value at risk and forecast intervals.

pub(crate) mod normal;
mod shock_law;
mod special;
pub(crate) mod student_t;

use rand::Rng;

use crate::spec::Distribution;

pub(crate) use normal::Normal;
pub use shock_law::ShockLaw;
pub(crate) use student_t::StudentT;

/// Per-pass constants of the error density.
#[derive(Clone, Copy)]
pub(crate) enum Density {
    Normal,
    StudentT(StudentT),
}

impl Density {
    /// The density of `dist` at shape parameter `nu` (`None` for laws without one).
    pub(crate) fn new(dist: Distribution, nu: Option<f64>) -> Self {
        match (dist, nu) {
            (Distribution::StudentT, Some(nu)) => Density::StudentT(StudentT::new(nu)),
            _ => Density::Normal,
        }
    }

    /// Partial derivatives of the log density in σ² and e, the part of the ν derivative
    /// without the `−½ln(1 + q)` term (summed separately by the gradient pass), and
    /// `r = e²/σ²`. One division per observation.
    #[inline(always)]
    pub(crate) fn partials(&self, e: f64, s2: f64) -> (f64, f64, f64, f64) {
        match self {
            Density::Normal => Normal.first_partials(e, s2),
            Density::StudentT(t) => t.first_partials(e, s2),
        }
    }
}

/// Second partial derivatives of one observation's log density in `σ²`, `e` and `ν`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Partials {
    pub(crate) s: f64,
    pub(crate) e: f64,
    pub(crate) ss: f64,
    pub(crate) se: f64,
    pub(crate) ee: f64,
    /// ∂ℓ/∂ν without `−½ln(1+q)` (summed through the likelihood's log sum).
    pub(crate) n_rest: f64,
    pub(crate) sn: f64,
    pub(crate) en: f64,
    /// ∂²ℓ/∂ν² without the constant's `C''(ν)` (added once per pass).
    pub(crate) nn_rest: f64,
    /// `e²/σ²`.
    pub(crate) r: f64,
    /// `q = r/(ν − 2)` (Student-t only).
    pub(crate) q: f64,
}

/// An error density for the second-order pass.
pub(crate) trait SecondOrderDensity: Copy {
    /// Whether the density has the parameter ν.
    const HAS_NU: bool;
    fn partials(&self, e: f64, s2: f64) -> Partials;
    /// The log-likelihood of `n` observations from `Σ ln σ²`, `Σ e²/σ²` and `Σ ln(1+q)`.
    fn total(&self, n: f64, ln_s2: f64, ratio: f64, ln_1q: f64) -> f64;
}

/// Unit-variance shocks of a distribution.
pub(crate) enum Innovations {
    Normal,
    StudentT(student_t::Shocks),
}

impl Innovations {
    /// The shocks of `dist` at shape parameter `nu`; normal ones where the law has no such
    /// parameter (or it is invalid).
    pub(crate) fn new(dist: Distribution, nu: Option<f64>) -> Self {
        match (dist, nu) {
            (Distribution::StudentT, Some(nu)) => {
                student_t::Shocks::new(nu).map_or(Innovations::Normal, Innovations::StudentT)
            }
            _ => Innovations::Normal,
        }
    }

    /// The next shock.
    pub(crate) fn draw<R: Rng>(&mut self, rng: &mut R) -> f64 {
        match self {
            Innovations::StudentT(t) => t.draw(rng),
            Innovations::Normal => Normal::draw(rng),
        }
    }
}
