//! The standard HTTP stack and server lifecycle: the router tail every service ends with,
//! the outer layers, loading data in the background behind `/ready`, serving with graceful
//! shutdown.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::metrics::HttpMetrics;
use crate::problem::not_found_fallback;
use crate::readiness::HasReadiness;

/// Body of `GET /health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    /// Service name.
    pub service: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// Adds the layers every service uses: request tracing (INFO per response), a request timeout
/// (answering 408), and response compression. Body limits are set per route with axum's
/// `DefaultBodyLimit`, so that oversize bodies become problem+json 413s.
pub fn with_standard_layers(router: Router, timeout: Duration) -> Router {
    router
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining connections");
}

/// A bound service, not yet serving: what each service's `startup::build` returns.
pub struct BoundServer {
    name: &'static str,
    listener: TcpListener,
    router: Router,
}

impl BoundServer {
    /// A server named `name` (for the logs) that will serve `router` on `listener`.
    pub fn new(name: &'static str, listener: TcpListener, router: Router) -> Self {
        Self {
            name,
            listener,
            router,
        }
    }

    /// The bound port (useful when binding port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "{} listening", self.name);
        serve(self.listener, self.router, shutdown).await
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// `GET /health` for a service.
pub fn health_route<S: Clone + Send + Sync + 'static>(
    service: &'static str,
    version: &'static str,
) -> Router<S> {
    Router::new().route(
        "/health",
        get(move || async move {
            axum::Json(Health {
                status: "ok",
                service,
                version,
            })
        }),
    )
}

/// The tail every service's API router ends with: `GET /metrics` (Prometheus text from
/// `metrics`), `GET /health`, the problem+json 404 fallback, and per-route request metrics
/// around all of it.
pub fn api_tail(
    api: Router,
    service: &'static str,
    version: &'static str,
    metrics: &HttpMetrics,
) -> Router {
    let api = api
        .merge(
            Router::new()
                .route("/metrics", get(crate::metrics::metrics_handler))
                .with_state(metrics.clone()),
        )
        .merge(health_route(service, version))
        .fallback(not_found_fallback);
    tracked(api, metrics)
}

/// `router` with per-route request metrics (for routes kept outside [`api_tail`], such as a
/// Server-Sent Events stream that must not get the request timeout).
pub fn tracked(router: Router, metrics: &HttpMetrics) -> Router {
    router.layer(middleware::from_fn_with_state(
        metrics.clone(),
        crate::metrics::track,
    ))
}

/// Loads a service's data off the async runtime, then installs it and turns the service
/// ready; on failure logs the error and records it for `/ready`, leaving the service
/// not ready (its `/health` still answers). `what` names the data in the logs ("bars").
///
/// `load` runs on tokio's blocking pool (it may use rayon inside); `install` runs there too,
/// right after, before readiness turns on, so `/ready` never reports data that is not in
/// place.
pub fn load_in_background<S, T, E>(
    state: Arc<S>,
    what: &'static str,
    load: impl FnOnce(&S) -> Result<T, E> + Send + 'static,
    install: impl FnOnce(&S, T) + Send + 'static,
) -> tokio::task::JoinHandle<()>
where
    S: HasReadiness + Send + Sync + 'static,
    T: Send + 'static,
    E: Display + Send + 'static,
{
    tokio::spawn(async move {
        let st = Arc::clone(&state);
        let outcome = tokio::task::spawn_blocking(move || match load(&st) {
            Ok(data) => {
                install(&st, data);
                st.readiness().set_load_error(None);
                st.readiness().set_ready(true);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        })
        .await;
        match outcome {
            Ok(Ok(())) => tracing::info!("{what} loaded; ready"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot load the {what}; not ready");
                state.readiness().set_load_error(Some(e));
            }
            Err(e) => tracing::error!(error = %e, "loading the {what} was aborted"),
        }
    })
}
