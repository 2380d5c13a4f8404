//! The indicator kernels' arm: the fused RSI + Bollinger + signal pass over many synthetic
//! 5-minute series, one by one and on rayon.

use std::time::Instant;

use garch_core::{Distribution, MeanModel, ModelSpec, VolatilityModel, simulate};
use indicatif::ProgressBar;
use indicators::{IndicatorConfig, compute, compute_many, compute_many_par};

use super::BenchArgs;
use super::report::{IndicatorRow, Timing};

pub(super) fn indicator_rows(
    args: &BenchArgs,
    repeats: u32,
    bar: &ProgressBar,
) -> Vec<IndicatorRow> {
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
