//! market-svc over real HTTP: every endpoint and every error, against the real app started on a
//! random port with data files written by the test.

mod helpers;
#[path = "../support/mod.rs"]
mod support;

mod admin;
mod assets;
mod backtests;
mod durability;
mod fit_posted;
mod prices;
mod system;
mod volatility;
