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
    /// Five-minute bars of the same symbols, for realized volatility in `…/history` (optional:
    /// without the file the history has no realized volatility).
    #[arg(
        long,
        env = "MARKET_SVC_BARS",
        default_value = "data/simulated_5min_data.csv"
    )]
    pub bars: PathBuf,
    /// Folder of the durable store of appended daily closes (`market.sqlite3` inside): every
    /// appended close is written there before it is acknowledged and replayed at start and on
    /// reload [default: a `store` folder beside the data file].
    #[arg(long, env = "MARKET_SVC_STORE")]
    pub store: Option<PathBuf>,
    /// Re-estimate a model in the background once this many closes were appended since its
    /// estimation (until then the new returns are filtered through its parameters); 0: only
    /// on `POST /v1/fits`.
    #[arg(long, env = "MARKET_SVC_REFIT_EVERY", default_value_t = 20)]
    pub refit_every: usize,
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
    /// Distributed fitting (`POST /v1/fits` with `mode=distributed`).
    #[command(flatten)]
    pub distributed: DistributedConfig,
    /// The work budget of the expensive routes (posted fits, refits, reloads).
    #[command(flatten)]
    pub budget: BudgetConfig,
}

/// Name of the store file inside the store folder.
pub const STORE_FILE: &str = "market.sqlite3";

impl ServeConfig {
    /// The store file: `--store` (a folder) or a `store` folder beside the data file, with
    /// [`STORE_FILE`] inside.
    pub fn store_file(&self) -> PathBuf {
        let dir = self.store.clone().unwrap_or_else(|| {
            self.data
                .parent()
                .map_or_else(|| PathBuf::from("store"), |d| d.join("store"))
        });
        dir.join(STORE_FILE)
    }
}

/// How many expensive requests run and wait at once; beyond that they are shed with 503 and
/// `Retry-After`.
#[derive(Debug, Clone, Args)]
pub struct BudgetConfig {
    /// Expensive requests running at once [default: the number of cores].
    #[arg(long, env = "MARKET_SVC_MAX_RUNNING")]
    pub max_running: Option<usize>,
    /// Expensive requests waiting for a running slot [default: the number of cores].
    #[arg(long, env = "MARKET_SVC_MAX_QUEUED")]
    pub max_queued: Option<usize>,
    /// Longest an expensive request waits for a slot, in seconds.
    #[arg(long, env = "MARKET_SVC_QUEUE_WAIT", default_value_t = 2.0)]
    pub queue_wait: f64,
    /// Longest a backtest request waits for its computation, in seconds, before answering
    /// 202 (pending, retry later); the computation goes on and is cached.
    #[arg(long, env = "MARKET_SVC_BACKTEST_WAIT", default_value_t = 20.0)]
    pub backtest_wait: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            max_running: None,
            max_queued: None,
            queue_wait: 2.0,
            backtest_wait: 20.0,
        }
    }
}

impl BudgetConfig {
    /// The limits, defaults filled in from this machine.
    pub fn limits(&self) -> anyhow::Result<svc_kit::budget::BudgetLimits> {
        anyhow::ensure!(
            self.queue_wait.is_finite() && self.queue_wait >= 0.0,
            "--queue-wait must be a non-negative number of seconds"
        );
        anyhow::ensure!(
            self.backtest_wait.is_finite() && self.backtest_wait >= 0.0,
            "--backtest-wait must be a non-negative number of seconds"
        );
        let machine = svc_kit::budget::BudgetLimits::for_this_machine();
        Ok(svc_kit::budget::BudgetLimits {
            concurrency: self.max_running.unwrap_or(machine.concurrency).max(1),
            queue: self.max_queued.unwrap_or(machine.queue),
            queue_wait: std::time::Duration::from_secs_f64(self.queue_wait),
        })
    }
}

/// Where and how `mode=distributed` fits run.
#[derive(Debug, Clone, Args)]
pub struct DistributedConfig {
    /// NATS server with JetStream, where `market-svc worker` processes pull fit chunks.
    /// Without it, `mode=distributed` answers 503.
    #[arg(long = "nats", env = "NATS_URL")]
    pub nats: Option<String>,
    /// Seconds to wait for the workers' results; keep it below the request timeout.
    #[arg(long, env = "MARKET_SVC_DISTRIBUTED_DEADLINE", default_value_t = 50.0)]
    pub distributed_deadline: f64,
    /// Symbols per chunk sent to a worker.
    #[arg(long, env = "MARKET_SVC_CHUNK_SIZE", default_value_t = 25,
        value_parser = clap::value_parser!(u16).range(1..=200))]
    pub chunk_size: u16,
    /// Seconds a chunk may stay un-acked before redelivery (when this process creates the
    /// shared consumer; workers keep long chunks alive with progress acks).
    #[arg(long, env = "MARKET_SVC_ACK_WAIT", default_value_t = 30.0)]
    pub ack_wait: f64,
}

impl Default for DistributedConfig {
    fn default() -> Self {
        Self {
            nats: None,
            distributed_deadline: 50.0,
            chunk_size: 25,
            ack_wait: 30.0,
        }
    }
}
