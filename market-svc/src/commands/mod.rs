//! The binary's subcommands, one module each: what `market-svc --help` lists.
//!
//! * [`serve`]: the REST service.
//! * [`fit`]: fit one series from a file and print the report and forecast.
//! * [`backtest`]: rolling re-estimation backtest of one series (VaR/ES, coverage, losses).
//! * [`worker`]: a distributed fit worker on NATS JetStream.
//! * `bench` (cargo feature `bench`, on by default): sequential vs parallel vs distributed,
//!   with charts. Behind a feature so that the dashboard, which embeds the service, does not
//!   compile the chart renderer.

pub mod backtest;
#[cfg(feature = "bench")]
pub mod bench;
pub mod fit;
pub mod serve;
pub mod worker;
