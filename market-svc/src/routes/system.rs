//! Readiness and the OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use svc_kit::problem::Problem;
use utoipa::OpenApi;

use crate::api::{DataStatus, SkippedSymbol};
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Data status of a universe.
pub fn data_status(state: &AppState) -> DataStatus {
    let u = state.universe.load();
    DataStatus {
        source: u.source.display().to_string(),
        version: u.version,
        symbols: u.assets.len(),
        skipped: u
            .skipped
            .iter()
            .map(|(symbol, reason)| SkippedSymbol {
                symbol: symbol.clone(),
                reason: reason.clone(),
            })
            .collect(),
        warnings: u.warnings.clone(),
    }
}

/// Ready when the data is loaded and the first fits are done.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, body = DataStatus), (status = 503, body = Problem)))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.readiness.is_ready() {
        Json(data_status(&state)).into_response()
    } else {
        state
            .readiness
            .not_ready("the data", "data is loading and the first fits are running")
            .into_response()
    }
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(svc_kit::openapi::finish(ApiDoc::openapi()))
}
