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
//! monomorphised loops. A law is a file here plus one variant of [`Density`] and of
//! [`Innovations`], and an impl of [`SecondOrderDensity`] if the Hessian pass is to cover it.
//! The skewed t (`skew_t`) and the GED (`ged`) have value and gradient passes but no
//! second-order pass: their fits take the L-BFGS path and their covariance uses `arch`'s own
//! numerical Hessian (`approx_hess3`) with analytic scores, as `arch` itself does. `lanes`
//! holds `ln` and `exp` over groups of values: the GED's passes take their per-observation
//! `|z|^ν` through it, so that it vectorises.
//!
//! [`ShockLaw`] is the public face of a law at fixed shape parameters: density, CDF, quantile
//! and expected shortfall of the unit-variance shocks, for value at risk and forecast intervals.

pub(crate) mod ged;
pub(crate) mod lanes;
pub(crate) mod normal;
mod shock_law;
pub(crate) mod skew_t;
mod special;
pub(crate) mod student_t;

use rand::Rng;

use crate::spec::Distribution;

pub(crate) use ged::Ged;
pub(crate) use normal::Normal;
pub use shock_law::ShockLaw;
pub(crate) use skew_t::SkewT;
pub(crate) use student_t::StudentT;

/// Per-pass constants of the error density.
#[derive(Clone, Copy)]
pub(crate) enum Density {
    Normal,
    StudentT(StudentT),
    SkewT(SkewT),
    Ged(Ged),
}

/// One observation's first partial derivatives of the log density, as the gradient pass sums
/// them.
#[derive(Clone, Copy)]
pub(crate) struct FirstPartials {
    /// ∂ℓ/∂σ².
    pub(crate) s2: f64,
    /// ∂ℓ/∂e.
    pub(crate) e: f64,
    /// ∂ℓ/∂(shape parameters), without `−½ln(1 + q)` for the first one of Student-t and the
    /// skewed t (summed separately through the likelihood's log sum).
    pub(crate) shape: [f64; 2],
    /// `r = e²/σ²` (Student-t's per-observation score needs it).
    pub(crate) r: f64,
    /// What the log-likelihood sums for this observation besides `ln σ²`: `e²/σ²` (normal),
    /// `1 + q` whose logarithm is summed (Student-t, skewed t), `|e/(cσ)|^ν` (GED).
    pub(crate) acc: f64,
}

/// [`FirstPartials`] of a group of [`lanes::GROUP`] observations, field by field, for the laws
/// whose partials are computed a group at a time (the GED and the skewed t: see
/// [`Density::partials_group`]).
pub(crate) struct GroupPartials {
    pub(crate) s2: [f64; lanes::GROUP],
    pub(crate) e: [f64; lanes::GROUP],
    pub(crate) shape: [[f64; lanes::GROUP]; 2],
    pub(crate) acc: [f64; lanes::GROUP],
}

impl Density {
    /// The density of `dist` at its shape parameters `shape` (empty for the normal; the
    /// caller guarantees the count).
    pub(crate) fn new(dist: Distribution, shape: &[f64]) -> Self {
        match (dist, shape) {
            (Distribution::StudentT, &[nu]) => Density::StudentT(StudentT::new(nu)),
            (Distribution::SkewT, &[eta, lam]) => Density::SkewT(SkewT::new(eta, lam)),
            (Distribution::Ged, &[nu]) => Density::Ged(Ged::new(nu)),
            _ => Density::Normal,
        }
    }

    /// Partial derivatives of the log density (see [`FirstPartials`]). One division per
    /// observation for the normal and Student-t; a square root (skewed t) or a logarithm and an
    /// exponential (GED) more for the others.
    #[inline(always)]
    pub(crate) fn partials(&self, e: f64, s2: f64) -> FirstPartials {
        match self {
            Density::Normal => {
                let (ds2, de, _, r) = Normal.first_partials(e, s2);
                FirstPartials {
                    s2: ds2,
                    e: de,
                    shape: [0.0; 2],
                    r,
                    acc: r,
                }
            }
            Density::StudentT(t) => {
                let (ds2, de, dnu, r) = t.first_partials(e, s2);
                FirstPartials {
                    s2: ds2,
                    e: de,
                    shape: [dnu, 0.0],
                    r,
                    acc: t.one_plus_q(r),
                }
            }
            Density::SkewT(t) => {
                let o = t.first_partials(e, s2);
                FirstPartials {
                    s2: o.ds2,
                    e: o.de,
                    shape: o.shape,
                    r: 0.0,
                    acc: o.one_plus_q,
                }
            }
            Density::Ged(g) => {
                let o = g.first_partials(e, s2);
                FirstPartials {
                    s2: o.ds2,
                    e: o.de,
                    shape: [o.dnu, 0.0],
                    r: 0.0,
                    acc: o.power,
                }
            }
        }
    }

    /// Whether [`Self::partials_group`] covers the law.
    pub(crate) fn has_grouped_partials(&self) -> bool {
        matches!(self, Density::Ged(_) | Density::SkewT(_))
    }

    /// [`Self::partials`] of a group of observations at once, for the laws whose partials
    /// cost more than the recursion around them: the GED (a logarithm and an exponential) and
    /// the skewed t (two divisions, a root and a data-dependent side). Computed a group at a
    /// time, they vectorise and their long dependency chains overlap; each partial equals the
    /// one-at-a-time one to an ulp or two. `None` for the normal and Student-t, whose partials
    /// are a division and a few products.
    #[inline(always)]
    pub(crate) fn partials_group(
        &self,
        e: &[f64; lanes::GROUP],
        s2: &[f64; lanes::GROUP],
    ) -> Option<GroupPartials> {
        match self {
            Density::Ged(g) => Some(g.first_partials_group(e, s2)),
            Density::SkewT(t) => Some(t.first_partials_group(e, s2)),
            Density::Normal | Density::StudentT(_) => None,
        }
    }

    /// The complete per-observation scores of the shape parameters from [`FirstPartials`].
    #[inline(always)]
    pub(crate) fn shape_scores(&self, p: &FirstPartials) -> [f64; 2] {
        match self {
            Density::Normal => [0.0; 2],
            Density::StudentT(t) => [t.nu_score(p.shape[0], p.r), 0.0],
            Density::SkewT(_) => [p.shape[0] - 0.5 * p.acc.ln(), p.shape[1]],
            Density::Ged(_) => p.shape,
        }
    }

    /// The weight of `Σ ln(1 + q)` in the derivative of the first shape parameter (½ for
    /// Student-t's ν and the skewed t's η, 0 for the others).
    pub(crate) fn log_sum_shape_weight(&self) -> f64 {
        match self {
            Density::StudentT(_) | Density::SkewT(_) => 0.5,
            Density::Normal | Density::Ged(_) => 0.0,
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
    SkewT(skew_t::Shocks),
    Ged(ged::Shocks),
}

impl Innovations {
    /// The shocks of `dist` at its shape parameters `shape`; normal ones where the law has no
    /// shape parameter (or they are invalid: callers check parameters first).
    pub(crate) fn new(dist: Distribution, shape: &[f64]) -> Self {
        let law = match (dist, shape) {
            (Distribution::StudentT, &[nu]) => {
                student_t::Shocks::new(nu).map(Innovations::StudentT)
            }
            (Distribution::SkewT, &[eta, lam]) => {
                skew_t::Shocks::new(eta, lam).map(Innovations::SkewT)
            }
            (Distribution::Ged, &[nu]) => ged::Shocks::new(nu).map(Innovations::Ged),
            _ => None,
        };
        law.unwrap_or(Innovations::Normal)
    }

    /// The next shock.
    pub(crate) fn draw<R: Rng>(&mut self, rng: &mut R) -> f64 {
        match self {
            Innovations::StudentT(t) => t.draw(rng),
            Innovations::SkewT(t) => t.draw(rng),
            Innovations::Ged(g) => g.draw(rng),
            Innovations::Normal => Normal::draw(rng),
        }
    }
}
