//! The data a service instance serves: every symbol's daily prices and validated returns, plus
//! the realized variance of the days that have 5-minute bars, loaded as one immutable snapshot.
//! Reloading builds a new snapshot and swaps it in atomically, so readers never see a
//! half-loaded state.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use garch_core::{Prices, Returns, SeriesError};
use market_data::store::DailyClose;
use market_data::{DataError, Session, load_bars, load_daily, realized_variance};

/// One symbol's series.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Ticker.
    pub symbol: String,
    /// Dates of the prices (ISO 8601).
    pub dates: Vec<String>,
    /// Prices.
    pub prices: Vec<f64>,
    /// Percent log returns, `dates[1..]`.
    pub returns: Returns,
    /// Realized daily variance (percent²) from 5-minute bars, by ISO date.
    pub realized: HashMap<String, f64>,
    /// The backtests' variance proxy from the bars, by ISO date: realized variance plus the
    /// squared overnight return (close to close, like the model's forecast); absent on days
    /// without bars and on the first day of the bars.
    pub variance_proxy: HashMap<String, f64>,
}

impl Asset {
    /// Dates of the returns.
    pub fn return_dates(&self) -> &[String] {
        &self.dates[1..]
    }

    /// Last date of the data the first `nobs` returns cover (`None` past the end).
    pub fn date_of_return(&self, nobs: usize) -> Option<&String> {
        nobs.checked_sub(1).and_then(|i| self.return_dates().get(i))
    }

    /// This asset with `closes` appended (their dates after the last one): prices, dates and
    /// the returns recomputed over the whole series, exactly as a file with those rows would
    /// give them.
    pub fn extended(&self, closes: &[DailyClose]) -> Result<Asset, SeriesError> {
        let mut prices = self.prices.clone();
        prices.extend(closes.iter().map(|c| c.close));
        let validated = Prices::new(prices)?;
        let returns = validated.to_returns()?;
        let mut dates = self.dates.clone();
        dates.extend(closes.iter().map(|c| c.date.to_string()));
        Ok(Asset {
            symbol: self.symbol.clone(),
            dates,
            prices: validated.as_slice().to_vec(),
            returns,
            realized: self.realized.clone(),
            variance_proxy: self.variance_proxy.clone(),
        })
    }
}

/// A loaded data set.
#[derive(Debug, Clone)]
pub struct Universe {
    /// Assets sorted by symbol.
    pub assets: Vec<Asset>,
    /// Symbols skipped, with the reason (too short, constant …).
    pub skipped: Vec<(String, String)>,
    /// What the loaders noticed (sorted input, skipped symbols, missing bars file …).
    pub warnings: Vec<String>,
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
            warnings: Vec::new(),
            source: source.to_path_buf(),
            loaded_at: SystemTime::now(),
            version: 0,
        }
    }

    /// Loads the daily file `path` and, if given and present, the 5-minute `bars` for realized
    /// variance. Symbols whose series cannot be fitted are skipped, not fatal; a missing or
    /// unreadable bars file only loses the realized variance (with a warning).
    pub fn load(path: &Path, bars: Option<&Path>, version: u64) -> Result<Self, DataError> {
        let daily = load_daily(path)?;
        let mut warnings = daily.warnings;
        let mut realized: HashMap<String, HashMap<String, f64>> = HashMap::new();
        let mut proxies: HashMap<String, HashMap<String, f64>> = HashMap::new();
        match bars {
            Some(b) if b.is_file() => match load_bars(b) {
                Ok(data) => {
                    warnings.extend(data.warnings);
                    let session = Session::us_equities();
                    for series in &data.series {
                        let days = realized_variance(series, &session);
                        proxies.insert(
                            series.symbol.clone(),
                            days.iter()
                                .filter_map(|d| {
                                    Some((d.date.to_string(), d.close_to_close_variance()?))
                                })
                                .collect(),
                        );
                        realized.insert(
                            series.symbol.clone(),
                            days.into_iter()
                                .map(|d| (d.date.to_string(), d.realized_variance))
                                .collect(),
                        );
                    }
                }
                Err(e) => warnings.push(format!("realized variance unavailable: {e}")),
            },
            Some(b) => warnings.push(format!(
                "{}: no such file; realized variance unavailable",
                b.display()
            )),
            None => {}
        }
        let mut assets = Vec::new();
        let mut skipped = Vec::new();
        for series in daily.series {
            match series.returns() {
                Ok(returns) => assets.push(Asset {
                    realized: realized.remove(&series.symbol).unwrap_or_default(),
                    variance_proxy: proxies.remove(&series.symbol).unwrap_or_default(),
                    symbol: series.symbol,
                    dates: series.dates.iter().map(ToString::to_string).collect(),
                    prices: series.prices.as_slice().to_vec(),
                    returns,
                }),
                Err(e) => skipped.push((series.symbol, e.to_string())),
            }
        }
        Ok(Self {
            assets,
            skipped,
            warnings,
            source: path.to_path_buf(),
            loaded_at: SystemTime::now(),
            version,
        })
    }

    /// Appends the closes replayed from the store, by symbol, on top of the loaded file. The
    /// file is the base: stored closes dated at or before a symbol's last file date (the file
    /// was updated to include them) are skipped with a warning, and so are symbols the file no
    /// longer has; they stay in the store. Returns how many closes were appended.
    pub fn replay(&mut self, stored: BTreeMap<String, Vec<DailyClose>>) -> usize {
        let mut replayed = 0;
        for (symbol, closes) in stored {
            let Some(asset) = self.assets.iter_mut().find(|a| a.symbol == symbol) else {
                self.warnings.push(format!(
                    "{symbol}: {} stored closes, but the data file has no such symbol: not \
                     served, kept in the store",
                    closes.len()
                ));
                continue;
            };
            let last = asset.dates.last().cloned().unwrap_or_default();
            let (old, new): (Vec<_>, Vec<_>) =
                closes.into_iter().partition(|c| c.date.to_string() <= last);
            if !old.is_empty() {
                self.warnings.push(format!(
                    "{symbol}: {} stored closes not after the data file's last date {last}: \
                     the file wins",
                    old.len()
                ));
            }
            if new.is_empty() {
                continue;
            }
            match asset.extended(&new) {
                Ok(extended) => {
                    replayed += new.len();
                    *asset = extended;
                }
                Err(e) => self.warnings.push(format!(
                    "{symbol}: stored closes not applied ({e}); kept in the store"
                )),
            }
        }
        replayed
    }

    /// The asset named `symbol` (case-insensitive).
    pub fn get(&self, symbol: &str) -> Option<&Asset> {
        self.assets
            .iter()
            .find(|a| a.symbol.eq_ignore_ascii_case(symbol))
    }
}
