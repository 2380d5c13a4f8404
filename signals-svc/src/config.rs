//! `signals-svc serve` configuration: flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use svc_kit::telemetry::LogFormat;

/// Arguments of `signals-svc serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SIGNALS_SVC_ADDR", default_value = "0.0.0.0:8002")]
    pub addr: SocketAddr,
    /// Five-minute bars (CSV, or Parquet with the `parquet` feature; long format
    /// `timestamp,symbol,open,high,low,close,volume`).
    #[arg(
        long,
        env = "SIGNALS_SVC_DATA",
        default_value = "data/simulated_5min_data.csv"
    )]
    pub bars: PathBuf,
    /// Folder of the durable store of appended bars (`signals.sqlite3` inside): every
    /// appended bar is written there before it is acknowledged and replayed at start
    /// [default: a `store` folder beside the bar file].
    #[arg(long, env = "SIGNALS_SVC_STORE")]
    pub store: Option<PathBuf>,
    /// Bearer token required by `POST /v1/assets/{symbol}/bars`; without one, appends are
    /// refused.
    #[arg(long, env = "SIGNALS_SVC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Log format.
    #[arg(long, env = "SIGNALS_SVC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Per-request timeout in seconds (SSE streams are exempt).
    #[arg(long, env = "SIGNALS_SVC_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "SIGNALS_SVC_BODY_LIMIT", default_value_t = 4 * 1024 * 1024)]
    pub body_limit: usize,
}

/// Name of the store file inside the store folder.
pub const STORE_FILE: &str = "signals.sqlite3";

impl ServeConfig {
    /// The store file: `--store` (a folder) or a `store` folder beside the bar file, with
    /// [`STORE_FILE`] inside.
    pub fn store_file(&self) -> PathBuf {
        let dir = self.store.clone().unwrap_or_else(|| {
            self.bars
                .parent()
                .map_or_else(|| PathBuf::from("store"), |d| d.join("store"))
        });
        dir.join(STORE_FILE)
    }
}
