//! Volatility forecasts: one asset, the screener, and posted series.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use garch_core::{ForecastOptions, Prices, Returns};
use svc_kit::auth::require_bearer_if_configured;
use svc_kit::problem::{ApiQuery, Problem};
use tokio::task::JoinSet;

use crate::api::{
    AssetVolatilityQuery, FitRequest, ModelQuery, ScreenerResponse, ScreenerRow,
    VolatilityResponse, parse_horizon, parse_spec_with_lags,
};
use crate::state::{AppState, CachedFit, on_rayon};

fn json_bytes(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn forecast_problem(e: garch_core::ForecastError) -> Problem {
    Problem::invalid_parameter("horizon", e.to_string())
}

/// Builds (on rayon: EGARCH forecasts simulate) the response of a cached fit.
async fn respond(
    fit: Arc<CachedFit>,
    symbol: Option<String>,
    data_through: Option<String>,
    fitted_through: Option<String>,
    horizon: usize,
    levels: Vec<f64>,
) -> Result<Bytes, Problem> {
    on_rayon(move || {
        let forecast = fit
            .model
            .forecast(horizon, &ForecastOptions::default())
            .map_err(forecast_problem)?;
        let intervals = (!levels.is_empty())
            .then(|| {
                fit.model
                    .forecast_intervals(horizon, &levels, &ForecastOptions::default())
                    .map_err(|e| Problem::invalid_parameter("levels", e.to_string()))
            })
            .transpose()?;
        let body = VolatilityResponse {
            symbol,
            data_through,
            fitted_through,
            observations_since_fit: fit.observations_since_fit(),
            fitted_at: fit.fitted_at.clone(),
            fit_seconds: fit.fit_seconds,
            report: fit.estimate.clone(),
            forecast,
            intervals,
        };
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|e| Problem::internal(e.to_string()))
    })
    .await?
}

/// Fit report and forecast path for one asset (cached per model and distribution), with return
/// quantiles per horizon when `levels` is given.
#[utoipa::path(get, path = "/v1/assets/{symbol}/volatility", tag = "volatility",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME"), AssetVolatilityQuery),
    responses((status = 200, body = VolatilityResponse), (status = 400, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn asset_volatility(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    ApiQuery(q): ApiQuery<AssetVolatilityQuery>,
) -> Result<Response, Problem> {
    let (spec, horizon, levels) = q.parse()?;
    let (universe, fit) = state.fitted(&symbol, spec).await?;
    // Responses without intervals are cached per horizon; interval requests are computed.
    let cacheable = levels.is_empty();
    let cached = cacheable
        .then(|| {
            fit.responses
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&horizon)
                .cloned()
        })
        .flatten();
    if let Some(bytes) = cached {
        return Ok(json_bytes(bytes));
    }
    let asset = universe
        .get(&symbol)
        .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
    let bytes = respond(
        Arc::clone(&fit),
        Some(asset.symbol.clone()),
        asset.dates.last().cloned(),
        asset.date_of_return(fit.estimate.nobs).cloned(),
        horizon,
        levels,
    )
    .await?;
    if cacheable {
        fit.responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(horizon, bytes.clone());
    }
    Ok(json_bytes(bytes))
}

/// One row per symbol: latest forecast, persistence, convergence.
#[utoipa::path(get, path = "/v1/volatility", tag = "volatility", params(ModelQuery),
    responses((status = 200, body = ScreenerResponse), (status = 400, body = Problem),
        (status = 503, body = Problem)))]
pub async fn screener(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ModelQuery>,
) -> Result<axum::Json<ScreenerResponse>, Problem> {
    let (spec, horizon) = q.parse()?;
    let symbols: Vec<String> = state
        .universe
        .load()
        .assets
        .iter()
        .map(|a| a.symbol.clone())
        .collect();
    let mut tasks = JoinSet::new();
    for symbol in symbols {
        let state = Arc::clone(&state);
        tasks.spawn(async move {
            let outcome = state.fitted(&symbol, spec).await;
            (symbol, outcome)
        });
    }
    let mut rows = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (symbol, outcome) = joined.map_err(|e| Problem::internal(e.to_string()))?;
        let row = match outcome {
            Ok((_, fit)) => {
                let r = &fit.estimate;
                let step = fit
                    .model
                    .forecast(horizon, &ForecastOptions::default())
                    .ok()
                    .and_then(|f| f.steps.last().copied());
                ScreenerRow {
                    symbol,
                    annualized_forecast: step.map(|s| s.annualized_volatility),
                    daily_forecast: step.map(|s| s.volatility),
                    long_run_annualized: r.annualized_volatility,
                    persistence: Some(r.persistence),
                    half_life_days: r.half_life_days,
                    converged: r.converged,
                    error: None,
                }
            }
            Err(p) => ScreenerRow {
                symbol,
                annualized_forecast: None,
                daily_forecast: None,
                long_run_annualized: None,
                persistence: None,
                half_life_days: None,
                converged: false,
                error: Some(p.detail),
            },
        };
        rows.push(row);
    }
    rows.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(axum::Json(ScreenerResponse {
        spec,
        horizon,
        rows,
    }))
}

/// Query of the CSV form of `POST /v1/volatility/fit`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostedFitQuery {
    /// `garch` (default), `gjr` or `egarch`.
    #[param(schema_with = crate::api::model_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[param(schema_with = crate::api::dist_schema)]
    pub dist: Option<String>,
    /// `constant` (default), `zero` or `ar`.
    #[param(schema_with = crate::api::mean_schema)]
    pub mean: Option<String>,
    /// AR order of `mean=ar` (required by it, refused with another mean), 1–10.
    #[param(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Forecast horizon, 1–1000 (default 10).
    #[param(minimum = 1, maximum = 1000)]
    pub horizon: Option<usize>,
}

/// Reads a posted CSV: a `close` (or `price`, `adj_close`) column, or a `return(s)` column, and
/// optionally `date`.
fn parse_csv_body(body: &[u8]) -> Result<FitRequest, Problem> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Problem::invalid_parameter("body", format!("unreadable CSV: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let price = find(&["adj_close", "close", "price"]);
    let ret = find(&["return", "returns"]);
    let date = find(&["date", "timestamp"]);
    let (col, field) = match (price, ret) {
        (Some(c), _) => (c, "prices"),
        (None, Some(c)) => (c, "returns"),
        (None, None) => {
            return Err(Problem::invalid_parameter(
                "body",
                "CSV needs a 'close' (or 'price') or a 'return' column",
            ));
        }
    };
    let (mut values, mut dates) = (Vec::new(), Vec::new());
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Problem::invalid_parameter("body", format!("CSV: {e}")))?;
        let raw = rec.get(col).unwrap_or("");
        let v: f64 = raw.parse().map_err(|_| {
            Problem::unprocessable(
                &format!("{field}[{i}]"),
                format!("line {}: '{raw}' is not a number", i + 2),
            )
        })?;
        values.push(v);
        if let Some(d) = date {
            dates.push(rec.get(d).unwrap_or("").to_string());
        }
    }
    let mut req = FitRequest {
        prices: None,
        returns: None,
        dates: date.map(|_| dates),
        model: None,
        dist: None,
        mean: None,
        lags: None,
        horizon: None,
    };
    if field == "prices" {
        req.prices = Some(values);
    } else {
        req.returns = Some(values);
    }
    Ok(req)
}

fn series_problem(field: &str, e: garch_core::SeriesError) -> Problem {
    use garch_core::SeriesError as E;
    match e {
        E::NonFinite { index, .. } | E::NonPositivePrice { index, .. } => {
            Problem::unprocessable(&format!("{field}[{index}]"), e.to_string())
        }
        _ => Problem::unprocessable(field, e.to_string()),
    }
}

/// Longest series a caller may post: a GARCH fit is linear in its length, and one of this
/// size already takes on the order of a second of CPU for EGARCH.
pub const MAX_POSTED_OBSERVATIONS: usize = 100_000;

fn check_length(field: &str, n: usize) -> Result<(), Problem> {
    if n > MAX_POSTED_OBSERVATIONS {
        Err(Problem::invalid_parameter(
            field,
            format!("{n} values posted; at most {MAX_POSTED_OBSERVATIONS} are accepted"),
        ))
    } else {
        Ok(())
    }
}

/// Fits a posted series (`{"prices": [...]}` or `{"returns": [...]}`, or `text/csv`).
#[utoipa::path(post, path = "/v1/volatility/fit", tag = "volatility", params(PostedFitQuery),
    request_body(content = FitRequest,
        description = "JSON; `text/csv` with a `close` (or `return`) column and an optional \
            `date` column is accepted too, the model options then come from the query string"),
    responses((status = 200, body = VolatilityResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)),
    security((), ("bearer" = [])))]
pub async fn fit_posted(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<PostedFitQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    require_bearer_if_configured(state.token.as_deref(), &headers)
        .map_err(IntoResponse::into_response)?;
    fit_posted_authorised(state, headers, q, body)
        .await
        .map_err(IntoResponse::into_response)
}

async fn fit_posted_authorised(
    state: Arc<AppState>,
    headers: HeaderMap,
    q: PostedFitQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    // A slot before any parsing: under overload a shed request costs only its upload.
    let _permit = state.budget.admit().await?;
    let body = body.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                status,
                "payload-too-large",
                "request body exceeds the size limit",
            )
            .with_field("body")
        } else {
            Problem::new(status, "invalid-body", r.body_text()).with_field("body")
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // The query's options are checked whatever the body: a bad one is an error, not ignored.
    parse_spec_with_lags(
        q.model.as_deref(),
        q.dist.as_deref(),
        q.mean.as_deref(),
        q.lags,
    )?;
    if q.horizon.is_some() {
        parse_horizon(q.horizon)?;
    }
    let req = if content_type.starts_with("application/json") {
        let mut r = serde_json::from_slice::<FitRequest>(&body).map_err(|e| {
            let p = Problem::new(StatusCode::BAD_REQUEST, "invalid-body", e.to_string());
            match e.to_string().split('`').nth(1) {
                Some(f) if e.to_string().contains("field") => p.with_field(f.to_string()),
                _ => p.with_field("body"),
            }
        })?;
        // Options in the body win over those in the query string.
        r.model = r.model.or(q.model.clone());
        r.dist = r.dist.or(q.dist.clone());
        r.mean = r.mean.or(q.mean.clone());
        r.lags = r.lags.or(q.lags);
        r.horizon = r.horizon.or(q.horizon);
        r
    } else if content_type.starts_with("text/csv") {
        let mut r = parse_csv_body(&body)?;
        r.model = q.model.clone();
        r.dist = q.dist.clone();
        r.mean = q.mean.clone();
        r.lags = q.lags;
        r.horizon = q.horizon;
        r
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send application/json or text/csv",
        )
        .with_field("content-type"));
    };
    let spec = parse_spec_with_lags(
        req.model.as_deref(),
        req.dist.as_deref(),
        req.mean.as_deref(),
        req.lags,
    )?;
    let horizon = parse_horizon(req.horizon)?;
    let (returns, dates_of_returns) = match (req.prices, req.returns) {
        (Some(p), None) => {
            let n = p.len();
            check_length("prices", n)?;
            let prices = Prices::new(p).map_err(|e| series_problem("prices", e))?;
            let r = prices
                .to_returns()
                .map_err(|e| series_problem("prices", e))?;
            (r, req.dates.filter(|d| d.len() == n))
        }
        (None, Some(r)) => {
            let n = r.len();
            check_length("returns", n)?;
            let returns = Returns::new(r).map_err(|e| series_problem("returns", e))?;
            (returns, req.dates.filter(|d| d.len() == n))
        }
        (Some(_), Some(_)) => {
            return Err(Problem::invalid_parameter(
                "returns",
                "give either prices or returns, not both",
            ));
        }
        (None, None) => {
            return Err(Problem::invalid_parameter(
                "prices",
                "the body needs 'prices' or 'returns'",
            ));
        }
    };
    let data_through = dates_of_returns.and_then(|d| d.last().cloned());
    let st = Arc::clone(&state);
    let fit = on_rayon(move || st.fit_now(&returns, spec))
        .await?
        .map_err(|e| Problem::unprocessable("body", format!("cannot fit this series: {e}")))?;
    let bytes = respond(
        Arc::new(fit),
        None,
        data_through.clone(),
        data_through,
        horizon,
        Vec::new(),
    )
    .await?;
    Ok(json_bytes(bytes))
}
