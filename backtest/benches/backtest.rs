//! Criterion benchmarks of the rolling engine.
//!
//! * `refit/warm` vs `refit/cold`: one window of 1,000 observations fitted from the previous
//!   window's optimum against from `arch`'s grid (the saving warm starts buy); `refit/warm-classic`
//!   with classic instead of robust standard errors.
//! * `asset/garch-normal`: one asset, 2,520 returns, window 1,000, daily refits (1,520 fits).
//! * `universe/2-threads`: 25 simulated assets of 2,520 returns (the size of the bundled
//!   daily data), window 1,000, daily refits: 38,000 fits on a 2-thread rayon pool, in blocks
//!   of 250 refits.
//!
//! The series are simulated (GARCH-normal with typical daily-equity parameters) so that the
//! crate stays free of data formats; `market-svc bench --workload backtest` runs the same work
//! on the bundled data.

use backtest::universe::run_block;
use backtest::{BacktestConfig, Execution, Scheme, run_universe};
use criterion::{Criterion, criterion_group, criterion_main};
use garch_core::{CovarianceType, FitOptions, ModelSpec, Returns, fit, fit_from, simulate};
use std::hint::black_box;

/// The allocator of the binaries that run this code (market-svc, tui-client), so that these
/// figures are theirs: glibc's returns the top of the heap to the kernel between fits, which
/// cost a loop of fits about a tenth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LEN: usize = 2520;

fn series(seed: u64) -> Vec<f64> {
    simulate(ModelSpec::default(), &[0.05, 0.02, 0.08, 0.9], LEN, seed)
        .expect("simulate")
        .returns
}

fn benches(c: &mut Criterion) {
    let y = series(1);
    let options = FitOptions::default();
    let spec = ModelSpec::default();
    let prev = Returns::new(y[0..1000].to_vec()).unwrap();
    let next = Returns::new(y[1..1001].to_vec()).unwrap();
    let start = fit(&prev, spec, &options).unwrap().params().to_vec();
    let mut g = c.benchmark_group("refit");
    g.bench_function("warm", |b| {
        b.iter(|| fit_from(black_box(&next), spec, &options, &start).unwrap())
    });
    g.bench_function("cold", |b| {
        b.iter(|| fit(black_box(&next), spec, &options).unwrap())
    });
    // Classic standard errors need no score moments in Newton's last pass.
    let classic = FitOptions {
        covariance: CovarianceType::Classic,
        ..options
    };
    g.bench_function("warm-classic", |b| {
        b.iter(|| fit_from(black_box(&next), spec, &classic, &start).unwrap())
    });
    g.finish();

    let config = BacktestConfig::new(Scheme::Rolling, 1000, 1, &[0.01, 0.05], &[]).unwrap();
    let windows = config.windows(LEN);
    let mut g = c.benchmark_group("asset");
    g.sample_size(10);
    g.bench_function("garch-normal", |b| {
        b.iter(|| run_block(black_box(&y), spec, &config, &options, &windows, 0).unwrap())
    });
    g.finish();

    let universe: Vec<Vec<f64>> = (0..25).map(series).collect();
    let assets: Vec<&[f64]> = universe.iter().map(|v| v.as_slice()).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("universe");
    g.sample_size(10);
    g.bench_function("2-threads", |b| {
        b.iter(|| {
            pool.install(|| {
                run_universe(&assets, spec, &config, &options, 250, Execution::Parallel)
            })
        })
    });
    g.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
