//! The per-asset engine: refits on each estimation window, warm-started from the previous
//! window's optimum, and one-step (and h-step) variance forecasts between refits from the last
//! parameters filtered through the new observations.
//!
//! A refit is `garch_core::fit_warm` on `y[start..end]` from the previous window's
//! parameters (`arch`'s advice for rolling fits: `fit(starting_values=previous.params)`), with
//! the exact Hessian there for Newton's first step (about half a pass saved a refit); the
//! first window of a run, or of a block of a universe run, starts from `arch`'s grid
//! (`garch_core::fit`). When a warm fit does not report convergence, or ends with a parameter on
//! a bound (where the likelihood is flat and the optimiser's stopping point depends on where
//! it came from), the window is refitted cold from the grid and the better of the two optima
//! is kept (the refit says so). The tests
//! check, window by window on a long real series, that the warm optimum is never below the
//! cold one by more than 1e-6 in log-likelihood.
//!
//! Forecasts follow `arch`'s `forecast(start=…)` after `fit(first_obs, last_obs)`
//! ([`garch_core::continued_variance`]): the variance recursion of the estimation window,
//! started from that window's backcast, continued through the days after it (for first-order
//! GARCH/GJR with a constant or zero mean, from the fit's own path and the difference of the
//! two starts, without rerunning the window: `garch_core::FittedModel::continued_forecasts`). Multi-step
//! forecasts of first-order GARCH/GJR are analytic (`f_h = ω + (α + γ/2 + β)·f_{h−1}`, as
//! `arch`); EGARCH has no closed form beyond one step and reports none.

use garch_core::{
    FitError, FitOptions, FitReport, FittedModel, ForecastError, ModelSpec, Returns, SeriesError,
    VolatilityModel, WarmStart, fit, fit_warm,
};
use serde::{Deserialize, Serialize};

use crate::scheme::{BacktestConfig, ConfigError, Window};

/// Why a backtest could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    /// An invalid setting (names its field).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The return series is unusable (non-finite values, too short).
    #[error("returns: {0}")]
    Series(#[from] SeriesError),
    /// A window could not be fitted at all (neither warm nor cold).
    #[error("fit of observations {start}..{end} failed: {source}")]
    Fit {
        /// First estimation observation.
        start: usize,
        /// One past the last.
        end: usize,
        /// The fit's error.
        source: FitError,
    },
    /// The forecast path could not be computed.
    #[error("forecast: {0}")]
    Forecast(#[from] ForecastError),
    /// A shock law could not be built from fitted shape parameters.
    #[error("shock law: {0}")]
    Law(String),
    /// The run was stopped before this asset was done.
    #[error("stopped before it was done")]
    Stopped,
    /// A block's window range does not fit the series it came with (distributed tasks).
    #[error("block: {0}")]
    Block(String),
    /// The variance proxy does not line up with the returns.
    #[error("proxy: {got} values for {expected} returns")]
    ProxyLength {
        /// Given.
        got: usize,
        /// Needed (one per return).
        expected: usize,
    },
}

/// How a window's estimate was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Start {
    /// From `arch`'s starting grid (first window of a run or block).
    Cold,
    /// From the previous window's optimum.
    Warm,
    /// The warm fit did not converge or ended on a bound; refitted from the grid and the better
    /// optimum kept.
    WarmFellBack,
}

/// One estimation window's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refit {
    /// The window and the days it forecasts.
    pub window: Window,
    /// How the optimiser started.
    pub start: Start,
    /// The fit, as `garch_core::fit` reports it (parameters, log-likelihood, convergence).
    pub report: FitReport,
}

/// One out-of-sample day's forecasts, before the risk measures that follow from them and the
/// series (see [`BlockForecasts::attach`](crate::BlockForecasts::attach)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayForecast {
    /// Index of the day in the return series.
    pub index: usize,
    /// Which refit's parameters forecast it (index into the backtest's refits).
    pub refit: usize,
    /// One-step variance forecast made at the close of the day before.
    pub variance: f64,
    /// Variance forecasts for the configured horizons, where they have a closed form.
    pub horizons: Option<Vec<f64>>,
}

/// Parameter values of a report.
pub(crate) fn params_of(report: &FitReport) -> Vec<f64> {
    report.params.iter().map(|p| p.value).collect()
}

/// The conditional mean of day `t` of `y` under the mean parameters of `params` (`arch`'s
/// `forecast(...).mean["h.1"]` from origin `t − 1`): `μ`, 0, or `c + Σ φ_i y_{t−i}`.
pub(crate) fn conditional_mean(spec: &ModelSpec, params: &[f64], y: &[f64], t: usize) -> f64 {
    match spec.mean {
        garch_core::MeanModel::Constant => params[0],
        garch_core::MeanModel::Zero => 0.0,
        garch_core::MeanModel::Ar(_) => {
            let p = spec.mean.hold_back();
            params[0] + (1..=p).map(|i| params[i] * y[t - i]).sum::<f64>()
        }
    }
}

/// The shape parameters of the error law (after the mean and variance parameters).
pub(crate) fn shape_of<'p>(spec: &ModelSpec, params: &'p [f64]) -> &'p [f64] {
    &params[spec.mean.n_params() + spec.volatility.n_params()..]
}

/// `(ω, α + γ/2 + β)` for first-order GARCH/GJR, for analytic multi-step forecasts.
fn first_order_recursion(spec: &ModelSpec, params: &[f64]) -> Option<(f64, f64)> {
    let v = spec.mean.n_params();
    match spec.volatility {
        VolatilityModel::Garch(g) if g.p() == 1 && g.q() == 1 && g.o() <= 1 => {
            let omega = params[v];
            let alpha = params[v + 1];
            let (gamma, beta) = if g.o() == 1 {
                (params[v + 2], params[v + 3])
            } else {
                (0.0, params[v + 2])
            };
            Some((omega, alpha + 0.5 * gamma + beta))
        }
        _ => None,
    }
}

/// Windows between cold checks of warm optima accepted on a verified face (see [`Previous`]).
pub const RECHECK_EVERY: usize = 25;

/// What a refit hands to the next window's.
#[derive(Debug, Clone)]
pub(crate) struct Previous {
    /// The estimate (and the Hessian there): the warm start.
    pub warm: WarmStart,
    /// The constraints active at that estimate when it is known to be the cold optimum (a
    /// cold fit, a warm fit checked against one, or a warm fit accepted on such a face).
    pub verified_face: Option<Vec<String>>,
}

/// Fits one window, warm from `previous` when given, with the cold fallback; the refit and the
/// fitted model (its variance path, and the next window's warm start).
///
/// A converged warm optimum in the interior is the cold one (the tests check it on every
/// window of long real series). One on a constraint (persistence = 1, α = 0, ν at its bound)
/// is checked against a cold fit — unless it lies on the same face as the previous window's
/// verified optimum and `recheck` is false: consecutive windows share all but a few
/// observations, so the same active constraints at a KKT point are the same optimum moved a
/// little. Series whose optimum stays on a face (IGARCH-like windows are common) would
/// otherwise pay a cold fit with restarts on every window; the caller sets `recheck` every
/// [`RECHECK_EVERY`] windows so a drift to another optimum is still caught.
pub(crate) fn fit_window(
    y: &[f64],
    window: Window,
    spec: ModelSpec,
    options: &FitOptions,
    previous: Option<&Previous>,
    recheck: bool,
) -> Result<(Refit, FittedModel), BacktestError> {
    // With an AR(p) mean garch-core holds the first p observations of the sample back as
    // regressors, as `arch`'s `fit(first_obs, …)` does (its `_adjust_sample` adds the hold-back
    // to `first_obs`): the likelihood covers `start + p .. end`.
    let returns = Returns::new(y[window.start..window.end].to_vec())?;
    let err = |source| BacktestError::Fit {
        start: window.start,
        end: window.end,
        source,
    };
    let cold = || fit(&returns, spec, options);
    let warm_options = FitOptions {
        grid_restarts: false,
        ..*options
    };
    let (model, start) = match previous {
        None => (cold().map_err(err)?, Start::Cold),
        // The warm fit skips garch-core's grid restarts: the cold check below (or the
        // verified face) is this loop's own verification of optima on a constraint.
        Some(prev) => match fit_warm(&returns, spec, &warm_options, &prev.warm) {
            // An interior, converged warm optimum is the cold one (the tests check it); at a
            // bound (ν → 500, α → 0) the likelihood is flat and the reparameterised optimiser
            // may stop at a slightly different point, so those are checked against a cold fit
            // unless they stay on the previous window's verified face.
            Ok(m)
                if m.report().converged
                    && (m.report().at_bounds.is_empty()
                        || (!recheck
                            && prev.verified_face.as_deref()
                                == Some(m.report().at_bounds.as_slice()))) =>
            {
                (m, Start::Warm)
            }
            warm => {
                let warm = warm.ok();
                match (cold(), warm) {
                    (Ok(c), Some(w)) if w.report().log_likelihood > c.report().log_likelihood => {
                        (w, Start::WarmFellBack)
                    }
                    (Ok(c), _) => (c, Start::WarmFellBack),
                    (Err(_), Some(w)) => (w, Start::WarmFellBack),
                    (Err(e), None) => return Err(err(e)),
                }
            }
        },
    };
    Ok((
        Refit {
            window,
            start,
            report: model.report().clone(),
        },
        model,
    ))
}

/// Runs `windows` (consecutive windows of one series; the first starts cold, the rest warm)
/// and the forecasts of the days each covers. `refit_offset` numbers the refits; `progress` is
/// called after each refit.
pub(crate) fn run_windows(
    y: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    windows: &[Window],
    refit_offset: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<Refit>, Vec<DayForecast>), BacktestError> {
    let mut refits = Vec::with_capacity(windows.len());
    let mut days = Vec::new();
    let mut previous: Option<Previous> = None;
    let mut since_check = 0usize;
    for (j, &w) in windows.iter().enumerate() {
        let recheck = since_check + 1 >= RECHECK_EVERY;
        let (refit, model) = fit_window(y, w, spec, options, previous.as_ref(), recheck)?;
        let on_face = !refit.report.at_bounds.is_empty();
        since_check = match refit.start {
            Start::Warm if on_face => since_check + 1,
            _ => 0,
        };
        let params = params_of(&refit.report);
        // The forecasts of the days after the window; bounds from the whole rest of the
        // series, as `arch`.
        let forecasts = model.continued_forecasts(&y[w.start..], w.forecast_end - w.start)?;
        let recursion = first_order_recursion(&spec, &params);
        for (t, &variance) in (w.end..w.forecast_end).zip(&forecasts) {
            let horizons = if config.horizons().is_empty() {
                None
            } else {
                recursion.map(|(omega, persistence)| {
                    let max_h = *config.horizons().last().unwrap_or(&1);
                    // Residual variances of steps 1..=max_h (GARCH/GJR: ω + persistence · previous).
                    let mut steps = Vec::with_capacity(max_h);
                    let mut f = variance;
                    for h in 1..=max_h {
                        if h > 1 {
                            f = omega + persistence * f;
                        }
                        steps.push(f);
                    }
                    // arch's h-step `variance` of an AR mean is the return's: the residual
                    // variances convolved with the AR impulse response.
                    if let garch_core::MeanModel::Ar(_) = spec.mean {
                        let b = &params[..spec.mean.n_params()];
                        steps = garch_core::mean::return_variances(spec.mean, b, &steps);
                    }
                    config.horizons().iter().map(|h| steps[h - 1]).collect()
                })
            };
            days.push(DayForecast {
                index: t,
                refit: refit_offset + j,
                variance,
                horizons,
            });
        }
        // Cold and checked optima are verified; a warm one accepted on a face inherits its
        // verification; an interior warm optimum is the cold one.
        previous = Some(Previous {
            verified_face: refit
                .report
                .converged
                .then(|| refit.report.at_bounds.clone()),
            warm: model.warm_start(),
        });
        refits.push(refit);
        progress();
    }
    Ok((refits, days))
}
