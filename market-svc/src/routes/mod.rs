//! HTTP routes, one module per resource.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use svc_kit::problem::not_found_fallback;

use crate::state::AppState;

pub mod admin;
pub mod assets;
pub mod system;
pub mod volatility;

/// The API router (without the outer layers).
pub fn router(state: Arc<AppState>, body_limit: usize) -> Router {
    let metrics = state.http_metrics.clone();
    Router::new()
        .route("/ready", get(system::ready))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/assets", get(assets::list))
        .route(
            "/v1/assets/{symbol}/volatility",
            get(volatility::asset_volatility),
        )
        .route("/v1/assets/{symbol}/history", get(assets::history))
        .route("/v1/volatility", get(volatility::screener))
        .route("/v1/volatility/fit", post(volatility::fit_posted))
        .route("/v1/fits", post(admin::refit))
        .route("/v1/data/reload", post(admin::reload))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
        .merge(
            Router::new()
                .route("/metrics", get(svc_kit::metrics::metrics_handler))
                .with_state(metrics.clone()),
        )
        .merge(svc_kit::server::health_route(
            "market-svc",
            env!("CARGO_PKG_VERSION"),
        ))
        .fallback(not_found_fallback)
        .layer(middleware::from_fn_with_state(
            metrics,
            svc_kit::metrics::track,
        ))
}
