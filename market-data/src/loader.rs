//! Loading daily prices and intraday bars from CSV or Parquet.

use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::bar::Bar;
use crate::error::DataError;
use crate::table::{Check, Duplicate, Group, Source, Table, group_by_symbol, stem_symbol};
use garch_core::{MIN_OBSERVATIONS, Prices, Returns, SeriesError};

/// Fewest prices a daily series needs to be loaded: enough for [`MIN_OBSERVATIONS`] returns.
pub const MIN_DAILY_PRICES: usize = MIN_OBSERVATIONS + 1;

/// Daily price series of every symbol in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyData {
    /// One series per symbol, ordered by symbol.
    pub series: Vec<DailySeries>,
    /// Things the loader fixed or skipped (input sorted, symbols too short to fit); the services
    /// log them.
    pub warnings: Vec<String>,
}

impl DailyData {
    /// The series of `symbol`, if loaded.
    pub fn get(&self, symbol: &str) -> Option<&DailySeries> {
        self.series
            .binary_search_by(|s| s.symbol.as_str().cmp(symbol))
            .ok()
            .map(|i| &self.series[i])
    }

    /// The loaded symbols, in order.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.series.iter().map(|s| s.symbol.as_str())
    }
}

/// One symbol's daily prices, in date order with unique dates.
#[derive(Debug, Clone, PartialEq)]
pub struct DailySeries {
    /// The symbol (the file stem for a single-series file).
    pub symbol: String,
    /// Trading dates, strictly increasing.
    pub dates: Vec<NaiveDate>,
    /// Prices (`adj_close` if the file has it, otherwise `close`), one per date; at least
    /// [`MIN_DAILY_PRICES`].
    pub prices: Prices,
}

impl DailySeries {
    /// Percent log returns `100·ln(p_t/p_{t−1})`, one per [`DailySeries::return_dates`] entry.
    pub fn returns(&self) -> Result<Returns, SeriesError> {
        self.prices.to_returns()
    }

    /// The dates of the returns: every date but the first.
    pub fn return_dates(&self) -> &[NaiveDate] {
        &self.dates[1..]
    }
}

/// Intraday bars of every symbol in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct BarData {
    /// One series per symbol, ordered by symbol.
    pub series: Vec<BarSeries>,
    /// Things the loader fixed (input sorted, timestamps without offset read as UTC).
    pub warnings: Vec<String>,
}

impl BarData {
    /// The bars of `symbol`, if loaded.
    pub fn get(&self, symbol: &str) -> Option<&BarSeries> {
        self.series
            .binary_search_by(|s| s.symbol.as_str().cmp(symbol))
            .ok()
            .map(|i| &self.series[i])
    }
}

/// One symbol's bars as parallel columns, in time order with unique timestamps. Every price is
/// finite and positive, `low ≤ min(open, close)`, `high ≥ max(open, close)`, volume ≥ 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarSeries {
    /// The symbol.
    pub symbol: String,
    /// Bar start times, Unix seconds (UTC), strictly increasing.
    pub timestamps: Vec<i64>,
    /// Opening prices.
    pub open: Vec<f64>,
    /// Highest prices.
    pub high: Vec<f64>,
    /// Lowest prices.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Volumes.
    pub volume: Vec<f64>,
}

impl BarSeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Bar `index`, `None` past the end.
    pub fn bar(&self, index: usize) -> Option<Bar> {
        (index < self.len()).then(|| self.row(index))
    }

    /// The bars in time order.
    pub fn bars(&self) -> impl ExactSizeIterator<Item = Bar> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    fn row(&self, i: usize) -> Bar {
        Bar {
            timestamp: self.timestamps[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }

    /// Appends one bar (the caller keeps the series' invariants: later timestamp, valid prices).
    pub fn push(&mut self, bar: Bar) {
        self.timestamps.push(bar.timestamp);
        self.open.push(bar.open);
        self.high.push(bar.high);
        self.low.push(bar.low);
        self.close.push(bar.close);
        self.volume.push(bar.volume);
    }
}

/// The symbols of a file: its `symbol` column, or the file stem for a single-series file.
fn symbols_of(table: &Table, long: bool, path: &Path) -> Result<Vec<String>, DataError> {
    if long {
        table.strings("symbol")
    } else {
        Ok(vec![stem_symbol(path); table.height])
    }
}

/// Groups by symbol, turning a duplicate key into an error (`show_key` renders the key of a
/// zero-based row) and collecting an "unsorted" warning.
fn groups(
    table: &Table,
    symbols: &[String],
    keys: &[i64],
    key_column: &str,
    show_key: impl Fn(usize) -> String,
    warnings: &mut Vec<String>,
) -> Result<Vec<Group>, DataError> {
    let groups = match group_by_symbol(symbols, keys) {
        Ok(g) => g,
        Err(Duplicate {
            symbol,
            first,
            later,
        }) => {
            return Err(DataError::DuplicateTimestamp {
                file: table.file.clone(),
                at: table.location(later),
                first_row: first + 1,
                column: key_column.to_string(),
                symbol,
                value: show_key(later),
            });
        }
    };
    let unsorted: Vec<&str> = groups
        .iter()
        .filter(|g| !g.was_sorted)
        .map(|g| g.symbol.as_str())
        .collect();
    if !unsorted.is_empty() {
        const SHOWN: usize = 10;
        let more = if unsorted.len() > SHOWN { ", …" } else { "" };
        warnings.push(format!(
            "{}: rows of {} symbol(s) were not in time order and have been sorted: {}{more}",
            table.file.display(),
            unsorted.len(),
            unsorted[..unsorted.len().min(SHOWN)].join(", ")
        ));
    }
    Ok(groups)
}

/// Loads daily prices from a CSV or Parquet file (chosen by extension: `.csv`, `.parquet`/`.pq`).
///
/// Columns (names case-insensitive; spaces and hyphens count as underscores, so `Adj Close`
/// works):
/// * `date` (required): `YYYY-MM-DD` text (or a timestamp, whose date part is taken), or a
///   Parquet `Date`/`Datetime`;
/// * `adj_close` or `close` (one required; `adj_close` is used when both are present): prices,
///   finite and positive;
/// * `symbol` (optional): long format with many symbols. Without it the file is one series named
///   after the file stem (`spx.csv` → `spx`).
///
/// Other columns are ignored (and not parsed). Each symbol's rows are sorted by date (a warning
/// says so if the file was not sorted); a repeated date for a symbol is an error. A symbol with
/// fewer than [`MIN_DAILY_PRICES`] prices is skipped with a warning; if every symbol is skipped
/// the load fails.
pub fn load_daily(path: &Path) -> Result<DailyData, DataError> {
    let source = Source::scan(path)?;
    let date = source.require("date")?;
    let price_name = match source.find("adj_close")? {
        Some(spelled) => ("adj_close", spelled),
        None => match source.find("close")? {
            Some(spelled) => ("close", spelled),
            None => {
                return Err(DataError::MissingColumn {
                    file: path.to_path_buf(),
                    column: "close (or adj_close)".to_string(),
                    found: source.names().to_vec(),
                });
            }
        },
    };
    let symbol = source.find("symbol")?;
    let long = symbol.is_some();
    let mut wanted = vec![("date", date), (price_name.0, price_name.1)];
    if let Some(s) = symbol {
        wanted.push(("symbol", s));
    }
    let table = source.collect(&wanted)?;

    let dates = table.dates("date")?;
    let prices = table.numbers(price_name.0, Check::Price)?;
    let symbols = symbols_of(&table, long, path)?;
    let keys: Vec<i64> = dates
        .iter()
        .map(|d| i64::from(d.num_days_from_ce()))
        .collect();
    let mut warnings = Vec::new();
    let date_column = table.spelled("date").to_string();
    let groups = groups(
        &table,
        &symbols,
        &keys,
        &date_column,
        |row| dates[row].to_string(),
        &mut warnings,
    )?;

    let mut series = Vec::with_capacity(groups.len());
    let mut skipped = Vec::new();
    for g in groups {
        if g.rows.len() < MIN_DAILY_PRICES {
            skipped.push(format!(
                "symbol '{}' has {} prices, at least {MIN_DAILY_PRICES} are needed",
                g.symbol,
                g.rows.len()
            ));
            continue;
        }
        let p: Vec<f64> = g.rows.iter().map(|&r| prices[r]).collect();
        let prices = Prices::new(p).map_err(|e| DataError::Malformed {
            file: table.file.clone(),
            line: None,
            message: format!("validated prices rejected: {e}"),
        })?;
        series.push(DailySeries {
            symbol: g.symbol,
            dates: g.rows.iter().map(|&r| dates[r]).collect(),
            prices,
        });
    }
    if series.is_empty() {
        return Err(DataError::NoUsableSeries {
            file: table.file.clone(),
            reasons: skipped,
        });
    }
    for reason in skipped {
        warnings.push(format!("{}: skipped {reason}", table.file.display()));
    }
    Ok(DailyData { series, warnings })
}

/// Loads intraday bars (e.g. 5-minute) from a CSV or Parquet file.
///
/// Columns (names case-insensitive): `timestamp` (the bar's start; ISO 8601 text with `Z` or a
/// UTC offset, e.g. `2024-01-02T14:30:00Z`, or a Parquet `Datetime`; text without offset and
/// `Datetime` without time zone are read as UTC, with a warning), `symbol` (optional, as in
/// [`load_daily`]), `open`, `high`, `low`, `close` (finite, positive, high/low bracketing
/// open/close) and `volume` (finite, ≥ 0). Each symbol's bars are sorted by time (with a warning
/// if the file was not); a repeated timestamp for a symbol is an error.
pub fn load_bars(path: &Path) -> Result<BarData, DataError> {
    let source = Source::scan(path)?;
    let mut wanted = Vec::new();
    for name in ["timestamp", "open", "high", "low", "close", "volume"] {
        wanted.push((name, source.require(name)?));
    }
    let symbol = source.find("symbol")?;
    let long = symbol.is_some();
    if let Some(s) = symbol {
        wanted.push(("symbol", s));
    }
    let table = source.collect(&wanted)?;

    let (timestamps, naive) = table.timestamps("timestamp")?;
    let open = table.numbers("open", Check::Price)?;
    let high = table.numbers("high", Check::Price)?;
    let low = table.numbers("low", Check::Price)?;
    let close = table.numbers("close", Check::Price)?;
    let volume = table.numbers("volume", Check::Volume)?;
    for i in 0..table.height {
        let (o, h, l, c) = (open[i], high[i], low[i], close[i]);
        let fault = if h < o.max(c).max(l) {
            Some((
                "high",
                format!("high {h} is below open {o}, close {c} or low {l}"),
            ))
        } else if l > o.min(c) {
            Some(("low", format!("low {l} is above open {o} or close {c}")))
        } else {
            None
        };
        if let Some((column, detail)) = fault {
            return Err(DataError::InconsistentBar {
                file: table.file.clone(),
                at: table.location(i),
                column: table.spelled(column).to_string(),
                detail,
            });
        }
    }
    let symbols = symbols_of(&table, long, path)?;
    let mut warnings = Vec::new();
    if naive {
        warnings.push(format!(
            "{}: column '{}' has timestamps without a UTC offset; they were read as UTC",
            table.file.display(),
            table.spelled("timestamp")
        ));
    }
    let ts_column = table.spelled("timestamp").to_string();
    let show = |row: usize| {
        let t = timestamps[row];
        DateTime::<Utc>::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| t.to_string())
    };
    let groups = groups(
        &table,
        &symbols,
        &timestamps,
        &ts_column,
        show,
        &mut warnings,
    )?;
    let series = groups
        .into_iter()
        .map(|g| {
            let pick = |v: &[f64]| g.rows.iter().map(|&r| v[r]).collect::<Vec<f64>>();
            BarSeries {
                open: pick(&open),
                high: pick(&high),
                low: pick(&low),
                close: pick(&close),
                volume: pick(&volume),
                timestamps: g.keys,
                symbol: g.symbol,
            }
        })
        .collect();
    Ok(BarData { series, warnings })
}
