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
//! `scripts/bench/arch_fit_timing.py`, reported as a ratio measured in the same run.
//!
//! Output: a table on stdout, a progress bar on stderr (when it is a terminal), and in
//! `--out` (default `bench-results/`): `bench.json`, `bench.csv`, and the charts as SVG and
//! PNG ([`charts`]).

pub mod charts;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use garch_core::{
    CovarianceType, Distribution, Execution, FitError, FitOptions, FittedModel, LikelihoodKernel,
    MeanModel, ModelSpec, Returns, VolatilityModel, arch_starting_values, fit, fit_batch, simulate,
    standard_errors,
};
use indicatif::{ProgressBar, ProgressStyle};
use indicators::{IndicatorConfig, compute, compute_many, compute_many_par};
use serde::Serialize;

use crate::distributed::{Coordinator, CoordinatorConfig, JobRequest, Topology};
use crate::universe::Universe;

/// Arguments of `market-svc bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
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
    fn from_samples(mut samples: Vec<f64>) -> Self {
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
    /// Series timed.
    pub series: usize,
    /// arch's version.
    pub arch_version: String,
    /// arch: median total seconds for all the series, sequentially.
    pub arch_seconds: f64,
    /// This crate, sequential: median total seconds for the same series.
    pub rust_seconds: f64,
    /// arch / Rust.
    pub ratio: f64,
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
    /// Python arch comparison, if it ran.
    pub arch: Option<ArchComparison>,
    /// What was skipped and why, and other remarks.
    pub notes: Vec<String>,
}

struct Workload {
    description: String,
    symbols: Vec<String>,
    returns: Vec<Returns>,
    spec: ModelSpec,
}

fn synthetic(args: &BenchArgs, spec: ModelSpec) -> anyhow::Result<Workload> {
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

fn workload(args: &BenchArgs, notes: &mut Vec<String>) -> anyhow::Result<Workload> {
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

type Reports = Vec<Result<String, String>>;

fn as_text(results: Vec<Result<FittedModel, FitError>>) -> Reports {
    results
        .into_iter()
        .map(|r| {
            r.map(|m| serde_json::to_string(m.report()).expect("reports serialise"))
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn measure(
    warmup: usize,
    repeats: u32,
    bar: &ProgressBar,
    mut run: impl FnMut() -> anyhow::Result<Reports>,
) -> anyhow::Result<(Timing, Reports)> {
    let mut last = Vec::new();
    for _ in 0..warmup {
        last = run()?;
        bar.inc(1);
    }
    let mut samples = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        last = run()?;
        samples.push(t.elapsed().as_secs_f64());
        bar.inc(1);
    }
    Ok((Timing::from_samples(samples), last))
}

fn row(
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

/// A child process killed on drop.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_nats_server() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

/// Starts `nats-server -js` on a free loopback port with a temporary store.
fn start_nats(store: &Path) -> anyhow::Result<(Reaped, String)> {
    let bin = find_nats_server().context("nats-server not found")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    std::fs::create_dir_all(store)?;
    let child = Command::new(bin)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let child = Reaped(child);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(10),
            "nats-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((child, format!("nats://127.0.0.1:{port}")))
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

#[allow(clippy::too_many_arguments)]
fn distributed_rows(
    args: &BenchArgs,
    w: &Workload,
    reference: &Reports,
    seq_median: f64,
    bar: &ProgressBar,
    notes: &mut Vec<String>,
    rows: &mut Vec<ModeRow>,
) -> anyhow::Result<()> {
    let counts: Vec<usize> = if args.external_workers {
        vec![0]
    } else {
        args.workers.iter().copied().filter(|&n| n > 0).collect()
    };
    if counts.is_empty() {
        return Ok(());
    }
    let store = std::env::temp_dir().join(format!("garch-bench-nats-{}", std::process::id()));
    let (_server, url) = match &args.nats {
        Some(url) => (None, url.clone()),
        None => match start_nats(&store) {
            Ok((child, url)) => (Some(child), url),
            Err(e) => {
                notes.push(format!("distributed mode skipped: {e:#}"));
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
        c.topology = topology.clone();
        Coordinator::connect(c).await
    })?;
    let js = runtime.block_on(async {
        crate::distributed::connect(url.as_str(), "garch-bench", false)
            .await
            .map(async_nats::jetstream::new)
    })?;
    let exe = std::env::current_exe()?;
    let series: Vec<(String, Vec<f64>)> = w
        .symbols
        .iter()
        .cloned()
        .zip(w.returns.iter().map(|r| r.as_slice().to_vec()))
        .collect();
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
        let (timing, reports) = measure(args.warmup, args.repeats, bar, || {
            let outcome = runtime.block_on(coordinator.run(JobRequest {
                spec: w.spec,
                options: FitOptions::default(),
                series: series.clone(),
                deadline: Duration::from_secs(600),
            }))?;
            anyhow::ensure!(
                outcome.is_complete(),
                "distributed run incomplete: {} symbols missing",
                outcome.missing.len()
            );
            Ok(outcome
                .symbols
                .into_iter()
                .map(|s| {
                    s.outcome
                        .map(|r| serde_json::to_string(&r).expect("reports serialise"))
                })
                .collect())
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
    let _ = std::fs::remove_dir_all(&store);
    Ok(())
}

fn median_of(n: usize, mut f: impl FnMut()) -> f64 {
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

fn anatomy(w: &Workload) -> anyhow::Result<Anatomy> {
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

fn indicator_rows(args: &BenchArgs, repeats: u32, bar: &ProgressBar) -> Vec<IndicatorRow> {
    let (n, t) = (args.indicator_series.max(1), args.indicator_bars.max(100));
    // 5-minute closes: a GARCH random walk with intraday-sized moves (percent).
    let closes: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let sim = simulate(
                ModelSpec::new(
                    MeanModel::Zero,
                    VolatilityModel::garch(),
                    Distribution::Normal,
                ),
                &[0.0005, 0.05, 0.9],
                t,
                1000 + i as u64,
            )
            .expect("simulates");
            let mut p = 100.0;
            sim.returns
                .iter()
                .map(|r| {
                    p *= (r / 100.0).exp();
                    p
                })
                .collect()
        })
        .collect();
    let cfg = IndicatorConfig::standard();
    // The kernels must agree (bitwise) and succeed, or the timings mean nothing.
    let many = compute_many(&closes, &cfg);
    if let Some(Err(e)) = many.iter().find(|r| r.is_err()) {
        panic!("indicator kernels failed: {e}");
    }
    assert!(
        many == compute_many_par(&closes, &cfg),
        "parallel indicators differ"
    );
    let mut rows = Vec::new();
    let mut time = |kernel: &str, bars: usize, f: &mut dyn FnMut()| {
        let samples: Vec<f64> = (0..repeats.max(3))
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed().as_secs_f64()
            })
            .collect();
        bar.inc(1);
        let timing = Timing::from_samples(samples);
        rows.push(IndicatorRow {
            kernel: kernel.into(),
            bars,
            bars_per_second: bars as f64 / timing.median,
            timing,
        });
    };
    time("compute (one series)", t, &mut || {
        let _ = std::hint::black_box(compute(&closes[0], &cfg));
    });
    time(&format!("compute_many ({n} series)"), n * t, &mut || {
        let _ = std::hint::black_box(compute_many(&closes, &cfg));
    });
    time(
        &format!("compute_many_par ({n} series)"),
        n * t,
        &mut || {
            let _ = std::hint::black_box(compute_many_par(&closes, &cfg));
        },
    );
    rows
}

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

fn arch_arm(
    args: &BenchArgs,
    w: &Workload,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<ArchComparison>> {
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
    let dir = std::env::temp_dir().join(format!("garch-bench-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (input, output) = (dir.join("series.json"), dir.join("arch.json"));
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
            &serde_json::json!({"model": model, "dist": "normal", "mean": "constant", "series": series}),
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
                let _ =
                    std::hint::black_box(fit_batch(subset, w.spec, &opts, Execution::Sequential));
            });
            let ours = fit_batch(subset, w.spec, &opts, Execution::Sequential)?;
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
    let _ = std::fs::remove_dir_all(&dir);
    Ok(result)
}

fn write_outputs(report: &BenchReport, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
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
    for r in &report.modes {
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

fn print_table(report: &BenchReport, out: &mut impl Write) -> std::io::Result<()> {
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
    if let Some(c) = &report.arch {
        writeln!(out)?;
        writeln!(
            out,
            "arch {} on the same {} series: {:.3} s vs {:.3} s sequential here -> arch takes {:.1}x as long; \
             log-likelihood (ours - arch) in [{:.2e}, {:.2e}]",
            c.arch_version,
            c.series,
            c.arch_seconds,
            c.rust_seconds,
            c.ratio,
            c.loglik_diff_min,
            c.loglik_diff_max
        )?;
    }
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// Runs the benchmark and writes the table to `out` and the files to `args.out`.
pub fn run(args: &BenchArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let mut notes = Vec::new();
    let w = workload(args, &mut notes)?;
    anyhow::ensure!(!w.returns.is_empty(), "the workload has no series");
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
        ProgressBar::new((runs + 3) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} {msg}")
            .expect("static template"),
    );
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
    let arch = arch_arm(args, &w, &mut notes)?;
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
    match charts::register_font(args.font.as_deref()) {
        Ok(_) => match charts::draw_all(&args.out, &report.modes, &report.workload) {
            Ok(f) => files.extend(f),
            Err(e) => report.notes.push(format!("charts failed: {e}")),
        },
        Err(e) => report.notes.push(e),
    }
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
