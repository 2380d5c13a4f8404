//! `signals-svc`: the trading-signal service's binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use signals_svc::config::ServeConfig;
use signals_svc::startup;

/// RSI/Bollinger trading signals over REST and SSE.
#[derive(Debug, Parser)]
#[command(name = "signals-svc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the REST service.
    Serve(ServeConfig),
}

fn main() -> ExitCode {
    let Command::Serve(config) = Cli::parse().command;
    svc_kit::telemetry::init(config.log_format);
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                let app = startup::build(&config).await?;
                app.run_until(svc_kit::server::shutdown_signal()).await?;
                anyhow::Ok(())
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signals-svc: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
