//! `POST /v1/assets/{symbol}/bars`: append bars, all or nothing, updating the indicators
//! incrementally and announcing signal changes on the stream.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use market_data::Bar;
use svc_kit::auth::require_bearer;
use svc_kit::problem::{ApiJson, Problem};

use crate::api::{AppendRequest, AppendResponse, Latest, SignalEvent};
use crate::bars_input::parse_timestamp;
use crate::state::AppState;

/// Validates the posted bars against each other and the symbol's last bar.
fn validate(req: &AppendRequest, last: Option<i64>) -> Result<Vec<Bar>, Problem> {
    if req.bars.is_empty() {
        return Err(Problem::unprocessable("bars", "no bars to append"));
    }
    let mut prev = last;
    let mut out = Vec::with_capacity(req.bars.len());
    for (i, b) in req.bars.iter().enumerate() {
        let f = |name: &str| format!("bars[{i}].{name}");
        let ts = parse_timestamp(&b.timestamp).ok_or_else(|| {
            Problem::unprocessable(
                &f("timestamp"),
                format!("'{}' is not an RFC 3339 timestamp", b.timestamp),
            )
        })?;
        for (name, v) in [
            ("open", b.open),
            ("high", b.high),
            ("low", b.low),
            ("close", b.close),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Problem::unprocessable(
                    &f(name),
                    format!("{name} must be positive and finite, got {v}"),
                ));
            }
        }
        if !(b.volume.is_finite() && b.volume >= 0.0) {
            return Err(Problem::unprocessable(
                &f("volume"),
                "volume must be finite and non-negative",
            ));
        }
        if b.high < b.open.max(b.close).max(b.low) || b.low > b.open.min(b.close) {
            return Err(Problem::unprocessable(
                &f("high"),
                "high/low do not bracket open and close",
            ));
        }
        if let Some(p) = prev
            && ts <= p
        {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "out-of-order",
                format!("bar {i} at {} is not after the previous bar", b.timestamp),
            )
            .with_field(f("timestamp")));
        }
        prev = Some(ts);
        out.push(Bar {
            timestamp: ts,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
        });
    }
    Ok(out)
}

/// Appends bars to a symbol (token-protected). Nothing is applied unless every bar is valid;
/// a 200 means the bars are in the durable store (fsync'd), and replayed after a restart.
#[utoipa::path(post, path = "/v1/assets/{symbol}/bars", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME")), request_body = AppendRequest,
    responses((status = 200, description = "Appended and durably stored", body = AppendResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 403, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 503, description = "The store could not be written: nothing was applied",
            body = Problem)),
    security(("bearer" = [])))]
pub async fn append(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AppendRequest>,
) -> Response {
    if let Err(refused) = require_bearer(state.token.as_deref(), &headers, "SIGNALS_SVC_TOKEN") {
        return refused.into_response();
    }
    // The fsync blocks: off the runtime's workers.
    match tokio::task::spawn_blocking(move || append_serialised(&state, &symbol, &req)).await {
        Ok(Ok(body)) => Json(body).into_response(),
        Ok(Err(problem)) => problem.into_response(),
        Err(e) => Problem::internal(format!("the append was aborted: {e}")).into_response(),
    }
}

/// Validates, stores durably, then applies, under the append lock (blocking).
fn append_serialised(
    state: &AppState,
    symbol: &str,
    req: &AppendRequest,
) -> Result<AppendResponse, Problem> {
    let _serial = state.append_lock.lock().unwrap_or_else(|p| p.into_inner());
    let (name, last) = {
        let books = state.read();
        let (name, book) = books
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(symbol))
            .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
        (name.clone(), book.bars.last().map(|b| b.timestamp))
    };
    let bars = validate(req, last)?;
    // Durable before visible: if the write fails nothing is applied and the caller is told.
    state.store.append_bars(&name, &bars).map_err(|e| {
        tracing::error!(error = %e, "append not stored");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            format!("the bars were not stored, nothing was applied: {e}"),
        )
        .with_field("bars")
    })?;
    let mut books = state.write();
    let book = books
        .get_mut(&name)
        .ok_or_else(|| Problem::internal(format!("{name} vanished during the append")))?;
    let previous = book.live.last().map(|p| p.position);
    // Closes were validated finite, so the live update cannot fail.
    for bar in &bars {
        book.live
            .update(bar.close)
            .map_err(|e| Problem::internal(e.to_string()))?;
    }
    book.bars.extend_from_slice(&bars);
    let timestamps = book.timestamps();
    let latest = book
        .live
        .summary()
        .map(|s| Latest::from_summary(&s, &timestamps));
    if let (Some(prev), Some(l)) = (previous, latest.as_ref())
        && prev != l.signal
    {
        // No subscribers is fine.
        let _ = state.events.send(SignalEvent {
            symbol: name.clone(),
            previous: prev,
            signal: l.signal,
            latest: l.clone(),
        });
    }
    Ok(AppendResponse {
        symbol: name,
        appended: bars.len(),
        bars: book.bars.len(),
        latest,
    })
}
