//! The data a service instance serves: every symbol's daily prices and validated returns,
//! loaded as one immutable snapshot. Reloading builds a new snapshot and swaps it in
//! atomically, so readers never see a half-loaded state.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use garch_core::Returns;

use crate::csv_input::{InputError, read_universe};

/// One symbol's series.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Ticker.
    pub symbol: String,
    /// Dates of the prices (ISO 8601 text).
    pub dates: Vec<String>,
    /// Prices.
    pub prices: Vec<f64>,
    /// Percent log returns, `dates[1..]`.
    pub returns: Returns,
}

impl Asset {
    /// Dates of the returns.
    pub fn return_dates(&self) -> &[String] {
        &self.dates[1..]
    }
}

/// A loaded data set.
#[derive(Debug, Clone)]
pub struct Universe {
    /// Assets sorted by symbol.
    pub assets: Vec<Asset>,
    /// Symbols skipped, with the reason (too short, constant …).
    pub skipped: Vec<(String, String)>,
    /// Where it came from.
    pub source: PathBuf,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Increases with every reload; part of every cache key.
    pub version: u64,
}

impl Universe {
    /// An empty universe (before the first load).
    pub fn empty(source: &Path) -> Self {
        Self {
            assets: Vec::new(),
            skipped: Vec::new(),
            source: source.to_path_buf(),
            loaded_at: SystemTime::now(),
            version: 0,
        }
    }

    /// Loads `path`. Symbols whose series cannot be fitted are skipped, not fatal.
    pub fn load(path: &Path, version: u64) -> Result<Self, InputError> {
        let mut assets = Vec::new();
        let mut skipped = Vec::new();
        for series in read_universe(path)? {
            let symbol = series.symbol.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map_or("series".into(), |s| s.to_string_lossy().to_uppercase())
            });
            match Returns::from_prices(series.prices.clone()) {
                Ok(returns) => assets.push(Asset {
                    symbol,
                    dates: series.dates,
                    prices: series.prices,
                    returns,
                }),
                Err(e) => skipped.push((symbol, e.to_string())),
            }
        }
        Ok(Self {
            assets,
            skipped,
            source: path.to_path_buf(),
            loaded_at: SystemTime::now(),
            version,
        })
    }

    /// The asset named `symbol` (case-insensitive).
    pub fn get(&self, symbol: &str) -> Option<&Asset> {
        self.assets
            .iter()
            .find(|a| a.symbol.eq_ignore_ascii_case(symbol))
    }
}
