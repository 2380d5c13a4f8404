//! Python `arch` on the same series (`scripts/bench/arch_fit_timing.py`), for the ratio
//! measured in the same run.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use garch_core::{Distribution, Execution, FitOptions, ModelSpec, VolatilityModel, fit_batch};

use super::BenchArgs;
use super::report::ArchComparison;
use super::workload::{Workload, median_of};

/// Timed runs of the Rust side of an arm: one run is milliseconds, so many are cheap, and a
/// median (and a minimum) over them is not one burst of a neighbour's work.
const RUST_RUNS: usize = 15;
/// Timed runs of `arch` on the same series (each a fraction of a second per law).
const ARCH_RUNS: usize = 5;

#[derive(serde::Deserialize)]
struct ArchOutput {
    arch_version: String,
    total_seconds: Vec<f64>,
    total_seconds_median: f64,
    series: Vec<ArchSeries>,
}

#[derive(serde::Deserialize)]
struct ArchSeries {
    log_likelihood: f64,
}

/// One comparison per law of `args.arch_laws` (each a separate arch run and Rust timing).
pub(super) fn arch_arms(
    args: &BenchArgs,
    w: &Workload,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<ArchComparison>> {
    let mut out = Vec::new();
    for &dist in &args.arch_laws {
        match arch_arm(args, w, dist, notes)? {
            Some(c) => out.push(c),
            // Skipped (noted): the others would be skipped for the same reason.
            None => break,
        }
    }
    Ok(out)
}

fn arch_arm(
    args: &BenchArgs,
    w: &Workload,
    dist: Distribution,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<ArchComparison>> {
    let spec = ModelSpec::new(w.spec.mean, w.spec.volatility, dist);
    let k = args.arch_assets.min(w.returns.len());
    if k == 0 {
        return Ok(None);
    }
    let series: Vec<_> = (0..k)
        .map(|i| serde_json::json!({"symbol": w.symbols[i], "returns": w.returns[i].as_slice()}))
        .collect();
    let job = serde_json::json!({
        "model": model_name(w.spec.volatility), "dist": dist.to_string(),
        "mean": spec.mean.to_string(), "series": series,
    });
    let Some(arch) = run_script::<ArchOutput>(args, &args.arch_script, &job, ARCH_RUNS, notes)?
    else {
        return Ok(None);
    };
    let subset = &w.returns[..k];
    let opts = FitOptions::default();
    let mut rust_samples = Vec::with_capacity(RUST_RUNS);
    let rust_seconds = median_of(RUST_RUNS, || {
        let t = std::time::Instant::now();
        let _ = std::hint::black_box(fit_batch(subset, spec, &opts, Execution::Sequential));
        rust_samples.push(t.elapsed().as_secs_f64());
    });
    let best = |x: &[f64]| x.iter().copied().fold(f64::INFINITY, f64::min);
    let ours = fit_batch(subset, spec, &opts, Execution::Sequential)?;
    let diffs: Vec<f64> = ours
        .iter()
        .zip(&arch.series)
        .filter_map(|(m, a)| {
            m.as_ref()
                .ok()
                .map(|m| m.report().log_likelihood - a.log_likelihood)
        })
        .collect();
    Ok(Some(ArchComparison {
        dist,
        series: k,
        arch_version: arch.arch_version,
        arch_seconds: arch.total_seconds_median,
        rust_seconds,
        ratio: arch.total_seconds_median / rust_seconds,
        ratio_of_minima: best(&arch.total_seconds) / best(&rust_samples),
        loglik_diff_max: diffs.iter().copied().fold(f64::MIN, f64::max),
        loglik_diff_min: diffs.iter().copied().fold(f64::MAX, f64::min),
    }))
}

/// The model name the arch scripts take.
pub(super) fn model_name(vol: VolatilityModel) -> &'static str {
    match vol {
        VolatilityModel::Egarch => "egarch",
        VolatilityModel::Garch(g) if g.o() > 0 => "gjr",
        VolatilityModel::Garch(_) => "garch",
    }
}

/// Runs one of the arch timing scripts (`SCRIPT --input JOB --output OUT --repeats N` with
/// `--python`) on `job` and reads its output; `None`, with a note saying why, when the
/// comparison cannot run (no script, no interpreter, arch missing or failing).
pub(super) fn run_script<T: serde::de::DeserializeOwned>(
    args: &BenchArgs,
    script: &Path,
    job: &serde_json::Value,
    repeats: usize,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<T>> {
    if !script.is_file() {
        notes.push(format!(
            "arch comparison skipped: {} not found (run from the repository root)",
            script.display()
        ));
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let (input, output) = (dir.path().join("job.json"), dir.path().join("arch.json"));
    std::fs::write(&input, serde_json::to_vec(job)?)?;
    let status = Command::new(&args.python)
        .arg(script)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--repeats", &repeats.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match status {
        Err(e) => {
            notes.push(format!(
                "arch comparison skipped: cannot run {}: {e}",
                args.python
            ));
            Ok(None)
        }
        Ok(o) if !o.status.success() => {
            notes.push(format!(
                "arch comparison skipped: {} exited with {} ({})",
                args.python,
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            Ok(None)
        }
        Ok(_) => Ok(Some(
            serde_json::from_slice(&std::fs::read(&output)?).context("unreadable arch output")?,
        )),
    }
}
