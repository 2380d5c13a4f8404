//! Criterion benches of the estimation hot paths (issue #2's performance goals):
//! one likelihood pass (value; with gradient; with gradient and Hessian), one full fit per
//! model and error law on 5,000 observations (the heavy-tailed laws against Student-t: the
//! distribution issue asks them to be no slower), and a 1,000-asset batch sequentially and on rayon; and what
//! a service pays to follow one appended close: filtering it through fitted parameters
//! (`FittedModel::filter`, no re-estimation) against re-estimating.
//!
//! `cargo bench -p garch-core --bench garch`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use garch_core::{
    Distribution, Execution, FitOptions, LikelihoodKernel, MeanModel, ModelSpec, Returns,
    VolatilityModel, fit, fit_batch, simulate,
};

/// The allocator of the binaries that run this code (market-svc, tui-client), so that these
/// figures are theirs: glibc's returns the top of the heap to the kernel between fits, which
/// cost a loop of fits about a tenth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OBS: usize = 5000;

fn spec(vol: VolatilityModel, dist: Distribution) -> ModelSpec {
    ModelSpec::new(MeanModel::Constant, vol, dist)
}

fn sample(seed: u64, n: usize) -> Returns {
    let s = spec(VolatilityModel::gjr(), Distribution::StudentT);
    Returns::new(
        simulate(s, &[0.04, 0.02, 0.03, 0.1, 0.88, 7.0], n, seed)
            .unwrap()
            .returns,
    )
    .unwrap()
}

fn likelihood(c: &mut Criterion) {
    let r = sample(1, OBS);
    let s = ModelSpec::default();
    let k = LikelihoodKernel::new(&r, s);
    let p = [0.05, 0.02, 0.08, 0.9];
    let mut g = [0.0; 4];
    let mut group = c.benchmark_group("likelihood_pass_5000");
    group.bench_function("garch_normal_value", |b| b.iter(|| k.value(black_box(&p))));
    group.bench_function("garch_normal_value_and_gradient", |b| {
        b.iter(|| k.value_and_gradient(black_box(&p), &mut g))
    });
    // What each Newton iteration of a GARCH/GJR fit costs.
    group.bench_function("garch_normal_value_gradient_hessian", |b| {
        b.iter(|| k.value_gradient_hessian(black_box(&p)))
    });
    group.finish();
}

fn fits(c: &mut Criterion) {
    let r = sample(2, OBS);
    let mut group = c.benchmark_group("fit_5000");
    group.sample_size(20);
    for (name, vol) in [
        ("garch", VolatilityModel::garch()),
        ("gjr", VolatilityModel::gjr()),
        ("egarch", VolatilityModel::egarch()),
    ] {
        for dist in [
            Distribution::Normal,
            Distribution::StudentT,
            Distribution::SkewT,
            Distribution::Ged,
        ] {
            let s = spec(vol, dist);
            group.bench_function(format!("{name}_{dist}"), |b| {
                b.iter(|| fit(black_box(&r), s, &FitOptions::default()).unwrap())
            });
        }
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let series: Vec<Returns> = (0..1000).map(|i| sample(100 + i, 1000)).collect();
    let s = ModelSpec::default();
    let mut group = c.benchmark_group("batch_1000_assets_x_1000_obs");
    group.sample_size(10);
    for (name, exec) in [
        ("sequential", Execution::Sequential),
        ("parallel", Execution::Parallel),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| fit_batch(black_box(&series), s, &FitOptions::default(), exec).unwrap())
        });
    }
    group.finish();
}

/// One appended observation on 5,000: filter (market-svc's path after an append) against a
/// full refit (its refit policy's path), GARCH-normal and GJR-t.
fn live_update(c: &mut Criterion) {
    let r = sample(3, OBS + 1);
    let head = Returns::new(r.as_slice()[..OBS].to_vec()).unwrap();
    let mut group = c.benchmark_group("append_one_to_5000");
    group.sample_size(20);
    for (name, s) in [
        ("garch_normal", ModelSpec::default()),
        (
            "gjr_t",
            spec(VolatilityModel::gjr(), Distribution::StudentT),
        ),
    ] {
        let fitted = fit(&head, s, &FitOptions::default()).unwrap();
        group.bench_function(format!("{name}_filter"), |b| {
            b.iter(|| fitted.filter(black_box(&r)).unwrap())
        });
        group.bench_function(format!("{name}_refit"), |b| {
            b.iter(|| fit(black_box(&r), s, &FitOptions::default()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, likelihood, fits, batch, live_update);
criterion_main!(benches);
