//! The services' JSON, as far as the dashboard reads it: one struct per response, with only the
//! fields shown and `#[serde(default)]` wherever a service may leave one out, so market-svc and
//! signals-svc can add fields freely; plus the refit modes of `POST /v1/fits` and the readiness
//! answer of `GET /ready`; and the backtest routes (one symbol, the model ranking, the universe
//! run), whose on-demand answers may be 202 [`Pending`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// `GET /v1/volatility` — the market screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolScreener {
    /// Horizon of the forecasts.
    #[serde(default)]
    pub horizon: usize,
    /// One row per symbol.
    #[serde(default)]
    pub rows: Vec<VolRow>,
}

/// One row of the market screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolRow {
    /// Ticker.
    pub symbol: String,
    /// Annualised volatility forecast at the horizon, percent.
    #[serde(default)]
    pub annualized_forecast: Option<f64>,
    /// Long-run annualised volatility, percent.
    #[serde(default)]
    pub long_run_annualized: Option<f64>,
    /// Persistence of variance shocks.
    #[serde(default)]
    pub persistence: Option<f64>,
    /// Half-life of shocks in days.
    #[serde(default)]
    pub half_life_days: Option<f64>,
    /// Whether the fit converged.
    #[serde(default)]
    pub converged: bool,
    /// Why the symbol could not be fitted.
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /v1/signals` — the signals screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignalScreener {
    /// Bar interval.
    #[serde(default)]
    pub interval: String,
    /// One row per symbol.
    #[serde(default)]
    pub rows: Vec<SignalRow>,
}

/// One row of the signals screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignalRow {
    /// Ticker.
    pub symbol: String,
    /// Latest close.
    #[serde(default)]
    pub close: Option<f64>,
    /// Latest RSI.
    #[serde(default)]
    pub rsi: Option<f64>,
    /// Latest %B.
    #[serde(default)]
    pub percent_b: Option<f64>,
    /// Latest bandwidth.
    #[serde(default)]
    pub bandwidth: Option<f64>,
    /// `long`, `short` or `flat`.
    #[serde(default)]
    pub signal: Option<String>,
    /// Why the signal fired.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// A named model parameter with its standard error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Param {
    /// `mu`, `omega`, `alpha`, …
    pub name: String,
    /// Estimate.
    pub value: f64,
    /// Standard error.
    #[serde(default)]
    pub std_err: Option<f64>,
    /// p-value.
    #[serde(default)]
    pub p_value: Option<f64>,
}

/// The fit report fields shown in the detail view.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Report {
    /// Parameters.
    #[serde(default)]
    pub params: Vec<Param>,
    /// Log-likelihood.
    pub log_likelihood: f64,
    /// Akaike information criterion.
    #[serde(default)]
    pub aic: Option<f64>,
    /// Bayesian information criterion.
    #[serde(default)]
    pub bic: Option<f64>,
    /// Observations.
    #[serde(default)]
    pub nobs: usize,
    /// Whether the optimiser converged.
    #[serde(default)]
    pub converged: bool,
    /// Iterations used.
    #[serde(default)]
    pub iterations: u64,
    /// Optimiser status text.
    #[serde(default)]
    pub status: String,
    /// Parameters at a bound.
    #[serde(default)]
    pub at_bounds: Vec<String>,
    /// Persistence.
    #[serde(default)]
    pub persistence: Option<f64>,
    /// Half-life in days.
    #[serde(default)]
    pub half_life_days: Option<f64>,
    /// Long-run annualised volatility, percent.
    #[serde(default)]
    pub annualized_volatility: Option<f64>,
}

/// One forecast step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ForecastStep {
    /// Days ahead.
    pub horizon: usize,
    /// Annualised volatility, percent.
    pub annualized_volatility: f64,
}

/// A forecast path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ForecastPath {
    /// Steps `1..=horizon`.
    #[serde(default)]
    pub steps: Vec<ForecastStep>,
}

/// `GET /v1/assets/{symbol}/volatility`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolDetail {
    /// Ticker.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Last date of the data.
    #[serde(default)]
    pub data_through: Option<String>,
    /// Seconds the fit took.
    #[serde(default)]
    pub fit_seconds: Option<f64>,
    /// The fit.
    pub report: Report,
    /// The forecast path.
    pub forecast: ForecastPath,
    /// Return quantiles per horizon (requested at [`super::BAND_LEVELS`]).
    #[serde(default)]
    pub intervals: Option<Intervals>,
}

/// Forecast intervals: return quantiles per horizon.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Intervals {
    /// Steps `1..=horizon`.
    #[serde(default)]
    pub steps: Vec<IntervalStep>,
}

/// Return quantiles at one horizon.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IntervalStep {
    /// Days ahead.
    pub horizon: usize,
    /// In the order of the requested levels.
    #[serde(default)]
    pub quantiles: Vec<Quantile>,
}

/// One return quantile.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Quantile {
    /// Probability level.
    pub level: f64,
    /// Daily return, percent.
    pub value: f64,
}

/// `GET /v1/assets/{symbol}/history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct History {
    /// Dates.
    #[serde(default)]
    pub dates: Vec<String>,
    /// Conditional volatility, percent per day.
    #[serde(default)]
    pub conditional_volatility: Vec<f64>,
    /// Realized volatility, percent per day (null where no intraday data).
    #[serde(default)]
    pub realized_volatility: Vec<Option<f64>>,
}

/// Latest indicator values of one symbol.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LatestSignal {
    /// Bar time.
    #[serde(default)]
    pub timestamp: String,
    /// Close.
    #[serde(default)]
    pub close: Option<f64>,
    /// RSI.
    #[serde(default)]
    pub rsi: Option<f64>,
    /// %B.
    #[serde(default)]
    pub percent_b: Option<f64>,
    /// `long`, `short` or `flat`.
    #[serde(default)]
    pub signal: Option<String>,
    /// Why.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Chart series of one symbol (null during warm-up).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SignalPoints {
    /// Bar times.
    #[serde(default)]
    pub timestamps: Vec<String>,
    /// Closes.
    #[serde(default)]
    pub close: Vec<Option<f64>>,
    /// RSI.
    #[serde(default)]
    pub rsi: Vec<Option<f64>>,
    /// Upper band.
    #[serde(default)]
    pub bb_upper: Vec<Option<f64>>,
    /// Middle band.
    #[serde(default)]
    pub bb_middle: Vec<Option<f64>>,
    /// Lower band.
    #[serde(default)]
    pub bb_lower: Vec<Option<f64>>,
}

/// `GET /v1/assets/{symbol}/signals`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SymbolSignals {
    /// Latest values.
    pub latest: LatestSignal,
    /// Chart series.
    #[serde(default)]
    pub points: SignalPoints,
}

/// `POST /v1/fits`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FitsRun {
    /// Wall time in seconds.
    pub total_seconds: f64,
    /// Throughput.
    #[serde(default)]
    pub fits_per_second: f64,
    /// Per-symbol outcomes.
    #[serde(default)]
    pub symbols: Vec<FitsSymbol>,
}

/// One symbol of a refit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FitsSymbol {
    /// Whether it was fitted.
    #[serde(default)]
    pub ok: bool,
}

/// `GET /ready` when ready, or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// 200.
    Ready,
    /// 503 with the problem detail.
    NotReady(String),
}

/// Execution modes of `POST /v1/fits` and of the universe backtest `POST /v1/backtests` (the
/// same three names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitMode {
    /// One thread.
    Sequential,
    /// Rayon pool.
    Parallel,
    /// NATS workers (501 until available).
    Distributed,
}

impl FitMode {
    /// All modes, in the order the benchmark runs them.
    pub const ALL: [FitMode; 3] = [Self::Sequential, Self::Parallel, Self::Distributed];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::Parallel => "parallel",
            Self::Distributed => "distributed",
        }
    }
}

/// An answer of the routes that compute on demand (`GET /v1/assets/{symbol}/backtest`,
/// `GET /v1/assets/{symbol}/models`): the result (200), or 202 while it is being computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Computed<T> {
    /// 200: the result.
    Ready(T),
    /// 202: still computing; ask again after `retry_after`.
    Pending(Pending),
}

/// 202 body of the backtest routes (`Retry-After` gives the same delay).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    /// What is being computed.
    #[serde(default)]
    pub detail: String,
    /// Seconds after which to ask again.
    #[serde(default = "default_retry_after")]
    pub retry_after: u64,
}

fn default_retry_after() -> u64 {
    5
}

/// A model as market-svc writes it:
/// `{"mean":"constant","volatility":{"kind":"garch","p":1,"o":1,"q":1},"distribution":"t"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WireSpec {
    /// Volatility process.
    pub volatility: WireVolatility,
    /// Error law: `normal`, `t`, `skewt`, `ged`.
    pub distribution: String,
}

/// The volatility process of a [`WireSpec`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WireVolatility {
    /// `garch` (GJR when `o` > 0) or `egarch`.
    pub kind: String,
    /// ARCH lags.
    #[serde(default)]
    pub p: usize,
    /// Asymmetric lags.
    #[serde(default)]
    pub o: usize,
    /// Variance lags.
    #[serde(default)]
    pub q: usize,
}

impl WireSpec {
    /// The volatility model's short name, as the `model` query value: `garch`, `gjr`,
    /// `egarch` (other orders e.g. `gjr(2,1,1)`).
    pub fn model_name(&self) -> String {
        let v = &self.volatility;
        match (v.kind.as_str(), v.p, v.o, v.q) {
            ("garch", 1, 0, 1) => "garch".into(),
            ("garch", 1, 1, 1) => "gjr".into(),
            ("garch", p, 0, q) => format!("garch({p},{q})"),
            ("garch", p, o, q) => format!("gjr({p},{o},{q})"),
            (kind, ..) => kind.to_string(),
        }
    }
}

/// One coverage test.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CoverageTest {
    /// p-value (null when undefined).
    #[serde(default)]
    pub p_value: Option<f64>,
    /// Exceedances observed.
    #[serde(default)]
    pub exceedances: usize,
    /// Exceedances expected.
    #[serde(default)]
    pub expected: Option<f64>,
}

/// Christoffersen's tests of one level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Christoffersen {
    /// Conditional coverage (χ²(2)).
    pub conditional_coverage: CoverageTest,
}

/// Basel traffic-light zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// 0–4 exceptions in 250 days.
    Green,
    /// 5–9.
    Yellow,
    /// 10 or more.
    Red,
    /// A zone this build does not know.
    #[serde(other)]
    Other,
}

impl Zone {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::Other => "?",
        }
    }
}

/// The Basel traffic light of the last 250 days of the 1 % VaR.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct TrafficLight {
    /// Zone.
    pub zone: Zone,
    /// Exceptions.
    #[serde(default)]
    pub exceptions: usize,
    /// Days counted.
    #[serde(default)]
    pub days: usize,
}

/// Mincer–Zarnowitz regression of the variance proxy on the forecast.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct MincerZarnowitz {
    /// Intercept.
    #[serde(default)]
    pub a: Option<f64>,
    /// Slope.
    #[serde(default)]
    pub b: Option<f64>,
    /// R².
    #[serde(default)]
    pub r2: Option<f64>,
}

/// One out-of-sample day of a backtest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BacktestDay {
    /// Date of the return.
    #[serde(default)]
    pub date: String,
    /// The return, percent.
    #[serde(rename = "return")]
    pub ret: f64,
    /// One-step variance forecast, percent².
    #[serde(default)]
    pub variance: Option<f64>,
    /// VaR per level (`"0.01"` → return quantile, negative).
    #[serde(default)]
    pub var: BTreeMap<String, Option<f64>>,
    /// Whether the return fell below the VaR, per level.
    #[serde(default)]
    pub exceedance: BTreeMap<String, bool>,
}

/// `GET /v1/assets/{symbol}/backtest`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BacktestReport {
    /// Ticker.
    #[serde(default)]
    pub symbol: String,
    /// Estimation windows in all.
    #[serde(default)]
    pub refit_count: usize,
    /// Out-of-sample days in all (the summary covers them all).
    #[serde(default)]
    pub days: usize,
    /// The last `limit` days, oldest first.
    #[serde(default)]
    pub path: Vec<BacktestDay>,
    /// Kupiec's test per level.
    #[serde(default)]
    pub kupiec: BTreeMap<String, CoverageTest>,
    /// Christoffersen's tests per level.
    #[serde(default)]
    pub christoffersen: BTreeMap<String, Christoffersen>,
    /// Basel traffic light (needs the 1 % level and 250 days).
    #[serde(default)]
    pub traffic_light: Option<TrafficLight>,
    /// Mean QLIKE.
    #[serde(default)]
    pub qlike: Option<f64>,
    /// Mean MSE.
    #[serde(default)]
    pub mse: Option<f64>,
    /// Mincer–Zarnowitz regression.
    #[serde(default)]
    pub mincer_zarnowitz: Option<MincerZarnowitz>,
    /// Days whose proxy was realized variance.
    #[serde(default)]
    pub realized_variance_days: usize,
}

/// Diebold–Mariano test against the best model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct DieboldMariano {
    /// Two-sided p-value.
    #[serde(default)]
    pub p_value: Option<f64>,
}

/// One model of a ranking.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RankedModel {
    /// 1 for the best mean QLIKE.
    pub rank: usize,
    /// The model.
    pub spec: WireSpec,
    /// Mean QLIKE out of sample.
    #[serde(default)]
    pub mean_qlike: Option<f64>,
    /// Diebold–Mariano against the best (null for the best).
    #[serde(default)]
    pub dm_vs_best: Option<DieboldMariano>,
    /// In-sample BIC.
    #[serde(default)]
    pub bic: Option<f64>,
}

/// A candidate that could not be backtested.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FailedModel {
    /// The model.
    pub spec: WireSpec,
    /// Why.
    #[serde(default)]
    pub error: String,
}

/// `GET /v1/assets/{symbol}/models`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelRanking {
    /// Ticker.
    #[serde(default)]
    pub symbol: String,
    /// Out-of-sample days of every candidate.
    #[serde(default)]
    pub days: usize,
    /// Best first.
    #[serde(default)]
    pub models: Vec<RankedModel>,
    /// Candidates that failed.
    #[serde(default)]
    pub failed: Vec<FailedModel>,
}

/// One symbol of a universe backtest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UniverseAsset {
    /// Ticker.
    pub symbol: String,
    /// Why it could not be backtested.
    #[serde(default)]
    pub error: Option<String>,
    /// Estimation windows.
    #[serde(default)]
    pub refits: usize,
    /// Digest of its numbers (hex).
    #[serde(default)]
    pub digest: Option<String>,
}

/// How a distributed universe backtest ran.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DistributedStats {
    /// Workers that computed chunks.
    #[serde(default)]
    pub workers: Vec<String>,
    /// Chunks published.
    #[serde(default)]
    pub chunks: usize,
    /// Chunk results that came from a redelivery.
    #[serde(default)]
    pub redelivered_chunks: usize,
    /// Results dropped as duplicates.
    #[serde(default)]
    pub duplicate_results: usize,
}

/// `POST /v1/backtests`: the universe backtest in one mode.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UniverseRun {
    /// Wall time in seconds.
    pub total_seconds: f64,
    /// Refits in all.
    #[serde(default)]
    pub refits: usize,
    /// Refits per second.
    #[serde(default)]
    pub refits_per_second: f64,
    /// Threads (null for distributed).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Digest over every symbol's digest: equal across modes iff bit-identical.
    #[serde(default)]
    pub digest: String,
    /// One per symbol.
    #[serde(default)]
    pub assets: Vec<UniverseAsset>,
    /// Distributed execution facts.
    #[serde(default)]
    pub distributed: Option<DistributedStats>,
}
