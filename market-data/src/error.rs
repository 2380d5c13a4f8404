//! The one error type of the data layer.
//!
//! Every variant names the file. Where a single row is at fault the error also names the row —
//! as a 1-based *data row* (the header is not counted) and, for CSV files, the 1-based *line* of
//! the file (the header is line 1, so line = data row + 1 when every record sits on one line) —
//! and the column, using the column name as it is spelled in the file.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a row sits: a 1-based data row (the header is not counted) and, for CSV, the
/// file line (`row + 1`: the header is line 1, one record per line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLocation {
    /// 1-based data row (the header row is not counted).
    pub row: usize,
    /// Whether the file is CSV, so that the row has a line number.
    pub csv: bool,
}

impl RowLocation {
    /// The location of the zero-based data row `index`.
    pub fn new(index: usize, csv: bool) -> Self {
        Self {
            row: index + 1,
            csv,
        }
    }

    /// The 1-based line of a CSV file (header = line 1); `None` for Parquet.
    pub fn line(&self) -> Option<usize> {
        self.csv.then_some(self.row + 1)
    }
}

impl fmt::Display for RowLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line() {
            Some(line) => write!(f, "data row {} (line {line})", self.row),
            None => write!(f, "row {}", self.row),
        }
    }
}

/// Why a market-data file was rejected.
///
/// The `Display` text is one line meant for an end user, e.g.
/// `prices.csv: data row 3 (line 4), column 'close': price is not positive (-1.5)`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: cannot read file: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The extension is neither `.csv` nor `.parquet` (`.pq`).
    #[error("{}: unsupported file type '{extension}'; expected .csv or .parquet", file.display())]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
        /// The extension found (empty if none).
        extension: String,
    },
    /// The file has no header, or a header and no data rows.
    #[error("{}: file is empty ({detail})", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
        /// `no header` or `no data rows`.
        detail: &'static str,
    },
    /// A required column is absent.
    #[error("{}: missing required column '{column}'; columns found: {}", file.display(), found.join(", "))]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column required (for a price, `close` or `adj_close`).
        column: String,
        /// The columns the file has.
        found: Vec<String>,
    },
    /// Two columns have the same name once case is ignored (e.g. `Close` and `close`).
    #[error("{}: columns {} all mean '{column}' (names are case-insensitive); keep one", file.display(), names.join(", "))]
    AmbiguousColumn {
        /// The file.
        file: PathBuf,
        /// The normalised name.
        column: String,
        /// The names as spelled in the file.
        names: Vec<String>,
    },
    /// A column has a type the loader cannot use (Parquet), e.g. a boolean price.
    #[error("{}: column '{column}' has type {dtype}; expected {expected}", file.display())]
    UnsupportedType {
        /// The file.
        file: PathBuf,
        /// The column.
        column: String,
        /// Its type.
        dtype: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// A required value is empty or null.
    #[error("{}: {at}, column '{column}': value is missing", file.display())]
    MissingValue {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column.
        column: String,
    },
    /// A value that should be a number is not one.
    #[error("{}: {at}, column '{column}': cannot parse '{value}' as a number", file.display())]
    BadNumber {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column.
        column: String,
        /// The text found.
        value: String,
    },
    /// A value that should be a date or timestamp is not one.
    #[error("{}: {at}, column '{column}': cannot parse '{value}' as {expected}", file.display())]
    BadTimestamp {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column.
        column: String,
        /// The text found.
        value: String,
        /// The accepted formats.
        expected: &'static str,
    },
    /// A number is NaN or infinite.
    #[error("{}: {at}, column '{column}': value is not finite ({value})", file.display())]
    NonFinite {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column.
        column: String,
        /// The value.
        value: f64,
    },
    /// A price is zero or negative, or a volume is negative.
    #[error("{}: {at}, column '{column}': {what} ({value})", file.display())]
    NonPositive {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column.
        column: String,
        /// `price is not positive` or `volume is negative`.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A bar's high/low do not bracket its open and close.
    #[error("{}: {at}, column '{column}': {detail}", file.display())]
    InconsistentBar {
        /// The file.
        file: PathBuf,
        /// The row.
        at: RowLocation,
        /// The column at fault (`high` or `low`).
        column: String,
        /// What is wrong.
        detail: String,
    },
    /// Two rows of one symbol carry the same date or timestamp.
    #[error("{}: {at}, column '{column}': duplicate {column} {value} for symbol '{symbol}' (first seen at data row {first_row})", file.display())]
    DuplicateTimestamp {
        /// The file.
        file: PathBuf,
        /// The later of the two rows.
        at: RowLocation,
        /// The 1-based data row of the earlier one.
        first_row: usize,
        /// The date/timestamp column.
        column: String,
        /// The symbol.
        symbol: String,
        /// The repeated date or timestamp.
        value: String,
    },
    /// Every symbol was skipped (too few observations), so nothing can be loaded.
    #[error("{}: no symbol has enough observations: {}", file.display(), reasons.join("; "))]
    NoUsableSeries {
        /// The file.
        file: PathBuf,
        /// Why each symbol was skipped.
        reasons: Vec<String>,
    },
    /// The file is not well-formed (e.g. a line with too many fields, a corrupt Parquet footer).
    #[error("{}: {}malformed file: {message}", file.display(), line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// The 1-based line at fault, when it could be located.
        line: Option<usize>,
        /// What the parser reported.
        message: String,
    },
    /// A Parquet file, and this build has no Parquet reader (cargo feature `parquet` of
    /// market-data, off by default).
    #[error("{}: cannot read Parquet: built without Parquet support; rebuild with `--features market-data/parquet` (or convert the file to CSV)", file.display())]
    ParquetUnsupported {
        /// The file.
        file: PathBuf,
    },
    /// An unexpected failure inside the Parquet reader (polars).
    #[error("{}: {context}: {message}", file.display())]
    Engine {
        /// The file.
        file: PathBuf,
        /// What the loader was doing.
        context: &'static str,
        /// The reader's error, as text (its type belongs to the optional Parquet reader).
        message: String,
    },
}

impl DataError {
    /// The file the error is about.
    pub fn file(&self) -> &std::path::Path {
        match self {
            DataError::Io { file, .. }
            | DataError::UnsupportedFormat { file, .. }
            | DataError::Empty { file, .. }
            | DataError::MissingColumn { file, .. }
            | DataError::AmbiguousColumn { file, .. }
            | DataError::UnsupportedType { file, .. }
            | DataError::MissingValue { file, .. }
            | DataError::BadNumber { file, .. }
            | DataError::BadTimestamp { file, .. }
            | DataError::NonFinite { file, .. }
            | DataError::NonPositive { file, .. }
            | DataError::InconsistentBar { file, .. }
            | DataError::DuplicateTimestamp { file, .. }
            | DataError::NoUsableSeries { file, .. }
            | DataError::Malformed { file, .. }
            | DataError::ParquetUnsupported { file }
            | DataError::Engine { file, .. } => file,
        }
    }

    /// The row at fault, if the error is about one row.
    pub fn row(&self) -> Option<RowLocation> {
        match self {
            DataError::MissingValue { at, .. }
            | DataError::BadNumber { at, .. }
            | DataError::BadTimestamp { at, .. }
            | DataError::NonFinite { at, .. }
            | DataError::NonPositive { at, .. }
            | DataError::InconsistentBar { at, .. }
            | DataError::DuplicateTimestamp { at, .. } => Some(*at),
            _ => None,
        }
    }
}
