//! Reading one price series from a CSV file: `date,close` or long format
//! `date,symbol,...,close`. Column names are matched case-insensitively and `adj_close` is
//! preferred over `close`. Every problem is reported with the file, the 1-based line and the
//! column, so a user can open the file and fix it.
//!
//! (The services' bulk loader is polars-based and lives in the data layer; this small reader
//! keeps the CLI independent of it.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Malformed CSV.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// A required column is absent.
    #[error("{path}: missing column '{column}' (found: {found})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// Columns present.
        found: String,
    },
    /// A value that is not a number, or not a valid price.
    #[error("{path}: line {line}, column '{column}': {problem}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: usize,
        /// The column.
        column: String,
        /// What is wrong.
        problem: String,
    },
    /// Several symbols and none chosen, or the chosen one is absent.
    #[error("{path}: {problem}")]
    Symbol {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The same date twice.
    #[error("{path}: line {line}: duplicate date {date}")]
    DuplicateDate {
        /// The file.
        path: PathBuf,
        /// 1-based line of the second occurrence.
        line: usize,
        /// The date.
        date: String,
    },
    /// No data rows.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// A price series read from a file, sorted by date.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSeries {
    /// The symbol, if the file has a symbol column.
    pub symbol: Option<String>,
    /// Dates as written in the file (ISO 8601 sorts correctly as text).
    pub dates: Vec<String>,
    /// Prices, one per date.
    pub prices: Vec<f64>,
    /// Whether the rows had to be sorted.
    pub was_unsorted: bool,
}

/// Reads the series of `symbol` (or the only series) from `path`.
pub fn read_prices(path: &Path, symbol: Option<&str>) -> Result<PriceSeries, InputError> {
    let p = || path.to_path_buf();
    let all = read_all(path, symbol)?;
    let symbols: Vec<String> = all.iter().filter_map(|s| s.symbol.clone()).collect();
    let mut all: Vec<PriceSeries> = all.into_iter().filter(|s| !s.prices.is_empty()).collect();
    match (symbol, all.len()) {
        (None, 0) => Err(InputError::Empty { path: p() }),
        (None, 1) => Ok(all.remove(0)),
        (None, n) => Err(InputError::Symbol {
            path: p(),
            problem: format!(
                "{n} symbols in the file; choose one with --symbol ({})",
                preview(&symbols)
            ),
        }),
        (Some(want), _) => {
            let pos = all
                .iter()
                .position(|s| s.symbol.as_deref() == Some(want))
                .ok_or_else(|| InputError::Symbol {
                    path: p(),
                    problem: format!("symbol '{want}' not found ({})", preview(&symbols)),
                })?;
            Ok(all.swap_remove(pos))
        }
    }
}

/// Reads every series in `path` (one per symbol, sorted by symbol; a file without a symbol
/// column is one series with no symbol).
pub fn read_universe(path: &Path) -> Result<Vec<PriceSeries>, InputError> {
    let all = read_all(path, None)?;
    if all.is_empty() {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(all)
}

/// Parses the file into one series per symbol. With `only`, rows of other symbols are not
/// parsed: their series come back empty, still named, so a missing symbol can be reported
/// with the ones that exist.
fn read_all(path: &Path, only: Option<&str>) -> Result<Vec<PriceSeries>, InputError> {
    let p = || path.to_path_buf();
    let file = std::fs::File::open(path).map_err(|source| InputError::Io { path: p(), source })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|source| InputError::Csv { path: p(), source })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let missing = |column| InputError::MissingColumn {
        path: p(),
        column,
        found: headers.join(","),
    };
    let date_col = find("date")
        .or_else(|| find("timestamp"))
        .ok_or_else(|| missing("date"))?;
    let (price_col, price_name) = match (find("adj_close"), find("close")) {
        (Some(i), _) => (i, "adj_close"),
        (None, Some(i)) => (i, "close"),
        (None, None) => return Err(missing("close")),
    };
    let symbol_col = find("symbol");
    let mut groups: BTreeMap<String, Vec<(String, f64, usize)>> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|source| InputError::Csv { path: p(), source })?;
        let field = |c: usize| record.get(c).unwrap_or("");
        let sym = symbol_col.map_or("", field);
        let rows = groups.entry(sym.to_string()).or_default();
        if only.is_some_and(|want| want != sym) {
            continue;
        }
        let bad = |problem: String| InputError::BadValue {
            path: p(),
            line,
            column: price_name.to_string(),
            problem,
        };
        let raw = field(price_col);
        let price: f64 = raw
            .parse()
            .map_err(|_| bad(format!("'{raw}' is not a number")))?;
        if !price.is_finite() || price <= 0.0 {
            return Err(bad(format!("price must be positive and finite, got {raw}")));
        }
        let date = field(date_col).to_string();
        if date.is_empty() {
            return Err(InputError::BadValue {
                path: p(),
                line,
                column: headers[date_col].clone(),
                problem: "empty date".into(),
            });
        }
        rows.push((date, price, line));
    }
    let mut out = Vec::new();
    for (sym, mut rows) in groups {
        if rows.is_empty() {
            out.push(PriceSeries {
                symbol: symbol_col.map(|_| sym),
                dates: Vec::new(),
                prices: Vec::new(),
                was_unsorted: false,
            });
            continue;
        }
        let was_unsorted = rows.windows(2).any(|w| w[0].0 > w[1].0);
        if was_unsorted {
            rows.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(InputError::DuplicateDate {
                path: p(),
                line: w[1].2.max(w[0].2),
                date: w[1].0.clone(),
            });
        }
        let (dates, prices) = rows.into_iter().map(|(d, v, _)| (d, v)).unzip();
        out.push(PriceSeries {
            symbol: symbol_col.map(|_| sym),
            dates,
            prices,
            was_unsorted,
        });
    }
    Ok(out)
}

fn preview(symbols: &[String]) -> String {
    let shown: Vec<&str> = symbols.iter().take(8).map(String::as_str).collect();
    let more = symbols.len().saturating_sub(8);
    if more > 0 {
        format!("{}, … {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
