//! Prometheus metrics without global state.
//!
//! Each app owns a `prometheus_client` [`Registry`]; the HTTP middleware counts requests and
//! observes latencies per route template (`/v1/assets/{symbol}/volatility`, not the concrete
//! path, so cardinality stays bounded) and status. Services register their own metrics (fits
//! done, fit durations …) on the same registry.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Response status code.
    pub status: u16,
}

/// Labels of a route.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
}

/// Latency buckets from 25 µs to ~26 s.
pub fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_025, 2.0, 21))
}

/// HTTP request metrics.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    registry: Arc<Registry>,
}

impl HttpMetrics {
    /// Registers the HTTP metrics in `registry` and takes ownership of it for rendering.
    pub fn new(mut registry: Registry) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            duration.clone(),
        );
        Self {
            requests,
            duration,
            registry: Arc::new(registry),
        }
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Middleware recording every request.
pub async fn track(State(metrics): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    metrics
        .duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics` handler.
pub async fn metrics_handler(State(metrics): State<HttpMetrics>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
