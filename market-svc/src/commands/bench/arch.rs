//! Python `arch` on the same series (`scripts/bench/arch_fit_timing.py`), for the ratio
//! measured in the same run.

use std::process::{Command, Stdio};

use anyhow::Context as _;
use garch_core::{Distribution, Execution, FitOptions, ModelSpec, VolatilityModel, fit_batch};

use super::BenchArgs;
use super::report::ArchComparison;
use super::workload::{Workload, median_of};

#[derive(serde::Deserialize)]
struct ArchOutput {
    arch_version: String,
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
    if !args.arch_script.is_file() {
        notes.push(format!(
            "arch comparison skipped: {} not found (run from the repository root)",
            args.arch_script.display()
        ));
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let (input, output) = (dir.path().join("series.json"), dir.path().join("arch.json"));
    let model = match w.spec.volatility {
        VolatilityModel::Egarch => "egarch",
        VolatilityModel::Garch(g) if g.o() > 0 => "gjr",
        VolatilityModel::Garch(_) => "garch",
    };
    let series: Vec<_> = (0..k)
        .map(|i| serde_json::json!({"symbol": w.symbols[i], "returns": w.returns[i].as_slice()}))
        .collect();
    std::fs::write(
        &input,
        serde_json::to_vec(
            &serde_json::json!({"model": model, "dist": dist.to_string(), "mean": spec.mean.to_string(), "series": series}),
        )?,
    )?;
    let status = Command::new(&args.python)
        .arg(&args.arch_script)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--repeats", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let result = match status {
        Err(e) => {
            notes.push(format!(
                "arch comparison skipped: cannot run {}: {e}",
                args.python
            ));
            None
        }
        Ok(o) if !o.status.success() => {
            notes.push(format!(
                "arch comparison skipped: {} exited with {} ({})",
                args.python,
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            None
        }
        Ok(_) => {
            let arch: ArchOutput = serde_json::from_slice(&std::fs::read(&output)?)
                .context("unreadable arch output")?;
            let subset = &w.returns[..k];
            let opts = FitOptions::default();
            let rust_seconds = median_of(3, || {
                let _ = std::hint::black_box(fit_batch(subset, spec, &opts, Execution::Sequential));
            });
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
            Some(ArchComparison {
                dist,
                series: k,
                arch_version: arch.arch_version,
                arch_seconds: arch.total_seconds_median,
                rust_seconds,
                ratio: arch.total_seconds_median / rust_seconds,
                loglik_diff_max: diffs.iter().copied().fold(f64::MIN, f64::max),
                loglik_diff_min: diffs.iter().copied().fold(f64::MAX, f64::min),
            })
        }
    };
    Ok(result)
}
