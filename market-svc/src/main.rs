//! `market-svc`: the volatility service's binary: `serve` (the REST service) and `fit` (one
//! series from a CSV file); `worker` and `bench` join them with the distributed issue.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use market_svc::config::ServeConfig;
use market_svc::fit_command::{self, FitArgs};
use market_svc::startup::Application;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit_command::run(&args, &mut std::io::stdout().lock()),
        Command::Serve(config) => serve(config),
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
        let app = Application::build(&config).await?;
        app.run_until(svc_kit::server::shutdown_signal()).await?;
        anyhow::Ok(())
    })
}
