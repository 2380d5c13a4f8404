//! Reading one file into typed, validated columns (crate-internal).
//!
//! polars' eager readers load only the columns the caller asked for: the header (CSV) or the
//! footer (Parquet) is read first for the column names, then the file is read with that
//! projection. CSV files are read with every column as text (schema inference off), so a bad
//! value never makes the read itself fail: each column is then converted with a polars cast
//! and, where the cast leaves a null that was not in the text, the loader walks the column to
//! name the row, the column and the text at fault. Parquet columns keep their stored types
//! (numbers, `Date`, `Datetime`) and text columns go through the same conversion as CSV.

// The date columns are read only by the daily loader (feature `daily`).
#![cfg_attr(not(feature = "daily"), allow(dead_code))]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::error::{DataError, RowLocation};

/// File formats the loader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Parquet,
}

/// Normalises a column name: trimmed, lower case, spaces and hyphens as underscores, so that
/// `Adj Close`, `adj-close` and `ADJ_CLOSE` all read as `adj_close` (a UTF-8 byte-order mark
/// before the first name is dropped).
pub(crate) fn normalize_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// How the data rows of an opened file will be read.
enum Reader {
    /// CSV: the header has been read; the rows are read (with a projection) on collect.
    Csv,
    /// Parquet: the footer (metadata, schema) has been read and is kept for the read.
    Parquet(ParquetReader<File>),
}

/// An opened file whose column names are known and whose rows are not read yet.
pub(crate) struct Source {
    pub file: PathBuf,
    pub format: Format,
    reader: Reader,
    /// Column names as spelled in the file, in file order.
    names: Vec<String>,
}

/// Collected columns, keyed by normalised name.
pub(crate) struct Table {
    pub file: PathBuf,
    pub format: Format,
    pub height: usize,
    columns: BTreeMap<String, (String, Column)>,
}

fn catch<T>(f: impl FnOnce() -> PolarsResult<T>) -> Result<PolarsResult<T>, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the parser panicked".to_string())
    })
}

/// A file opened for its column names.
enum Opened {
    /// The bytes of a CSV file up to the end of its header record.
    CsvHeader(Vec<u8>),
    Parquet(File),
}

/// The bytes of a CSV file up to the end of its header record: up to the first line end
/// (outside double quotes) after some non-blank text, or the whole file if there is none.
/// polars then parses the header as it would at the top of the whole file, without reading,
/// validating or counting the data rows.
fn csv_header(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let mut bytes = Vec::new();
    let mut block = [0u8; 8192];
    let (mut in_quotes, mut content) = (false, false);
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok(bytes);
        }
        for (i, &b) in block[..n].iter().enumerate() {
            match b {
                b'"' => {
                    in_quotes = !in_quotes;
                    content = true;
                }
                b'\n' if !in_quotes && content => {
                    bytes.extend_from_slice(&block[..=i]);
                    return Ok(bytes);
                }
                b if !b.is_ascii_whitespace() => content = true,
                _ => {}
            }
        }
        bytes.extend_from_slice(&block[..n]);
    }
}

/// CSV read options: a header, every column as text (no schema inference), `n_rows` rows.
fn csv_options(n_rows: Option<usize>) -> CsvReadOptions {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_n_rows(n_rows)
}

impl Source {
    /// Opens `path` and reads its column names (the CSV header or the Parquet footer).
    pub fn scan(path: &Path) -> Result<Self, DataError> {
        let file = path.to_path_buf();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let format = match extension.as_str() {
            "csv" => Format::Csv,
            "parquet" | "pq" => Format::Parquet,
            _ => return Err(DataError::UnsupportedFormat { file, extension }),
        };
        let meta = std::fs::metadata(path).map_err(|source| DataError::Io {
            file: file.clone(),
            source,
        })?;
        if meta.len() == 0 {
            return Err(DataError::Empty {
                file,
                detail: "no header",
            });
        }
        if format == Format::Csv && meta.len() <= 4096 {
            // A file of blank lines has no header either; polars would call it a schema error.
            let head = std::fs::read(path).map_err(|source| DataError::Io {
                file: file.clone(),
                source,
            })?;
            if head.iter().all(u8::is_ascii_whitespace) {
                return Err(DataError::Empty {
                    file,
                    detail: "no header",
                });
            }
        }
        let io = |source| DataError::Io {
            file: file.clone(),
            source,
        };
        let opened = match format {
            Format::Csv => Opened::CsvHeader(csv_header(path).map_err(io)?),
            Format::Parquet => Opened::Parquet(File::open(path).map_err(io)?),
        };
        let scanned = catch(|| match opened {
            Opened::CsvHeader(header) => {
                // polars parses the header record alone: no data row is read here.
                let header = csv_options(Some(0))
                    .into_reader_with_file_handle(Cursor::new(header))
                    .finish()?;
                let names = header
                    .get_column_names()
                    .into_iter()
                    .map(|n| n.to_string())
                    .collect();
                Ok((Reader::Csv, names))
            }
            Opened::Parquet(handle) => {
                let mut reader = ParquetReader::new(handle);
                let names = reader
                    .schema()?
                    .iter_names()
                    .map(|n| n.to_string())
                    .collect();
                Ok((Reader::Parquet(reader), names))
            }
        });
        let (reader, names) = match scanned {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(malformed(&file, format, e.to_string())),
            Err(panic) => return Err(malformed(&file, format, panic)),
        };
        Ok(Self {
            file,
            format,
            reader,
            names,
        })
    }

    /// Column names as spelled in the file.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The file's spelling of the column whose normalised name is `wanted`, if present; an error
    /// if two columns normalise to it.
    pub fn find(&self, wanted: &str) -> Result<Option<String>, DataError> {
        let matches: Vec<&String> = self
            .names
            .iter()
            .filter(|n| normalize_name(n) == wanted)
            .collect();
        match matches.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            many => Err(DataError::AmbiguousColumn {
                file: self.file.clone(),
                column: wanted.to_string(),
                names: many.iter().map(|s| format!("'{s}'")).collect(),
            }),
        }
    }

    /// As [`Source::find`], but the column must exist.
    pub fn require(&self, wanted: &str) -> Result<String, DataError> {
        self.find(wanted)?.ok_or_else(|| DataError::MissingColumn {
            file: self.file.clone(),
            column: wanted.to_string(),
            found: self.names.clone(),
        })
    }

    /// Reads the given columns (`(normalised, as spelled)` pairs) and nothing else; an empty
    /// result is an error.
    pub fn collect(self, columns: &[(&str, String)]) -> Result<Table, DataError> {
        let Source {
            file,
            format,
            reader,
            names: _,
        } = self;
        let spelled: Vec<&str> = columns.iter().map(|(_, s)| s.as_str()).collect();
        let read = catch(|| match reader {
            Reader::Csv => csv_options(None)
                .with_columns(Some(spelled.iter().map(|&s| s.into()).collect()))
                .try_into_reader_with_file_path(Some(file.clone()))?
                .finish(),
            Reader::Parquet(reader) => reader
                .with_columns(Some(spelled.iter().map(|&s| s.to_string()).collect()))
                .finish(),
        });
        let df = match read {
            Ok(Ok(df)) => df,
            Ok(Err(e)) => return Err(malformed(&file, format, e.to_string())),
            Err(panic) => return Err(malformed(&file, format, panic)),
        };
        if df.height() == 0 {
            return Err(DataError::Empty {
                file,
                detail: "no data rows",
            });
        }
        let height = df.height();
        let columns = columns
            .iter()
            .map(|(canonical, spelled)| {
                let column = df
                    .column(spelled)
                    .map_err(|source| DataError::Engine {
                        file: file.clone(),
                        context: "selected column is absent",
                        source,
                    })?
                    .clone();
                Ok((canonical.to_string(), (spelled.clone(), column)))
            })
            .collect::<Result<_, DataError>>()?;
        Ok(Table {
            file,
            format,
            height,
            columns,
        })
    }
}

/// Turns a parser failure into [`DataError::Malformed`], locating the line of a CSV file whose
/// field count differs from the header's when there is one.
fn malformed(file: &Path, format: Format, message: String) -> DataError {
    let line = match format {
        Format::Csv => std::fs::read(file)
            .ok()
            .and_then(|bytes| ragged_line(&bytes)),
        Format::Parquet => None,
    };
    let message = match line {
        Some((_, expected, found)) => {
            format!("expected {expected} fields as in the header, found {found} ({message})")
        }
        None => message,
    };
    DataError::Malformed {
        file: file.to_path_buf(),
        line: line.map(|(l, _, _)| l),
        message,
    }
}

/// The first line (1-based) whose number of comma-separated fields (outside double quotes)
/// differs from the header's: `(line, header fields, fields found)`. Blank lines are ignored.
pub(crate) fn ragged_line(bytes: &[u8]) -> Option<(usize, usize, usize)> {
    let text = String::from_utf8_lossy(bytes);
    let mut expected = None;
    let mut in_quotes = false;
    let mut fields = 1;
    let mut line_no = 1;
    let mut start_line = 1;
    let mut blank = true;
    for c in text.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            ',' if !in_quotes => {
                fields += 1;
                blank = false;
            }
            '\n' => {
                line_no += 1;
                if in_quotes {
                    continue;
                }
                if !blank {
                    match expected {
                        None => expected = Some(fields),
                        Some(e) if e != fields => return Some((start_line, e, fields)),
                        Some(_) => {}
                    }
                }
                fields = 1;
                blank = true;
                start_line = line_no;
            }
            '\r' => {}
            c if !c.is_whitespace() => blank = false,
            _ => {}
        }
    }
    match expected {
        Some(e) if !blank && e != fields => Some((start_line, e, fields)),
        _ => None,
    }
}

/// What a numeric column must satisfy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// Finite and strictly positive (prices).
    Price,
    /// Finite and non-negative (volumes).
    Volume,
}

/// The accepted date formats, for error messages.
const DATE_FORMATS: &str = "a date (YYYY-MM-DD)";
/// The accepted timestamp formats, for error messages.
const TIMESTAMP_FORMATS: &str =
    "a timestamp (ISO 8601 / RFC 3339, e.g. 2024-01-02T14:30:00Z or 2024-01-02 09:30:00-05:00)";

/// Parses an ISO 8601 timestamp to Unix seconds; the flag is true when it had no UTC offset (it
/// is then read as UTC).
pub(crate) fn parse_timestamp(text: &str) -> Option<(i64, bool)> {
    let s = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some((dt.timestamp(), false));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some((dt.timestamp(), false));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((dt.and_utc().timestamp(), true));
        }
    }
    None
}

/// Parses a date: `YYYY-MM-DD`, or a timestamp whose date part (as written) is taken.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let s = text.trim();
    // Fast path for the common exact form (chrono's format parser is ~10× slower).
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *s.as_bytes() {
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |b: &[u8]| {
                b.iter()
                    .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
            };
            return NaiveDate::from_ymd_opt(
                n(&digits[..4]) as i32,
                n(&digits[4..6]),
                n(&digits[6..]),
            );
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    if s.len() > 10 && s.is_char_boundary(10) && parse_timestamp(s).is_some() {
        return NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok();
    }
    None
}

/// Days from 0001-01-01 of the Unix epoch (chrono's `num_days_from_ce` of 1970-01-01).
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

impl Table {
    fn at(&self, index: usize) -> RowLocation {
        RowLocation::new(index, self.format == Format::Csv)
    }

    fn get(&self, canonical: &str) -> (&str, &Column) {
        let (spelled, column) = &self.columns[canonical];
        (spelled.as_str(), column)
    }

    fn engine(&self, context: &'static str) -> impl Fn(PolarsError) -> DataError + '_ {
        move |source| DataError::Engine {
            file: self.file.clone(),
            context,
            source,
        }
    }

    fn missing(&self, index: usize, column: &str) -> DataError {
        DataError::MissingValue {
            file: self.file.clone(),
            at: self.at(index),
            column: column.to_string(),
        }
    }

    fn unsupported(&self, column: &str, dtype: &DataType, expected: &'static str) -> DataError {
        DataError::UnsupportedType {
            file: self.file.clone(),
            column: column.to_string(),
            dtype: dtype.to_string(),
            expected,
        }
    }

    /// A text column (symbols): every value present and non-blank, trimmed.
    pub fn strings(&self, canonical: &str) -> Result<Vec<String>, DataError> {
        let (spelled, column) = self.get(canonical);
        if !column.dtype().is_string() {
            return Err(self.unsupported(spelled, column.dtype(), "text"));
        }
        let ca = column.str().map_err(self.engine("reading text"))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| match v.map(str::trim) {
                Some(s) if !s.is_empty() => Ok(s.to_string()),
                _ => Err(self.missing(i, spelled)),
            })
            .collect()
    }

    /// A numeric column checked by `check`.
    pub fn numbers(&self, canonical: &str, check: Check) -> Result<Vec<f64>, DataError> {
        let (spelled, column) = self.get(canonical);
        let dtype = column.dtype();
        let values: Vec<Option<f64>> = if dtype.is_string() {
            let text = column.str().map_err(self.engine("reading text"))?;
            let cast = column
                .cast_with_options(
                    &DataType::Float64,
                    polars::chunked_array::cast::CastOptions::NonStrict,
                )
                .map_err(self.engine("converting text to numbers"))?;
            let numbers = cast
                .f64()
                .map_err(self.engine("converting text to numbers"))?;
            let mut out = Vec::with_capacity(self.height);
            for (i, (raw, v)) in text.iter().zip(numbers.iter()).enumerate() {
                match (raw, v) {
                    (Some(r), None) if !r.trim().is_empty() => {
                        return Err(DataError::BadNumber {
                            file: self.file.clone(),
                            at: self.at(i),
                            column: spelled.to_string(),
                            value: r.to_string(),
                        });
                    }
                    (_, v) => out.push(v),
                }
            }
            out
        } else if dtype.is_primitive_numeric() {
            let cast = column
                .cast(&DataType::Float64)
                .map_err(self.engine("converting to Float64"))?;
            cast.f64()
                .map_err(self.engine("converting to Float64"))?
                .iter()
                .collect()
        } else {
            return Err(self.unsupported(spelled, dtype, "a number"));
        };
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let v = v.ok_or_else(|| self.missing(i, spelled))?;
                let (bad, what) = match check {
                    Check::Price => (v <= 0.0, "price is not positive"),
                    Check::Volume => (v < 0.0, "volume is negative"),
                };
                if !v.is_finite() {
                    Err(DataError::NonFinite {
                        file: self.file.clone(),
                        at: self.at(i),
                        column: spelled.to_string(),
                        value: v,
                    })
                } else if bad {
                    Err(DataError::NonPositive {
                        file: self.file.clone(),
                        at: self.at(i),
                        column: spelled.to_string(),
                        what,
                        value: v,
                    })
                } else {
                    Ok(v)
                }
            })
            .collect()
    }

    /// Physical `Datetime` values in seconds, with the column's time zone (if any).
    fn datetime_seconds(&self, canonical: &str) -> Result<Vec<Option<i64>>, DataError> {
        let (_, column) = self.get(canonical);
        let DataType::Datetime(unit, _) = column.dtype() else {
            unreachable!("only called on Datetime columns")
        };
        let per_second = match unit {
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Microseconds => 1_000_000,
            TimeUnit::Nanoseconds => 1_000_000_000,
        };
        let physical = column.to_physical_repr();
        Ok(physical
            .i64()
            .map_err(self.engine("reading Datetime"))?
            .iter()
            .map(|v| v.map(|v| v.div_euclid(per_second)))
            .collect())
    }

    /// A date column: text `YYYY-MM-DD` (or a timestamp, whose date part is taken), a Parquet
    /// `Date`, or a `Datetime` (its date in the column's time zone, UTC if none).
    pub fn dates(&self, canonical: &str) -> Result<Vec<NaiveDate>, DataError> {
        let (spelled, column) = self.get(canonical);
        let bad = |i: usize, value: String| DataError::BadTimestamp {
            file: self.file.clone(),
            at: self.at(i),
            column: spelled.to_string(),
            value,
            expected: DATE_FORMATS,
        };
        let from_days = |i: usize, days: i64| {
            i32::try_from(days + EPOCH_DAYS_FROM_CE)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| bad(i, format!("{days} days since 1970-01-01")))
        };
        match column.dtype() {
            DataType::String => {
                let ca = column.str().map_err(self.engine("reading text"))?;
                ca.iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Some(s) if !s.trim().is_empty() => {
                            parse_date(s).ok_or_else(|| bad(i, s.to_string()))
                        }
                        _ => Err(self.missing(i, spelled)),
                    })
                    .collect()
            }
            DataType::Date => {
                let physical = column.to_physical_repr();
                let ca = physical.i32().map_err(self.engine("reading Date"))?;
                ca.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let days = v.ok_or_else(|| self.missing(i, spelled))?;
                        from_days(i, i64::from(days))
                    })
                    .collect()
            }
            DataType::Datetime(_, tz) => {
                let tz = tz.as_ref().map(|tz| tz.to_string());
                let zone: Option<chrono_tz::Tz> = match tz.as_deref() {
                    None | Some("UTC") => None,
                    Some(name) => Some(name.parse().map_err(|_| {
                        self.unsupported(spelled, column.dtype(), "a known time zone")
                    })?),
                };
                let seconds = self.datetime_seconds(canonical)?;
                seconds
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let s = s.ok_or_else(|| self.missing(i, spelled))?;
                        let utc = DateTime::from_timestamp(s, 0)
                            .ok_or_else(|| bad(i, format!("{s} s since 1970-01-01")))?;
                        Ok(match zone {
                            Some(z) => utc.with_timezone(&z).date_naive(),
                            None => utc.date_naive(),
                        })
                    })
                    .collect()
            }
            other => Err(self.unsupported(spelled, other, "a date (text, Date or Datetime)")),
        }
    }

    /// A timestamp column as Unix seconds (UTC): ISO 8601 text, or a Parquet `Datetime`. The flag
    /// is true when some values had no UTC offset (text without offset, `Datetime` without time
    /// zone); those were read as UTC.
    pub fn timestamps(&self, canonical: &str) -> Result<(Vec<i64>, bool), DataError> {
        let (spelled, column) = self.get(canonical);
        match column.dtype() {
            DataType::String => {
                let ca = column.str().map_err(self.engine("reading text"))?;
                let mut naive = false;
                let mut out = Vec::with_capacity(self.height);
                for (i, v) in ca.iter().enumerate() {
                    match v {
                        Some(s) if !s.trim().is_empty() => {
                            let (t, n) =
                                parse_timestamp(s).ok_or_else(|| DataError::BadTimestamp {
                                    file: self.file.clone(),
                                    at: self.at(i),
                                    column: spelled.to_string(),
                                    value: s.to_string(),
                                    expected: TIMESTAMP_FORMATS,
                                })?;
                            naive |= n;
                            out.push(t);
                        }
                        _ => return Err(self.missing(i, spelled)),
                    }
                }
                Ok((out, naive))
            }
            DataType::Datetime(_, tz) => {
                let naive = tz.is_none();
                let seconds = self.datetime_seconds(canonical)?;
                let out = seconds
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| s.ok_or_else(|| self.missing(i, spelled)))
                    .collect::<Result<_, _>>()?;
                Ok((out, naive))
            }
            other => Err(self.unsupported(spelled, other, "a timestamp (text or Datetime)")),
        }
    }

    /// The spelling in the file of a collected column.
    pub fn spelled(&self, canonical: &str) -> &str {
        self.get(canonical).0
    }

    /// The row location of a zero-based row.
    pub fn location(&self, index: usize) -> RowLocation {
        self.at(index)
    }
}

/// One symbol's rows, in time order.
pub(crate) struct Group {
    pub symbol: String,
    /// Zero-based file rows, sorted by key (then by row).
    pub rows: Vec<usize>,
    /// The sort keys (days or seconds), ascending.
    pub keys: Vec<i64>,
    /// Whether the file already had this symbol's rows in time order.
    pub was_sorted: bool,
}

/// Two rows of one symbol with the same key (zero-based rows, `first < later`).
pub(crate) struct Duplicate {
    pub symbol: String,
    pub first: usize,
    pub later: usize,
}

/// Splits rows by symbol and sorts each symbol's rows by key (then by row). Returns the groups
/// ordered by symbol, or the first duplicate key (in symbol, then key order).
pub(crate) fn group_by_symbol(symbols: &[String], keys: &[i64]) -> Result<Vec<Group>, Duplicate> {
    // Symbols as small integers in symbol order, so that the sort compares integers only.
    let mut names: Vec<&str> = symbols.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut ids = Vec::with_capacity(symbols.len());
    let mut last: Option<(&str, u32)> = None;
    for s in symbols {
        let id = match last {
            Some((name, id)) if name == s.as_str() => id,
            _ => {
                // Always found: `names` holds every symbol.
                let id = names.binary_search(&s.as_str()).unwrap_or_default() as u32;
                last = Some((s, id));
                id
            }
        };
        ids.push(id);
    }
    // (symbol, key, row) is unique per row: an unstable sort gives the one order there is.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by_key(|&r| (ids[r], keys[r], r));
    let mut groups = Vec::with_capacity(names.len());
    for run in order.chunk_by(|&a, &b| ids[a] == ids[b]) {
        let symbol = names[ids[run[0]] as usize].to_string();
        let group_keys: Vec<i64> = run.iter().map(|&r| keys[r]).collect();
        if let Some(w) = run.windows(2).find(|w| keys[w[0]] == keys[w[1]]) {
            return Err(Duplicate {
                symbol,
                first: w[0],
                later: w[1],
            });
        }
        groups.push(Group {
            symbol,
            was_sorted: run.windows(2).all(|w| w[0] < w[1]),
            rows: run.to_vec(),
            keys: group_keys,
        });
    }
    Ok(groups)
}

/// The symbol of a single-series file: its file stem.
pub(crate) fn stem_symbol(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "series".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name(" Adj Close "), "adj_close");
        assert_eq!(normalize_name("ADJ-CLOSE"), "adj_close");
        assert_eq!(normalize_name("Symbol"), "symbol");
        assert_eq!(normalize_name("\u{feff}Date"), "date");
    }

    #[test]
    fn finds_ragged_lines() {
        assert_eq!(ragged_line(b"a,b\n1,2\n3,4,5\n"), Some((3, 2, 3)));
        assert_eq!(ragged_line(b"a,b\n\"1,5\",2\n3,4\n"), None);
        assert_eq!(ragged_line(b"a,b\r\n1,2\r\n\r\n3,4\r\n"), None);
        assert_eq!(ragged_line(b"a,b\n1,2\n3"), Some((3, 2, 1)));
    }

    #[test]
    fn parses_timestamps() {
        assert_eq!(
            parse_timestamp("2024-01-02T14:30:00Z"),
            Some((1_704_205_800, false))
        );
        assert_eq!(
            parse_timestamp("2024-01-02 09:30:00-05:00"),
            Some((1_704_205_800, false))
        );
        assert_eq!(
            parse_timestamp("2024-01-02T14:30:00"),
            Some((1_704_205_800, true))
        );
        assert_eq!(parse_timestamp("2024-13-02T14:30:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(
            parse_date("2024-01-02"),
            NaiveDate::from_ymd_opt(2024, 1, 2)
        );
        assert_eq!(
            parse_date("2024-01-02 00:00:00"),
            NaiveDate::from_ymd_opt(2024, 1, 2)
        );
        assert_eq!(parse_date("02/01/2024"), None);
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(
            parse_date(" 2024-02-29 "),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .map(|d| i64::from(chrono::Datelike::num_days_from_ce(&d))),
            Some(EPOCH_DAYS_FROM_CE)
        );
    }
}
