//! Loads the bundled data sets (or the files given as arguments) and reports how long each load
//! took, what was loaded and any warnings:
//!
//! ```console
//! $ cargo run --release -p market-data --example load_data
//! ```
//!
//! The Parquet files are loaded too with `--features parquet`.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use market_data::{Session, load_bars, load_daily, realized_variance};

fn main() -> Result<(), Box<dyn Error>> {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let files = if args.is_empty() {
        let mut files = vec![data.join("simulated_daily_data.csv")];
        if cfg!(feature = "parquet") {
            files.push(data.join("simulated_daily_data.parquet"));
        }
        files.push(data.join("simulated_5min_data.csv"));
        if cfg!(feature = "parquet") {
            files.push(data.join("simulated_5min_data.parquet"));
        }
        files
    } else {
        args
    };
    for file in files {
        let is_bars = file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("5min"));
        let started = Instant::now();
        if is_bars {
            let bars = load_bars(&file)?;
            let elapsed = started.elapsed();
            let n: usize = bars.series.iter().map(|s| s.len()).sum();
            let days: usize = bars
                .series
                .iter()
                .map(|s| realized_variance(s, &Session::us_equities()).len())
                .sum();
            println!(
                "{}: {} symbols, {n} bars, {days} symbol-days in {elapsed:.2?}",
                file.display(),
                bars.series.len()
            );
            bars.warnings
                .iter()
                .for_each(|w| println!("  warning: {w}"));
        } else {
            let daily = load_daily(&file)?;
            let elapsed = started.elapsed();
            let n: usize = daily.series.iter().map(|s| s.dates.len()).sum();
            println!(
                "{}: {} symbols, {n} prices in {elapsed:.2?}",
                file.display(),
                daily.series.len()
            );
            daily
                .warnings
                .iter()
                .for_each(|w| println!("  warning: {w}"));
        }
    }
    Ok(())
}
