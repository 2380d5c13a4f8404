//! The standardised Student-t law (unit variance, `ν > 2`): `arch`'s `StudentsT`
//! (`arch/univariate/distribution.py`), whose log density is
//! `lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2)) − ½ln σ² − (ν+1)/2·ln(1 + e²/(σ²(ν−2)))`.
//!
//! Here are its per-pass constants and their derivatives in ν, the partial derivatives of the
//! log density to second order (with `q = e²/(σ²(ν−2))`, the terms in `ln(1 + q)` are summed
//! apart by the passes, see [`StudentT::one_plus_q`]) and its shocks `t_ν·√((ν−2)/ν)`, as
//! `arch` simulates them.

use rand::Rng;
use rand_distr::Distribution as _;
use statrs::function::gamma::digamma;

use super::special::{beta_reg, ln_gamma_half_ratio, solve_quantile, trigamma};
use super::{Partials, SecondOrderDensity};

/// The Student-t density's per-pass constants, as the value and gradient passes use them.
#[derive(Clone, Copy)]
pub(crate) struct StudentT {
    pub(crate) nu: f64,
    /// `lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2))`.
    pub(crate) constant: f64,
    /// Its derivative in ν.
    pub(crate) d_constant: f64,
}

impl StudentT {
    /// The constants at `nu`.
    pub(crate) fn new(nu: f64) -> Self {
        Self {
            nu,
            // lnΓ((ν+1)/2) − lnΓ(ν/2) as one accurate difference: statrs' two lnΓ near 600
            // (ν = 500) differ from it by 1e-13, which made the likelihood jitter along ν.
            constant: ln_gamma_half_ratio(nu / 2.0)
                - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln(),
            d_constant: 0.5 * digamma((nu + 1.0) / 2.0)
                - 0.5 * digamma(nu / 2.0)
                - 0.5 / (nu - 2.0),
        }
    }

    /// `∂ℓ/∂σ²`, `∂ℓ/∂e`, `∂ℓ/∂ν` without `−½ln(1 + q)` and `r = e²/σ²` (see
    /// [`super::Density::partials`]).
    #[inline(always)]
    pub(crate) fn first_partials(&self, e: f64, s2: f64) -> (f64, f64, f64, f64) {
        let Self { nu, d_constant, .. } = *self;
        let inv = 1.0 / s2;
        let r = e * e * inv;
        let q = r / (nu - 2.0);
        let w = q / (1.0 + q);
        (
            (-0.5 + 0.5 * (nu + 1.0) * w) * inv,
            -(nu + 1.0) * e * inv / ((nu - 2.0) * (1.0 + q)),
            d_constant + 0.5 * (nu + 1.0) * w / (nu - 2.0),
            r,
        )
    }

    /// `1 + q = 1 + r/(ν − 2)` from `r = e²/σ²`: the term whose logarithm the passes sum.
    #[inline(always)]
    pub(crate) fn one_plus_q(&self, r: f64) -> f64 {
        1.0 + r / (self.nu - 2.0)
    }

    /// One observation's `∂ℓ/∂ν` from its part without the logarithm (`rest`, the third of
    /// [`Self::first_partials`]) and `r = e²/σ²`.
    #[inline(always)]
    pub(crate) fn nu_score(&self, rest: f64, r: f64) -> f64 {
        rest - 0.5 * (r / (self.nu - 2.0)).ln_1p()
    }

    /// The log-likelihood of `n` observations from `Σ ln σ²` and `Σ ln(1 + q)`.
    #[inline(always)]
    pub(crate) fn log_likelihood(&self, n: f64, ln_s2: f64, ln_1q: f64) -> f64 {
        n * self.constant - 0.5 * ln_s2 - 0.5 * (self.nu + 1.0) * ln_1q
    }

    /// The constants as the second-order pass uses them.
    pub(crate) fn second_order(&self) -> StudentTSecondOrder {
        StudentTSecondOrder {
            np1: self.nu + 1.0,
            c1: 1.0 / (self.nu - 2.0),
            constant: self.constant,
            d_constant: self.d_constant,
        }
    }

    /// `C''(ν) = ¼ψ'((ν+1)/2) − ¼ψ'(ν/2) + ½/(ν−2)²`, which the second-order pass adds once per
    /// observation.
    pub(crate) fn d2_constant(&self) -> f64 {
        let nu = self.nu;
        0.25 * trigamma((nu + 1.0) / 2.0) - 0.25 * trigamma(nu / 2.0)
            + 0.5 / ((nu - 2.0) * (nu - 2.0))
    }
}

/// The Student-t density's constants for the second-order pass.
#[derive(Clone, Copy)]
pub(crate) struct StudentTSecondOrder {
    /// ν + 1.
    np1: f64,
    /// 1/(ν − 2).
    c1: f64,
    /// The constant `C = lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2))` of the log density.
    constant: f64,
    /// C'(ν).
    d_constant: f64,
}

impl SecondOrderDensity for StudentTSecondOrder {
    const HAS_NU: bool = true;
    #[inline(always)]
    fn partials(&self, e: f64, s2: f64) -> Partials {
        // ℓ = C − ½ln σ² − (ν+1)/2·ln(1+q), q = e²/(σ²(ν−2)); with w = q/(1+q):
        // ∂q/∂σ² = −q/σ², ∂q/∂e = 2e/(σ²(ν−2)), ∂q/∂ν = −q/(ν−2), ∂w/∂q = (1−w)².
        let Self { np1, c1, .. } = *self;
        let inv = 1.0 / s2;
        let r = e * e * inv;
        let q = r * c1;
        let iq = 1.0 / (1.0 + q); // 1 − w
        let w = q * iq;
        Partials {
            s: (-0.5 + 0.5 * np1 * w) * inv,
            e: -np1 * e * iq * c1 * inv,
            ss: (0.5 - 0.5 * np1 * w * (1.0 + iq)) * inv * inv,
            se: np1 * iq * iq * e * c1 * inv * inv,
            ee: -np1 * iq * (1.0 - 2.0 * w) * c1 * inv,
            n_rest: self.d_constant + 0.5 * np1 * w * c1,
            sn: (0.5 * w - 0.5 * np1 * w * iq * c1) * inv,
            en: -e * iq * (np1 * w - 3.0) * c1 * c1 * inv,
            nn_rest: w * c1 - 0.5 * np1 * w * (2.0 - w) * c1 * c1,
            r,
            q,
        }
    }
    fn total(&self, n: f64, ln_s2: f64, _ratio: f64, ln_1q: f64) -> f64 {
        n * self.constant - 0.5 * ln_s2 - 0.5 * self.np1 * ln_1q
    }
}

/// Unit-variance Student-t shocks: `t_ν·√((ν−2)/ν)`.
pub(crate) struct Shocks {
    t: rand_distr::StudentT<f64>,
    /// `√((ν−2)/ν)`.
    scale: f64,
}

impl Shocks {
    /// The shocks at `nu`; `None` if `rand_distr` rejects it.
    pub(crate) fn new(nu: f64) -> Option<Self> {
        rand_distr::StudentT::new(nu).ok().map(|t| Self {
            t,
            scale: ((nu - 2.0) / nu).sqrt(),
        })
    }

    /// The next shock.
    #[inline(always)]
    pub(crate) fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        self.t.sample(rng) * self.scale
    }
}

/// The unit-variance Student-t law's density, CDF, quantile and expected shortfall (for
/// [`super::ShockLaw`]): `z = t·s` with `t` Student's t with ν degrees of freedom and
/// `s = √((ν−2)/ν)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UnitT {
    nu: f64,
    /// `√((ν−2)/ν)`.
    scale: f64,
    /// `lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(νπ)`, the log of the standard t density at 0.
    ln_norm: f64,
}

impl UnitT {
    /// The law at `nu` (> 2, checked by the caller).
    pub(crate) fn new(nu: f64) -> Self {
        Self {
            nu,
            scale: ((nu - 2.0) / nu).sqrt(),
            ln_norm: ln_gamma_half_ratio(nu / 2.0) - 0.5 * (nu * std::f64::consts::PI).ln(),
        }
    }

    /// The standard (not standardised) t density.
    pub(crate) fn t_pdf(&self, t: f64) -> f64 {
        (self.ln_norm - 0.5 * (self.nu + 1.0) * (t * t / self.nu).ln_1p()).exp()
    }

    /// The standard t CDF: `½I_{ν/(ν+t²)}(ν/2, ½)` in the lower tail, with both `x` and `1 − x`
    /// formed without cancellation.
    pub(crate) fn t_cdf(&self, t: f64) -> f64 {
        if t == 0.0 {
            return 0.5;
        }
        let d = self.nu + t * t;
        let tail = 0.5 * beta_reg(0.5 * self.nu, 0.5, self.nu / d, t * t / d);
        if t < 0.0 { tail } else { 1.0 - tail }
    }

    /// The standard t quantile: statrs' inverse (via its inverse incomplete beta) as the start,
    /// polished by Newton on [`Self::t_cdf`] in the lower tail.
    pub(crate) fn t_quantile(&self, p: f64) -> f64 {
        if p > 0.5 {
            return -self.t_quantile(1.0 - p);
        }
        if p == 0.5 {
            return 0.0;
        }
        let x0 = statrs::distribution::StudentsT::new(0.0, 1.0, self.nu).map_or(0.0, |t| {
            statrs::distribution::ContinuousCDF::inverse_cdf(&t, p)
        });
        solve_quantile(p, x0, |t| self.t_cdf(t), |t| self.t_pdf(t))
    }

    /// Density of the unit-variance law.
    pub(crate) fn pdf(&self, z: f64) -> f64 {
        self.t_pdf(z / self.scale) / self.scale
    }
    /// CDF of the unit-variance law.
    pub(crate) fn cdf(&self, z: f64) -> f64 {
        self.t_cdf(z / self.scale)
    }
    /// Quantile of the unit-variance law: `t_ν⁻¹(p)·√((ν−2)/ν)`.
    pub(crate) fn quantile(&self, p: f64) -> f64 {
        self.t_quantile(p) * self.scale
    }
    /// `E[z | z ≤ q_p] = −s·f_ν(x)(ν + x²)/((ν − 1)p)` with `x = t_ν⁻¹(p)` (the closed form of
    /// McNeil, Frey and Embrechts, *Quantitative Risk Management*, 2015, ex. 2.19).
    pub(crate) fn expected_shortfall(&self, p: f64) -> f64 {
        let x = self.t_quantile(p);
        -self.scale * self.t_pdf(x) * (self.nu + x * x) / ((self.nu - 1.0) * p)
    }
}
