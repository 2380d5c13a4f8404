//! # backtest
//!
//! Out-of-sample evaluation of GARCH-family risk forecasts: does a model's VaR exceed as often
//! as it should, how good are its variance forecasts, and which model should one trust for an
//! asset? Pure computation over `garch-core`: no I/O, no data formats, no transport. The
//! services join it with market data (the realized-variance proxy comes in as numbers) and
//! distribute it.
//!
//! * [`scheme`]: rolling or expanding windows, refit cadence, levels, horizons, validated once
//!   ([`BacktestConfig`]).
//! * [`rolling`]: the per-asset engine, `arch`'s rolling scheme (`fit(first_obs, last_obs)` then
//!   `forecast(start=…)`) with warm-started refits and a cold fallback.
//! * [`risk`]: VaR and ES of each day from the fitted law ([`garch_core::ShockLaw`]).
//! * [`coverage`]: Kupiec, Christoffersen, the Basel traffic light.
//! * [`loss`]: QLIKE, MSE, Mincer–Zarnowitz, Diebold–Mariano with Newey–West.
//! * [`ranking`]: the models of an asset ranked by mean QLIKE.
//! * [`universe`]: many assets × window blocks, sequential or on rayon, bit-identical.
//!
//! Units follow garch-core: percent returns, variances in percent² per day.

pub mod coverage;
pub mod loss;
pub mod ranking;
pub mod risk;
pub mod rolling;
pub mod scheme;
pub mod universe;

use garch_core::{FitOptions, ModelSpec, Returns};
use serde::{Deserialize, Serialize};

pub use coverage::{Christoffersen, Kupiec, TrafficLight, Zone};
pub use loss::{DieboldMariano, MincerZarnowitz, Proxy};
pub use ranking::{RankedModel, Ranking, rank_models};
pub use risk::Day;
pub use rolling::{BacktestError, DayForecast, Refit, Start};
pub use scheme::{BacktestConfig, ConfigError, Scheme, Window};
pub use universe::{Block, BlockForecasts, Execution, run_universe, run_universe_until};

/// A complete per-asset backtest: the refits and the out-of-sample days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    /// The model backtested.
    pub spec: ModelSpec,
    /// VaR levels, ascending (the order of every per-level vector).
    pub levels: Vec<f64>,
    /// Forecast horizons reported besides one step.
    pub horizons: Vec<usize>,
    /// One per estimation window, in order.
    pub refits: Vec<Refit>,
    /// One per out-of-sample day, in order.
    pub path: Vec<Day>,
}

/// Runs a backtest of `spec` on `returns` (percent returns, oldest first) as one block: the
/// first window starts from `arch`'s grid, every later one from its predecessor's optimum.
pub fn run(
    returns: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
) -> Result<Backtest, BacktestError> {
    run_with_progress(returns, spec, config, options, &|| {})
}

/// [`run`], calling `progress` after each refit (for progress bars; the number of refits is
/// `config.windows(returns.len()).len()`).
pub fn run_with_progress(
    returns: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, BacktestError> {
    config.check_len(returns.len())?;
    // Validates the whole series once (finite values); windows are checked as they are cut.
    Returns::new(returns.to_vec())?;
    let windows = config.windows(returns.len());
    let block =
        universe::run_block_with_progress(returns, spec, config, options, &windows, 0, progress)?;
    Ok(Backtest::from_blocks(spec, config, vec![block]))
}

/// Forecast evaluation and coverage of a backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Per day: the variance proxy used.
    pub proxy: Vec<f64>,
    /// Per day: which proxy it was.
    pub proxy_kind: Vec<Proxy>,
    /// Per day: QLIKE loss (`None` where the proxy is zero).
    pub qlike: Vec<Option<f64>>,
    /// Per day: MSE loss.
    pub mse: Vec<f64>,
    /// The summary.
    pub summary: Summary,
}

/// Coverage tests and forecast losses of one backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Out-of-sample days.
    pub days: usize,
    /// Kupiec's test per level (ascending levels).
    pub kupiec: Vec<Kupiec>,
    /// Christoffersen's tests per level (empty with fewer than two days).
    pub christoffersen: Vec<Christoffersen>,
    /// Basel zone of the last 250 days of the 1 % VaR; `None` if 0.01 is not a level or fewer
    /// than 250 days were tested.
    pub traffic_light: Option<TrafficLight>,
    /// Mean QLIKE over the days where it is defined.
    pub qlike: Option<f64>,
    /// Days with a QLIKE (proxy > 0).
    pub qlike_days: usize,
    /// Mean MSE.
    pub mse: f64,
    /// Mincer–Zarnowitz regression of the proxy on the one-step forecast.
    pub mincer_zarnowitz: Option<MincerZarnowitz>,
    /// Days whose proxy was intraday realized variance.
    pub realized_variance_days: usize,
    /// Days whose proxy was the squared return.
    pub squared_return_days: usize,
}

impl Backtest {
    /// Joins the blocks of one asset (in window order) into a backtest.
    pub fn from_blocks(spec: ModelSpec, config: &BacktestConfig, blocks: Vec<Block>) -> Self {
        let mut refits = Vec::new();
        let mut path = Vec::new();
        for b in blocks {
            refits.extend(b.refits);
            path.extend(b.path);
        }
        Self {
            spec,
            levels: config.levels().to_vec(),
            horizons: config.horizons().to_vec(),
            refits,
            path,
        }
    }

    /// Evaluates the forecasts against a variance proxy. `realized` is aligned with the return
    /// series (one entry per return, `None` on days without intraday bars) or absent; where
    /// there is no realized variance the squared return `r_t²` is the proxy.
    pub fn evaluate(&self, realized: Option<&[Option<f64>]>) -> Result<Evaluation, BacktestError> {
        if let (Some(rv), Some(last)) = (realized, self.path.last())
            && rv.len() <= last.index
        {
            return Err(BacktestError::ProxyLength {
                got: rv.len(),
                expected: last.index + 1,
            });
        }
        let n = self.path.len();
        let (mut proxy, mut kind) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for d in &self.path {
            match realized.and_then(|rv| rv[d.index]) {
                Some(v) if v.is_finite() && v >= 0.0 => {
                    proxy.push(v);
                    kind.push(Proxy::RealizedVariance);
                }
                _ => {
                    proxy.push(d.ret * d.ret);
                    kind.push(Proxy::SquaredReturn);
                }
            }
        }
        let h: Vec<f64> = self.path.iter().map(|d| d.variance).collect();
        let qlike: Vec<Option<f64>> = proxy
            .iter()
            .zip(&h)
            .map(|(p, h)| loss::qlike(*p, *h))
            .collect();
        let mse: Vec<f64> = proxy
            .iter()
            .zip(&h)
            .map(|(p, h)| loss::mse(*p, *h))
            .collect();
        let defined: Vec<f64> = qlike.iter().flatten().copied().collect();
        let mut kupiec = Vec::new();
        let mut christoffersen = Vec::new();
        let mut traffic = None;
        for (l, &a) in self.levels.iter().enumerate() {
            let hits: Vec<bool> = self.path.iter().map(|d| d.exceedance[l]).collect();
            kupiec.extend(coverage::kupiec(&hits, a));
            christoffersen.extend(coverage::christoffersen(&hits, a));
            if a == 0.01 {
                traffic = coverage::traffic_light(&hits);
            }
        }
        let rv_days = kind
            .iter()
            .filter(|k| **k == Proxy::RealizedVariance)
            .count();
        let summary = Summary {
            days: n,
            kupiec,
            christoffersen,
            traffic_light: traffic,
            qlike: (!defined.is_empty())
                .then(|| defined.iter().sum::<f64>() / defined.len() as f64),
            qlike_days: defined.len(),
            mse: if n > 0 {
                mse.iter().sum::<f64>() / n as f64
            } else {
                f64::NAN
            },
            mincer_zarnowitz: loss::mincer_zarnowitz(&proxy, &h),
            realized_variance_days: rv_days,
            squared_return_days: n - rv_days,
        };
        Ok(Evaluation {
            proxy,
            proxy_kind: kind,
            qlike,
            mse,
            summary,
        })
    }
}
