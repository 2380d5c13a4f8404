//! # market-svc
//!
//! The volatility service: an axum adapter over `garch-core`. It loads the daily data at
//! start, fits every symbol on rayon, and serves fit reports and forecasts from a cache;
//! callers can post their own series. The crate is thin on purpose: parsing, validation
//! messages, caching and presentation live here, numerics do not.
//!
//! Layout (as zero2prod's): [`config`] (flags + env), [`startup`] (build and run the app),
//! [`routes`] (one module per resource: HTTP only), [`fitting`] (the app's work: load and fit
//! into the cache), [`live`] (appended closes, filtered forecasts, the refit policy),
//! [`api`] (wire types and parameter validation), [`state`] (data
//! snapshot, fit cache, metrics), [`universe`] (the loaded data set), [`openapi`],
//! [`distributed`] (NATS JetStream coordinator and worker), and [`commands`] (the binary's
//! subcommands: serve, fit, worker, bench).

pub mod api;
pub mod backtest_report;
pub mod backtests;
pub mod commands;
pub mod config;
pub mod distributed;
pub mod fitting;
pub mod live;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod universe;
