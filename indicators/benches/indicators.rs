//! Criterion benchmarks of `indicators`.
//!
//! `cargo bench -p indicators --bench indicators -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use indicators::{
    BollingerParams, IndicatorBuffers, IndicatorConfig, ReasonSet, Signal, bollinger_into,
    compute_into, compute_many, compute_many_par, rsi_into,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn random_walk(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 0.01).unwrap();
    let mut x = 100.0f64.ln();
    (0..n)
        .map(|_| {
            x += normal.sample(&mut rng);
            x.exp()
        })
        .collect()
}

fn single_series(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let close = random_walk(1, N);
    let cfg = IndicatorConfig::standard();
    let mut g = c.benchmark_group("1e6 bars");
    g.throughput(Throughput::Elements(N as u64));
    // Preallocated outputs (the allocation-aware API); page faults are not measured.
    let (mut r, mut u, mut m, mut l) = (vec![0.0; N], vec![0.0; N], vec![0.0; N], vec![0.0; N]);
    let (mut pos, mut why) = (vec![Signal::Flat; N], vec![ReasonSet::EMPTY; N]);
    g.bench_function("fused rsi14+bb20+signal (into)", |b| {
        b.iter(|| {
            compute_into(
                black_box(&close),
                &cfg,
                IndicatorBuffers {
                    rsi: &mut r,
                    upper: &mut u,
                    middle: &mut m,
                    lower: &mut l,
                    position: &mut pos,
                    reasons: &mut why,
                },
            )
            .unwrap()
        })
    });
    // The memory floor of the fused kernel: read every close and write every output
    // once (35 bytes a bar), no arithmetic. No kernel writing these outputs can beat it.
    g.bench_function("floor: write the fused outputs", |b| {
        b.iter(|| {
            let close = black_box(&close);
            for (i, &x) in close.iter().enumerate() {
                (r[i], u[i], m[i], l[i]) = (x, x, x, x);
                (pos[i], why[i]) = (Signal::Flat, ReasonSet::EMPTY);
            }
        })
    });
    g.bench_function("rsi14 (into)", |b| {
        b.iter(|| rsi_into(black_box(&close), 14, &mut r).unwrap())
    });
    let p = BollingerParams::default();
    g.bench_function("bb20 (into)", |b| {
        b.iter(|| bollinger_into(black_box(&close), &p, &mut u, &mut m, &mut l).unwrap())
    });
    g.bench_function("fused, allocating (compute)", |b| {
        b.iter(|| indicators::compute(black_box(&close), &cfg).unwrap())
    });
    g.finish();
}

fn many_assets(c: &mut Criterion) {
    const ASSETS: usize = 1_000;
    const BARS: usize = 10_000;
    let series: Vec<Vec<f64>> = (0..ASSETS as u64)
        .map(|s| random_walk(100 + s, BARS))
        .collect();
    let cfg = IndicatorConfig::standard();
    let mut g = c.benchmark_group("1000 assets x 1e4 bars");
    g.throughput(Throughput::Elements((ASSETS * BARS) as u64));
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("compute_many", "sequential"), |b| {
        b.iter(|| compute_many(black_box(&series), &cfg))
    });
    g.bench_function(
        BenchmarkId::new("compute_many_par", rayon::current_num_threads()),
        |b| b.iter(|| compute_many_par(black_box(&series), &cfg)),
    );
    g.finish();
}

criterion_group!(benches, single_series, many_assets);
criterion_main!(benches);
