//! Readiness and the OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use svc_kit::problem::Problem;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Ready when the bars are loaded.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200), (status = 503, body = Problem)))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.readiness.is_ready() {
        let symbols = state.read().len();
        Json(serde_json::json!({"ready": true, "symbols": symbols})).into_response()
    } else {
        state
            .readiness
            .not_ready("the bars", "bars are loading")
            .into_response()
    }
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(svc_kit::openapi::finish(ApiDoc::openapi()))
}
