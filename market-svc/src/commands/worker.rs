//! `market-svc worker`: pull fit chunks from NATS JetStream, fit them on rayon, publish the
//! reports (see [`crate::distributed`]).

use crate::distributed::{WorkerArgs, WorkerConfig, run_worker};

/// Runs a worker until SIGTERM or ctrl-c.
pub fn run(args: &WorkerArgs) -> anyhow::Result<()> {
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
