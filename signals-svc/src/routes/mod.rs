//! HTTP routes, one module per resource.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use svc_kit::problem::not_found_fallback;

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
        .with_state(Arc::clone(&state))
        .merge(
            Router::new()
                .route("/metrics", get(svc_kit::metrics::metrics_handler))
                .with_state(metrics.clone()),
        )
        .merge(svc_kit::server::health_route(
            "signals-svc",
            env!("CARGO_PKG_VERSION"),
        ))
        .fallback(not_found_fallback)
        .layer(middleware::from_fn_with_state(
            metrics.clone(),
            svc_kit::metrics::track,
        ));
    let stream = Router::new()
        .route("/v1/stream", get(stream::stream))
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            metrics,
            svc_kit::metrics::track,
        ));
    (api, stream)
}
