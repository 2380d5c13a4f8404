//! Wire types of the signals API and the validation of its parameters: a bad value is
//! rejected here, once, with a problem naming the field.

use indicators::{BollingerParams, IndicatorConfig, Reason, Signal, SignalConfig, SignalSummary};
use market_data::Interval;
use serde::{Deserialize, Serialize};
use svc_kit::openapi::schema::{number_array, string_enum};
use svc_kit::problem::Problem;
use utoipa::openapi::{Array, Object};
use utoipa::{IntoParams, ToSchema};

/// Published form of the `interval` parameter.
pub fn interval_schema() -> Object {
    string_enum(
        &["5m", "15m", "30m", "1h"],
        "`5m` (default), `15m`, `30m` or `1h`",
    )
}

/// Published form of the screener's `sort` parameter.
pub fn sort_schema() -> Object {
    string_enum(
        &["symbol", "rsi", "percent_b", "bandwidth", "signal"],
        "Screener sort column (default `symbol`)",
    )
}

/// Published form of the screener's `order` parameter.
pub fn order_schema() -> Object {
    string_enum(&["asc", "desc"], "`asc` (default) or `desc`")
}

/// Published form of `close` in `POST /v1/signals/compute`.
pub fn close_schema() -> Array {
    number_array(
        1,
        crate::routes::compute::MAX_BARS,
        Some(0.0),
        "Closes, positive and finite, oldest first",
    )
}

/// Largest indicator period accepted.
pub const MAX_PERIOD: usize = 10_000;
/// Largest number of chart points returned.
pub const MAX_LIMIT: usize = 100_000;
/// Default number of chart points.
pub const DEFAULT_LIMIT: usize = 200;

/// Indicator parameters in query strings.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignalQuery {
    /// `5m` (default), `15m`, `30m` or `1h`.
    #[param(schema_with = interval_schema)]
    pub interval: Option<String>,
    /// RSI period, 2–10000 (default 14).
    #[param(minimum = 2, maximum = 10000)]
    pub rsi_period: Option<usize>,
    /// Bollinger period, 2–10000 (default 20).
    #[param(minimum = 2, maximum = 10000)]
    pub bb_period: Option<usize>,
    /// Band width in standard deviations, (0, 100] (default 2).
    #[param(exclusive_minimum = 0, maximum = 100)]
    pub bb_k: Option<f64>,
    /// RSI oversold threshold, (0, 100) and below `overbought` (default 30).
    #[param(exclusive_minimum = 0, exclusive_maximum = 100)]
    pub oversold: Option<f64>,
    /// RSI overbought threshold, (0, 100) and above `oversold` (default 70).
    #[param(exclusive_minimum = 0, exclusive_maximum = 100)]
    pub overbought: Option<f64>,
    /// Chart points to return, 1–100000 (default 200).
    #[param(minimum = 1, maximum = 100000)]
    pub limit: Option<usize>,
    /// Screener sort column: `symbol` (default), `rsi`, `percent_b`, `bandwidth`, `signal`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(schema_with = order_schema)]
    pub order: Option<String>,
}

/// Validated indicator parameters.
#[derive(Debug, Clone, Copy)]
pub struct SignalParams {
    /// Bar interval.
    pub interval: Interval,
    /// Indicator configuration.
    pub config: IndicatorConfig,
    /// Chart points.
    pub limit: usize,
}

fn period(field: &str, v: Option<usize>, default: usize) -> Result<usize, Problem> {
    let v = v.unwrap_or(default);
    if !(2..=MAX_PERIOD).contains(&v) {
        return Err(Problem::invalid_parameter(
            field,
            format!("{field} must be between 2 and {MAX_PERIOD}, got {v}"),
        ));
    }
    Ok(v)
}

/// Validates indicator parameters (shared by the GET endpoints and `compute`).
pub fn indicator_config(
    rsi_period: Option<usize>,
    bb_period: Option<usize>,
    bb_k: Option<f64>,
    oversold: Option<f64>,
    overbought: Option<f64>,
) -> Result<IndicatorConfig, Problem> {
    let rsi_period = period("rsi_period", rsi_period, 14)?;
    let bb_period = period("bb_period", bb_period, 20)?;
    let k = bb_k.unwrap_or(2.0);
    if !(k.is_finite() && k > 0.0 && k <= 100.0) {
        return Err(Problem::invalid_parameter(
            "bb_k",
            format!("bb_k must be in (0, 100], got {k}"),
        ));
    }
    let (os, ob) = (oversold.unwrap_or(30.0), overbought.unwrap_or(70.0));
    if !(os > 0.0 && os < 100.0) {
        return Err(Problem::invalid_parameter(
            "oversold",
            format!("oversold must be in (0, 100), got {os}"),
        ));
    }
    if !(ob > os && ob < 100.0) {
        return Err(Problem::invalid_parameter(
            "overbought",
            format!("overbought must be in (oversold, 100), got {ob}"),
        ));
    }
    let bollinger = BollingerParams::new(bb_period, k)
        .map_err(|e| Problem::invalid_parameter("bb_k", e.to_string()))?;
    let signal = SignalConfig::new(os, ob)
        .map_err(|e| Problem::invalid_parameter("oversold", e.to_string()))?;
    Ok(IndicatorConfig {
        rsi_period,
        bollinger,
        signal,
    })
}

impl SignalQuery {
    /// Validates the query.
    pub fn parse(&self) -> Result<SignalParams, Problem> {
        let interval = match self.interval.as_deref() {
            None => Interval::M5,
            Some(s) => s.parse::<Interval>().map_err(|_| {
                Problem::invalid_parameter(
                    "interval",
                    format!("unknown interval '{s}'; expected one of 5m, 15m, 30m, 1h"),
                )
            })?,
        };
        let config = indicator_config(
            self.rsi_period,
            self.bb_period,
            self.bb_k,
            self.oversold,
            self.overbought,
        )?;
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::invalid_parameter(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}, got {limit}"),
            ));
        }
        // Shared by the routes that read them and those that do not: a bad value is an error
        // everywhere, never silently ignored.
        if let Some(column) = self.sort.as_deref()
            && !["symbol", "rsi", "percent_b", "bandwidth", "signal"].contains(&column)
        {
            return Err(Problem::invalid_parameter(
                "sort",
                format!(
                    "unknown sort column '{column}'; expected symbol, rsi, percent_b, bandwidth or signal"
                ),
            ));
        }
        if let Some(order) = self.order.as_deref()
            && !["asc", "desc"].contains(&order)
        {
            return Err(Problem::invalid_parameter(
                "order",
                format!("order must be asc or desc, got '{order}'"),
            ));
        }
        Ok(SignalParams {
            interval,
            config,
            limit,
        })
    }
}

/// A symbol in `GET /v1/assets`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssetBars {
    /// Ticker.
    pub symbol: String,
    /// Number of 5-minute bars.
    pub bars: usize,
    /// First bar (RFC 3339).
    pub first_timestamp: String,
    /// Last bar (RFC 3339).
    pub last_timestamp: String,
}

/// The latest bar's indicators and signal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Latest {
    /// Bar time (RFC 3339).
    pub timestamp: String,
    /// Close.
    pub close: f64,
    /// RSI (null during warm-up).
    pub rsi: Option<f64>,
    /// Upper band.
    pub bb_upper: Option<f64>,
    /// Middle band.
    pub bb_middle: Option<f64>,
    /// Lower band.
    pub bb_lower: Option<f64>,
    /// %B = (close − lower)/(upper − lower).
    pub percent_b: Option<f64>,
    /// (upper − lower)/middle.
    pub bandwidth: Option<f64>,
    /// Position of the mean-reversion rule.
    #[schema(value_type = String, example = "flat")]
    pub signal: Signal,
    /// What fired on this bar.
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<Reason>,
    /// Time the current position was entered (null when flat).
    pub position_since: Option<String>,
}

impl Latest {
    /// From a core summary and the bar timestamps.
    pub fn from_summary(s: &SignalSummary, timestamps: &[i64]) -> Self {
        Self {
            timestamp: crate::bars_input::format_timestamp(timestamps[s.index]),
            close: s.close,
            rsi: s.rsi,
            bb_upper: s.upper,
            bb_middle: s.middle,
            bb_lower: s.lower,
            percent_b: s.percent_b,
            bandwidth: s.bandwidth,
            signal: s.position,
            reasons: s.reasons.iter().collect(),
            position_since: s
                .position_since
                .map(|i| crate::bars_input::format_timestamp(timestamps[i])),
        }
    }
}

/// Chart series, aligned by index (null during warm-up).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Points {
    /// Bar times (RFC 3339).
    pub timestamps: Vec<String>,
    /// Closes.
    pub close: Vec<f64>,
    /// RSI.
    pub rsi: Vec<Option<f64>>,
    /// Upper band.
    pub bb_upper: Vec<Option<f64>>,
    /// Middle band.
    pub bb_middle: Vec<Option<f64>>,
    /// Lower band.
    pub bb_lower: Vec<Option<f64>>,
}

/// `GET /v1/assets/{symbol}/signals`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignalsResponse {
    /// Ticker.
    pub symbol: String,
    /// Bar interval.
    #[schema(value_type = String, example = "5m")]
    pub interval: Interval,
    /// Latest values (null if there are no bars).
    pub latest: Option<Latest>,
    /// The last `limit` points.
    pub points: Points,
}

/// One row of `GET /v1/signals`: the symbol and its latest values, flat (absent when the
/// symbol has no bars).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScreenerRow {
    /// Ticker.
    pub symbol: String,
    /// Latest values.
    #[serde(flatten)]
    pub latest: Option<Latest>,
}

/// `GET /v1/signals`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScreenerResponse {
    /// Bar interval.
    #[schema(value_type = String, example = "5m")]
    pub interval: Interval,
    /// One row per symbol.
    pub rows: Vec<ScreenerRow>,
}

/// Body of `POST /v1/signals/compute`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "close": [100.0, 100.5, 101.2, 100.8, 99.9, 100.4, 101.0, 101.6, 101.1, 100.7],
    "timestamps": ["2024-01-02T14:30:00Z", "2024-01-02T14:35:00Z", "2024-01-02T14:40:00Z",
        "2024-01-02T14:45:00Z", "2024-01-02T14:50:00Z", "2024-01-02T14:55:00Z",
        "2024-01-02T15:00:00Z", "2024-01-02T15:05:00Z", "2024-01-02T15:10:00Z",
        "2024-01-02T15:15:00Z"],
    "rsi_period": 3, "bb_period": 4, "bb_k": 2.0
}))]
pub struct ComputeRequest {
    /// Closes, positive and finite (1 to 1,000,000 values).
    #[schema(schema_with = close_schema)]
    pub close: Vec<f64>,
    /// Timestamps aligned with `close` (optional, echoed back; as many as closes).
    pub timestamps: Option<Vec<String>>,
    /// RSI period, 2–10000 (default 14).
    #[schema(minimum = 2, maximum = 10000)]
    #[serde(default, deserialize_with = "svc_kit::problem::whole_number")]
    pub rsi_period: Option<usize>,
    /// Bollinger period, 2–10000 (default 20).
    #[schema(minimum = 2, maximum = 10000)]
    #[serde(default, deserialize_with = "svc_kit::problem::whole_number")]
    pub bb_period: Option<usize>,
    /// Band width in standard deviations, (0, 100] (default 2).
    #[schema(exclusive_minimum = 0, maximum = 100)]
    pub bb_k: Option<f64>,
    /// RSI oversold threshold, (0, 100) and below `overbought` (default 30).
    #[schema(exclusive_minimum = 0, exclusive_maximum = 100)]
    pub oversold: Option<f64>,
    /// RSI overbought threshold, (0, 100) and above `oversold` (default 70).
    #[schema(exclusive_minimum = 0, exclusive_maximum = 100)]
    pub overbought: Option<f64>,
}

/// Response of `POST /v1/signals/compute`: arrays aligned with the input, null in warm-up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComputeResponse {
    /// Echo of the timestamps, if given.
    pub timestamps: Option<Vec<String>>,
    /// RSI.
    pub rsi: Vec<Option<f64>>,
    /// Upper band.
    pub bb_upper: Vec<Option<f64>>,
    /// Middle band.
    pub bb_middle: Vec<Option<f64>>,
    /// Lower band.
    pub bb_lower: Vec<Option<f64>>,
    /// %B.
    pub percent_b: Vec<Option<f64>>,
    /// Bandwidth.
    pub bandwidth: Vec<Option<f64>>,
    /// Position per bar.
    #[schema(value_type = Vec<String>)]
    pub signal: Vec<Signal>,
    /// Reasons per bar.
    #[schema(value_type = Vec<Vec<String>>)]
    pub reasons: Vec<Vec<Reason>>,
}

/// A bar in `POST /v1/assets/{symbol}/bars`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBar {
    /// Bar time, RFC 3339 UTC (Unix seconds as text are accepted too).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// Open, positive.
    #[schema(exclusive_minimum = 0)]
    pub open: f64,
    /// High, positive, at least open, close and low.
    #[schema(exclusive_minimum = 0)]
    pub high: f64,
    /// Low, positive, at most open and close.
    #[schema(exclusive_minimum = 0)]
    pub low: f64,
    /// Close, positive.
    #[schema(exclusive_minimum = 0)]
    pub close: f64,
    /// Volume, non-negative.
    #[schema(minimum = 0)]
    pub volume: f64,
}

/// Body of `POST /v1/assets/{symbol}/bars`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bars": [{"timestamp": "2030-01-02T14:30:00Z", "open": 100.0,
    "high": 100.8, "low": 99.7, "close": 100.4, "volume": 12500.0}]}))]
pub struct AppendRequest {
    /// Bars in time order, all after the symbol's last bar.
    #[schema(min_items = 1)]
    pub bars: Vec<NewBar>,
}

/// Response of an append.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppendResponse {
    /// Ticker.
    pub symbol: String,
    /// Bars appended.
    pub appended: usize,
    /// Bars now held.
    pub bars: usize,
    /// Latest values under the default parameters (5m, 14, 20, 2).
    pub latest: Option<Latest>,
}

/// A signal change, sent on `GET /v1/stream`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignalEvent {
    /// Ticker.
    pub symbol: String,
    /// Position before the append.
    #[schema(value_type = String)]
    pub previous: Signal,
    /// Position after it.
    #[schema(value_type = String)]
    pub signal: Signal,
    /// Latest values.
    pub latest: Latest,
}
