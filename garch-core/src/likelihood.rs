//! The log-likelihood of a [`ModelSpec`] on a return series, its analytic gradient and the
//! per-observation scores, in one pass over the data.
//!
//! Densities as `arch` 8.0 writes them (`distribution.py`):
//! normal `−½[ln 2π + ln σ² + e²/σ²]`; standardised Student-t
//! `lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2)) − ½ln σ² − (ν+1)/2·ln(1 + e²/(σ²(ν−2)))`.

use statrs::function::gamma::{digamma, ln_gamma};

use crate::spec::{Distribution, Layout, ModelSpec, VolatilityModel};
use crate::variance::{self, RecursionInput, VarianceSink};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The data side of a likelihood: returns plus the backcast and variance bounds, which `arch`
/// computes once from the starting residuals and keeps fixed while the parameters move.
#[derive(Debug, Clone)]
pub(crate) struct Likelihood<'a> {
    spec: ModelSpec,
    layout: Layout,
    y: &'a [f64],
    backcast: f64,
    bounds: Vec<[f64; 2]>,
}

/// Per-pass constants of the error density.
#[derive(Clone, Copy)]
enum Density {
    Normal,
    StudentT {
        nu: f64,
        /// `lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2))`.
        constant: f64,
        /// Its derivative in ν.
        d_constant: f64,
    },
}

impl Density {
    fn new(dist: Distribution, nu: Option<f64>) -> Self {
        match (dist, nu) {
            (Distribution::StudentT, Some(nu)) => Density::StudentT {
                nu,
                constant: ln_gamma((nu + 1.0) / 2.0)
                    - ln_gamma(nu / 2.0)
                    - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln(),
                d_constant: 0.5 * digamma((nu + 1.0) / 2.0)
                    - 0.5 * digamma(nu / 2.0)
                    - 0.5 / (nu - 2.0),
            },
            _ => Density::Normal,
        }
    }

    /// Log density of residual `e` with variance `s2`.
    #[inline(always)]
    fn value(&self, e: f64, s2: f64) -> f64 {
        match *self {
            Density::Normal => -0.5 * (LN_2PI + s2.ln() + e * e / s2),
            Density::StudentT { nu, constant, .. } => {
                constant - 0.5 * s2.ln() - 0.5 * (nu + 1.0) * (e * e / (s2 * (nu - 2.0))).ln_1p()
            }
        }
    }

    /// Log density and its partial derivatives in σ², e and ν.
    #[inline(always)]
    fn with_partials(&self, e: f64, s2: f64) -> (f64, f64, f64, f64) {
        match *self {
            Density::Normal => {
                let r = e * e / s2;
                (
                    -0.5 * (LN_2PI + s2.ln() + r),
                    0.5 * (r - 1.0) / s2,
                    -e / s2,
                    0.0,
                )
            }
            Density::StudentT {
                nu,
                constant,
                d_constant,
            } => {
                let q = e * e / (s2 * (nu - 2.0));
                let l1q = q.ln_1p();
                let w = q / (1.0 + q);
                (
                    constant - 0.5 * s2.ln() - 0.5 * (nu + 1.0) * l1q,
                    (-0.5 + 0.5 * (nu + 1.0) * w) / s2,
                    -(nu + 1.0) * e / (s2 * (nu - 2.0) * (1.0 + q)),
                    d_constant - 0.5 * l1q + 0.5 * (nu + 1.0) * w / (nu - 2.0),
                )
            }
        }
    }
}

struct ValueSink {
    density: Density,
    ll: f64,
}

impl VarianceSink for ValueSink {
    const DERIVATIVES: bool = false;
    #[inline(always)]
    fn observe(&mut self, _t: usize, e: f64, s2: f64, _ds2: &[f64]) {
        self.ll += self.density.value(e, s2);
    }
}

struct GradientSink<'s> {
    density: Density,
    mu: Option<usize>,
    nu: Option<usize>,
    ll: f64,
    grad: &'s mut [f64],
    /// Row-major `T × k` per-observation scores, when requested.
    scores: Option<&'s mut [f64]>,
}

impl VarianceSink for GradientSink<'_> {
    const DERIVATIVES: bool = true;
    #[inline(always)]
    fn observe(&mut self, t: usize, e: f64, s2: f64, ds2: &[f64]) {
        let (l, dl_ds2, dl_de, dl_dnu) = self.density.with_partials(e, s2);
        self.ll += l;
        let k = self.grad.len();
        let add = |row: &mut [f64]| {
            for (g, d) in row.iter_mut().zip(ds2) {
                *g += dl_ds2 * d;
            }
            if let Some(m) = self.mu {
                row[m] -= dl_de;
            }
            if let Some(n) = self.nu {
                row[n] += dl_dnu;
            }
        };
        add(self.grad);
        if let Some(scores) = self.scores.as_deref_mut() {
            add(&mut scores[t * k..(t + 1) * k]);
        }
    }
}

impl<'a> Likelihood<'a> {
    /// Prepares the likelihood of `spec` on `y`, with backcast and bounds from `start_resids`
    /// (`arch` uses the residuals at the starting mean, `y − ȳ`).
    pub(crate) fn new(spec: ModelSpec, y: &'a [f64], start_resids: &[f64]) -> Self {
        let bc = variance::backcast(start_resids);
        let backcast = match spec.volatility {
            VolatilityModel::Egarch => bc.ln(),
            VolatilityModel::Garch(_) => bc,
        };
        Self {
            spec,
            layout: spec.layout(),
            y,
            backcast,
            bounds: variance::variance_bounds(start_resids),
        }
    }

    /// A likelihood with an explicit backcast and bounds (forecasting reruns the path with
    /// values recomputed from the fitted residuals).
    pub(crate) fn with_start(
        spec: ModelSpec,
        y: &'a [f64],
        backcast: f64,
        bounds: Vec<[f64; 2]>,
    ) -> Self {
        Self {
            spec,
            layout: spec.layout(),
            y,
            backcast,
            bounds,
        }
    }

    /// Number of observations.
    pub(crate) fn nobs(&self) -> usize {
        self.y.len()
    }

    /// The model.
    pub(crate) fn spec(&self) -> ModelSpec {
        self.spec
    }

    fn input(&self, params: &[f64]) -> RecursionInput<'_> {
        RecursionInput {
            y: self.y,
            mu: self.layout.mu.map_or(0.0, |m| params[m]),
            mu_index: self.layout.mu,
            vol_index: self.layout.vol,
            n_params: self.layout.len,
            backcast: self.backcast,
            bounds: &self.bounds,
        }
    }

    fn density(&self, params: &[f64]) -> Density {
        Density::new(self.spec.distribution, self.layout.nu.map(|i| params[i]))
    }

    fn run<S: VarianceSink>(&self, params: &[f64], sigma2: &mut [f64], sink: &mut S) {
        let input = self.input(params);
        let vol = &params[self.layout.vol..self.layout.vol + self.spec.volatility.n_params()];
        match self.spec.volatility {
            VolatilityModel::Garch(g) if g.p() == 1 && g.o() <= 1 && g.q() == 1 => {
                let has_gamma = g.o() == 1;
                match self.layout.len {
                    3 => variance::garch11_recursion::<3, S>(&input, has_gamma, vol, sigma2, sink),
                    4 => variance::garch11_recursion::<4, S>(&input, has_gamma, vol, sigma2, sink),
                    5 => variance::garch11_recursion::<5, S>(&input, has_gamma, vol, sigma2, sink),
                    6 => variance::garch11_recursion::<6, S>(&input, has_gamma, vol, sigma2, sink),
                    _ => unreachable!("first-order GARCH has 3 to 6 parameters"),
                }
            }
            VolatilityModel::Garch(g) => {
                variance::garch_recursion(&input, (g.p(), g.o(), g.q()), vol, sigma2, sink)
            }
            VolatilityModel::Egarch => variance::egarch_recursion(&input, vol, sigma2, sink),
        }
    }

    /// Total log-likelihood, writing the conditional variances into `sigma2`.
    pub(crate) fn value_into(&self, params: &[f64], sigma2: &mut [f64]) -> f64 {
        let mut sink = ValueSink {
            density: self.density(params),
            ll: 0.0,
        };
        self.run(params, sigma2, &mut sink);
        sink.ll
    }

    /// Total log-likelihood.
    pub(crate) fn value(&self, params: &[f64]) -> f64 {
        let mut sigma2 = vec![0.0; self.y.len()];
        self.value_into(params, &mut sigma2)
    }

    /// Total log-likelihood and its gradient (written into `grad`), optionally the
    /// per-observation scores (row-major `T × k`).
    pub(crate) fn value_and_gradient(
        &self,
        params: &[f64],
        grad: &mut [f64],
        scores: Option<&mut [f64]>,
    ) -> f64 {
        grad.fill(0.0);
        if let Some(s) = scores.as_deref() {
            debug_assert_eq!(s.len(), self.y.len() * grad.len());
        }
        let mut scores = scores;
        if let Some(s) = scores.as_deref_mut() {
            s.fill(0.0);
        }
        let mut sigma2 = vec![0.0; self.y.len()];
        let mut sink = GradientSink {
            density: self.density(params),
            mu: self.layout.mu,
            nu: self.layout.nu,
            ll: 0.0,
            grad,
            scores,
        };
        self.run(params, &mut sigma2, &mut sink);
        sink.ll
    }

    /// Conditional variances at `params`.
    pub(crate) fn conditional_variance(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let mut sigma2 = vec![0.0; self.y.len()];
        let ll = self.value_into(params, &mut sigma2);
        (ll, sigma2)
    }
}
