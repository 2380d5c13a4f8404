//! `POST /v1/assets/{symbol}/prices`: append daily closes, all or nothing, durably; the
//! symbol's cached forecasts follow without a refit ([`crate::live`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use svc_kit::auth::require_bearer_if_configured;
use svc_kit::problem::{ApiJson, Problem};

use crate::api::{AppendPricesRequest, AppendPricesResponse};
use crate::live::append_closes;
use crate::state::AppState;

/// Appends daily closes to a symbol. Nothing is applied unless every close is valid; a 200
/// means the closes are in the durable store (fsync'd) and replayed after a restart, and the
/// symbol's cached forecasts start from the new last date (the estimated parameters filtered
/// through the new returns; `fitted_through` says when they were estimated).
#[utoipa::path(post, path = "/v1/assets/{symbol}/prices", tag = "assets",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME")),
    request_body = AppendPricesRequest,
    responses((status = 200, description = "Appended and durably stored",
            body = AppendPricesResponse),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 409, description = "A date not after the previous one (or the symbol's \
            last date); nothing was applied", body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, description = "A malformed date, a close that is not positive and \
            finite, or too many closes; nothing was applied", body = Problem),
        (status = 503, description = "The store could not be written: nothing was applied",
            body = Problem)),
    security((), ("bearer" = [])))]
pub async fn append(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    headers: HeaderMap,
    body: Result<ApiJson<AppendPricesRequest>, Problem>,
) -> Response {
    // The token before the body: an unauthenticated caller learns nothing about the API.
    if let Err(refused) = require_bearer_if_configured(state.token.as_deref(), &headers) {
        return refused.into_response();
    }
    let ApiJson(req) = match body {
        Ok(body) => body,
        Err(problem) => return problem.into_response(),
    };
    // The fsync blocks: off the runtime's workers.
    let outcome: Result<AppendPricesResponse, Problem> =
        match tokio::task::spawn_blocking(move || append_closes(&state, &symbol, &req)).await {
            Ok(r) => r,
            Err(e) => Err(Problem::internal(format!("the append was aborted: {e}"))),
        };
    match outcome {
        Ok(body) => Json(body).into_response(),
        Err(p) => p.into_response(),
    }
}
