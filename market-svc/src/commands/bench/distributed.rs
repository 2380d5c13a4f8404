//! The distributed mode: a local `nats-server` (or `--nats URL`), W worker processes of this
//! binary, and the coordinator's jobs timed like the other modes.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use garch_core::FitOptions;
use indicatif::ProgressBar;

use super::BenchArgs;
use super::report::ModeRow;
use super::workload::{Reports, Workload, measure_timed, row};
use crate::distributed::local_server::LocalNatsServer;
use crate::distributed::{Coordinator, CoordinatorConfig, JobRequest, Topology};

/// A child process killed on drop.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_pulls(js: &async_nats::jetstream::Context, topology: &Topology, n: usize) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok((_, _, mut c)) = topology.ensure(js).await
            && let Ok(info) = c.info().await
            && info.num_waiting >= n
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One job of the workload on the coordinator: its wall time in seconds and its results as
/// comparable text.
pub(super) type DistributedJob<'a> =
    dyn FnMut(&tokio::runtime::Runtime, &Coordinator) -> anyhow::Result<(f64, Reports)> + 'a;

/// The fit workload's distributed rows.
pub(super) fn distributed_rows(
    args: &BenchArgs,
    w: &Workload,
    reference: &Reports,
    seq_median: f64,
    bar: &ProgressBar,
    notes: &mut Vec<String>,
    rows: &mut Vec<ModeRow>,
) -> anyhow::Result<()> {
    let series: Vec<(String, Vec<f64>)> = w
        .symbols
        .iter()
        .cloned()
        .zip(w.returns.iter().map(|r| r.as_slice().to_vec()))
        .collect();
    let spec = w.spec;
    let mut job = |runtime: &tokio::runtime::Runtime, coordinator: &Coordinator| {
        let t = Instant::now();
        let outcome = runtime.block_on(coordinator.run(JobRequest {
            spec,
            options: FitOptions::default(),
            series: series.clone(),
            deadline: Duration::from_secs(600),
        }))?;
        anyhow::ensure!(
            outcome.is_complete(),
            "distributed run incomplete: {} symbols missing",
            outcome.missing.len()
        );
        let reports = outcome
            .symbols
            .into_iter()
            .map(|s| {
                s.outcome
                    .map(|r| serde_json::to_string(&r).expect("reports serialise"))
            })
            .collect();
        Ok((t.elapsed().as_secs_f64(), reports))
    };
    distributed_rows_with(args, reference, seq_median, bar, notes, rows, &mut job)
}

/// Distributed rows of any workload: per worker count, a NATS server (or `--nats`), the
/// worker processes, then `job` timed like the other modes.
#[allow(clippy::too_many_arguments)]
pub(super) fn distributed_rows_with(
    args: &BenchArgs,
    reference: &Reports,
    seq_median: f64,
    bar: &ProgressBar,
    notes: &mut Vec<String>,
    rows: &mut Vec<ModeRow>,
    job: &mut DistributedJob<'_>,
) -> anyhow::Result<()> {
    let counts: Vec<usize> = if args.external_workers {
        vec![0]
    } else {
        args.workers.iter().copied().filter(|&n| n > 0).collect()
    };
    if counts.is_empty() {
        return Ok(());
    }
    let (_server, url) = match &args.nats {
        Some(url) => (None, url.clone()),
        None => match LocalNatsServer::start_installed() {
            Ok(server) => {
                let url = server.url();
                (Some(server), url)
            }
            Err(e) => {
                notes.push(format!("distributed mode skipped: {e}"));
                return Ok(());
            }
        },
    };
    let runtime = tokio::runtime::Runtime::new()?;
    // A short ack_wait for a bench-owned server: workers stopped between configurations
    // may leave a pull request behind, and a chunk delivered to it waits this long.
    let topology = Topology::with_ack_wait(Duration::from_secs(5));
    let coordinator = runtime.block_on(async {
        let mut c = CoordinatorConfig::new(url.clone());
        c.chunk_size = args.chunk_size;
        c.blocks_per_chunk = args.blocks_per_chunk;
        c.topology = topology.clone();
        Coordinator::connect(c).await
    })?;
    let js = runtime.block_on(async {
        crate::distributed::connect(url.as_str(), "garch-bench", false)
            .await
            .map(async_nats::jetstream::new)
    })?;
    let exe = std::env::current_exe()?;
    for n in counts {
        let workers: Vec<Reaped> = (0..n)
            .map(|i| {
                Command::new(&exe)
                    .args([
                        "worker",
                        "--nats",
                        &url,
                        "--worker-id",
                        &format!("bench-w{i}"),
                    ])
                    .args(["--threads", &args.worker_threads.to_string()])
                    .args(["--concurrency", &args.worker_concurrency.to_string()])
                    .args(["--ack-wait", "5"])
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .map(Reaped)
            })
            .collect::<Result<_, _>>()?;
        runtime.block_on(wait_for_pulls(&js, &topology, n));
        bar.set_message(if n == 0 {
            "distributed (external workers)".to_string()
        } else {
            format!("distributed, {n} workers")
        });
        let (timing, reports) = measure_timed(args.warmup, args.repeats, bar, || {
            job(&runtime, &coordinator)
        })?;
        rows.push(row(
            "distributed",
            n,
            timing,
            &reports,
            Some(reference),
            seq_median,
        ));
        drop(workers);
        // Let pull requests of the stopped workers expire before the next configuration.
        std::thread::sleep(Duration::from_millis(2500));
    }
    Ok(())
}
