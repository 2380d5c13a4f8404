//! The wire types of the REST API and the validation of request parameters. Handlers parse
//! requests into these, so a bad value is rejected once, at the edge, with a problem naming
//! the field.

pub mod backtest;

use garch_core::{
    Distribution, FitReport, Forecast, ForecastIntervals, MeanModel, ModelSpec, VolatilityModel,
    forecast::MAX_HORIZON,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use svc_kit::openapi::schema::{nullable_string_enum, number_array, string_enum};
use svc_kit::problem::Problem;
use utoipa::openapi::{Array, Object, RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Published form of the `model` parameter (parsed case-insensitively).
pub fn model_schema() -> Object {
    string_enum(
        &["garch", "gjr", "gjr-garch", "gjr_garch", "egarch"],
        "`garch` (default), `gjr` or `egarch` (case-insensitive)",
    )
}

/// Published form of the `dist` parameter (parsed case-insensitively).
pub fn dist_schema() -> Object {
    string_enum(
        &[
            "normal",
            "gaussian",
            "t",
            "studentst",
            "student-t",
            "student_t",
            "skewt",
            "skew-t",
            "skew_t",
            "skewstudent",
            "ged",
            "generalizederror",
            "generalized-error",
        ],
        "`normal` (default), `t` (standardised Student-t), `skewt` (Hansen's skewed t) or `ged` \
         (generalised error distribution), case-insensitive",
    )
}

/// `model` in a JSON body: as the parameter, or null.
pub fn model_field_schema() -> Object {
    nullable_string_enum(
        &["garch", "gjr", "gjr-garch", "gjr_garch", "egarch"],
        "`garch` (default), `gjr` or `egarch` (case-insensitive)",
    )
}

/// `dist` in a JSON body: as the parameter, or null.
pub fn dist_field_schema() -> Object {
    nullable_string_enum(
        &[
            "normal",
            "gaussian",
            "t",
            "studentst",
            "student-t",
            "student_t",
            "skewt",
            "skew-t",
            "skew_t",
            "skewstudent",
            "ged",
            "generalizederror",
            "generalized-error",
        ],
        "`normal` (default), `t` (standardised Student-t), `skewt` (Hansen's skewed t) or `ged` \
         (generalised error distribution), case-insensitive",
    )
}

/// `mean` in a JSON body: as the parameter, or null.
pub fn mean_field_schema() -> Object {
    nullable_string_enum(
        &["constant", "zero", "ar"],
        "`constant` (default), `zero` or `ar` (an AR(p) mean as arch's ARX, with `lags`), \
         case-insensitive",
    )
}

/// Published form of the `mean` parameter (parsed case-insensitively).
pub fn mean_schema() -> Object {
    string_enum(
        &["constant", "zero", "ar"],
        "`constant` (default), `zero` or `ar` (an AR(p) mean as arch's ARX, with `lags`), \
         case-insensitive",
    )
}

/// Parses model, distribution, mean and the AR order `lags` (only with `mean=ar`, and
/// required by it: 1 to [`garch_core::ArLags::MAX`]); a bad `lags` is a problem naming `lags`.
pub fn parse_spec_with_lags(
    model: Option<&str>,
    dist: Option<&str>,
    mean: Option<&str>,
    lags: Option<usize>,
) -> Result<ModelSpec, Problem> {
    let spec = parse_spec(model, dist, mean.filter(|m| !m.eq_ignore_ascii_case("ar")))?;
    let name = mean.unwrap_or("constant");
    if lags.is_none() && !name.eq_ignore_ascii_case("ar") {
        return Ok(spec);
    }
    let mean = MeanModel::from_name_and_lags(name, lags)
        .map_err(|e| Problem::invalid_parameter("lags", e.to_string()))?;
    Ok(ModelSpec { mean, ..spec })
}

/// Default forecast horizon.
pub const DEFAULT_HORIZON: usize = 10;

/// Model selection in query strings: `model`, `dist`, `horizon`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    /// `garch` (default), `gjr` or `egarch`.
    #[param(schema_with = model_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[param(schema_with = dist_schema)]
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar` (an AR(p) mean as arch's ARX, with `lags`).
    #[param(schema_with = mean_schema)]
    pub mean: Option<String>,
    /// AR order of `mean=ar`, 1–10 (only with `mean=ar`).
    #[param(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Forecast horizon in days, 1–1000 (default 10).
    #[param(minimum = 1, maximum = 1000)]
    pub horizon: Option<usize>,
}

impl ModelQuery {
    /// The model and horizon, or a problem naming the bad parameter.
    pub fn parse(&self) -> Result<(ModelSpec, usize), Problem> {
        let spec = parse_spec_with_lags(
            self.model.as_deref(),
            self.dist.as_deref(),
            self.mean.as_deref(),
            self.lags,
        )?;
        Ok((spec, parse_horizon(self.horizon)?))
    }
}

/// Query of `GET /v1/assets/{symbol}/volatility`: the model, the horizon and optional forecast
/// interval levels.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetVolatilityQuery {
    /// `garch` (default), `gjr` or `egarch`.
    #[param(schema_with = model_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[param(schema_with = dist_schema)]
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar` (an AR(p) mean as arch's ARX, with `lags`).
    #[param(schema_with = mean_schema)]
    pub mean: Option<String>,
    /// AR order of `mean=ar`, 1–10 (only with `mean=ar`).
    #[param(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Forecast horizon in days, 1–1000 (default 10).
    #[param(minimum = 1, maximum = 1000)]
    pub horizon: Option<usize>,
    /// Forecast intervals: comma-separated quantile levels of the returns, each a decimal
    /// strictly between 0 and 1 (`0.05` or `.05`), at most 16 (e.g. `0.05,0.95`). Exact at one
    /// day from the fitted law, simulated (2,000 seeded paths) beyond. Absent: no intervals.
    #[param(
        example = "0.05,0.95",
        pattern = r"^0?\.[0-9]*[1-9][0-9]*(,0?\.[0-9]*[1-9][0-9]*){0,15}$"
    )]
    pub levels: Option<String>,
}

impl AssetVolatilityQuery {
    /// The model (constant mean), horizon and levels, or a problem naming the bad parameter.
    pub fn parse(&self) -> Result<(ModelSpec, usize, Vec<f64>), Problem> {
        let spec = parse_spec_with_lags(
            self.model.as_deref(),
            self.dist.as_deref(),
            self.mean.as_deref(),
            self.lags,
        )?;
        Ok((
            spec,
            parse_horizon(self.horizon)?,
            parse_levels(self.levels.as_deref())?,
        ))
    }
}

/// Parses `levels`: comma-separated decimals strictly between 0 and 1 (`0.05` or `.05`, the
/// grammar of the documented pattern, so the contract and the parser agree), at most
/// [`garch_core::forecast::MAX_LEVELS`].
pub fn parse_levels(levels: Option<&str>) -> Result<Vec<f64>, Problem> {
    let Some(text) = levels else {
        return Ok(Vec::new());
    };
    let bad = |detail: String| Problem::invalid_parameter("levels", detail);
    let parsed = text
        .split(',')
        .map(|t| match open_unit_decimal(t) {
            Some(level) => Ok(level),
            None => Err(bad(format!(
                "'{t}' is not a decimal strictly between 0 and 1 (e.g. 0.05)"
            ))),
        })
        .collect::<Result<Vec<f64>, Problem>>()?;
    if parsed.len() > garch_core::forecast::MAX_LEVELS {
        return Err(bad(format!(
            "at most {} levels, got {}",
            garch_core::forecast::MAX_LEVELS,
            parsed.len()
        )));
    }
    Ok(parsed)
}

/// `0?.d*` with at least one non-zero digit after the point: a decimal in (0, 1).
fn open_unit_decimal(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('0').unwrap_or(text).strip_prefix('.')?;
    let well_formed =
        digits.bytes().all(|b| b.is_ascii_digit()) && digits.bytes().any(|b| b != b'0');
    well_formed.then(|| text.parse().ok()).flatten()
}

/// Parses model, distribution and mean names.
pub fn parse_spec(
    model: Option<&str>,
    dist: Option<&str>,
    mean: Option<&str>,
) -> Result<ModelSpec, Problem> {
    let volatility = model
        .map(str::parse::<VolatilityModel>)
        .transpose()
        .map_err(|e| Problem::invalid_parameter("model", e.to_string()))?
        .unwrap_or(VolatilityModel::garch());
    let distribution = dist
        .map(str::parse::<Distribution>)
        .transpose()
        .map_err(|e| Problem::invalid_parameter("dist", e.to_string()))?
        .unwrap_or_default();
    let mean = mean
        .map(str::parse::<MeanModel>)
        .transpose()
        .map_err(|e| Problem::invalid_parameter("mean", e.to_string()))?
        .unwrap_or_default();
    // The published names only: an AR mean is `mean=ar` with `lags` (parse_spec_with_lags).
    if let MeanModel::Ar(_) = mean {
        return Err(Problem::invalid_parameter(
            "mean",
            format!("unknown mean '{mean}'; expected one of constant, zero, ar (with lags)"),
        ));
    }
    Ok(ModelSpec::new(mean, volatility, distribution))
}

/// Validates a horizon (default [`DEFAULT_HORIZON`]).
pub fn parse_horizon(h: Option<usize>) -> Result<usize, Problem> {
    let h = h.unwrap_or(DEFAULT_HORIZON);
    if h == 0 || h > MAX_HORIZON {
        return Err(Problem::invalid_parameter(
            "horizon",
            format!("horizon must be between 1 and {MAX_HORIZON}, got {h}"),
        ));
    }
    Ok(h)
}

/// A symbol in `GET /v1/assets`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssetSummary {
    /// Ticker.
    pub symbol: String,
    /// First price date.
    pub first_date: String,
    /// Last price date.
    pub last_date: String,
    /// Number of prices.
    pub observations: usize,
}

/// `GET /v1/assets/{symbol}/volatility` and `POST /v1/volatility/fit`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VolatilityResponse {
    /// Ticker (`null` for posted series).
    pub symbol: Option<String>,
    /// Last date of the data the forecast starts from (`null` if no dates were given). After
    /// an append it moves on at once: the estimated parameters are filtered through the new
    /// returns, without re-estimation.
    pub data_through: Option<String>,
    /// Last date of the data the parameters were estimated on (`null` if no dates were
    /// given); earlier than `data_through` until the refit policy (or `POST /v1/fits`)
    /// re-estimates.
    pub fitted_through: Option<String>,
    /// Observations after `fitted_through`, filtered through the estimated parameters.
    pub observations_since_fit: usize,
    /// When the fit ran (RFC 3339, UTC).
    pub fitted_at: String,
    /// Wall time of the fit in seconds.
    pub fit_seconds: f64,
    /// The estimation (through `fitted_through`): parameters, standard errors, convergence.
    pub report: FitReport,
    /// Variance forecast from the end of the data (`data_through`).
    pub forecast: Forecast,
    /// Return quantiles per horizon at the requested `levels` (absent without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<ForecastIntervals>,
}

/// Query of `GET /v1/assets/{symbol}/history`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `garch` (default), `gjr` or `egarch`.
    #[param(schema_with = model_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[param(schema_with = dist_schema)]
    pub dist: Option<String>,
    /// Only the last `limit` observations (default: all).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
}

/// `GET /v1/assets/{symbol}/history`: series for charts, aligned by index.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryResponse {
    /// Ticker.
    pub symbol: String,
    /// Model of the conditional volatility.
    pub spec: ModelSpec,
    /// Dates of the returns.
    pub dates: Vec<String>,
    /// Percent log returns.
    pub returns: Vec<f64>,
    /// Fitted conditional volatility, percent per day.
    pub conditional_volatility: Vec<f64>,
    /// Realized volatility from 5-minute bars, percent per day (`null` where no intraday data
    /// exists for the day).
    pub realized_volatility: Vec<Option<f64>>,
}

/// One row of `GET /v1/volatility`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScreenerRow {
    /// Ticker.
    pub symbol: String,
    /// Annualised volatility forecast at the requested horizon (percent).
    pub annualized_forecast: Option<f64>,
    /// Daily volatility forecast at the requested horizon (percent).
    pub daily_forecast: Option<f64>,
    /// Long-run annualised volatility (percent).
    pub long_run_annualized: Option<f64>,
    /// Persistence of variance shocks.
    pub persistence: Option<f64>,
    /// Half-life of variance shocks in days.
    pub half_life_days: Option<f64>,
    /// Whether the fit converged.
    pub converged: bool,
    /// Why the symbol could not be fitted, if it could not.
    pub error: Option<String>,
}

/// `GET /v1/volatility`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScreenerResponse {
    /// Model used for every row.
    pub spec: ModelSpec,
    /// Horizon of the forecasts.
    pub horizon: usize,
    /// One row per symbol, sorted by symbol.
    pub rows: Vec<ScreenerRow>,
}

/// Body of `POST /v1/volatility/fit` (JSON form; `text/csv` with a `close` or `return` column
/// is accepted too, model options then come from the query string). Its published schema is
/// one of [`PostedPrices`] and [`PostedReturns`]: exactly one of the two series.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRequest {
    /// Prices (give either prices or returns).
    pub prices: Option<Vec<f64>>,
    /// Percent log returns.
    pub returns: Option<Vec<f64>>,
    /// Dates aligned with the prices or returns (optional).
    pub dates: Option<Vec<String>>,
    /// `garch` (default), `gjr` or `egarch`.
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar`.
    pub mean: Option<String>,
    /// AR order of `mean = ar`, 1–10.
    #[serde(default, deserialize_with = "svc_kit::problem::whole_number")]
    pub lags: Option<usize>,
    /// Forecast horizon, 1–1000 (default 10).
    #[serde(default, deserialize_with = "svc_kit::problem::whole_number")]
    pub horizon: Option<usize>,
}

impl PartialSchema for FitRequest {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(PostedPrices::schema())
            .item(PostedReturns::schema())
            .description(Some(
                "A price series or a return series (exactly one of `prices`, `returns`)",
            ))
            .examples([fit_request_example()])
            .into()
    }
}

impl ToSchema for FitRequest {}

/// A posted series of prices (the published form of [`FitRequest`] with `prices`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PostedPrices {
    /// Prices, positive, oldest first.
    #[schema(schema_with = prices_schema)]
    pub prices: Vec<f64>,
    /// Dates aligned with the prices (optional; used when their count matches).
    pub dates: Option<Vec<String>>,
    /// `garch` (default), `gjr` or `egarch`.
    #[schema(schema_with = model_field_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[schema(schema_with = dist_field_schema)]
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar`.
    #[schema(schema_with = mean_field_schema)]
    pub mean: Option<String>,
    /// AR order of `mean = ar` (required by it, refused with another mean), 1–10.
    #[schema(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Forecast horizon, 1–1000 (default 10).
    #[schema(minimum = 1, maximum = 1000)]
    pub horizon: Option<usize>,
}

/// A posted series of returns (the published form of [`FitRequest`] with `returns`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PostedReturns {
    /// Percent log returns, oldest first.
    #[schema(schema_with = returns_schema)]
    pub returns: Vec<f64>,
    /// Dates aligned with the returns (optional; used when their count matches).
    pub dates: Option<Vec<String>>,
    /// `garch` (default), `gjr` or `egarch`.
    #[schema(schema_with = model_field_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[schema(schema_with = dist_field_schema)]
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar`.
    #[schema(schema_with = mean_field_schema)]
    pub mean: Option<String>,
    /// AR order of `mean = ar` (required by it, refused with another mean), 1–10.
    #[schema(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Forecast horizon, 1–1000 (default 10).
    #[schema(minimum = 1, maximum = 1000)]
    pub horizon: Option<usize>,
}

/// Prices: one more than the core's minimum number of returns, at most
/// [`MAX_POSTED_OBSERVATIONS`](crate::routes::volatility::MAX_POSTED_OBSERVATIONS).
pub fn prices_schema() -> Array {
    number_array(
        garch_core::MIN_OBSERVATIONS + 1,
        crate::routes::volatility::MAX_POSTED_OBSERVATIONS,
        Some(0.0),
        "Prices, positive and finite, oldest first",
    )
}

/// Returns: the core's minimum number, at most
/// [`MAX_POSTED_OBSERVATIONS`](crate::routes::volatility::MAX_POSTED_OBSERVATIONS).
pub fn returns_schema() -> Array {
    number_array(
        garch_core::MIN_OBSERVATIONS,
        crate::routes::volatility::MAX_POSTED_OBSERVATIONS,
        None,
        "Percent log returns, finite, oldest first",
    )
}

/// An example body: a deterministic 250-day price path with volatility clustering.
pub fn fit_request_example() -> serde_json::Value {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut price, mut variance) = (100.0_f64, 1.0_f64);
    let mut prices = vec![price];
    for _ in 0..250 {
        let shock = (uniform() + uniform() + uniform() - 1.5) * 2.0 * variance.sqrt();
        variance = 0.05 + 0.1 * shock * shock + 0.85 * variance;
        price *= (shock / 100.0).exp();
        prices.push((price * 100.0).round() / 100.0);
    }
    json!({"prices": prices, "model": "garch", "dist": "t", "horizon": 10})
}

/// How `POST /v1/fits` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefitMode {
    /// One symbol after another on one thread.
    Sequential,
    /// All symbols on the rayon pool.
    Parallel,
    /// Across worker processes through NATS JetStream.
    Distributed,
}

/// Body of `POST /v1/fits`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mode": "parallel", "model": "gjr", "dist": "t"}))]
pub struct RefitRequest {
    /// Execution mode.
    pub mode: RefitMode,
    /// `garch` (default), `gjr` or `egarch`.
    #[schema(schema_with = model_field_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[schema(schema_with = dist_field_schema)]
    pub dist: Option<String>,
}

/// One symbol's outcome in a refit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefitStatus {
    /// Ticker.
    pub symbol: String,
    /// Whether the fit succeeded.
    pub ok: bool,
    /// Whether it converged.
    pub converged: bool,
    /// Fit time in seconds.
    pub seconds: f64,
    /// The error, if it failed.
    pub error: Option<String>,
}

/// Response of `POST /v1/fits`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefitResponse {
    /// Mode used.
    pub mode: RefitMode,
    /// Model fitted.
    pub spec: ModelSpec,
    /// Wall time of the whole refit in seconds.
    pub total_seconds: f64,
    /// Fits per second.
    pub fits_per_second: f64,
    /// Per-symbol outcomes, sorted by symbol.
    pub symbols: Vec<RefitStatus>,
}

/// Response of `POST /v1/data/reload` and readiness details.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DataStatus {
    /// Source file.
    pub source: String,
    /// Data version (increases with each reload).
    pub version: u64,
    /// Symbols loaded.
    pub symbols: usize,
    /// Symbols skipped and why.
    pub skipped: Vec<SkippedSymbol>,
    /// What the loaders noticed: symbols with too few observations, unsorted input, a missing
    /// bars file …
    pub warnings: Vec<String>,
}

/// A symbol left out of the data set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SkippedSymbol {
    /// Ticker.
    pub symbol: String,
    /// Why.
    pub reason: String,
}

/// One appended daily close.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClose {
    /// Trading date, `YYYY-MM-DD`, after the symbol's last date.
    #[schema(example = "2024-01-03", format = Date)]
    pub date: String,
    /// Closing price, positive and finite.
    #[schema(example = 101.25, exclusive_minimum = 0)]
    pub close: f64,
}

/// Most closes one append may carry.
pub const MAX_APPENDED_CLOSES: usize = 10_000;

/// `POST /v1/assets/{symbol}/prices`: daily closes to append, in date order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"prices": [{"date": "2030-01-02", "close": 101.25}]}))]
pub struct AppendPricesRequest {
    /// 1–10,000 closes; dates strictly increasing and after the symbol's last date.
    #[schema(min_items = 1, max_items = 10000)]
    pub prices: Vec<NewClose>,
}

/// A forecast kept up to date after an append (or a background refit).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ForecastUpdate {
    /// The model.
    pub spec: ModelSpec,
    /// Last date of the data the parameters were estimated on.
    pub fitted_through: Option<String>,
    /// Observations after `fitted_through`, filtered through the estimated parameters.
    pub observations_since_fit: usize,
    /// Next-day conditional volatility, percent.
    pub volatility: Option<f64>,
    /// The same, annualized (× √252).
    pub annualized_volatility: Option<f64>,
}

/// `POST /v1/assets/{symbol}/prices`: what was appended and the forecasts it moved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppendPricesResponse {
    /// Ticker (canonical case).
    pub symbol: String,
    /// Closes appended.
    pub appended: usize,
    /// Prices of the symbol now.
    pub observations: usize,
    /// Last date of the data.
    pub data_through: String,
    /// The cached models of the symbol, filtered through the new returns (models never
    /// requested are fitted when first asked for).
    pub forecasts: Vec<ForecastUpdate>,
    /// Models whose re-estimation the refit policy started in the background.
    pub refits_started: Vec<ModelSpec>,
}

/// Why a forecast changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ForecastReason {
    /// New closes were appended and filtered through the estimated parameters.
    Append,
    /// The model was re-estimated and swapped in.
    Refit,
}

/// `forecast` event of `GET /v1/stream`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ForecastEvent {
    /// Ticker.
    pub symbol: String,
    /// Why it changed.
    pub reason: ForecastReason,
    /// Last date of the data.
    pub data_through: String,
    /// The updated forecast.
    pub forecast: ForecastUpdate,
}
