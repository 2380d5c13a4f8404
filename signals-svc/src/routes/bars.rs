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

/// Appends bars to a symbol (token-protected). Nothing is applied unless every bar is valid.
#[utoipa::path(post, path = "/v1/assets/{symbol}/bars", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME")), request_body = AppendRequest,
    responses((status = 200, body = AppendResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 403, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
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
    let mut books = state.write();
    let Some((name, book)) = books
        .iter_mut()
        .find(|(s, _)| s.eq_ignore_ascii_case(&symbol))
    else {
        return Problem::not_found("symbol", format!("unknown symbol '{symbol}'")).into_response();
    };
    let bars = match validate(&req, book.bars.last().map(|b| b.timestamp)) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    let previous = book.live.last().map(|p| p.position);
    // Closes were validated finite, so the live update cannot fail; apply everything.
    for bar in &bars {
        if let Err(e) = book.live.update(bar.close) {
            return Problem::internal(e.to_string()).into_response();
        }
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
    Json(AppendResponse {
        symbol: name.clone(),
        appended: bars.len(),
        bars: book.bars.len(),
        latest,
    })
    .into_response()
}
