//! Reading five-minute bars from CSV: `timestamp,symbol,open,high,low,close,volume`, column
//! names case-insensitive, timestamps RFC 3339 in UTC (`…Z`) or Unix seconds. Every problem
//! names the file, the line and the column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use garch_core::indicators::Bar;

/// A problem with a bar file.
#[derive(Debug, thiserror::Error)]
pub enum BarsError {
    /// Unreadable file.
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
    #[error("{path}: missing column '{column}'")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A bad value.
    #[error("{path}: line {line}, column '{column}': {problem}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line (header is line 1).
        line: usize,
        /// The column.
        column: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The same timestamp twice for a symbol.
    #[error("{path}: line {line}: duplicate timestamp for {symbol}")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The symbol.
        symbol: String,
    },
    /// No rows.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Parses an RFC 3339 UTC timestamp or Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(secs) = text.parse::<i64>() {
        return Some(secs);
    }
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

/// RFC 3339 text of a Unix timestamp.
pub fn format_timestamp(secs: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Bars of every symbol in a file, and what was noticed while reading it.
#[derive(Debug, Default)]
pub struct BarFile {
    /// Bars by symbol, in time order.
    pub bars: BTreeMap<String, Vec<Bar>>,
    /// Warnings (e.g. rows that had to be sorted).
    pub warnings: Vec<String>,
}

/// Reads every symbol's bars, sorted by time.
pub fn read_bars(path: &Path) -> Result<BarFile, BarsError> {
    let p = || path.to_path_buf();
    let file = std::fs::File::open(path).map_err(|source| BarsError::Io { path: p(), source })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|source| BarsError::Csv { path: p(), source })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(BarsError::MissingColumn {
                path: p(),
                column: name,
            })
    };
    let cols = [
        col("timestamp")?,
        col("symbol")?,
        col("open")?,
        col("high")?,
        col("low")?,
        col("close")?,
        col("volume")?,
    ];
    let names = [
        "timestamp",
        "symbol",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ];
    let mut books: BTreeMap<String, Vec<(Bar, usize)>> = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|source| BarsError::Csv { path: p(), source })?;
        let field = |k: usize| rec.get(cols[k]).unwrap_or("");
        let bad = |k: usize, problem: String| BarsError::BadValue {
            path: p(),
            line,
            column: names[k],
            problem,
        };
        let timestamp = parse_timestamp(field(0))
            .ok_or_else(|| bad(0, format!("'{}' is not an RFC 3339 timestamp", field(0))))?;
        let mut v = [0.0; 5];
        for (k, slot) in v.iter_mut().enumerate() {
            let raw = field(k + 2);
            let x: f64 = raw
                .parse()
                .map_err(|_| bad(k + 2, format!("'{raw}' is not a number")))?;
            let ok = x.is_finite() && if k == 4 { x >= 0.0 } else { x > 0.0 };
            if !ok {
                return Err(bad(k + 2, format!("{raw} is not a valid value")));
            }
            *slot = x;
        }
        let bar = Bar {
            timestamp,
            open: v[0],
            high: v[1],
            low: v[2],
            close: v[3],
            volume: v[4],
        };
        books
            .entry(field(1).to_string())
            .or_default()
            .push((bar, line));
    }
    if books.is_empty() {
        return Err(BarsError::Empty { path: p() });
    }
    let mut warnings = Vec::new();
    let mut out = BTreeMap::new();
    for (symbol, mut rows) in books {
        if rows.windows(2).any(|w| w[0].0.timestamp > w[1].0.timestamp) {
            warnings.push(format!(
                "{}: {symbol} was not sorted by time; sorted it",
                path.display()
            ));
            rows.sort_by_key(|r| r.0.timestamp);
        }
        if let Some(w) = rows
            .windows(2)
            .find(|w| w[0].0.timestamp == w[1].0.timestamp)
        {
            return Err(BarsError::Duplicate {
                path: p(),
                line: w[0].1.max(w[1].1),
                symbol,
            });
        }
        out.insert(symbol, rows.into_iter().map(|r| r.0).collect());
    }
    Ok(BarFile {
        bars: out,
        warnings,
    })
}
