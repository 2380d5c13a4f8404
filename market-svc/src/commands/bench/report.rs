//! What a benchmark run reports, and how it is written: the table on stdout, `bench.json`
//! and `bench.csv`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use garch_core::ModelSpec;
use serde::Serialize;

/// Wall-time statistics of repeated runs.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// Every timed run, seconds.
    pub samples: Vec<f64>,
    /// Median.
    pub median: f64,
    /// Fastest.
    pub min: f64,
    /// Slowest.
    pub max: f64,
    /// Interquartile range.
    pub iqr: f64,
}

impl Timing {
    pub(super) fn from_samples(mut samples: Vec<f64>) -> Self {
        let mut s = samples.clone();
        s.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let pos = p * (s.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
        };
        let t = Self {
            median: q(0.5),
            min: s[0],
            max: s[s.len() - 1],
            iqr: q(0.75) - q(0.25),
            samples: Vec::new(),
        };
        samples.shrink_to_fit();
        Self { samples, ..t }
    }
}

/// One measured mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeRow {
    /// `sequential`, `parallel` or `distributed`.
    pub mode: String,
    /// Threads (parallel), workers (distributed), 1 (sequential).
    pub resources: usize,
    /// Wall times.
    pub timing: Timing,
    /// Fits per second at the median.
    pub fits_per_second: f64,
    /// Sequential median / this median.
    pub speedup: f64,
    /// Speedup / resources.
    pub efficiency: f64,
    /// Whether every report equals the sequential one bit for bit.
    pub identical: bool,
    /// Symbols that failed to fit (same in every mode when `identical`).
    pub failed: usize,
}

/// One indicator kernel measurement.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    /// What was timed.
    pub kernel: String,
    /// Series × bars processed per run.
    pub bars: usize,
    /// Wall times.
    pub timing: Timing,
    /// Bars per second at the median.
    pub bars_per_second: f64,
}

/// Where the time of one fit goes.
#[derive(Debug, Clone, Serialize)]
pub struct Anatomy {
    /// Observations of the series.
    pub nobs: usize,
    /// Whole fit, median seconds.
    pub fit_seconds: f64,
    /// Starting-value grid (`arch_starting_values`).
    pub starting_grid_seconds: f64,
    /// What one optimiser pass computes: "value+gradient+Hessian" (Newton, first-order
    /// GARCH/GJR) or "value+gradient" (L-BFGS).
    pub pass_kind: String,
    /// One such pass.
    pub likelihood_pass_seconds: f64,
    /// Passes the optimiser made (from the report).
    pub likelihood_passes: u64,
    /// Standard errors computed afresh at the optimum (`standard_errors`). A Newton fit does
    /// not pay this: it takes them from its last pass.
    pub standard_errors_seconds: f64,
    /// Whether the fit took its standard errors from its last optimiser pass.
    pub standard_errors_from_last_pass: bool,
}

/// The Python `arch` comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ArchComparison {
    /// The error law of this arm.
    pub dist: garch_core::Distribution,
    /// Series timed.
    pub series: usize,
    /// arch's version.
    pub arch_version: String,
    /// arch: median total seconds for all the series, sequentially.
    pub arch_seconds: f64,
    /// This crate, sequential: median total seconds for the same series.
    pub rust_seconds: f64,
    /// arch / Rust (medians).
    pub ratio: f64,
    /// arch's fastest run / Rust's fastest run: on a shared host interference only slows a
    /// run down, so the minima are the steadier estimate of what each side costs.
    pub ratio_of_minima: f64,
    /// Largest (Rust − arch) log-likelihood difference (≥ 0: Rust's optimum is as high or
    /// higher) and the smallest.
    pub loglik_diff_max: f64,
    /// Smallest (Rust − arch) log-likelihood difference.
    pub loglik_diff_min: f64,
}

/// Everything a run measured (`bench.json`).
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// When.
    pub generated_at: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Workload description.
    pub workload: String,
    /// Assets fitted.
    pub assets: usize,
    /// Total returns fitted per run.
    pub observations: usize,
    /// Model.
    pub spec: ModelSpec,
    /// Warm-up runs per mode.
    pub warmup: usize,
    /// Timed runs per mode.
    pub repeats: u32,
    /// Symbols per distributed chunk.
    pub chunk_size: usize,
    /// Fitting modes.
    pub modes: Vec<ModeRow>,
    /// Indicator kernels.
    pub indicators: Vec<IndicatorRow>,
    /// Anatomy of one fit.
    pub anatomy: Anatomy,
    /// Python arch comparison, one entry per error law (empty if it did not run).
    pub arch: Vec<ArchComparison>,
    /// What was skipped and why, and other remarks.
    pub notes: Vec<String>,
}

pub(super) fn write_outputs(report: &BenchReport, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    write_json_csv(report, &report.modes, out_dir)
}

/// `bench.json` (the whole report) and `bench.csv` (its modes) in `out_dir`.
pub(super) fn write_json_csv(
    report: &impl Serialize,
    modes: &[ModeRow],
    out_dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let json = out_dir.join("bench.json");
    std::fs::write(&json, serde_json::to_vec_pretty(report)?)?;
    let csv_path = out_dir.join("bench.csv");
    let mut csv = csv::Writer::from_path(&csv_path)?;
    csv.write_record([
        "mode",
        "resources",
        "median_s",
        "min_s",
        "max_s",
        "iqr_s",
        "fits_per_s",
        "speedup",
        "efficiency",
        "identical",
        "failed",
    ])?;
    for r in modes {
        csv.write_record([
            r.mode.clone(),
            r.resources.to_string(),
            format!("{:.6}", r.timing.median),
            format!("{:.6}", r.timing.min),
            format!("{:.6}", r.timing.max),
            format!("{:.6}", r.timing.iqr),
            format!("{:.2}", r.fits_per_second),
            format!("{:.3}", r.speedup),
            format!("{:.3}", r.efficiency),
            r.identical.to_string(),
            r.failed.to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(vec![json, csv_path])
}

pub(super) fn print_table(report: &BenchReport, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "workload: {}", report.workload)?;
    writeln!(
        out,
        "model: {} | {} CPUs | warm-up {} + {} timed runs per mode | chunk size {}",
        serde_json::to_string(&report.spec).unwrap_or_default(),
        report.cpus,
        report.warmup,
        report.repeats,
        report.chunk_size
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<12} {:>5} {:>10} {:>10} {:>10} {:>10} {:>8} {:>6}  identical",
        "mode", "n", "median s", "min s", "max s", "fits/s", "speedup", "eff."
    )?;
    for r in &report.modes {
        writeln!(
            out,
            "{:<12} {:>5} {:>10.4} {:>10.4} {:>10.4} {:>10.1} {:>8.2} {:>6.2}  {}",
            r.mode,
            r.resources,
            r.timing.median,
            r.timing.min,
            r.timing.max,
            r.fits_per_second,
            r.speedup,
            r.efficiency,
            if r.identical { "yes (bitwise)" } else { "NO" }
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<34} {:>12} {:>10} {:>14}",
        "indicator kernel", "bars", "median s", "bars/s"
    )?;
    for r in &report.indicators {
        writeln!(
            out,
            "{:<34} {:>12} {:>10.5} {:>14.3e}",
            r.kernel, r.bars, r.timing.median, r.bars_per_second
        )?;
    }
    let a = &report.anatomy;
    let passes = a.likelihood_pass_seconds * a.likelihood_passes as f64;
    let pct = |x: f64| 100.0 * x / a.fit_seconds;
    writeln!(out)?;
    writeln!(
        out,
        "anatomy of one fit ({} obs): {:.3} ms total",
        a.nobs,
        a.fit_seconds * 1e3
    )?;
    writeln!(
        out,
        "  starting grid          {:>8.3} ms  {:>5.1} %",
        a.starting_grid_seconds * 1e3,
        pct(a.starting_grid_seconds)
    )?;
    writeln!(
        out,
        "  {:<22} {:>8.3} ms  {:>5.1} %  ({} passes x {:.1} µs)",
        a.pass_kind,
        passes * 1e3,
        pct(passes),
        a.likelihood_passes,
        a.likelihood_pass_seconds * 1e6
    )?;
    // A Newton fit's covariance comes with its last pass (counted above).
    let se_in_fit = if a.standard_errors_from_last_pass {
        writeln!(
            out,
            "  standard errors           from the last pass (exact Hessian and scores; {:.3} ms afresh)",
            a.standard_errors_seconds * 1e3
        )?;
        0.0
    } else {
        writeln!(
            out,
            "  standard errors        {:>8.3} ms  {:>5.1} %  (Hessian by second differences of the log-likelihood, as arch)",
            a.standard_errors_seconds * 1e3,
            pct(a.standard_errors_seconds)
        )?;
        a.standard_errors_seconds
    };
    let rest = a.fit_seconds - a.starting_grid_seconds - passes - se_in_fit;
    writeln!(
        out,
        "  optimiser & the rest   {:>8.3} ms  {:>5.1} %",
        rest * 1e3,
        pct(rest)
    )?;
    if !report.arch.is_empty() {
        writeln!(out)?;
    }
    for c in &report.arch {
        writeln!(
            out,
            "{:<6} arch {} on the same {} series: {:.3} s vs {:.3} s sequential here -> arch takes {:.1}x as long \
             ({:.1}x fastest run against fastest); log-likelihood (ours - arch) in [{:.2e}, {:.2e}]",
            c.dist.to_string(),
            c.arch_version,
            c.series,
            c.arch_seconds,
            c.rust_seconds,
            c.ratio,
            c.ratio_of_minima,
            c.loglik_diff_min,
            c.loglik_diff_max
        )?;
    }
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}
