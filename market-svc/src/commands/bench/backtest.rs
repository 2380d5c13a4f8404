//! `--workload backtest`: a universe backtest (the bundled symbols, window 1,000, daily refits
//! by default) sequentially, on rayon (1..k threads) and on W local workers, the results
//! compared bit for bit across modes, and `arch`'s own rolling loop on a subset
//! (`scripts/bench/arch_rolling_timing.py`) for the ratio measured in the same run.
//!
//! Only the backtest itself is timed: the results are turned into comparable form (each
//! asset's backtest as MessagePack, exact for every `f64`, non-finite ones included)
//! outside the timed region.

use std::io::Write;
use std::time::{Duration, Instant};

use backtest::{Backtest, BacktestConfig, Execution, Scheme, run_universe};
use base64::Engine as _;
use garch_core::{FitOptions, ModelSpec};
use serde::Serialize;

use super::BenchArgs;
use super::charts;
use super::distributed::distributed_rows_with;
use super::report::{ModeRow, write_json_csv};
use super::workload::{Reports, measure_timed, median_of, row, workload};
use crate::distributed::{BacktestJobRequest, Coordinator};

/// `arch`'s rolling loop against ours on the same windows.
#[derive(Debug, Clone, Serialize)]
pub struct ArchRolling {
    /// Symbol of the subset.
    pub symbol: String,
    /// Windows (refits) timed, the first ones of the symbol.
    pub refits: usize,
    /// arch's version.
    pub arch_version: String,
    /// arch: median seconds for those refits and their forecasts (warm starts).
    pub arch_seconds: f64,
    /// Ours, sequential, same windows (first cold, then warm): median seconds.
    pub rust_seconds: f64,
    /// arch / ours on the subset (medians).
    pub ratio: f64,
    /// arch's fastest run / ours: interference only slows a run, so the minima are the
    /// steadier estimate on a shared host.
    pub ratio_of_minima: f64,
    /// Refits of the whole workload.
    pub workload_refits: usize,
    /// arch's time for the whole workload, scaled linearly from the subset's time per refit
    /// (later windows forecast fewer days with `forecast(start=…)`, so this overstates arch
    /// a little for the last windows of a series).
    pub arch_workload_seconds_scaled: f64,
    /// Smallest and largest (ours − arch) log-likelihood over the windows.
    pub loglik_diff_min: f64,
    /// Largest (ours − arch) log-likelihood difference.
    pub loglik_diff_max: f64,
}

/// How much of a distributed run the workers spent on their blocks (median over the timed
/// runs): the rest is NATS, the coordinator and the hand-offs between chunks, and, where they
/// share cores with the workers, time the workers' blocks were descheduled for them.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerBusy {
    /// Worker processes.
    pub workers: usize,
    /// Median wall time of the job.
    pub wall_seconds: f64,
    /// Median of the summed wall time of every block on the workers.
    pub block_seconds: f64,
    /// `block_seconds / (workers × wall_seconds)`.
    pub busy_fraction: f64,
}

/// `bench.json` of the backtest workload.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestBenchReport {
    /// When.
    pub generated_at: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// `backtest`.
    pub workload_kind: &'static str,
    /// Data.
    pub workload: String,
    /// Assets.
    pub assets: usize,
    /// Model.
    pub spec: ModelSpec,
    /// The backtest setting.
    pub config: BacktestConfig,
    /// Refits (estimation windows) per run, all assets.
    pub refits: usize,
    /// Windows per block (the unit of parallel and distributed work).
    pub block: usize,
    /// Blocks per distributed chunk.
    pub blocks_per_chunk: usize,
    /// Chunks a spawned worker holds at once.
    pub worker_concurrency: u16,
    /// Warm-up runs per mode.
    pub warmup: usize,
    /// Timed runs per mode.
    pub repeats: u32,
    /// Modes (`fits_per_second` is refits per second).
    pub modes: Vec<ModeRow>,
    /// Distributed with 2 workers / parallel with 2 threads, medians (when both ran).
    pub distributed_2_over_parallel_2: Option<f64>,
    /// Per distributed configuration, how busy the workers were: where its time goes.
    pub distributed_busy: Vec<WorkerBusy>,
    /// arch's rolling loop on a subset.
    pub arch: Option<ArchRolling>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// Each asset's backtest as base64 MessagePack (equal text ⇔ equal bits).
fn packed(results: Vec<Result<Backtest, String>>) -> Reports {
    results
        .into_iter()
        .map(|r| {
            r.map(|b| {
                let bytes = rmp_serde::to_vec_named(&b).expect("backtests serialise");
                base64::engine::general_purpose::STANDARD.encode(bytes)
            })
        })
        .collect()
}

fn errors_as_text<E: ToString>(r: Vec<Result<Backtest, E>>) -> Vec<Result<Backtest, String>> {
    r.into_iter()
        .map(|x| x.map_err(|e| e.to_string()))
        .collect()
}

/// Runs the backtest workload and writes its report.
pub(super) fn run(args: &BenchArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let mut notes = Vec::new();
    let w = workload(args, &mut notes)?;
    anyhow::ensure!(!w.returns.is_empty(), "the workload has no series");
    let config = BacktestConfig::new(
        Scheme::Rolling,
        args.window,
        args.refit_every,
        &[0.01, 0.05],
        &[],
    )
    .map_err(|e| anyhow::anyhow!("--{}: {e}", e.field().replace('_', "-")))?;
    anyhow::ensure!(args.block > 0, "--block must be at least 1");
    let series: Vec<&[f64]> = w.returns.iter().map(|r| r.as_slice()).collect();
    let refits: usize = series.iter().map(|y| config.windows(y.len()).len()).sum();
    let opts = FitOptions::default();
    let super::ModePlan { cpus, threads, bar } = super::plan_modes(args, 1);
    let spec = w.spec;
    let block = args.block;
    let timed = |execution: Execution, threads: Option<usize>| -> anyhow::Result<(f64, Reports)> {
        let t = Instant::now();
        let results = match threads {
            // The pool is built inside the timed region, as a caller would.
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()?
                .install(|| run_universe(&series, spec, &config, &opts, block, execution)),
            None => run_universe(&series, spec, &config, &opts, block, execution),
        };
        let seconds = t.elapsed().as_secs_f64();
        Ok((seconds, packed(errors_as_text(results))))
    };

    bar.set_message("sequential");
    let (seq_timing, reference) = measure_timed(args.warmup, args.repeats, &bar, || {
        timed(Execution::Sequential, None)
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
        let (timing, reports) = measure_timed(args.warmup, args.repeats, &bar, || {
            timed(Execution::Parallel, Some(t))
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
    let named: Vec<(String, Vec<f64>)> = w
        .symbols
        .iter()
        .cloned()
        .zip(series.iter().map(|y| y.to_vec()))
        .collect();
    // (wall, summed block seconds) of every distributed run, in the order they ran.
    let busy = std::cell::RefCell::new(Vec::new());
    let mut job = |runtime: &tokio::runtime::Runtime, coordinator: &Coordinator| {
        let request = BacktestJobRequest {
            spec,
            config: config.clone(),
            options: opts,
            block,
            series: named.clone(),
            deadline: Duration::from_secs(600),
        };
        let t = Instant::now();
        let outcome = runtime.block_on(coordinator.run_backtest(request))?;
        let seconds = t.elapsed().as_secs_f64();
        busy.borrow_mut().push((
            seconds,
            outcome.assets.iter().map(|a| a.seconds).sum::<f64>(),
        ));
        anyhow::ensure!(
            outcome.is_complete(),
            "distributed backtest incomplete: {} assets missing",
            outcome.missing.len()
        );
        Ok((
            seconds,
            packed(outcome.assets.into_iter().map(|a| a.outcome).collect()),
        ))
    };
    distributed_rows_with(
        args, &reference, seq_median, &bar, &mut notes, &mut rows, &mut job,
    )?;
    // Each configuration ran warm-up + repeats jobs, in the order of its rows; the timed ones
    // are the last `repeats` of each.
    let per_config = args.warmup + args.repeats as usize;
    let runs = busy.into_inner();
    let distributed_busy: Vec<WorkerBusy> = rows
        .iter()
        .filter(|r| r.mode == "distributed")
        .zip(runs.chunks(per_config))
        .map(|(r, runs)| {
            let timed = &runs[runs.len().saturating_sub(args.repeats as usize)..];
            let median = |f: fn(&(f64, f64)) -> f64| {
                let mut v: Vec<f64> = timed.iter().map(f).collect();
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
            };
            let (wall, blocks) = (median(|x| x.0), median(|x| x.1));
            WorkerBusy {
                workers: r.resources,
                wall_seconds: wall,
                block_seconds: blocks,
                busy_fraction: blocks / (r.resources.max(1) as f64 * wall),
            }
        })
        .collect();
    bar.set_message("python arch (rolling loop)");
    let arch = arch_rolling(
        args,
        &w.symbols[0],
        series[0],
        spec,
        &config,
        refits,
        &mut notes,
    )?;
    bar.inc(1);
    bar.finish_and_clear();

    for r in &mut rows {
        r.fits_per_second = refits as f64 / r.timing.median;
    }
    if rows.iter().any(|r| !r.identical) {
        notes.push("SOME MODE DIFFERS FROM THE SEQUENTIAL RESULTS".into());
    }
    let median_of_row = |mode: &str, n: usize| {
        rows.iter()
            .find(|r| r.mode == mode && r.resources == n)
            .map(|r| r.timing.median)
    };
    let ratio = median_of_row("distributed", 2)
        .zip(median_of_row("parallel", 2))
        .map(|(d, p)| d / p);
    let mut report = BacktestBenchReport {
        generated_at: crate::state::now_rfc3339(),
        cpus,
        workload_kind: "backtest",
        workload: w.description.clone(),
        assets: series.len(),
        spec,
        config: config.clone(),
        refits,
        block,
        blocks_per_chunk: args.blocks_per_chunk,
        worker_concurrency: args.worker_concurrency,
        warmup: args.warmup,
        repeats: args.repeats,
        modes: rows,
        distributed_2_over_parallel_2: ratio,
        distributed_busy,
        arch,
        notes,
    };
    let mut files = write_json_csv(&report, &report.modes, &args.out)?;
    // Short enough for the charts' 900-pixel width (the data file is in bench.json).
    let title = format!(
        "backtest, {} assets, {} refits (w {}, every {})",
        report.assets,
        refits,
        config.window(),
        config.refit_every()
    );
    files.extend(charts::draw_noting(
        args.font.as_deref(),
        &args.out,
        &report.modes,
        &title,
        &mut report.notes,
    ));
    print_table(&report, out)?;
    writeln!(out)?;
    for f in files {
        writeln!(out, "wrote {}", f.display())?;
    }
    anyhow::ensure!(
        report.modes.iter().all(|r| r.identical),
        "some mode's backtests differ from the sequential ones"
    );
    Ok(())
}

#[derive(serde::Deserialize)]
struct ArchRollingOutput {
    arch_version: String,
    seconds: Vec<f64>,
    seconds_median: f64,
    log_likelihood: Vec<f64>,
}

/// arch's rolling loop on the first `--arch-refits` windows of `symbol`, and ours on the same
/// windows (one block: the first cold, the rest warm, as arch's loop).
fn arch_rolling(
    args: &BenchArgs,
    symbol: &str,
    y: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    workload_refits: usize,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<ArchRolling>> {
    let windows = config.windows(y.len());
    let n = args.arch_refits.min(windows.len());
    if n == 0 {
        return Ok(None);
    }
    let job = serde_json::json!({
        "model": super::arch::model_name(spec.volatility), "dist": spec.distribution.to_string(),
        "mean": spec.mean.to_string(), "window": config.window(),
        "refit_every": config.refit_every(), "windows": n, "returns": y,
    });
    let Some(arch) = super::arch::run_script::<ArchRollingOutput>(
        args,
        &args.arch_rolling_script,
        &job,
        3,
        notes,
    )?
    else {
        return Ok(None);
    };
    let opts = FitOptions::default();
    let subset = &windows[..n];
    let run = || backtest::universe::run_block(y, spec, config, &opts, subset, 0);
    let ours = run()?;
    // Our side is milliseconds: many runs, so that neither the median nor the minimum is one
    // burst of a neighbour's work.
    let mut rust_samples = Vec::new();
    let rust_seconds = median_of(15, || {
        let t = std::time::Instant::now();
        let _ = std::hint::black_box(run());
        rust_samples.push(t.elapsed().as_secs_f64());
    });
    let best = |x: &[f64]| x.iter().copied().fold(f64::INFINITY, f64::min);
    let diffs: Vec<f64> = ours
        .refits
        .iter()
        .zip(&arch.log_likelihood)
        .map(|(r, a)| r.report.log_likelihood - a)
        .collect();
    Ok(Some(ArchRolling {
        symbol: symbol.to_string(),
        refits: n,
        arch_version: arch.arch_version,
        arch_seconds: arch.seconds_median,
        rust_seconds,
        ratio: arch.seconds_median / rust_seconds,
        ratio_of_minima: best(&arch.seconds) / best(&rust_samples),
        workload_refits,
        arch_workload_seconds_scaled: arch.seconds_median / n as f64 * workload_refits as f64,
        loglik_diff_min: diffs.iter().copied().fold(f64::INFINITY, f64::min),
        loglik_diff_max: diffs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }))
}

fn print_table(r: &BacktestBenchReport, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "workload: backtest of {}", r.workload)?;
    writeln!(
        out,
        "model: {} | window {} ({:?}), refit every {} | {} refits | blocks of {} | {} CPUs | \
         warm-up {} + {} timed runs per mode",
        serde_json::to_string(&r.spec).unwrap_or_default(),
        r.config.window(),
        r.config.scheme(),
        r.config.refit_every(),
        r.refits,
        r.block,
        r.cpus,
        r.warmup,
        r.repeats
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<12} {:>5} {:>10} {:>10} {:>10} {:>10} {:>8} {:>6}  identical",
        "mode", "n", "median s", "min s", "max s", "refits/s", "speedup", "eff."
    )?;
    for m in &r.modes {
        writeln!(
            out,
            "{:<12} {:>5} {:>10.4} {:>10.4} {:>10.4} {:>10.1} {:>8.2} {:>6.2}  {}",
            m.mode,
            m.resources,
            m.timing.median,
            m.timing.min,
            m.timing.max,
            m.fits_per_second,
            m.speedup,
            m.efficiency,
            if m.identical { "yes (bitwise)" } else { "NO" }
        )?;
    }
    if let Some(x) = r.distributed_2_over_parallel_2 {
        writeln!(
            out,
            "\ndistributed (2 workers) / parallel (2 threads): {x:.2}x"
        )?;
    }
    for b in &r.distributed_busy {
        writeln!(
            out,
            "distributed, {} worker(s): their blocks took {:.3} s of wall time against {} × \
             {:.3} s of job ({:.0} % busy; the rest is NATS, the coordinator and hand-offs)",
            b.workers,
            b.block_seconds,
            b.workers,
            b.wall_seconds,
            100.0 * b.busy_fraction
        )?;
    }
    if let Some(a) = &r.arch {
        writeln!(
            out,
            "\narch {} rolling loop, {} × first {} windows: {:.3} s vs {:.4} s sequential here -> \
             arch takes {:.0}x as long per refit ({:.0}x fastest run against fastest); \
             log-likelihood (ours - arch) in [{:.2e}, {:.2e}]",
            a.arch_version,
            a.symbol,
            a.refits,
            a.arch_seconds,
            a.rust_seconds,
            a.ratio,
            a.ratio_of_minima,
            a.loglik_diff_min,
            a.loglik_diff_max
        )?;
        writeln!(
            out,
            "scaled linearly to the whole workload ({} refits): arch ≈ {:.0} s sequential",
            a.workload_refits, a.arch_workload_seconds_scaled
        )?;
    }
    for n in &r.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}
