//! HTTP routes, one module per resource.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

pub mod bars;
pub mod compute;
pub mod signals;
pub mod stream;
pub mod system;

/// The API router without the outer layers; `stream` holds the SSE route, which must not
/// get the request timeout.
pub fn router(state: Arc<AppState>, body_limit: usize) -> (Router, Router) {
    let metrics = state.http_metrics.clone();
    let api = Router::new()
        .route("/ready", get(system::ready))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/assets", get(signals::list))
        .route("/v1/assets/{symbol}/signals", get(signals::asset_signals))
        .route("/v1/assets/{symbol}/bars", post(bars::append))
        .route("/v1/signals", get(signals::screener))
        .route("/v1/signals/compute", post(compute::compute))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(Arc::clone(&state));
    let api = svc_kit::server::api_tail(api, "signals-svc", env!("CARGO_PKG_VERSION"), &metrics);
    let stream = Router::new()
        .route("/v1/stream", get(stream::stream))
        .with_state(state);
    (api, svc_kit::server::tracked(stream, &metrics))
}
