//! Hansen's (1994) skewed Student-t law standardised to unit variance: `arch`'s `SkewStudent`
//! (`arch/univariate/distribution.py`), shape `η > 2` (tails) and `λ ∈ (−1, 1)` (skewness).
//! With `c̃ = lnΓ((η+1)/2) − lnΓ(η/2) − ½ln(π(η−2))`, `a = 4λe^{c̃}(η−2)/(η−1)`,
//! `b = √(1 + 3λ² − a²)` and `z = e/σ`, the log density is
//! `ln b + c̃ − ½ln σ² − (η+1)/2·ln(1 + u²/(η−2))`, `u = (bz + a)/(1 + sλ)`, `s = sign(z + a/b)`.
//! Below `−a/b` the law is a t with scale `(1−λ)`, above with `(1+λ)`; λ = 0 is Student-t.
//!
//! Reference: B. E. Hansen (1994), "Autoregressive conditional density estimation",
//! *International Economic Review* 35(3), 705–730.

use rand::Rng;
use rand_distr::Distribution as _;
use statrs::function::gamma::digamma;

use std::array::from_fn;

use super::GroupPartials;
use super::lanes::GROUP;
use super::special::ln_gamma_half_ratio;
use super::student_t::UnitT;

/// The skewed t's per-pass constants and their derivatives in η and λ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SkewT {
    eta: f64,
    lam: f64,
    a: f64,
    b: f64,
    /// `ln b + c̃`, the per-observation constant of the log density.
    constant: f64,
    /// Its derivatives in η and λ.
    d_constant: [f64; 2],
    /// ∂a/∂η, ∂a/∂λ, ∂b/∂η, ∂b/∂λ.
    da: [f64; 2],
    db: [f64; 2],
    /// `1/(1 − λ)` and `1/(1 + λ)`: the side's scale, multiplied instead of divided per
    /// observation.
    inv_d: [f64; 2],
    /// `1/(η − 2)`.
    inv_eta2: f64,
}

/// What one observation contributes to the value and gradient passes.
pub(crate) struct SkewObs {
    pub(crate) ds2: f64,
    pub(crate) de: f64,
    /// ∂ℓ/∂η without `−½ln(1 + q)`, and ∂ℓ/∂λ.
    pub(crate) shape: [f64; 2],
    /// `1 + q`, `q = u²/(η − 2)`.
    pub(crate) one_plus_q: f64,
}

impl SkewT {
    /// The constants at `(eta, lam)` (η > 2, |λ| < 1, checked by the caller).
    pub(crate) fn new(eta: f64, lam: f64) -> Self {
        let c = ln_gamma_half_ratio(eta / 2.0) - 0.5 * (std::f64::consts::PI * (eta - 2.0)).ln();
        let dc = 0.5 * digamma((eta + 1.0) / 2.0) - 0.5 * digamma(eta / 2.0) - 0.5 / (eta - 2.0);
        // a = 4λ e^c (η−2)/(η−1); ∂a/∂λ without dividing by λ (λ may be 0).
        let a_per_lam = 4.0 * c.exp() * (eta - 2.0) / (eta - 1.0);
        let a = lam * a_per_lam;
        let da_eta = a * (dc + 1.0 / (eta - 2.0) - 1.0 / (eta - 1.0));
        let b = (1.0 + 3.0 * lam * lam - a * a).sqrt();
        let db_eta = -a * da_eta / b;
        let db_lam = (3.0 * lam - a * a_per_lam) / b;
        Self {
            eta,
            lam,
            a,
            b,
            constant: b.ln() + c,
            d_constant: [db_eta / b + dc, db_lam / b],
            da: [da_eta, a_per_lam],
            db: [db_eta, db_lam],
            inv_d: [1.0 / (1.0 - lam), 1.0 / (1.0 + lam)],
            inv_eta2: 1.0 / (eta - 2.0),
        }
    }

    /// The partial derivatives of one observation's log density (see [`SkewObs`]).
    #[inline(always)]
    pub(crate) fn first_partials(&self, e: f64, s2: f64) -> SkewObs {
        let Self { eta, a, b, .. } = *self;
        // Two divisions and a root per observation (1/σ², 1/(1+q)) instead of eight: the
        // pass's cost is this function's.
        let inv_s2 = 1.0 / s2;
        let inv_sigma = inv_s2.sqrt();
        let z = e * inv_sigma;
        let bz_a = b * z + a;
        let (s, inv_d) = if bz_a < 0.0 {
            (-1.0, self.inv_d[0])
        } else {
            (1.0, self.inv_d[1])
        };
        let u = bz_a * inv_d;
        let c1 = self.inv_eta2;
        let q = u * u * c1;
        let opq = 1.0 + q;
        let h = 0.5 * (eta + 1.0) / opq; // (η+1)/2 · 1/(1+q)
        let dl_dz = -2.0 * h * u * b * c1 * inv_d;
        let u_eta = (self.db[0] * z + self.da[0]) * inv_d;
        let u_lam = (self.db[1] * z + self.da[1] - u * s) * inv_d;
        let dq_eta = 2.0 * u * u_eta * c1 - q * c1;
        let dq_lam = 2.0 * u * u_lam * c1;
        SkewObs {
            ds2: -0.5 * (1.0 + z * dl_dz) * inv_s2,
            de: dl_dz * inv_sigma,
            shape: [
                self.d_constant[0] - h * dq_eta,
                self.d_constant[1] - h * dq_lam,
            ],
            one_plus_q: opq,
        }
    }

    /// [`Self::first_partials`] of [`GROUP`] observations at once: the same operations, the
    /// side chosen by a select instead of a branch, so that the divisions and roots vectorise.
    #[inline(always)]
    pub(crate) fn first_partials_group(
        &self,
        e: &[f64; GROUP],
        s2: &[f64; GROUP],
    ) -> GroupPartials {
        let Self { eta, a, b, .. } = *self;
        let c1 = self.inv_eta2;
        let inv_s2: [f64; GROUP] = from_fn(|l| 1.0 / s2[l]);
        let inv_sigma: [f64; GROUP] = from_fn(|l| inv_s2[l].sqrt());
        let z: [f64; GROUP] = from_fn(|l| e[l] * inv_sigma[l]);
        let bz_a: [f64; GROUP] = from_fn(|l| b * z[l] + a);
        let below: [bool; GROUP] = from_fn(|l| bz_a[l] < 0.0);
        let s: [f64; GROUP] = from_fn(|l| if below[l] { -1.0 } else { 1.0 });
        let inv_d: [f64; GROUP] = from_fn(|l| {
            if below[l] {
                self.inv_d[0]
            } else {
                self.inv_d[1]
            }
        });
        let u: [f64; GROUP] = from_fn(|l| bz_a[l] * inv_d[l]);
        let q: [f64; GROUP] = from_fn(|l| u[l] * u[l] * c1);
        let opq: [f64; GROUP] = from_fn(|l| 1.0 + q[l]);
        let h: [f64; GROUP] = from_fn(|l| 0.5 * (eta + 1.0) / opq[l]);
        let dl_dz: [f64; GROUP] = from_fn(|l| -2.0 * h[l] * u[l] * b * c1 * inv_d[l]);
        let dq_eta: [f64; GROUP] = from_fn(|l| {
            let u_eta = (self.db[0] * z[l] + self.da[0]) * inv_d[l];
            2.0 * u[l] * u_eta * c1 - q[l] * c1
        });
        let dq_lam: [f64; GROUP] = from_fn(|l| {
            let u_lam = (self.db[1] * z[l] + self.da[1] - u[l] * s[l]) * inv_d[l];
            2.0 * u[l] * u_lam * c1
        });
        GroupPartials {
            s2: from_fn(|l| -0.5 * (1.0 + z[l] * dl_dz[l]) * inv_s2[l]),
            e: from_fn(|l| dl_dz[l] * inv_sigma[l]),
            shape: [
                from_fn(|l| self.d_constant[0] - h[l] * dq_eta[l]),
                from_fn(|l| self.d_constant[1] - h[l] * dq_lam[l]),
            ],
            acc: opq,
        }
    }

    /// The log-likelihood of `n` observations from `Σ ln σ²` and `Σ ln(1 + q)`.
    #[inline(always)]
    pub(crate) fn log_likelihood(&self, n: f64, ln_s2: f64, ln_1q: f64) -> f64 {
        n * self.constant - 0.5 * ln_s2 - 0.5 * (self.eta + 1.0) * ln_1q
    }
}

/// The unit-variance skewed t's density, CDF, quantile and expected shortfall (for
/// [`super::ShockLaw`]), as `arch`'s `SkewStudent.cdf`/`ppf`/`partial_moment`: each side of
/// `−a/b` is an ordinary t with `η` degrees of freedom, location `−a/b` and scale
/// `√(1−2/η)(1∓λ)/b`, carrying mass `(1∓λ)/2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct UnitSkewT {
    law: SkewT,
    t: UnitT,
    /// `−a/b`.
    loc: f64,
    /// Scales of the ordinary t on the left and right.
    scale: [f64; 2],
}

impl UnitSkewT {
    /// The law at `(eta, lam)` (η > 2, |λ| < 1, checked by the caller).
    pub(crate) fn new(eta: f64, lam: f64) -> Self {
        let law = SkewT::new(eta, lam);
        let k = (1.0 - 2.0 / eta).sqrt() / law.b;
        Self {
            law,
            t: UnitT::new(eta),
            loc: -law.a / law.b,
            scale: [k * (1.0 - lam), k * (1.0 + lam)],
        }
    }

    pub(crate) fn pdf(&self, z: f64) -> f64 {
        let SkewT { eta, lam, a, b, .. } = self.law;
        let bz_a = b * z + a;
        let d = if bz_a < 0.0 { 1.0 - lam } else { 1.0 + lam };
        let u = bz_a / d;
        (self.law.constant - 0.5 * (eta + 1.0) * (u * u / (eta - 2.0)).ln_1p()).exp()
    }

    pub(crate) fn cdf(&self, z: f64) -> f64 {
        let lam = self.law.lam;
        if z < self.loc {
            (1.0 - lam) * self.t.t_cdf((z - self.loc) / self.scale[0])
        } else {
            // (1−λ)/2 + (1+λ)(T(y) − ½), with T(y) − ½ = ½ − T(−y) kept accurate near ½.
            let y = (z - self.loc) / self.scale[1];
            (1.0 - lam) / 2.0 + (1.0 + lam) * (0.5 - self.t.t_cdf(-y))
        }
    }

    pub(crate) fn quantile(&self, p: f64) -> f64 {
        let lam = self.law.lam;
        let split = (1.0 - lam) / 2.0;
        if p < split {
            self.loc + self.scale[0] * self.t.t_quantile(p / (1.0 - lam))
        } else {
            // The upper piece: T(y) = ½ + (p − split)/(1+λ), solved from the smaller tail.
            let upper = (1.0 - p) / (1.0 + lam);
            self.loc - self.scale[1] * self.t.t_quantile(upper)
        }
    }

    /// `E[z | z ≤ q_p]`: the first partial moment up to `q_p` (`arch`'s `partial_moment(1)`)
    /// over `p`, from the ordinary t's `∫_{−∞}^{x} t f(t) dt = −f(x)(η + x²)/(η − 1)`. Above
    /// `−a/b` it is minus the upper partial moment (the law has mean 0), which does not cancel
    /// as the lower one does there: `arch`'s own value at p = 0.999 is 1.6e-12 off.
    pub(crate) fn expected_shortfall(&self, p: f64) -> f64 {
        let lam = self.law.lam;
        let eta = self.law.eta;
        let q = self.quantile(p);
        // ∫_{x}^{∞} t f(t) dt of the ordinary t (= −∫_{−∞}^{x}).
        let upper_m1 = |x: f64| self.t.t_pdf(x) * (eta + x * x) / (eta - 1.0);
        let pm = if q <= self.loc {
            let x = (q - self.loc) / self.scale[0];
            (1.0 - lam) * (self.loc * self.t.t_cdf(x) - self.scale[0] * upper_m1(x))
        } else {
            let x = (q - self.loc) / self.scale[1];
            -(1.0 + lam) * (self.loc * self.t.t_cdf(-x) + self.scale[1] * upper_m1(x))
        };
        pm / p
    }
}

/// Unit-variance skewed-t shocks: an ordinary t draw `|T|` placed on the left piece with
/// probability `(1−λ)/2`, else on the right (the law's two halves).
pub(crate) struct Shocks {
    t: rand_distr::StudentT<f64>,
    law: UnitSkewT,
}

impl Shocks {
    /// The shocks at `(eta, lam)`; `None` if the shape is invalid.
    pub(crate) fn new(eta: f64, lam: f64) -> Option<Self> {
        if !(eta > 2.0 && lam.abs() < 1.0) {
            return None;
        }
        rand_distr::StudentT::new(eta).ok().map(|t| Self {
            t,
            law: UnitSkewT::new(eta, lam),
        })
    }

    /// The next shock.
    #[inline(always)]
    pub(crate) fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        let left = rng.random::<f64>() < (1.0 - self.law.law.lam) / 2.0;
        let t = self.t.sample(rng).abs();
        if left {
            self.law.loc - self.law.scale[0] * t
        } else {
            self.law.loc + self.law.scale[1] * t
        }
    }
}
