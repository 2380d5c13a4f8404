//! Signals per asset and the screener.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use indicators::compute;
use market_data::{Bar, Interval, Session, resample};
use svc_kit::problem::{ApiQuery, Problem};

use crate::api::{
    AssetBars, Latest, Points, ScreenerResponse, ScreenerRow, SignalParams, SignalQuery,
    SignalsResponse,
};
use crate::bars_input::format_timestamp;
use crate::state::AppState;

/// Symbols with bar counts and time range.
#[utoipa::path(get, path = "/v1/assets", tag = "signals",
    responses((status = 200, body = [AssetBars])))]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<AssetBars>> {
    let books = state.read();
    Json(
        books
            .iter()
            .map(|(symbol, book)| AssetBars {
                symbol: symbol.clone(),
                bars: book.bars.len(),
                first_timestamp: book
                    .bars
                    .first()
                    .map(|b| format_timestamp(b.timestamp))
                    .unwrap_or_default(),
                last_timestamp: book
                    .bars
                    .last()
                    .map(|b| format_timestamp(b.timestamp))
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

/// Indicators over `bars` resampled to the requested interval.
pub fn evaluate(
    bars: &[Bar],
    params: &SignalParams,
    points: bool,
) -> Result<(Option<Latest>, Points), Problem> {
    let resampled;
    let bars = if params.interval == Interval::M5 {
        bars
    } else {
        resampled = resample(bars, Interval::M5, params.interval, &Session::us_equities())
            .map_err(|e| Problem::internal(format!("resampling: {e}")))?;
        &resampled
    };
    let close: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let ts: Vec<i64> = bars.iter().map(|b| b.timestamp).collect();
    let series = compute(&close, &params.config).map_err(|e| Problem::internal(e.to_string()))?;
    let latest = series.latest(&close).map(|s| Latest::from_summary(&s, &ts));
    let mut out = Points::default();
    if points {
        let start = close.len().saturating_sub(params.limit);
        out.timestamps = ts[start..].iter().map(|&t| format_timestamp(t)).collect();
        out.close = close[start..].to_vec();
        out.rsi = series.rsi.iter().skip(start).collect();
        out.bb_upper = series.upper.iter().skip(start).collect();
        out.bb_middle = series.middle.iter().skip(start).collect();
        out.bb_lower = series.lower.iter().skip(start).collect();
    }
    Ok((latest, out))
}

/// Latest values and signal with reasons, plus the last `limit` points for charts.
#[utoipa::path(get, path = "/v1/assets/{symbol}/signals", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME"), SignalQuery),
    responses((status = 200, body = SignalsResponse), (status = 400, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem)))]
pub async fn asset_signals(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    ApiQuery(q): ApiQuery<SignalQuery>,
) -> Result<Json<SignalsResponse>, Problem> {
    let params = q.parse()?;
    let books = state.read();
    let (name, book) = books
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(&symbol))
        .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
    let (latest, points) = evaluate(&book.bars, &params, true)?;
    Ok(Json(SignalsResponse {
        symbol: name.clone(),
        interval: params.interval,
        latest,
        points,
    }))
}

fn key(row: &ScreenerRow, column: &str) -> Option<f64> {
    let l = row.latest.as_ref()?;
    match column {
        "rsi" => l.rsi,
        "percent_b" => l.percent_b,
        "bandwidth" => l.bandwidth,
        "signal" => Some(f64::from(l.signal.direction())),
        _ => None,
    }
}

/// One row per symbol with the latest RSI, %B, bandwidth and signal; sortable.
#[utoipa::path(get, path = "/v1/signals", tag = "signals", params(SignalQuery),
    responses((status = 200, body = ScreenerResponse), (status = 400, body = Problem)))]
pub async fn screener(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SignalQuery>,
) -> Result<Json<ScreenerResponse>, Problem> {
    let params = q.parse()?;
    let column = q.sort.as_deref().unwrap_or("symbol");
    if !["symbol", "rsi", "percent_b", "bandwidth", "signal"].contains(&column) {
        return Err(Problem::invalid_parameter(
            "sort",
            format!(
                "unknown sort column '{column}'; expected symbol, rsi, percent_b, bandwidth or signal"
            ),
        ));
    }
    let descending = match q.order.as_deref().unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(Problem::invalid_parameter(
                "order",
                format!("order must be asc or desc, got '{other}'"),
            ));
        }
    };
    let mut rows = Vec::new();
    {
        let books = state.read();
        for (symbol, book) in books.iter() {
            let (latest, _) = evaluate(&book.bars, &params, false)?;
            rows.push(ScreenerRow {
                symbol: symbol.clone(),
                latest,
            });
        }
    }
    if column != "symbol" {
        // Missing values sort last in either order.
        rows.sort_by(|a, b| match (key(a, column), key(b, column)) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if descending { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
    } else if descending {
        rows.reverse();
    }
    Ok(Json(ScreenerResponse {
        interval: params.interval,
        rows,
    }))
}
