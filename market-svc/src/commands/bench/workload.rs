//! What is fitted (the bundled data or a synthetic universe), the timing loop every mode
//! shares, and the anatomy of one fit.

use std::time::Instant;

use anyhow::Context as _;
use garch_core::{
    CovarianceType, Distribution, FitError, FitOptions, FittedModel, LikelihoodKernel, MeanModel,
    ModelSpec, Returns, VolatilityModel, arch_starting_values, fit, simulate, standard_errors,
};
use indicatif::ProgressBar;

use super::BenchArgs;
use super::report::{Anatomy, ModeRow, Timing};
use crate::universe::Universe;

pub(super) struct Workload {
    pub description: String,
    pub symbols: Vec<String>,
    pub returns: Vec<Returns>,
    pub spec: ModelSpec,
}

pub(super) fn synthetic(args: &BenchArgs, spec: ModelSpec) -> anyhow::Result<Workload> {
    let mut symbols = Vec::with_capacity(args.assets);
    let mut returns = Vec::with_capacity(args.assets);
    for i in 0..args.assets {
        let j = (i % 7) as f64;
        let params: Vec<f64> = match spec.volatility {
            VolatilityModel::Egarch => vec![0.04, 0.01 + 0.002 * j, 0.12, -0.06, 0.96 + 0.003 * j],
            VolatilityModel::Garch(g) if g.o() > 0 => {
                vec![0.04, 0.02 + 0.005 * j, 0.03, 0.08, 0.88 - 0.005 * j]
            }
            VolatilityModel::Garch(_) => vec![0.04, 0.02 + 0.005 * j, 0.08, 0.9 - 0.01 * j],
        };
        let sim = simulate(spec, &params, args.obs, args.seed.wrapping_add(i as u64))?;
        symbols.push(format!("SYN{i:04}"));
        returns.push(Returns::new(sim.returns)?);
    }
    Ok(Workload {
        description: format!(
            "synthetic {} assets x {} obs ({}, seed {})",
            args.assets,
            args.obs,
            args.model.to_string().to_uppercase(),
            args.seed
        ),
        symbols,
        returns,
        spec,
    })
}

pub(super) fn workload(args: &BenchArgs, notes: &mut Vec<String>) -> anyhow::Result<Workload> {
    let spec = ModelSpec::new(MeanModel::Constant, args.model, Distribution::Normal);
    if !args.synthetic {
        if args.data.is_file() {
            let u = Universe::load(&args.data, None, 1)
                .with_context(|| format!("cannot load {}", args.data.display()))?;
            return Ok(Workload {
                description: format!("{} ({} assets)", args.data.display(), u.assets.len()),
                symbols: u.assets.iter().map(|a| a.symbol.clone()).collect(),
                returns: u.assets.into_iter().map(|a| a.returns).collect(),
                spec,
            });
        }
        notes.push(format!(
            "{} not found: using the synthetic universe",
            args.data.display()
        ));
    }
    synthetic(args, spec)
}

pub(super) type Reports = Vec<Result<String, String>>;

pub(super) fn as_text(results: Vec<Result<FittedModel, FitError>>) -> Reports {
    results
        .into_iter()
        .map(|r| {
            r.map(|m| serde_json::to_string(m.report()).expect("reports serialise"))
                .map_err(|e| e.to_string())
        })
        .collect()
}

pub(super) fn measure(
    warmup: usize,
    repeats: u32,
    bar: &ProgressBar,
    mut run: impl FnMut() -> anyhow::Result<Reports>,
) -> anyhow::Result<(Timing, Reports)> {
    measure_timed(warmup, repeats, bar, || {
        let t = Instant::now();
        let reports = run()?;
        Ok((t.elapsed().as_secs_f64(), reports))
    })
}

/// [`measure`] for runs that time themselves (`(seconds, reports)`), so that turning
/// results into comparable text stays out of the timing.
pub(super) fn measure_timed(
    warmup: usize,
    repeats: u32,
    bar: &ProgressBar,
    mut run: impl FnMut() -> anyhow::Result<(f64, Reports)>,
) -> anyhow::Result<(Timing, Reports)> {
    let mut last = Vec::new();
    for _ in 0..warmup {
        last = run()?.1;
        bar.inc(1);
    }
    let mut samples = Vec::new();
    for _ in 0..repeats {
        let (seconds, reports) = run()?;
        last = reports;
        samples.push(seconds);
        bar.inc(1);
    }
    Ok((Timing::from_samples(samples), last))
}

pub(super) fn row(
    mode: &str,
    resources: usize,
    timing: Timing,
    reports: &Reports,
    reference: Option<&Reports>,
    seq_median: f64,
) -> ModeRow {
    let n = reports.len();
    let speedup = seq_median / timing.median;
    ModeRow {
        mode: mode.into(),
        resources,
        fits_per_second: n as f64 / timing.median,
        speedup,
        efficiency: speedup / resources.max(1) as f64,
        identical: reference.is_none_or(|r| r == reports),
        failed: reports.iter().filter(|r| r.is_err()).count(),
        timing,
    }
}

pub(super) fn median_of(n: usize, mut f: impl FnMut()) -> f64 {
    let mut s: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

pub(super) fn anatomy(w: &Workload) -> anyhow::Result<Anatomy> {
    let r = &w.returns[0];
    let opts = FitOptions::default();
    let model = fit(r, w.spec, &opts)?;
    let params = model.params().to_vec();
    let fit_seconds = median_of(15, || {
        let _ = std::hint::black_box(fit(r, w.spec, &opts));
    });
    let starting_grid_seconds = median_of(15, || {
        std::hint::black_box(arch_starting_values(r, w.spec));
    });
    let kernel = LikelihoodKernel::new(r, w.spec);
    let mut g = vec![0.0; params.len()];
    // A Newton fit iterates on value+gradient+Hessian passes and says so in its status.
    let newton = model.report().status.contains("Newton");
    let likelihood_pass_seconds = if newton {
        median_of(201, || {
            std::hint::black_box(kernel.value_gradient_hessian(&params));
        })
    } else {
        median_of(201, || {
            std::hint::black_box(kernel.value_and_gradient(&params, &mut g));
        })
    };
    let standard_errors_seconds = median_of(15, || {
        let _ = std::hint::black_box(standard_errors(r, w.spec, &params, CovarianceType::Robust));
    });
    Ok(Anatomy {
        nobs: r.len(),
        fit_seconds,
        starting_grid_seconds,
        pass_kind: if newton {
            "value+gradient+Hessian"
        } else {
            "value+gradient"
        }
        .to_string(),
        likelihood_pass_seconds,
        likelihood_passes: model.report().function_evaluations,
        standard_errors_seconds,
        standard_errors_from_last_pass: newton,
    })
}
