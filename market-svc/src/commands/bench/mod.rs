//! `market-svc bench`: what each execution mode costs, measured on this machine.
//!
//! Workloads: the bundled daily data (`--data`, default `data/simulated_daily_data.csv`) or,
//! when that file is missing or `--synthetic` is given, a synthetic universe of `--assets` ×
//! `--obs` returns simulated with garch-core's simulator (`--model`, `--seed`).
//!
//! Modes, each with `--warmup` untimed and `--repeats` timed runs: sequential (one thread),
//! parallel on a dedicated rayon pool of 1..k threads (`Execution::ParallelWith`; the pool is
//! built inside the timed region, as a caller would), and distributed over NATS JetStream with
//! W local worker processes (one rayon thread each, so W workers use W cores like W threads)
//! that the bench spawns against a `nats-server` it starts, or against `--nats URL` with
//! `--external-workers`. Every mode's reports are compared with the sequential ones as JSON
//! text, which with `float_roundtrip` means bit for bit.
//!
//! Also measured: the indicator kernels (`compute` over many series one by one, and
//! `compute_many_par`) on synthetic 5-minute closes; the anatomy of one fit (starting grid,
//! likelihood passes, Hessian/standard errors); and Python `arch` on the same series through
//! `scripts/bench/arch_fit_timing.py`, reported as a ratio measured in the same run, once per
//! error law (`--arch-laws`, default all four).
//!
//! Output: a table on stdout, a progress bar on stderr (when it is a terminal), and in
//! `--out` (default `bench-results/`): `bench.json`, `bench.csv`, and the charts as SVG and
//! PNG ([`charts`]).

mod arch;
mod backtest;
pub mod charts;
mod distributed;
mod indicators;
mod report;
mod workload;

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use garch_core::{Execution, FitOptions, Returns, VolatilityModel, fit_batch};
use indicatif::{ProgressBar, ProgressStyle};

use self::arch::arch_arms;
use self::distributed::distributed_rows;
use self::indicators::indicator_rows;
use self::report::{BenchReport, print_table, write_outputs};
use self::workload::{anatomy, as_text, measure, row, workload};

/// What `market-svc bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchWorkload {
    /// One fit per series (the indicator kernels, the anatomy of a fit, arch's fit).
    Fit,
    /// A universe backtest (rolling refits), and arch's rolling loop on a subset.
    Backtest,
}

/// Arguments of `market-svc bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = BenchWorkload::Fit)]
    pub workload: BenchWorkload,
    /// Backtest workload: estimation window (rolling).
    #[arg(long, default_value_t = 1000)]
    pub window: usize,
    /// Backtest workload: observations between refits (1 = daily).
    #[arg(long, default_value_t = 1)]
    pub refit_every: usize,
    /// Backtest workload: windows per block, the unit of parallel and distributed work (part
    /// of the setting: every mode uses the same blocks, hence the same bits).
    #[arg(long, default_value_t = crate::api::backtest::DEFAULT_BLOCK)]
    pub block: usize,
    /// Backtest workload: blocks per distributed chunk.
    #[arg(long, default_value_t = 1)]
    pub blocks_per_chunk: usize,
    /// Backtest workload: windows of the first symbol timed with arch's rolling loop (0
    /// skips it).
    #[arg(long, default_value_t = 50)]
    pub arch_refits: usize,
    /// The arch rolling-loop script.
    #[arg(long, default_value = "scripts/bench/arch_rolling_timing.py")]
    pub arch_rolling_script: PathBuf,
    /// Chunks each spawned worker holds at once (`worker --concurrency`, same default).
    #[arg(long, default_value_t = 2)]
    pub worker_concurrency: u16,
    /// Daily price data to fit (long-format CSV); a synthetic universe is used when it is
    /// missing.
    #[arg(long, default_value = "data/simulated_daily_data.csv")]
    pub data: PathBuf,
    /// Use the synthetic universe even if the data file exists.
    #[arg(long)]
    pub synthetic: bool,
    /// Synthetic universe: number of assets.
    #[arg(long, default_value_t = 200)]
    pub assets: usize,
    /// Synthetic universe: returns per asset.
    #[arg(long, default_value_t = 2000)]
    pub obs: usize,
    /// Model to simulate and fit: garch, gjr or egarch.
    #[arg(long, default_value = "garch")]
    pub model: VolatilityModel,
    /// Seed of the synthetic universe.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Thread counts of the parallel mode (default 1..=CPUs), e.g. `1,2,4`.
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Local worker-process counts of the distributed mode, e.g. `1,2`; `0` skips it.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub workers: Vec<usize>,
    /// Use this NATS server instead of starting one.
    #[arg(long = "nats", env = "NATS_URL")]
    pub nats: Option<String>,
    /// With `--nats`: do not spawn workers, measure with whichever workers are connected.
    #[arg(long, requires = "nats")]
    pub external_workers: bool,
    /// Rayon threads of each spawned worker.
    #[arg(long, default_value_t = 1)]
    pub worker_threads: usize,
    /// Symbols per distributed chunk.
    #[arg(long, default_value_t = 25)]
    pub chunk_size: usize,
    /// Untimed runs before the timed ones, per mode.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Timed runs per mode.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Indicator benchmark: number of 5-minute series.
    #[arg(long, default_value_t = 100)]
    pub indicator_series: usize,
    /// Indicator benchmark: bars per series.
    #[arg(long, default_value_t = 20_000)]
    pub indicator_bars: usize,
    /// Error laws of the `arch` comparison, one timed arm each (the workload's model and mean).
    #[arg(long, value_delimiter = ',', default_value = "normal,t,skewt,ged")]
    pub arch_laws: Vec<garch_core::Distribution>,
    /// Series timed with Python `arch` (0 skips the comparison).
    #[arg(long, default_value_t = 20)]
    pub arch_assets: usize,
    /// Python interpreter with `arch` installed.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// The arch timing script.
    #[arg(long, default_value = "scripts/bench/arch_fit_timing.py")]
    pub arch_script: PathBuf,
    /// Output directory (JSON, CSV, charts).
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
    /// TrueType font for the charts (default: DejaVu/Liberation Sans from system paths).
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// What both workloads time: the CPUs, the thread counts of the parallel mode (`--threads`,
/// default 1..=CPUs), and a progress bar for every timed run of the three modes.
struct ModePlan {
    cpus: usize,
    threads: Vec<usize>,
    bar: ProgressBar,
}

/// The plan of `args`, the bar counting `extra_steps` more (the untimed arms).
fn plan_modes(args: &BenchArgs, extra_steps: usize) -> ModePlan {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = if args.threads.is_empty() {
        (1..=cpus).collect()
    } else {
        args.threads.clone()
    };
    threads.retain(|&t| t > 0);
    let dist_configs = if args.external_workers {
        1
    } else {
        args.workers.iter().filter(|&&n| n > 0).count()
    };
    let runs = (args.warmup + args.repeats as usize) * (1 + threads.len() + dist_configs);
    let bar = if args.no_progress {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((runs + extra_steps) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} {msg}")
            .expect("static template"),
    );
    ModePlan { cpus, threads, bar }
}

/// Runs the benchmark and writes the table to `out` and the files to `args.out`.
pub fn run(args: &BenchArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if args.workload == BenchWorkload::Backtest {
        return backtest::run(args, out);
    }
    let mut notes = Vec::new();
    let w = workload(args, &mut notes)?;
    anyhow::ensure!(!w.returns.is_empty(), "the workload has no series");
    let ModePlan { cpus, threads, bar } = plan_modes(args, 3);
    let opts = FitOptions::default();
    let n_obs: usize = w.returns.iter().map(Returns::len).sum();

    bar.set_message("sequential");
    let (seq_timing, reference) = measure(args.warmup, args.repeats, &bar, || {
        Ok(as_text(fit_batch(
            &w.returns,
            w.spec,
            &opts,
            Execution::Sequential,
        )?))
    })?;
    let seq_median = seq_timing.median;
    let mut rows = vec![row(
        "sequential",
        1,
        seq_timing,
        &reference,
        None,
        seq_median,
    )];
    for &t in &threads {
        bar.set_message(format!("parallel, {t} threads"));
        let (timing, reports) = measure(args.warmup, args.repeats, &bar, || {
            Ok(as_text(fit_batch(
                &w.returns,
                w.spec,
                &opts,
                Execution::ParallelWith { threads: t },
            )?))
        })?;
        rows.push(row(
            "parallel",
            t,
            timing,
            &reports,
            Some(&reference),
            seq_median,
        ));
    }
    distributed_rows(
        args, &w, &reference, seq_median, &bar, &mut notes, &mut rows,
    )?;
    bar.set_message("indicators");
    let indicators = indicator_rows(args, args.repeats, &bar);
    bar.set_message("anatomy of a fit");
    let anatomy = anatomy(&w)?;
    bar.set_message("python arch");
    let arch = arch_arms(args, &w, &mut notes)?;
    bar.finish_and_clear();

    if rows.iter().any(|r| !r.identical) {
        notes.push("SOME MODE DIFFERS FROM THE SEQUENTIAL RESULTS".into());
    }
    let report = BenchReport {
        generated_at: crate::state::now_rfc3339(),
        cpus,
        workload: w.description.clone(),
        assets: w.returns.len(),
        observations: n_obs,
        spec: w.spec,
        warmup: args.warmup,
        repeats: args.repeats,
        chunk_size: args.chunk_size,
        modes: rows,
        indicators,
        anatomy,
        arch,
        notes,
    };
    let mut files = write_outputs(&report, &args.out)?;
    let mut report = report;
    files.extend(charts::draw_noting(
        args.font.as_deref(),
        &args.out,
        &report.modes,
        &report.workload,
        &mut report.notes,
    ));
    print_table(&report, out)?;
    writeln!(out)?;
    for f in files {
        writeln!(out, "wrote {}", f.display())?;
    }
    anyhow::ensure!(
        report.modes.iter().all(|r| r.identical),
        "some mode's results differ from the sequential fit"
    );
    Ok(())
}
