//! `market-svc serve`: the REST service until SIGTERM or ctrl-c, then a graceful drain.

use crate::config::ServeConfig;
use crate::startup;

/// Runs the service with `config`.
pub fn run(config: ServeConfig) -> anyhow::Result<()> {
    svc_kit::telemetry::init(config.log_format);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = startup::build(&config).await?;
        app.run_until(svc_kit::server::shutdown_signal()).await?;
        anyhow::Ok(())
    })
}
