//! # tui-client
//!
//! A terminal dashboard over market-svc (GARCH volatility forecasts) and signals-svc
//! (RSI/Bollinger signals). It talks to them over HTTP only; by default it starts both in its
//! own process on free local ports, so one command shows the whole system.
//!
//! Layout, as ratatui's async examples:
//! * [`app`]: state and update logic — pure, unit-tested; keys, ticks and API results in,
//!   [`app::Command`]s out. Split by concept: key bindings, refresh, and one module per view.
//! * [`ui`]: rendering, one module per view plus shared widgets; tested with `TestBackend`.
//! * [`client`]: the typed HTTP client of both services, with its own response structs.
//! * [`event`]: terminal keys → [`app::Key`], commands → spawned fetch tasks.
//! * [`tui`]: terminal setup/restore and the `tokio::select!` event loop.
//! * [`services`]: in-process start of the services.

pub mod app;
pub mod client;
pub mod event;
pub mod services;
pub mod tui;
pub mod ui;
