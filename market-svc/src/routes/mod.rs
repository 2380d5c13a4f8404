//! HTTP routes, one module per resource.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::distributed::DistributedError;
use crate::state::AppState;

pub mod admin;
pub mod assets;
pub mod backtests;
pub mod prices;
pub mod stream;
pub mod system;
pub mod volatility;

/// `mode=distributed` on an instance without NATS: 503 naming `mode`.
pub(crate) fn distributed_unavailable() -> svc_kit::problem::Problem {
    svc_kit::problem::Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "distributed-unavailable",
        "mode=distributed runs on NATS JetStream workers, and this instance has no NATS server \
         configured: start it with --nats URL (or NATS_URL) and run `market-svc worker --nats \
         URL`; or use mode sequential or parallel",
    )
    .with_field("mode")
}

/// A distributed job that could not run: 503 naming `mode`, its kind saying why (no worker
/// answered, NATS unreachable, or the job was refused). Logged with the (redacted) URL.
pub(crate) fn distributed_failed(e: DistributedError, url: &str) -> svc_kit::problem::Problem {
    let kind = match e {
        DistributedError::NoResults { .. } => "no-workers",
        DistributedError::Nats(_) => "nats-unavailable",
        DistributedError::InvalidJob(_) => "distributed-failed",
    };
    tracing::warn!(error = %e, %url, "distributed job failed");
    svc_kit::problem::Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        kind,
        e.to_string(),
    )
    .with_field("mode")
}

/// The API router (without the outer layers).
pub fn router(state: Arc<AppState>, body_limit: usize) -> Router {
    let metrics = state.http_metrics.clone();
    let api = Router::new()
        .route("/ready", get(system::ready))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/assets", get(assets::list))
        .route(
            "/v1/assets/{symbol}/volatility",
            get(volatility::asset_volatility),
        )
        .route("/v1/assets/{symbol}/history", get(assets::history))
        .route(
            "/v1/assets/{symbol}/backtest",
            get(backtests::asset_backtest),
        )
        .route("/v1/assets/{symbol}/models", get(backtests::asset_models))
        .route("/v1/backtests", post(backtests::universe_backtest))
        .route("/v1/assets/{symbol}/prices", post(prices::append))
        .route("/v1/volatility", get(volatility::screener))
        .route("/v1/volatility/fit", post(volatility::fit_posted))
        .route("/v1/fits", post(admin::refit))
        .route("/v1/data/reload", post(admin::reload))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);
    svc_kit::server::api_tail(api, "market-svc", env!("CARGO_PKG_VERSION"), &metrics)
}

/// The SSE stream, kept apart from [`router`]: it must not get the request timeout.
pub fn stream_router(state: Arc<AppState>) -> Router {
    let metrics = state.http_metrics.clone();
    let stream = Router::new()
        .route("/v1/stream", get(stream::stream))
        .with_state(state);
    svc_kit::server::tracked(stream, &metrics)
}
