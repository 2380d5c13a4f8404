//! The generator of the bundled data: deterministic, internally consistent, committed files up
//! to date, and fitting the daily series recovers the documented parameters. The tests that write
//! or read Parquet need the `parquet` feature (`cargo test --workspace` turns it on).

use std::path::PathBuf;

use garch_core::{FitOptions, fit};
use market_data::generate::{BARS_PER_DAY, GeneratorConfig, bundled_universe, generate};
#[cfg(feature = "parquet")]
use market_data::generate::{
    GeneratedData, OVERNIGHT_VARIANCE_SHARE, intraday_variance_profile, write_parquet,
};
use market_data::{Session, load_daily};
#[cfg(feature = "parquet")]
use market_data::{load_bars, realized_variance};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn small_config(seed: u64) -> GeneratorConfig {
    let mut config = GeneratorConfig::bundled();
    config.seed = seed;
    config.symbols = bundled_universe().into_iter().step_by(6).collect(); // 5 symbols
    config.trading_days = 260;
    config.intraday_days = 3;
    config
}

#[cfg(feature = "parquet")]
fn parquet_bytes(data: &GeneratedData) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::TempDir::new().unwrap();
    let (d, b) = (dir.path().join("d.parquet"), dir.path().join("b.parquet"));
    write_parquet(&mut data.daily_frame().unwrap(), &d).unwrap();
    write_parquet(&mut data.bars_frame().unwrap(), &b).unwrap();
    (std::fs::read(d).unwrap(), std::fs::read(b).unwrap())
}

#[cfg(feature = "parquet")]
#[test]
fn generator_is_deterministic() {
    let a = generate(&small_config(7)).unwrap();
    let b = generate(&small_config(7)).unwrap();
    assert_eq!(a.daily_csv(), b.daily_csv());
    assert_eq!(a.bars_csv(), b.bars_csv());
    assert_eq!(parquet_bytes(&a), parquet_bytes(&b));
    let c = generate(&small_config(8)).unwrap();
    assert_ne!(a.daily_csv(), c.daily_csv());
    // One stream per symbol: a symbol's data do not depend on which others are generated.
    let mut alone = small_config(7);
    alone.symbols.truncate(1);
    let alone = generate(&alone).unwrap();
    assert_eq!(alone.series[0], a.series[0]);
}

#[test]
fn generated_data_are_consistent() {
    let config = small_config(11);
    let data = generate(&config).unwrap();
    assert_eq!(data.dates.len(), 260);
    assert!(data.dates.iter().all(|d| {
        use chrono::Datelike;
        d.weekday().number_from_monday() <= 5
    }));
    let session = Session::us_equities();
    for g in &data.series {
        for t in 0..data.dates.len() {
            assert!(
                g.low[t] <= g.open[t].min(g.close[t]) && g.high[t] >= g.open[t].max(g.close[t])
            );
            assert!(g.volume[t] > 0);
        }
        let b = &g.bars;
        assert_eq!(b.len(), 3 * BARS_PER_DAY);
        for k in 0..b.len() {
            assert!(
                b.low[k] <= b.open[k].min(b.close[k]) && b.high[k] >= b.open[k].max(b.close[k])
            );
        }
        for (day, bars) in b.timestamps.chunks(BARS_PER_DAY).enumerate() {
            let t = data.dates.len() - 3 + day;
            let local: Vec<_> = bars.iter().map(|&s| session.local(s).unwrap()).collect();
            assert_eq!(local[0], data.dates[t].and_hms_opt(9, 30, 0).unwrap());
            assert_eq!(local[77], data.dates[t].and_hms_opt(15, 55, 0).unwrap());
            let k0 = day * BARS_PER_DAY;
            let range = k0..k0 + BARS_PER_DAY;
            assert_eq!(b.open[k0], g.open[t]);
            assert_eq!(b.close[k0 + 77], g.close[t]);
            let hi = b.high[range.clone()]
                .iter()
                .cloned()
                .fold(f64::MIN, f64::max);
            let lo = b.low[range.clone()]
                .iter()
                .cloned()
                .fold(f64::MAX, f64::min);
            assert_eq!((hi, lo), (g.high[t], g.low[t]));
            let v: f64 = b.volume[range].iter().sum();
            assert_eq!(v, g.volume[t] as f64);
        }
    }
}

#[cfg(feature = "parquet")]
#[test]
fn bundled_files_match_the_generator() {
    let data = generate(&GeneratorConfig::bundled()).unwrap();
    let daily = std::fs::read_to_string(data_dir().join("simulated_daily_data.csv")).unwrap();
    assert!(
        daily == data.daily_csv(),
        "data/simulated_daily_data.csv is stale: rerun the generate_data example"
    );
    let bars = std::fs::read_to_string(data_dir().join("simulated_5min_data.csv")).unwrap();
    assert!(
        bars == data.bars_csv(),
        "data/simulated_5min_data.csv is stale: rerun the generate_data example"
    );
    let (d, b) = parquet_bytes(&data);
    assert!(d == std::fs::read(data_dir().join("simulated_daily_data.parquet")).unwrap());
    assert!(b == std::fs::read(data_dir().join("simulated_5min_data.parquet")).unwrap());
    assert_eq!(data.series.len(), 25);
    assert_eq!(data.dates.len(), 2520);
    let vols: Vec<f64> = data
        .series
        .iter()
        .map(|g| g.params.annualized_volatility())
        .collect();
    assert!(vols.iter().all(|v| (12.0 - 1e-9..=70.0 + 1e-9).contains(v)));
}

#[test]
fn fitting_the_bundled_daily_data_recovers_the_parameters() {
    let loaded = load_daily(&data_dir().join("simulated_daily_data.csv")).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.series.len(), 25);
    let mut all_within = 0;
    let mut params_checked = 0;
    let mut params_within = 0;
    for truth in bundled_universe() {
        let series = loaded.get(&truth.symbol).unwrap();
        let returns = series.returns().unwrap();
        assert_eq!(returns.len(), 2519);
        let model = fit(&returns, truth.spec, &FitOptions::default()).unwrap();
        let report = model.report();
        assert!(report.converged, "{}: {}", truth.symbol, report.status);
        let mut line = format!("{:5}", truth.symbol);
        let mut ok = true;
        for (est, &true_value) in report.params.iter().zip(&truth.params) {
            let se = est.std_err.expect("standard errors");
            let z = (est.value - true_value) / se;
            params_checked += 1;
            if z.abs() < 3.0 {
                params_within += 1;
            } else {
                ok = false;
            }
            line += &format!(
                "  {}={:.4} (true {:.4}, se {:.4}, z {:+.1})",
                est.name, est.value, true_value, se, z
            );
        }
        all_within += usize::from(ok);
        println!("{line}");
    }
    println!(
        "{all_within}/25 symbols with every parameter within 3 SE; {params_within}/{params_checked} parameters"
    );
    assert!(all_within >= 22, "only {all_within}/25 symbols recovered");
    assert!(params_within * 100 >= params_checked * 95);
}

#[cfg(feature = "parquet")]
#[test]
fn bundled_bars_carry_the_daily_variance() {
    let data = generate(&GeneratorConfig::bundled()).unwrap();
    let daily = load_daily(&data_dir().join("simulated_daily_data.csv")).unwrap();
    let bars = load_bars(&data_dir().join("simulated_5min_data.parquet")).unwrap();
    assert!(bars.warnings.is_empty(), "{:?}", bars.warnings);
    assert_eq!(bars.series.len(), 25);
    let session = Session::us_equities();
    let (mut rv_sum, mut expected_sum) = (0.0, 0.0);
    let mut squared = vec![0.0; BARS_PER_DAY];
    for g in &data.series {
        let s = bars.get(&g.params.symbol).unwrap();
        let days = realized_variance(s, &session);
        assert_eq!(days.len(), 20);
        let prices = daily.get(&g.params.symbol).unwrap().prices.as_slice();
        let n = prices.len();
        for (k, day) in days.iter().enumerate() {
            let t = n - 20 + k;
            assert_eq!(day.date, data.dates[t]);
            assert_eq!(day.bars, BARS_PER_DAY);
            // overnight + intraday = close-to-close (the first day has no previous bar close,
            // the previous daily close stands in).
            let overnight = day
                .overnight_return
                .unwrap_or_else(|| 100.0 * (g.open[t] / prices[t - 1]).ln());
            let daily_return = 100.0 * (prices[t] / prices[t - 1]).ln();
            assert!((overnight + day.intraday_return - daily_return).abs() < 1e-9);
            rv_sum += day.realized_variance;
            expected_sum += (1.0 - OVERNIGHT_VARIANCE_SHARE) * g.conditional_variance[t];
        }
        for (i, pair) in s.close.windows(2).enumerate() {
            let bar = (i + 1) % BARS_PER_DAY;
            if bar != 0 {
                squared[bar] += (100.0 * (pair[1] / pair[0]).ln()).powi(2);
            }
        }
    }
    let ratio = rv_sum / expected_sum;
    println!("realized / expected intraday variance: {ratio:.3}");
    assert!((0.9..1.1).contains(&ratio), "ratio {ratio}");
    // U shape: early bars and the last bars are more volatile than midday.
    let profile = intraday_variance_profile();
    assert!(profile[1] > 2.0 * profile[39] && profile[77] > 1.5 * profile[39]);
    let early: f64 = squared[1..6].iter().sum::<f64>() / 5.0;
    let midday: f64 = squared[35..45].iter().sum::<f64>() / 10.0;
    let late: f64 = squared[73..78].iter().sum::<f64>() / 5.0;
    assert!(
        early > 1.5 * midday && late > 1.2 * midday,
        "{early} {midday} {late}"
    );
}
