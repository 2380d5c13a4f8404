//! # signals-svc
//!
//! RSI/Bollinger trading signals from 5-minute bars: an axum adapter over
//! `indicators` (TA-Lib-exact RSI and Bollinger Bands, the mean-reversion signal,
//! resampling). It keeps each symbol's bars and a streaming indicator state, serves signals
//! per asset and as a screener, computes indicators for posted series, accepts appended bars
//! and announces signal changes over Server-Sent Events.
//!
//! Layout as market-svc's: [`config`], [`startup`], [`routes`], [`api`], [`state`],
//! [`bars_input`] (timestamps on the wire), [`openapi`]; shared plumbing comes from `svc-kit`.

pub mod api;
pub mod bars_input;
pub mod config;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
