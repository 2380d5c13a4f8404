//! `tui-client`: the terminal dashboard. Without URLs it starts market-svc and signals-svc in
//! this process on the bundled data; with `--market-url`/`--signals-url` (or `MARKET_URL`,
//! `SIGNALS_URL`) it connects to running services instead.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tui_client::app::{App, ServiceStatus};
use tui_client::client::{ApiClient, Endpoints, Tokens};
use tui_client::services;

/// Terminal dashboard over market-svc and signals-svc.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// market-svc base URL; without it, market-svc is started in-process.
    #[arg(long, env = "MARKET_URL")]
    market_url: Option<String>,
    /// signals-svc base URL; without it, signals-svc is started in-process.
    #[arg(long, env = "SIGNALS_URL")]
    signals_url: Option<String>,
    /// Bearer token of an external market-svc, for its protected routes (the Benchmark view's
    /// refits). The compose stack's is in compose/.env.
    #[arg(long, env = "MARKET_SVC_TOKEN", hide_env_values = true)]
    market_token: Option<String>,
    /// Bearer token of an external signals-svc.
    #[arg(long, env = "SIGNALS_SVC_TOKEN", hide_env_values = true)]
    signals_token: Option<String>,
    /// Data directory of the in-process services.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Refresh (and retry) interval in seconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    refresh: u64,
}

/// mimalloc, as market-svc's binary (see there): the in-process services fit and backtest in
/// loops, which glibc's allocator makes pay for page faults on every fit.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut notes = services::data_notes(&cli.data_dir, cli.market_url.is_none());
    // Keep the in-process services alive for the whole session.
    let mut running = Vec::new();
    // In-process market-svc gets NATS and workers of its own where nats-server is installed,
    // so that the Benchmark view's distributed mode runs too.
    let cluster = match cli.market_url {
        Some(_) => None,
        None => services::start_cluster(services::LOCAL_WORKERS)
            .inspect_err(|e| {
                notes.push(format!(
                    "distributed mode unavailable in-process: {e}; sequential and parallel \
                     still run"
                ))
            })
            .ok(),
    };
    let (market, market_origin) = match cli.market_url {
        Some(url) => (Ok(url), "external"),
        None => {
            match services::start_market(&cli.data_dir, cluster.as_ref().map(|c| c.url())).await {
                Ok(svc) => {
                    let url = svc.url.clone();
                    running.push(svc);
                    (Ok(url), "in-process")
                }
                Err(e) => (
                    Err(format!("could not start market-svc: {e:#}")),
                    "in-process",
                ),
            }
        }
    };
    let (signals, signals_origin) = match cli.signals_url {
        Some(url) => (Ok(url), "external"),
        None => match services::start_signals(&cli.data_dir).await {
            Ok(svc) => {
                let url = svc.url.clone();
                running.push(svc);
                (Ok(url), "in-process")
            }
            Err(e) => (Err(format!("{e:#}")), "in-process"),
        },
    };
    for (name, r) in [("market-svc", &market), ("signals-svc", &signals)] {
        if let Err(e) = r {
            notes.push(format!("{name}: {e}"));
        }
    }
    let client = ApiClient::new(Endpoints {
        market: market.clone(),
        signals: signals.clone(),
    })
    .with_tokens(Tokens {
        market: cli.market_token,
        signals: cli.signals_token,
    });
    let mut app = App::new(
        ServiceStatus::new(market, market_origin),
        ServiceStatus::new(signals, signals_origin),
        Duration::from_secs(cli.refresh),
    );
    app.notes = notes;
    let result = tui_client::tui::run(&mut app, client).await;
    for svc in running {
        svc.stop();
    }
    drop(cluster);
    result
}
