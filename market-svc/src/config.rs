//! `market-svc serve` configuration: flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use svc_kit::telemetry::LogFormat;

/// Arguments of `market-svc serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "MARKET_SVC_ADDR", default_value = "0.0.0.0:8001")]
    pub addr: SocketAddr,
    /// Daily price data (CSV: `date,symbol,…,close` long format, or `date,close`).
    #[arg(
        long,
        env = "MARKET_SVC_DATA",
        default_value = "data/simulated_daily_data.csv"
    )]
    pub data: PathBuf,
    /// Bearer token required by `POST /v1/data/reload`; without one, reloads are refused.
    #[arg(long, env = "MARKET_SVC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Log format.
    #[arg(long, env = "MARKET_SVC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Per-request timeout in seconds.
    #[arg(long, env = "MARKET_SVC_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "MARKET_SVC_BODY_LIMIT", default_value_t = 4 * 1024 * 1024)]
    pub body_limit: usize,
}
