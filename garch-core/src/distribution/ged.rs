//! The generalised error distribution standardised to unit variance: `arch`'s
//! `GeneralizedError` (`arch/univariate/distribution.py`), shape `ν > 1`. With
//! `ln c = ½(−(2/ν)ln 2 + lnΓ(1/ν) − lnΓ(3/ν))` its log density is
//! `ln ν − ln c − lnΓ(1/ν) − (1 + 1/ν)ln 2 − ½ln σ² − ½|e/(cσ)|^ν`. ν = 2 is the normal law,
//! ν = 1 the Laplace; as a law of `z` it is scipy's `gennorm(ν)` scaled by `√(Γ(1/ν)/Γ(3/ν))`.
//!
//! Reference: D. B. Nelson (1991), "Conditional heteroskedasticity in asset returns: a new
//! approach", *Econometrica* 59(2), 347–370 (the GED in the EGARCH paper).

use rand::Rng;
use rand_distr::Distribution as _;
use statrs::function::gamma::digamma;

use std::array::from_fn;

use super::GroupPartials;
use super::lanes::{self, GROUP};
use super::special::{gamma_pq, ln_gamma, normal_quantile, solve_quantile};

const LN_2: f64 = std::f64::consts::LN_2;

/// The GED's per-pass constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ged {
    nu: f64,
    /// ln c.
    ln_c: f64,
    /// `ln ν − ln c − lnΓ(1/ν) − (1 + 1/ν)ln 2`.
    constant: f64,
    /// Its derivative in ν.
    d_constant: f64,
    /// `(ln c)'(ν)`.
    d_ln_c: f64,
}

/// What one observation contributes to the value and gradient passes.
pub(crate) struct GedObs {
    pub(crate) ds2: f64,
    pub(crate) de: f64,
    pub(crate) dnu: f64,
    /// `A = |e/(cσ)|^ν`.
    pub(crate) power: f64,
}

impl Ged {
    /// The constants at `nu` (> 1, checked by the caller).
    pub(crate) fn new(nu: f64) -> Self {
        let inv = 1.0 / nu;
        let ln_c = 0.5 * (-2.0 * inv * LN_2 + ln_gamma(inv) - ln_gamma(3.0 * inv));
        let d_ln_c = 0.5 * inv * inv * (2.0 * LN_2 - digamma(inv) + 3.0 * digamma(3.0 * inv));
        Self {
            nu,
            ln_c,
            constant: nu.ln() - ln_c - ln_gamma(inv) - (1.0 + inv) * LN_2,
            d_constant: inv - d_ln_c + digamma(inv) * inv * inv + LN_2 * inv * inv,
            d_ln_c,
        }
    }

    /// The partial derivatives of one observation's log density (see [`GedObs`]): with
    /// `A = |x|^ν`, `x = z/c`, `∂ℓ/∂z = −½νA/z`, so `∂ℓ/∂σ² = −(1 − ½νA)/(2σ²)`,
    /// `∂ℓ/∂e = −½νA/e` and `∂ℓ/∂ν = K' − ½A(ln|x| − ν(ln c)')`.
    #[inline(always)]
    pub(crate) fn first_partials(&self, e: f64, s2: f64) -> GedObs {
        let r = e * e / s2;
        if r == 0.0 {
            return GedObs {
                ds2: -0.5 / s2,
                de: 0.0,
                dnu: self.d_constant,
                power: 0.0,
            };
        }
        let ln_x = 0.5 * r.ln() - self.ln_c;
        let power = (self.nu * ln_x).exp();
        let half_nu_a = 0.5 * self.nu * power;
        GedObs {
            ds2: -0.5 * (1.0 - half_nu_a) / s2,
            de: -half_nu_a / e,
            dnu: self.d_constant - 0.5 * power * (ln_x - self.nu * self.d_ln_c),
            power,
        }
    }

    /// `Σ_t A_t = Σ_t |e_t/(cσ²_t^½)|^ν` with `e_t = y_t − μ`: the value pass's transcendental
    /// work, sixteen observations at a time ([`super::lanes`]); the same terms as
    /// [`Self::first_partials`]'s `power` to within an ulp each (a zero residual adds 0).
    pub(crate) fn power_sum(&self, y: &[f64], mu: f64, s2: &[f64]) -> f64 {
        debug_assert_eq!(y.len(), s2.len());
        let (nu, ln_c) = (self.nu, self.ln_c);
        let mut sums = [0.0; GROUP];
        let mut ys = y.chunks_exact(GROUP);
        let mut vs = s2.chunks_exact(GROUP);
        for (yc, vc) in (&mut ys).zip(&mut vs) {
            let r: [f64; GROUP] = from_fn(|l| {
                let e = yc[l] - mu;
                e * e / vc[l]
            });
            let ln_r = lanes::ln(r);
            let power = lanes::exp::<GROUP>(from_fn(|l| nu * (0.5 * ln_r[l] - ln_c)));
            for l in 0..GROUP {
                sums[l] += power[l];
            }
        }
        let tail: f64 = ys
            .remainder()
            .iter()
            .zip(vs.remainder())
            .map(|(yt, v)| {
                let e = yt - mu;
                (nu * (0.5 * (e * e / v).ln() - ln_c)).exp()
            })
            .sum();
        sums.iter().sum::<f64>() + tail
    }

    /// [`Self::first_partials`] of [`GROUP`] observations at once, the logarithms and
    /// exponentials vectorised ([`super::lanes`]): the same operations otherwise, so each
    /// partial is within an ulp or two of the one-at-a-time one.
    #[inline(always)]
    pub(crate) fn first_partials_group(
        &self,
        e: &[f64; GROUP],
        s2: &[f64; GROUP],
    ) -> GroupPartials {
        let r: [f64; GROUP] = from_fn(|l| e[l] * e[l] / s2[l]);
        let ln_r = lanes::ln(r);
        let ln_x: [f64; GROUP] = from_fn(|l| 0.5 * ln_r[l] - self.ln_c);
        let power = lanes::exp::<GROUP>(from_fn(|l| self.nu * ln_x[l]));
        let half_nu_a: [f64; GROUP] = from_fn(|l| 0.5 * self.nu * power[l]);
        // A zero residual: A = 0 and no e or ln|x| term (as `first_partials`).
        GroupPartials {
            s2: from_fn(|l| -0.5 * (1.0 - half_nu_a[l]) / s2[l]),
            e: from_fn(|l| {
                if r[l] == 0.0 {
                    0.0
                } else {
                    -half_nu_a[l] / e[l]
                }
            }),
            shape: [
                from_fn(|l| {
                    if r[l] == 0.0 {
                        self.d_constant
                    } else {
                        self.d_constant - 0.5 * power[l] * (ln_x[l] - self.nu * self.d_ln_c)
                    }
                }),
                [0.0; GROUP],
            ],
            acc: power,
        }
    }

    /// The log-likelihood of `n` observations from `Σ ln σ²` and `Σ A`.
    #[inline(always)]
    pub(crate) fn log_likelihood(&self, n: f64, ln_s2: f64, power: f64) -> f64 {
        n * self.constant - 0.5 * ln_s2 - 0.5 * power
    }
}

/// The unit-variance GED's density, CDF, quantile and expected shortfall (for
/// [`super::ShockLaw`]): `z = s·x`, `x` with density `ν/(2Γ(1/ν))·e^{−|x|^ν}` (scipy's
/// `gennorm`), `s = √(Γ(1/ν)/Γ(3/ν))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct UnitGed {
    nu: f64,
    scale: f64,
    /// `ln(ν/(2Γ(1/ν)))`.
    ln_norm: f64,
    /// `Γ(2/ν)/(2Γ(1/ν))`, the mean of `|x|`'s half.
    half_abs_mean: f64,
}

impl UnitGed {
    /// The law at `nu` (> 1, checked by the caller).
    pub(crate) fn new(nu: f64) -> Self {
        let inv = 1.0 / nu;
        Self {
            nu,
            scale: (0.5 * (ln_gamma(inv) - ln_gamma(3.0 * inv))).exp(),
            ln_norm: (0.5 * nu).ln() - ln_gamma(inv),
            half_abs_mean: 0.5 * (ln_gamma(2.0 * inv) - ln_gamma(inv)).exp(),
        }
    }

    fn x_pdf(&self, x: f64) -> f64 {
        (self.ln_norm - x.abs().powf(self.nu)).exp()
    }

    /// `P(X ≤ x)` for `x`'s law: `½Q(1/ν, |x|^ν)` below zero.
    fn x_cdf(&self, x: f64) -> f64 {
        let (p, q) = gamma_pq(1.0 / self.nu, x.abs().powf(self.nu));
        let tail = if q < 0.5 { 0.5 * q } else { 0.5 - 0.5 * p };
        if x < 0.0 { tail } else { 1.0 - tail }
    }

    fn x_quantile(&self, p: f64) -> f64 {
        if p > 0.5 {
            return -self.x_quantile(1.0 - p);
        }
        if p == 0.5 {
            return 0.0;
        }
        // The normal quantile at the GED's own scale as the start.
        let x0 = normal_quantile(p) * (1.0 / self.scale);
        solve_quantile(p, x0, |x| self.x_cdf(x), |x| self.x_pdf(x))
    }

    pub(crate) fn pdf(&self, z: f64) -> f64 {
        self.x_pdf(z / self.scale) / self.scale
    }
    pub(crate) fn cdf(&self, z: f64) -> f64 {
        self.x_cdf(z / self.scale)
    }
    pub(crate) fn quantile(&self, p: f64) -> f64 {
        self.scale * self.x_quantile(p)
    }
    /// `E[z | z ≤ q_p] = −s·Γ(2/ν)/(2Γ(1/ν))·Q(2/ν, |x_p|^ν)/p`, the first partial moment
    /// (as `arch`'s `_ord_gennorm_partial_moment(1)`, which is this on both sides of 0).
    pub(crate) fn expected_shortfall(&self, p: f64) -> f64 {
        let x = self.x_quantile(p);
        let (_, q) = gamma_pq(2.0 / self.nu, x.abs().powf(self.nu));
        -self.scale * self.half_abs_mean * q / p
    }
}

/// Unit-variance GED shocks, as `arch` draws them: `G^{1/ν}` with `G ~ Gamma(1/ν, 1)`, a
/// random sign, over `√(Γ(3/ν)/Γ(1/ν))`.
pub(crate) struct Shocks {
    gamma: rand_distr::Gamma<f64>,
    inv_nu: f64,
    /// `√(Γ(1/ν)/Γ(3/ν))`.
    scale: f64,
}

impl Shocks {
    /// The shocks at `nu`; `None` if it is not a valid shape.
    pub(crate) fn new(nu: f64) -> Option<Self> {
        if !(nu > 1.0 && nu.is_finite()) {
            return None;
        }
        rand_distr::Gamma::new(1.0 / nu, 1.0)
            .ok()
            .map(|gamma| Self {
                gamma,
                inv_nu: 1.0 / nu,
                scale: UnitGed::new(nu).scale,
            })
    }

    /// The next shock.
    #[inline(always)]
    pub(crate) fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        let g = self.gamma.sample(rng).powf(self.inv_nu);
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        sign * g * self.scale
    }
}
