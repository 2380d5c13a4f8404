//! `market-svc`: the volatility service's binary. Today it carries the `fit` command (fit one
//! series from a CSV file and print the report); `serve`, `worker` and `bench` join it as their
//! issues land.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use market_svc::fit_command::{self, FitArgs};

/// GARCH volatility forecasting: fit, serve, distribute, benchmark.
#[derive(Debug, Parser)]
#[command(name = "market-svc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fit one series from a CSV file and print the fit report with its forecast.
    Fit(FitArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit_command::run(&args, &mut std::io::stdout().lock()),
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
