//! The standard normal law: `arch`'s `Normal` (`arch/univariate/distribution.py`), whose log
//! density is `−½[ln 2π + ln σ² + e²/σ²]`. It has no shape parameter.

use rand::Rng;
use rand_distr::{Distribution as _, StandardNormal};

use super::{Partials, SecondOrderDensity};

/// `ln 2π`.
pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The normal density (it has no per-pass constants).
#[derive(Clone, Copy)]
pub(crate) struct Normal;

impl Normal {
    /// `∂ℓ/∂σ²`, `∂ℓ/∂e`, `0` (no ν) and `r = e²/σ²` (see [`super::Density::partials`]).
    #[inline(always)]
    pub(crate) fn first_partials(&self, e: f64, s2: f64) -> (f64, f64, f64, f64) {
        let inv = 1.0 / s2;
        let r = e * e * inv;
        (0.5 * (r - 1.0) * inv, -e * inv, 0.0, r)
    }

    /// The log-likelihood of `n` observations from `Σ ln σ²` and `Σ e²/σ²`.
    #[inline(always)]
    pub(crate) fn log_likelihood(&self, n: f64, ln_s2: f64, ratio: f64) -> f64 {
        -0.5 * (n * LN_2PI + ln_s2 + ratio)
    }

    /// A standard normal shock.
    #[inline(always)]
    pub(crate) fn draw<R: Rng>(rng: &mut R) -> f64 {
        StandardNormal.sample(rng)
    }
}

impl SecondOrderDensity for Normal {
    const HAS_NU: bool = false;
    #[inline(always)]
    fn partials(&self, e: f64, s2: f64) -> Partials {
        // ℓ = −½[ln 2π + ln σ² + e²/σ²]
        let inv = 1.0 / s2;
        let r = e * e * inv;
        Partials {
            s: 0.5 * (r - 1.0) * inv,
            e: -e * inv,
            ss: (0.5 - r) * inv * inv,
            se: e * inv * inv,
            ee: -inv,
            r,
            ..Partials::default()
        }
    }
    fn total(&self, n: f64, ln_s2: f64, ratio: f64, _ln_1q: f64) -> f64 {
        self.log_likelihood(n, ln_s2, ratio)
    }
}

/// The standard normal law's density, CDF, quantile and expected shortfall (for
/// [`super::ShockLaw`]).
pub(crate) mod law {
    use super::super::special::{normal_cdf, normal_pdf, normal_quantile};

    /// φ(z).
    pub(crate) fn pdf(z: f64) -> f64 {
        normal_pdf(z)
    }
    /// Φ(z).
    pub(crate) fn cdf(z: f64) -> f64 {
        normal_cdf(z)
    }
    /// Φ⁻¹(p).
    pub(crate) fn quantile(p: f64) -> f64 {
        normal_quantile(p)
    }
    /// `E[z | z ≤ Φ⁻¹(p)] = −φ(Φ⁻¹(p))/p`.
    pub(crate) fn expected_shortfall(p: f64) -> f64 {
        -normal_pdf(normal_quantile(p)) / p
    }
}
