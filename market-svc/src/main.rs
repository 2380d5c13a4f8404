//! `market-svc`: the volatility service's binary: `serve` (the REST service), `fit` (one
//! series from a CSV file), `worker` (a distributed fit worker on NATS JetStream) and `bench`
//! (sequential vs parallel vs distributed benchmark).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use market_svc::bench::BenchArgs;
use market_svc::config::ServeConfig;
use market_svc::distributed::{WorkerArgs, WorkerConfig, run_worker};
use market_svc::fit_command::{self, FitArgs};
use market_svc::startup;

/// GARCH volatility forecasting: fit and serve.
#[derive(Debug, Parser)]
#[command(name = "market-svc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the REST service.
    Serve(ServeConfig),
    /// Fit one series from a CSV file and print the fit report with its forecast.
    Fit(FitArgs),
    /// Run a distributed fit worker: pull chunks from NATS JetStream, fit, publish results.
    Worker(WorkerArgs),
    /// Benchmark sequential vs parallel vs distributed fitting (tables, JSON/CSV, charts).
    Bench(BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit_command::run(&args, &mut std::io::stdout().lock()),
        Command::Serve(config) => serve(config),
        Command::Worker(args) => worker(&args),
        Command::Bench(args) => market_svc::bench::run(&args, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One readable line, the whole chain of causes.
            eprintln!("market-svc: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: ServeConfig) -> anyhow::Result<()> {
    svc_kit::telemetry::init(config.log_format);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = startup::build(&config).await?;
        app.run_until(svc_kit::server::shutdown_signal()).await?;
        anyhow::Ok(())
    })
}

fn worker(args: &WorkerArgs) -> anyhow::Result<()> {
    svc_kit::telemetry::init(args.log_format);
    let config = WorkerConfig::from_args(args)?;
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()?;
    }
    // The async side only moves messages; the fitting runs on rayon.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_worker(config, svc_kit::server::shutdown_signal()))?;
    Ok(())
}
