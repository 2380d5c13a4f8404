//! [`ShockLaw`]: the unit-variance law of the standardised shocks `z_t = ε_t/σ_t` with its shape
//! parameters fixed, as risk calculations need it (value at risk is `μ + σ·quantile(p)`,
//! expected shortfall `μ + σ·expected_shortfall(p)`). It is the counterpart of `arch`'s
//! distribution objects (`pdf`/`cdf`/`ppf` in `arch/univariate/distribution.py`) evaluated at
//! fitted shape parameters.
//!
//! Accuracy: densities, CDFs, quantiles and expected shortfalls agree with scipy to 1e-12
//! relative (`tests/shock_law.rs`, fixture from `scripts/fixtures/gen_shock_law_fixtures.py`).

use crate::spec::{Distribution, SpecError};

use super::ged::UnitGed;
use super::normal;
use super::skew_t::UnitSkewT;
use super::student_t::UnitT;

/// The unit-variance law of the standardised shocks `z_t` with its shape parameters fixed.
///
/// ```
/// use garch_core::{Distribution, ShockLaw};
/// let t = ShockLaw::new(Distribution::StudentT, &[6.0]).unwrap();
/// let q = t.quantile(0.01);
/// assert!((t.cdf(q) - 0.01).abs() < 1e-15);
/// assert!(t.expected_shortfall(0.01) < q);
/// assert!(ShockLaw::new(Distribution::StudentT, &[1.5]).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShockLaw {
    law: Law,
}

/// The law with its validated shape.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Law {
    Normal,
    StudentT(UnitT),
    SkewT(UnitSkewT),
    Ged(UnitGed),
}

impl ShockLaw {
    /// The law `dist` at `shape`, the law's shape parameters in `arch`'s order: `[]` for the
    /// normal, `[nu]` (ν > 2) for Student-t, `[eta, lambda]` (η > 2, −1 < λ < 1) for the skewed
    /// t, `[nu]` (ν > 1) for the GED.
    pub fn new(dist: Distribution, shape: &[f64]) -> Result<Self, SpecError> {
        let invalid = |detail: String| SpecError::InvalidShape {
            distribution: dist.to_string(),
            detail,
        };
        let law = match (dist, shape) {
            (Distribution::Normal, []) => Law::Normal,
            (Distribution::StudentT, &[nu]) => {
                if !(nu > 2.0 && nu.is_finite()) {
                    return Err(invalid(format!("nu must be finite and > 2, got {nu}")));
                }
                Law::StudentT(UnitT::new(nu))
            }
            (Distribution::SkewT, &[eta, lam]) => {
                if !(eta > 2.0 && eta.is_finite() && lam > -1.0 && lam < 1.0) {
                    return Err(invalid(format!(
                        "eta must be finite and > 2 and lambda in (-1, 1), got {eta}, {lam}"
                    )));
                }
                Law::SkewT(UnitSkewT::new(eta, lam))
            }
            (Distribution::Ged, &[nu]) => {
                if !(nu > 1.0 && nu.is_finite()) {
                    return Err(invalid(format!("nu must be finite and > 1, got {nu}")));
                }
                Law::Ged(UnitGed::new(nu))
            }
            _ => {
                return Err(invalid(format!(
                    "expected {} shape parameter(s) ({}), got {}",
                    dist.shape_names().len(),
                    dist.shape_names().join(", "),
                    shape.len()
                )));
            }
        };
        Ok(Self { law })
    }

    /// The law of the shocks of a model with distribution `dist` and parameter vector `params`
    /// (`arch`'s order; the shape parameters are its last ones).
    pub(crate) fn of_params(dist: Distribution, params: &[f64]) -> Result<Self, SpecError> {
        let k = dist.shape_names().len();
        Self::new(dist, &params[params.len().saturating_sub(k)..])
    }

    /// The density at `z`.
    pub fn pdf(&self, z: f64) -> f64 {
        match &self.law {
            Law::Normal => normal::law::pdf(z),
            Law::StudentT(t) => t.pdf(z),
            Law::SkewT(t) => t.pdf(z),
            Law::Ged(g) => g.pdf(z),
        }
    }

    /// The cumulative distribution function at `z`.
    pub fn cdf(&self, z: f64) -> f64 {
        match &self.law {
            Law::Normal => normal::law::cdf(z),
            Law::StudentT(t) => t.cdf(z),
            Law::SkewT(t) => t.cdf(z),
            Law::Ged(g) => g.cdf(z),
        }
    }

    /// Quantile of the unit-variance law, `p` in (0, 1) (`arch`'s `ppf`); −∞ at 0, +∞ at 1, NaN
    /// outside [0, 1].
    pub fn quantile(&self, p: f64) -> f64 {
        if let Some(edge) = edge(p) {
            return edge;
        }
        match &self.law {
            Law::Normal => normal::law::quantile(p),
            Law::StudentT(t) => t.quantile(p),
            Law::SkewT(t) => t.quantile(p),
            Law::Ged(g) => g.quantile(p),
        }
    }

    /// `E[z | z ≤ quantile(p)]` (negative for small `p`): the expected shortfall of the
    /// standardised law, `p` in (0, 1); −∞ at 0, 0 (the mean) at 1, NaN outside [0, 1].
    pub fn expected_shortfall(&self, p: f64) -> f64 {
        if p == 1.0 {
            return 0.0;
        }
        if let Some(edge) = edge(p) {
            return edge;
        }
        match &self.law {
            Law::Normal => normal::law::expected_shortfall(p),
            Law::StudentT(t) => t.expected_shortfall(p),
            Law::SkewT(t) => t.expected_shortfall(p),
            Law::Ged(g) => g.expected_shortfall(p),
        }
    }
}

/// The quantile at the edges of (0, 1) and outside it.
fn edge(p: f64) -> Option<f64> {
    if p > 0.0 && p < 1.0 {
        None
    } else if p == 0.0 {
        Some(f64::NEG_INFINITY)
    } else if p == 1.0 {
        Some(f64::INFINITY)
    } else {
        Some(f64::NAN)
    }
}
