//! # svc-kit
//!
//! What both HTTP services (`market-svc`, `signals-svc`) need and neither should write twice:
//!
//! * [`auth`]: bearer-token protection of the mutating and expensive endpoints.
//! * [`budget`]: a bounded work budget that sheds expensive requests with 503 + Retry-After.
//! * [`problem`]: RFC 9457 `application/problem+json` errors, and extractors that turn bad
//!   queries and bodies into problems naming the field.
//! * [`openapi`]: what every generated OpenAPI document needs to be valid and truthful.
//! * [`metrics`]: a per-app Prometheus registry (no global state, so tests can run many apps in
//!   one process) and the middleware that counts requests per route and status.
//! * [`telemetry`]: `tracing` subscriber setup, text or JSON.
//! * [`readiness`]: `/ready` — loaded, loading, or why loading failed.
//! * [`server`]: the router tail (metrics, health, 404 fallback, request metrics), the
//!   standard layer stack (tracing, timeout, compression), loading data in the background,
//!   and serving with graceful shutdown on SIGTERM/ctrl-c.
//! * `testing` (cargo feature `testing`): the HTTP test helpers both services' tests use.

pub mod auth;
pub mod budget;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod readiness;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
