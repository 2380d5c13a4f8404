//! Variance and conditional-mean forecasts.
//!
//! The mean forecast is `μ` (constant mean), 0 (zero mean) or the AR(p) recursion from the last
//! observations (`arch`'s `_ar_forecast`, see [`crate::mean`]); the variance forecast is the
//! residual variance `E_T[σ²_{T+h}]` (`arch`'s `residual_variance`), which does not depend on the
//! mean beyond the residuals the path is run on.
//!
//! As `arch`'s `forecast` (`mean.py`, `volatility.py`): the backcast and variance bounds are
//! recomputed from the residuals at the fitted mean, the variance path is rerun, and the one-step
//! forecast is the recursion applied once more (without bounds). GARCH/GJR forecasts beyond one
//! step are analytic, `E[ε²] = E[σ²]` and `E[ε²·1[ε<0]] = E[σ²]/2` in the future; EGARCH's are
//! not available in closed form and are simulated with a seeded RNG.
//!
//! [`FittedModel::forecast_intervals`] gives quantiles of the returns themselves per horizon:
//! exact at one step from the fitted law ([`ShockLaw`]), simulated beyond.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::distribution::{Innovations, ShockLaw};
use crate::fit::FittedModel;
use crate::likelihood::Likelihood;
use crate::mean;
use crate::report::TRADING_DAYS_PER_YEAR;
use crate::spec::{MeanModel, ModelSpec, VolatilityModel};
use crate::variance::{self, SQRT_2_OVER_PI};

/// Longest horizon served.
pub const MAX_HORIZON: usize = 1000;

/// Why a forecast was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    /// Horizon of zero or beyond [`MAX_HORIZON`].
    #[error("horizon must be between 1 and {max}, got {got}")]
    Horizon {
        /// Requested.
        got: usize,
        /// Largest allowed.
        max: usize,
    },
    /// Simulation with no paths.
    #[error("simulations must be at least 1")]
    NoSimulations,
    /// An interval level outside (0, 1).
    #[error("interval levels must be strictly between 0 and 1, got {0}")]
    Level(String),
    /// Shape parameters the error law rejects (a model attached with invalid parameters).
    #[error("{0}")]
    Shape(String),
    /// Too many interval levels.
    #[error("at most {max} interval levels, got {got}")]
    TooManyLevels {
        /// Requested.
        got: usize,
        /// Largest allowed.
        max: usize,
    },
    /// A sub-range that does not fit the series (see [`continued_variance`]).
    #[error(
        "estimation sample of {fit_len} and path end {end} do not fit a series of {len} observations"
    )]
    Range {
        /// Observations in the estimation sample.
        fit_len: usize,
        /// Requested end of the variance path.
        end: usize,
        /// Observations in the series.
        len: usize,
    },
    /// A series that does not start with the model's estimation sample (see
    /// [`FittedModel::continued_forecasts`]).
    #[error("the series does not start with the estimation sample of the model")]
    NotTheSample,
}

/// The conditional-variance path of a model estimated on the first `fit_len` observations of
/// `y`, continued through the later observations without re-estimation: `σ²_t` for
/// `t = 0 .. end` (`end ≤ y.len() + 1`; `σ²_{y.len()}` is the one-step forecast past the data).
///
/// This is `arch`'s `res.forecast(horizon=1, start=t)` after `fit(first_obs, last_obs)`
/// (`mean.py`, `HARX.forecast`), with `y` starting at `first_obs`: the one-step forecast
/// from origin `t` is `σ²_{t+1}` of this path. As there, the backcast comes from the residuals
/// of the estimation sample at the fitted mean (`y[..fit_len] − μ̂`), and the variance bounds
/// from all the residuals from the sample's start to the end of the data (`y − μ̂`); the
/// observation past the data is unbounded. Rolling backtests read one-step forecasts from it
/// between refits.
///
/// With an AR(p) mean the path starts at observation `p` (the first `p` are only regressors):
/// it holds `σ²_t` for `t = p .. end`.
pub fn continued_variance(
    spec: ModelSpec,
    params: &[f64],
    y: &[f64],
    fit_len: usize,
    end: usize,
) -> Result<Vec<f64>, ForecastError> {
    if fit_len == 0 || fit_len > y.len() || end > y.len() + 1 {
        return Err(ForecastError::Range {
            fit_len,
            end,
            len: y.len(),
        });
    }
    let hold = spec.mean.hold_back();
    if fit_len <= hold || end < hold {
        return Err(ForecastError::Range {
            fit_len,
            end,
            len: y.len(),
        });
    }
    // The backcast needs the residuals of the sample's first observations only, the bounds'
    // envelope the largest squared residual of the rest of the series: with a constant or zero
    // mean that of the largest or smallest return (x ↦ (x − μ)² is convex, and rounding keeps
    // y − μ and its square monotone). All of them only where a bound might act.
    let fixed_mean = match spec.mean {
        MeanModel::Constant => Some(params[0]),
        MeanModel::Zero => Some(0.0),
        MeanModel::Ar(_) => None,
    };
    let (backcast, envelope, resids) = match fixed_mean {
        Some(mu) => {
            let head: Vec<f64> = y[..fit_len.min(variance::BACKCAST_WINDOW)]
                .iter()
                .map(|v| v - mu)
                .collect();
            let (lo, hi) = y
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let max_e2 = ((hi - mu) * (hi - mu)).max((lo - mu) * (lo - mu));
            let bc = variance::backcast(&head);
            (bc, variance::envelope_of(bc, max_e2), None)
        }
        None => {
            let resids = mean::residuals(spec.mean, params, y);
            let bc = variance::backcast(&resids[..fit_len - hold]);
            (bc, variance::bounds_envelope(&resids), Some(resids))
        }
    };
    let bc = match spec.volatility {
        VolatilityModel::Egarch => backcast.ln(),
        VolatilityModel::Garch(_) => backcast,
    };
    let observed = end.min(y.len());
    let mut y_path = y[..observed].to_vec();
    if end > y.len() {
        // An observation whose residual is zero: the next fitted mean.
        y_path.push(mean::mean_forecasts(spec.mean, params, y, 1)[0]);
    }
    // arch's bounds need a serial EWMA as long as the path, yet they almost never touch a
    // fitted path. Run it unbounded first: if it stays inside a band that lies within every
    // bound, no bound would have changed a step, and it is the bounded path bit for bit.
    let unbounded = vec![[0.0, f64::INFINITY]; y_path.len() - hold];
    let path = Likelihood::with_start(spec, &y_path, bc, unbounded).variance_path(params);
    let [lower, upper] = envelope;
    if path[..observed - hold]
        .iter()
        .all(|&s2| s2 >= lower && s2 <= upper)
    {
        return Ok(path);
    }
    let resids = resids.unwrap_or_else(|| mean::residuals(spec.mean, params, y));
    let mut bounds = variance::variance_bounds_prefix(&resids, observed - hold);
    if end > y.len() {
        bounds.push([0.0, f64::INFINITY]);
    }
    let lik = Likelihood::with_start(spec, &y_path, bc, bounds);
    Ok(lik.variance_path(params))
}

impl FittedModel {
    /// The one-step variance forecasts from each origin after the estimation sample, without
    /// re-estimation: `σ²_t` for `t = T .. end` (`T` the sample's length, `end ≤ y.len() + 1`)
    /// of [`continued_variance`]`(spec, params, y, T, end)`, where `y` starts with the sample.
    /// `σ²_T` is the forecast made at the sample's last close, and so on.
    ///
    /// `continued_variance` reruns the variance recursion over the sample, because `arch`'s
    /// forecast starts it from the backcast of the residuals at the fitted mean, not at the
    /// sample mean the fit's own path started from. For a first-order GARCH/GJR with a
    /// constant or zero mean, whose paths no bound touched, the two paths differ by
    /// `β^t·(α + γ/2 + β)·Δbc` (the recursion is linear in its start, with the same residuals),
    /// so this adds that to the fit's last variance and continues from there: the same values
    /// up to rounding (a few ulps; the tests hold it to 1e-13), without the pass over the
    /// sample. Otherwise, or when any variance of either path comes near a bound, it is
    /// `continued_variance` itself.
    pub fn continued_forecasts(&self, y: &[f64], end: usize) -> Result<Vec<f64>, ForecastError> {
        let sample = self.returns.as_slice();
        let fit_len = sample.len();
        if end < fit_len || end > y.len() + 1 || y.len() < fit_len {
            return Err(ForecastError::Range {
                fit_len,
                end,
                len: y.len(),
            });
        }
        // Bit for bit, without an early exit (it vectorises).
        let differs = y[..fit_len]
            .iter()
            .zip(sample)
            .fold(false, |d, (a, b)| d | (a.to_bits() != b.to_bits()));
        if differs {
            return Err(ForecastError::NotTheSample);
        }
        if let Some(forecasts) = self.forecasts_from_fitted_path(y, end) {
            return Ok(forecasts);
        }
        let hold = self.spec.mean.hold_back();
        let mut path = continued_variance(self.spec, &self.params, y, fit_len, end)?;
        path.drain(..fit_len - hold);
        Ok(path)
    }

    /// [`Self::continued_forecasts`] from the fitted path, where that is exact in real
    /// arithmetic and no bound can act; `None` otherwise.
    fn forecasts_from_fitted_path(&self, y: &[f64], end: usize) -> Option<Vec<f64>> {
        let mu = match self.spec.mean {
            MeanModel::Constant => self.params[0],
            MeanModel::Zero => 0.0,
            MeanModel::Ar(_) => return None,
        };
        let VolatilityModel::Garch(g) = self.spec.volatility else {
            return None;
        };
        if g.p() != 1 || g.q() != 1 || g.o() > 1 {
            return None;
        }
        let v = self.spec.mean.n_params();
        let (omega, alpha) = (self.params[v], self.params[v + 1]);
        let has_gamma = g.o() == 1;
        let (gamma, beta) = if has_gamma {
            (self.params[v + 2], self.params[v + 3])
        } else {
            (0.0, self.params[v + 2])
        };
        let fitted = &self.conditional_variance;
        let t_len = fitted.len();
        // The continued path's backcast and band, as `continued_variance` computes them.
        let head: Vec<f64> = y[..t_len.min(variance::BACKCAST_WINDOW)]
            .iter()
            .map(|v| v - mu)
            .collect();
        let bc = variance::backcast(&head);
        // `continued_variance` squares the extreme returns' residuals: the same value.
        let max_e2 = variance::max_square_about(y, mu);
        let [lower, upper] = variance::envelope_of(bc, max_e2);
        // The continued path minus the fitted one at t = 0 (both start `ω + (α + γ/2 + β)·bc`),
        // decaying as β^t after.
        let delta = (alpha + 0.5 * gamma + beta) * (bc - self.origin.backcast);
        // Every fitted variance strictly inside the fit's band (so never floored or capped),
        // and inside the continued band by more than the difference and a margin for rounding.
        let [fit_lo, fit_hi] = self.origin.band;
        let margin = 1e-9;
        let (need_lo, need_hi) = (
            fit_lo.max((lower + (-delta).max(0.0)) * (1.0 + margin)),
            fit_hi.min((upper - delta.max(0.0)) * (1.0 - margin)),
        );
        // Element-wise (it vectorises), and written so that a NaN declines.
        let outside = fitted
            .iter()
            .fold(false, |out, &s2| out | !(s2 > need_lo && s2 < need_hi));
        if outside || !delta.is_finite() {
            return None;
        }
        let last = t_len.checked_sub(1)?;
        let mut s_prev = fitted[last] + delta * beta.powi(i32::try_from(last).ok()?);
        // The recursion's operations in `variance::garch11_recursion`'s order, past the sample.
        let mut forecasts = Vec::with_capacity(end - t_len);
        for t in t_len..end {
            let e = y[t - 1] - mu;
            let e2 = e * e;
            let mut raw = omega;
            raw += alpha * e2;
            if has_gamma && e < 0.0 {
                raw += gamma * e2;
            }
            raw += beta * s_prev;
            // Observed days stay where no bound acts; the one past the data is unbounded.
            if t < y.len() && !(raw >= lower && raw <= upper) {
                return None;
            }
            forecasts.push(raw);
            s_prev = raw;
        }
        Some(forecasts)
    }
}

/// Most quantile levels one interval forecast serves.
pub const MAX_LEVELS: usize = 16;

/// How multi-step forecasts are produced where no closed form exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastOptions {
    /// Monte-Carlo paths for EGARCH horizons beyond one.
    pub simulations: usize,
    /// Seed of the simulation RNG (ChaCha8), so forecasts are reproducible.
    pub seed: u64,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            simulations: 2000,
            seed: 0x6a7c_4e11,
        }
    }
}

/// How a forecast was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ForecastMethod {
    /// Closed form.
    Analytic,
    /// Monte-Carlo mean over simulated paths (EGARCH beyond one step).
    Simulation,
}

/// One step of a forecast path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastStep {
    /// Steps ahead (1 = next observation).
    pub horizon: usize,
    /// Conditional mean `E_T[r_{T+h}]` (`arch`'s `forecast(...).mean`): μ, 0, or the AR(p)
    /// recursion.
    #[serde(default)]
    pub mean: f64,
    /// Expected conditional variance of the residual `E_T[σ²_{T+h}]` (`arch`'s
    /// `residual_variance`; percent² for percent returns).
    pub variance: f64,
    /// `√variance`: daily volatility.
    pub volatility: f64,
    /// `√(252·variance)`: annualised volatility.
    pub annualized_volatility: f64,
}

impl ForecastStep {
    fn new(horizon: usize, mean: f64, variance: f64) -> Self {
        Self {
            horizon,
            mean,
            variance,
            volatility: variance.sqrt(),
            annualized_volatility: (TRADING_DAYS_PER_YEAR * variance).sqrt(),
        }
    }
}

/// A forecast path: conditional mean and variance per horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    /// Method used beyond the first step (the first step is always analytic).
    pub method: ForecastMethod,
    /// Paths simulated (0 for analytic forecasts).
    pub simulations: usize,
    /// Steps `1..=horizon`.
    pub steps: Vec<ForecastStep>,
}

impl FittedModel {
    /// Forecasts the conditional mean and variance `horizon` steps past the end of the series.
    pub fn forecast(
        &self,
        horizon: usize,
        options: &ForecastOptions,
    ) -> Result<Forecast, ForecastError> {
        forecast(
            self.spec,
            &self.params,
            self.returns.as_slice(),
            horizon,
            options,
        )
    }
}

impl Forecast {
    /// Variances of the returns `r_{T+h}` given this forecast's residual variances, `arch`'s
    /// `forecast(...).variance`: `Σ_{i<h} ψ_i² σ²_{T+h−i}` with `ψ` the impulse response of
    /// `model`'s AR mean; the residual variances themselves for a constant or zero mean.
    pub fn return_variances(&self, model: &FittedModel) -> Vec<f64> {
        let residual: Vec<f64> = self.steps.iter().map(|s| s.variance).collect();
        mean::return_variances(model.spec.mean, &model.params, &residual)
    }
}

/// A quantile of the return `r_{T+h}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnQuantile {
    /// Probability level in (0, 1) (0.05 = the lower end of a 90 % band).
    pub level: f64,
    /// `P(r_{T+h} ≤ value | data through T) = level` (percent for percent returns).
    pub value: f64,
}

/// Return quantiles at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntervalStep {
    /// Steps ahead (1 = next observation).
    pub horizon: usize,
    /// One per requested level, in the order requested.
    pub quantiles: Vec<ReturnQuantile>,
}

/// Forecast intervals of the returns: quantiles of `r_{T+h}` per horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastIntervals {
    /// `analytic` for a one-step forecast (`m_{T+1} + σ_{T+1}·q_p` with `m` the conditional mean
    /// and `q_p` the fitted law's quantile); `simulation` beyond, where the return is a variance
    /// mixture with no closed form.
    pub method: ForecastMethod,
    /// Paths simulated (0 for one step).
    pub simulations: usize,
    /// Steps `1..=horizon`.
    pub steps: Vec<IntervalStep>,
}

impl FittedModel {
    /// Quantiles of the returns `r_{T+1} … r_{T+horizon}` at `levels` (each in (0, 1)), from the
    /// fitted law: at h = 1 exactly `m_{T+1} + σ_{T+1}·q(level)` (`m` the conditional mean);
    /// beyond, the empirical quantiles (linear interpolation, numpy's default) of
    /// `options.simulations` seeded paths that draw shocks from the law and run the fitted
    /// variance recursion and the mean (for an AR mean, its recursion on the simulated returns)
    /// forward, as `arch`'s `forecast(method="simulation")` does. Deterministic for a given seed.
    pub fn forecast_intervals(
        &self,
        horizon: usize,
        levels: &[f64],
        options: &ForecastOptions,
    ) -> Result<ForecastIntervals, ForecastError> {
        intervals(
            self.spec,
            &self.params,
            self.returns.as_slice(),
            horizon,
            levels,
            options,
        )
    }
}

/// See [`FittedModel::forecast_intervals`].
fn intervals(
    spec: ModelSpec,
    params: &[f64],
    y: &[f64],
    horizon: usize,
    levels: &[f64],
    options: &ForecastOptions,
) -> Result<ForecastIntervals, ForecastError> {
    if horizon == 0 || horizon > MAX_HORIZON {
        return Err(ForecastError::Horizon {
            got: horizon,
            max: MAX_HORIZON,
        });
    }
    if levels.len() > MAX_LEVELS {
        return Err(ForecastError::TooManyLevels {
            got: levels.len(),
            max: MAX_LEVELS,
        });
    }
    if let Some(bad) = levels.iter().find(|l| !(**l > 0.0 && **l < 1.0)) {
        return Err(ForecastError::Level(bad.to_string()));
    }
    if horizon > 1 && options.simulations == 0 {
        return Err(ForecastError::NoSimulations);
    }
    let layout = spec.layout();
    let shape = layout
        .nu
        .map_or(&[][..], |n| &params[n..n + layout.n_shape]);
    let law =
        ShockLaw::new(spec.distribution, shape).map_err(|e| ForecastError::Shape(e.to_string()))?;
    let (resids, sigma2, f1) = one_step(spec, params, y);
    let m1 = mean::mean_forecasts(spec.mean, params, y, 1)[0];
    let first = IntervalStep {
        horizon: 1,
        quantiles: levels
            .iter()
            .map(|&level| ReturnQuantile {
                level,
                value: m1 + f1.sqrt() * law.quantile(level),
            })
            .collect(),
    };
    if horizon == 1 {
        return Ok(ForecastIntervals {
            method: ForecastMethod::Analytic,
            simulations: 0,
            steps: vec![first],
        });
    }
    let paths = simulate_paths(spec, params, &resids, &sigma2, f1, horizon, options);
    let paths = return_paths(spec, params, y, paths);
    let mu = spec.layout().mu.map_or(0.0, |m| params[m]);
    let mut steps = vec![first];
    for (h, mut sample) in paths.into_iter().enumerate().skip(1) {
        sample.sort_by(f64::total_cmp);
        steps.push(IntervalStep {
            horizon: h + 1,
            quantiles: levels
                .iter()
                .map(|&level| ReturnQuantile {
                    level,
                    value: mu + empirical_quantile(&sample, level),
                })
                .collect(),
        });
    }
    Ok(ForecastIntervals {
        method: ForecastMethod::Simulation,
        simulations: options.simulations,
        steps,
    })
}

/// Simulated returns `r_{T+h}` less the constant `μ` (added to the quantiles), `[h − 1][path]`,
/// from simulated residuals: `ε` (constant and zero means), or the AR recursion
/// `c + Σ φ_i r_{T+h−i} + ε_{T+h}` on each path from the last observations (`arch`'s simulated
/// `mean_paths`).
fn return_paths(spec: ModelSpec, params: &[f64], y: &[f64], eps: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    match spec.mean {
        // μ is added to the quantiles instead (the same as before AR means existed, bit for bit).
        crate::spec::MeanModel::Constant | crate::spec::MeanModel::Zero => eps,
        crate::spec::MeanModel::Ar(lags) => {
            let p = lags.get();
            let (c, phi) = (params[0], &params[1..=p]);
            let n = eps.first().map_or(0, Vec::len);
            // Each path's returns, the last p observations first.
            let mut paths = vec![y[y.len() - p..].to_vec(); n];
            let mut out = Vec::with_capacity(eps.len());
            for shocks in &eps {
                let mut slot = Vec::with_capacity(n);
                for (path, e) in paths.iter_mut().zip(shocks) {
                    let m = path.len();
                    let mut r = c;
                    for (i, f) in phi.iter().enumerate() {
                        r += f * path[m - 1 - i];
                    }
                    r += e;
                    path.push(r);
                    slot.push(r);
                }
                out.push(slot);
            }
            out
        }
    }
}

/// numpy's default (`linear`) quantile of a sorted sample.
fn empirical_quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Simulated residuals `ε_{T+h}`, `[h − 1][path]`, from the end of the sample: shocks from the
/// fitted law, the fitted recursion run forward from the in-sample residuals and variances.
fn simulate_paths(
    spec: ModelSpec,
    params: &[f64],
    resids: &[f64],
    sigma2: &[f64],
    f1: f64,
    horizon: usize,
    options: &ForecastOptions,
) -> Vec<Vec<f64>> {
    let layout = spec.layout();
    let v = layout.vol;
    let shape = layout
        .nu
        .map_or(&[][..], |n| &params[n..n + layout.n_shape]);
    let mut shocks = Innovations::new(spec.distribution, shape);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let n = options.simulations;
    let mut out = vec![Vec::with_capacity(n); horizon];
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            let lags = p.max(o).max(q);
            let omega = params[v];
            let alpha = &params[v + 1..v + 1 + p];
            let gamma = &params[v + 1 + p..v + 1 + p + o];
            let beta = &params[v + 1 + p + o..v + 1 + p + o + q];
            let t = resids.len();
            let start = t.saturating_sub(lags);
            for _ in 0..n {
                // Most recent last.
                let mut e: Vec<f64> = resids[start..].to_vec();
                let mut s2: Vec<f64> = sigma2[start..].to_vec();
                let mut next = f1;
                for slot in out.iter_mut() {
                    let eps = next.sqrt() * shocks.draw(&mut rng);
                    slot.push(eps);
                    e.push(eps);
                    s2.push(next);
                    let m = e.len();
                    next = omega;
                    for (i, a) in alpha.iter().enumerate() {
                        next += a * e[m - 1 - i] * e[m - 1 - i];
                    }
                    for (j, gm) in gamma.iter().enumerate() {
                        let x = e[m - 1 - j];
                        if x < 0.0 {
                            next += gm * x * x;
                        }
                    }
                    for (k, b) in beta.iter().enumerate() {
                        next += b * s2[m - 1 - k];
                    }
                }
            }
        }
        VolatilityModel::Egarch => {
            let (omega, alpha, gamma, beta) =
                (params[v], params[v + 1], params[v + 2], params[v + 3]);
            for _ in 0..n {
                let mut ln_s2 = f1.ln();
                for slot in out.iter_mut() {
                    let z = shocks.draw(&mut rng);
                    slot.push(ln_s2.exp().sqrt() * z);
                    ln_s2 = omega + alpha * (z.abs() - SQRT_2_OVER_PI) + gamma * z + beta * ln_s2;
                }
            }
        }
    }
    out
}

/// The variance path rerun as `arch` does for forecasting, with one extra step: returns the
/// residuals, the in-sample variances and the one-step forecast `σ²_{T+1}`.
fn one_step(spec: ModelSpec, params: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    // The residuals at the fitted mean (after an AR mean's hold-back).
    let resids = mean::residuals(spec.mean, params, y);
    // Run on y extended by one observation whose residual is zero (the next fitted mean) and
    // whose bounds are [0, ∞).
    let mut y_ext = y.to_vec();
    y_ext.push(mean::mean_forecasts(spec.mean, params, y, 1)[0]);
    let mut bounds = variance::variance_bounds(&resids);
    bounds.push([0.0, f64::INFINITY]);
    let bc = variance::backcast(&resids);
    let bc = match spec.volatility {
        VolatilityModel::Egarch => bc.ln(),
        VolatilityModel::Garch(_) => bc,
    };
    let lik = Likelihood::with_start(spec, &y_ext, bc, bounds);
    let mut sigma2 = lik.variance_path(params);
    let next = sigma2.pop().unwrap_or(f64::NAN);
    (resids, sigma2, next)
}

/// Forecast for explicit parameters on a series (used by [`FittedModel::forecast`]).
pub(crate) fn forecast(
    spec: ModelSpec,
    params: &[f64],
    y: &[f64],
    horizon: usize,
    options: &ForecastOptions,
) -> Result<Forecast, ForecastError> {
    if horizon == 0 || horizon > MAX_HORIZON {
        return Err(ForecastError::Horizon {
            got: horizon,
            max: MAX_HORIZON,
        });
    }
    let (resids, sigma2, f1) = one_step(spec, params, y);
    let means = mean::mean_forecasts(spec.mean, params, y, horizon);
    let v = spec.layout().vol;
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            let omega = params[v];
            let alpha = &params[v + 1..v + 1 + p];
            let gamma = &params[v + 1 + p..v + 1 + p + o];
            let beta = &params[v + 1 + p + o..v + 1 + p + o + q];
            let t = resids.len();
            let mut f = Vec::with_capacity(horizon);
            f.push(f1);
            // Index s ≥ t is in the future (forecast f[s − t]); s < t is observed.
            let e2 = |s: usize, f: &[f64]| {
                if s >= t {
                    f[s - t]
                } else {
                    resids[s] * resids[s]
                }
            };
            let e2_neg = |s: usize, f: &[f64]| {
                if s >= t {
                    0.5 * f[s - t]
                } else if resids[s] < 0.0 {
                    resids[s] * resids[s]
                } else {
                    0.0
                }
            };
            let s2 = |s: usize, f: &[f64]| if s >= t { f[s - t] } else { sigma2[s] };
            for h in 2..=horizon {
                let s = t + h - 1; // index of the forecast variance
                let mut next = omega;
                for (i, a) in alpha.iter().enumerate() {
                    next += a * e2(s - 1 - i, &f);
                }
                for (j, gm) in gamma.iter().enumerate() {
                    next += gm * e2_neg(s - 1 - j, &f);
                }
                for (k, b) in beta.iter().enumerate() {
                    next += b * s2(s - 1 - k, &f);
                }
                f.push(next);
            }
            Ok(Forecast {
                method: ForecastMethod::Analytic,
                simulations: 0,
                steps: f
                    .into_iter()
                    .enumerate()
                    .map(|(i, var)| ForecastStep::new(i + 1, means[i], var))
                    .collect(),
            })
        }
        VolatilityModel::Egarch => {
            if horizon == 1 {
                return Ok(Forecast {
                    method: ForecastMethod::Analytic,
                    simulations: 0,
                    steps: vec![ForecastStep::new(1, means[0], f1)],
                });
            }
            if options.simulations == 0 {
                return Err(ForecastError::NoSimulations);
            }
            let (omega, alpha, gamma, beta) =
                (params[v], params[v + 1], params[v + 2], params[v + 3]);
            let layout = spec.layout();
            let shape = layout
                .nu
                .map_or(&[][..], |n| &params[n..n + layout.n_shape]);
            let mut shocks = Innovations::new(spec.distribution, shape);
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            let mut sums = vec![0.0; horizon];
            let ln_f1 = f1.ln();
            for _ in 0..options.simulations {
                let mut h = ln_f1;
                sums[0] += f1;
                for sum in sums.iter_mut().skip(1) {
                    let z = shocks.draw(&mut rng);
                    h = omega + alpha * (z.abs() - SQRT_2_OVER_PI) + gamma * z + beta * h;
                    *sum += h.exp();
                }
            }
            let n = options.simulations as f64;
            let mut steps: Vec<ForecastStep> = sums
                .into_iter()
                .enumerate()
                .map(|(i, s)| ForecastStep::new(i + 1, means[i], s / n))
                .collect();
            steps[0] = ForecastStep::new(1, means[0], f1);
            Ok(Forecast {
                method: ForecastMethod::Simulation,
                simulations: options.simulations,
                steps,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::simulate;
    use crate::spec::{Distribution, MeanModel};

    /// [`continued_variance`] as `arch` defines it (always under the bounds of the EWMA), or
    /// with no bounds at all.
    fn reference(
        spec: ModelSpec,
        params: &[f64],
        y: &[f64],
        (fit_len, end): (usize, usize),
        with_bounds: bool,
    ) -> Vec<f64> {
        let hold = spec.mean.hold_back();
        let resids = mean::residuals(spec.mean, params, y);
        let bc = variance::backcast(&resids[..fit_len - hold]);
        let bc = match spec.volatility {
            VolatilityModel::Egarch => bc.ln(),
            VolatilityModel::Garch(_) => bc,
        };
        let observed = end.min(y.len());
        let mut bounds = if with_bounds {
            variance::variance_bounds_prefix(&resids, observed - hold)
        } else {
            vec![[0.0, f64::INFINITY]; observed - hold]
        };
        let mut y_path = y[..observed].to_vec();
        if end > y.len() {
            bounds.push([0.0, f64::INFINITY]);
            y_path.push(mean::mean_forecasts(spec.mean, params, y, 1)[0]);
        }
        Likelihood::with_start(spec, &y_path, bc, bounds).variance_path(params)
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// The unbounded first run is kept only where no bound would have acted: the result is the
    /// bounded path bit for bit, for ordinary parameters (where the shortcut applies) and for
    /// parameters that drive the path onto the lower or the upper bounds (where it must not).
    #[test]
    fn continued_paths_are_the_bounded_paths_bit_for_bit() {
        let gjr_t = ModelSpec::new(
            MeanModel::ar(1).unwrap(),
            VolatilityModel::gjr(),
            Distribution::StudentT,
        );
        let egarch = ModelSpec::new(
            MeanModel::Constant,
            VolatilityModel::egarch(),
            Distribution::Normal,
        );
        let y = simulate(ModelSpec::default(), &[0.05, 0.05, 0.08, 0.9], 700, 3)
            .unwrap()
            .returns;
        // (model, parameters, whether the bounds change the path)
        let cases: [(ModelSpec, Vec<f64>, bool); 6] = [
            (ModelSpec::default(), vec![0.05, 0.05, 0.08, 0.9], false),
            (gjr_t, vec![0.04, 0.1, 0.02, 0.03, 0.1, 0.88, 7.0], false),
            (egarch, vec![0.03, 0.0, 0.1, -0.05, 0.97], false),
            // σ² decays far below var/1e8: the lower bounds act.
            (ModelSpec::default(), vec![0.0, 1e-14, 0.0, 0.2], true),
            // σ² far above 1e7·(1 + max e²): the upper bounds act.
            (ModelSpec::default(), vec![0.0, 1e12, 0.0, 0.5], true),
            // Above 1 + max e², outside the band, yet inside every bound: the bounded
            // computation runs, and agrees with the unbounded one.
            (ModelSpec::default(), vec![0.0, 1e3, 0.0, 0.0], false),
        ];
        for (spec, params, bounds_act) in cases {
            for range in [(400, 401), (400, 650), (500, 700), (500, 701)] {
                let got = continued_variance(spec, &params, &y, range.0, range.1).unwrap();
                let want = reference(spec, &params, &y, range, true);
                assert_eq!(bits(&got), bits(&want), "{spec} {params:?} {range:?}");
                let free = reference(spec, &params, &y, range, false);
                assert_eq!(
                    bits(&got) != bits(&free),
                    bounds_act,
                    "{spec} {params:?} {range:?}: bounds acted?"
                );
            }
        }
    }

    /// A fitted model's forecasts past its sample are [`continued_variance`]'s: from the
    /// fitted path (first-order GARCH/GJR, constant or zero mean, no bound near) to 1e-13
    /// relative, and bit for bit where they fall back to it (other models, bounds acting,
    /// variances outside the band).
    #[test]
    fn forecasts_past_the_sample_are_the_continued_path() {
        use crate::fit::{FitOptions, fit, fix};
        use crate::series::Returns;
        let spec_of =
            |mean, volatility, distribution| ModelSpec::new(mean, volatility, distribution);
        let y = simulate(ModelSpec::default(), &[0.05, 0.05, 0.08, 0.9], 700, 11)
            .unwrap()
            .returns;
        let gjr = spec_of(
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::Normal,
        );
        let zero = spec_of(
            MeanModel::Zero,
            VolatilityModel::garch(),
            Distribution::StudentT,
        );
        let gjr_ar = spec_of(
            MeanModel::ar(1).unwrap(),
            VolatilityModel::gjr(),
            Distribution::StudentT,
        );
        let egarch = spec_of(
            MeanModel::Constant,
            VolatilityModel::egarch(),
            Distribution::Normal,
        );
        // (model, parameters, whether the fitted path is used)
        let cases: [(ModelSpec, Vec<f64>, bool); 8] = [
            (ModelSpec::default(), vec![0.05, 0.05, 0.08, 0.9], true),
            // β near 1: the start's difference is still felt at the sample's end.
            (ModelSpec::default(), vec![-0.3, 0.001, 0.01, 0.985], true),
            (gjr, vec![0.04, 0.02, 0.03, 0.1, 0.88], true),
            (zero, vec![0.02, 0.07, 0.9, 6.0], true),
            (gjr_ar, vec![0.04, 0.1, 0.02, 0.03, 0.1, 0.88, 7.0], false),
            (egarch, vec![0.03, 0.0, 0.1, -0.05, 0.97], false),
            // The lower bounds act.
            (ModelSpec::default(), vec![0.0, 1e-14, 0.0, 0.2], false),
            // Outside the band, inside every bound.
            (ModelSpec::default(), vec![0.0, 1e3, 0.0, 0.0], false),
        ];
        for (spec, params, from_fit) in cases {
            for (fit_len, end) in [(400, 401), (400, 650), (500, 700), (500, 701)] {
                let sample = Returns::new(y[..fit_len].to_vec()).unwrap();
                let model = fix(&sample, spec, &params).unwrap();
                let got = model.continued_forecasts(&y, end).unwrap();
                let path = continued_variance(spec, &params, &y, fit_len, end).unwrap();
                let want = &path[fit_len - spec.mean.hold_back()..];
                assert_eq!(got.len(), end - fit_len);
                let used = model.forecasts_from_fitted_path(&y, end).is_some();
                assert_eq!(used, from_fit, "{spec} {params:?} {fit_len}..{end}");
                if used {
                    for (g, w) in got.iter().zip(want) {
                        assert!((g - w).abs() <= 1e-13 * w, "{spec} {params:?}: {g} vs {w}");
                    }
                } else {
                    assert_eq!(bits(&got), bits(want), "{spec} {params:?}");
                }
            }
        }
        // A fitted model, and the errors: a series that is not its sample, a range past it.
        let sample = Returns::new(y[..500].to_vec()).unwrap();
        let model = fit(&sample, ModelSpec::default(), &FitOptions::default()).unwrap();
        let got = model.continued_forecasts(&y, 701).unwrap();
        let path = continued_variance(ModelSpec::default(), model.params(), &y, 500, 701).unwrap();
        for (g, w) in got.iter().zip(&path[500..]) {
            assert!((g - w).abs() <= 1e-13 * w, "{g} vs {w}");
        }
        let mut other = y.clone();
        other[7] += 1e-9;
        assert_eq!(
            model.continued_forecasts(&other, 600),
            Err(ForecastError::NotTheSample)
        );
        assert!(matches!(
            model.continued_forecasts(&y, 702),
            Err(ForecastError::Range { .. })
        ));
        assert!(matches!(
            model.continued_forecasts(&y[..400], 400),
            Err(ForecastError::Range { .. })
        ));
    }
}
