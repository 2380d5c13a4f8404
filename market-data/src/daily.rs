//! Loading daily prices from CSV or Parquet into the validated series the models take
//! (cargo feature `daily`, which brings garch-core's [`Prices`] and [`Returns`]).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use garch_core::{MIN_OBSERVATIONS, Prices, Returns, SeriesError};

use crate::error::DataError;
use crate::loader::{groups, symbols_of};
use crate::table::{Check, Source};

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
