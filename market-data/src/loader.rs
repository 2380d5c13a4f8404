//! Loading intraday bars from CSV or Parquet, and the grouping by symbol both loaders share.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::bar::Bar;
use crate::error::DataError;
use crate::table::{Check, Duplicate, Group, Source, Table, group_by_symbol, stem_symbol};

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
pub(crate) fn symbols_of(table: &Table, long: bool, path: &Path) -> Result<Vec<String>, DataError> {
    if long {
        table.strings("symbol")
    } else {
        Ok(vec![stem_symbol(path); table.height])
    }
}

/// Groups by symbol, turning a duplicate key into an error (`show_key` renders the key of a
/// zero-based row) and collecting an "unsorted" warning.
pub(crate) fn groups(
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

/// Loads intraday bars (e.g. 5-minute) from a CSV or Parquet file.
///
/// Columns (names case-insensitive): `timestamp` (the bar's start; ISO 8601 text with `Z` or a
/// UTC offset, e.g. `2024-01-02T14:30:00Z`, or a Parquet `Datetime`; text without offset and
/// `Datetime` without time zone are read as UTC, with a warning), `symbol` (optional: long
/// format, else the file stem), `open`, `high`, `low`, `close` (finite, positive, high/low bracketing
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
