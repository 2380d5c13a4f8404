//! The services' JSON, as far as the dashboard reads it: one struct per response, with only the
//! fields shown and `#[serde(default)]` wherever a service may leave one out, so market-svc and
//! signals-svc can add fields freely; plus the refit modes of `POST /v1/fits` and the readiness
//! answer of `GET /ready`.

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

/// Refit modes of `POST /v1/fits`.
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
