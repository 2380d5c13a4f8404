//! Reading one file into typed, validated columns (crate-internal).
//!
//! The header (CSV) or the footer (Parquet) is read first for the column names, then only the
//! columns the caller asked for are kept. CSV files are read with the `csv` crate, every field
//! as text: a bad value never makes the read itself fail, and each column is then converted
//! here, naming the row, the column and the text at fault. A record whose number of fields
//! differs from the header's makes the file malformed (with its line). Parquet files are read
//! by polars (cargo feature `parquet`, module `parquet`): their columns keep their stored types
//! (numbers, `Date`, `Datetime`) and text columns go through the same conversion as CSV.

// The date columns are read only by the daily loader (feature `daily`).
#![cfg_attr(not(feature = "daily"), allow(dead_code))]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};

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

/// One collected column. CSV columns are always [`Column::Text`]; the typed variants come from
/// Parquet files (built only with the `parquet` feature).
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
pub(crate) enum Column {
    /// Text; `None` is a null (Parquet). A blank text is a missing value too.
    Text(Vec<Option<String>>),
    /// Any numeric column, as `f64`; `dtype` is its stored type (for error messages).
    Float {
        values: Vec<Option<f64>>,
        dtype: String,
    },
    /// A `Date`: days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// A `Datetime` in whole seconds since the epoch, with its time zone (if any).
    Datetime {
        seconds: Vec<Option<i64>>,
        zone: Option<String>,
        dtype: String,
    },
    /// A type the loader reads as nothing (e.g. a boolean): its name.
    Other(String),
}

impl Column {
    /// The column's type as named in error messages (polars' names).
    fn dtype(&self) -> String {
        match self {
            Column::Text(_) => "str".to_string(),
            Column::Float { dtype, .. } | Column::Datetime { dtype, .. } => dtype.clone(),
            Column::Date(_) => "date".to_string(),
            Column::Other(dtype) => dtype.clone(),
        }
    }
}

/// How the data rows of an opened file will be read.
enum Reader {
    /// CSV: the header record has been read; the data records follow.
    Csv(csv::Reader<File>),
    /// Parquet: the footer (metadata, schema) has been read and is kept for the read.
    #[cfg(feature = "parquet")]
    Parquet(crate::parquet::Reader),
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

/// A CSV reader over `input`: no header handling (done here), records of any length (checked
/// here against the header), RFC 4180 quoting, `\n` or `\r\n` line ends.
fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input)
}

/// A blank line: one field of whitespace only (lines with nothing at all are skipped by the
/// `csv` crate itself).
fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() == 1 && record[0].trim().is_empty()
}

/// Why reading CSV records stopped.
enum CsvFault {
    /// The file has no header record (it is empty or blank).
    NoHeader,
    /// A record whose field count differs from the header's: its 1-based line, the header's
    /// field count and the record's.
    Ragged {
        line: usize,
        expected: usize,
        found: usize,
    },
    /// The `csv` crate's error (I/O, invalid UTF-8).
    Csv(csv::Error),
}

/// The header record: the first non-blank record, its names as spelled (a UTF-8 byte-order
/// mark before the first name dropped).
fn csv_header<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, CsvFault> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Err(CsvFault::NoHeader),
            Ok(true) if is_blank(&record) => {}
            Ok(true) => break,
            Err(e) => return Err(CsvFault::Csv(e)),
        }
    }
    Ok(record
        .iter()
        .enumerate()
        .map(|(i, name)| match i {
            0 => name.trim_start_matches('\u{feff}').to_string(),
            _ => name.to_string(),
        })
        .collect())
}

/// Reads the data records after the header, skipping blank lines: `row` gets each record,
/// which has exactly `expected` fields (else [`CsvFault::Ragged`]).
fn csv_records<R: Read>(
    reader: &mut csv::Reader<R>,
    expected: usize,
    mut row: impl FnMut(&csv::StringRecord),
) -> Result<(), CsvFault> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) if is_blank(&record) => {}
            Ok(true) if record.len() != expected => {
                return Err(CsvFault::Ragged {
                    line: record.position().map_or(0, |p| p.line() as usize),
                    expected,
                    found: record.len(),
                });
            }
            Ok(true) => row(&record),
            Err(e) => return Err(CsvFault::Csv(e)),
        }
    }
}

impl CsvFault {
    fn into_error(self, file: &Path) -> DataError {
        let file = file.to_path_buf();
        match self {
            CsvFault::NoHeader => DataError::Empty {
                file,
                detail: "no header",
            },
            CsvFault::Ragged {
                line,
                expected,
                found,
            } => DataError::Malformed {
                file,
                line: Some(line),
                message: format!("expected {expected} fields as in the header, found {found}"),
            },
            CsvFault::Csv(e) => {
                let line = e.position().map(|p| p.line() as usize);
                let message = e.to_string();
                match e.into_kind() {
                    csv::ErrorKind::Io(source) => DataError::Io { file, source },
                    _ => DataError::Malformed {
                        file,
                        line,
                        message,
                    },
                }
            }
        }
    }
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
        let (reader, names) = match format {
            Format::Csv => {
                let handle = File::open(path).map_err(|source| DataError::Io {
                    file: file.clone(),
                    source,
                })?;
                let mut reader = csv_reader(handle);
                let names = csv_header(&mut reader).map_err(|e| e.into_error(&file))?;
                (Reader::Csv(reader), names)
            }
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let (reader, names) = crate::parquet::Reader::open(&file)?;
                (Reader::Parquet(reader), names)
            }
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => return Err(DataError::ParquetUnsupported { file }),
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
            names,
        } = self;
        let (height, read) = match reader {
            Reader::Csv(mut reader) => {
                // Each wanted column's field index (the names come from `find`: present, and
                // exactly one column has each).
                let indices: Vec<usize> = columns
                    .iter()
                    .map(|(_, spelled)| names.iter().position(|n| n == spelled).unwrap_or(0))
                    .collect();
                let mut text: Vec<Vec<Option<String>>> = vec![Vec::new(); indices.len()];
                let mut height = 0;
                csv_records(&mut reader, names.len(), |record| {
                    height += 1;
                    for (column, &i) in text.iter_mut().zip(&indices) {
                        column.push(Some(record[i].to_string()));
                    }
                })
                .map_err(|e| e.into_error(&file))?;
                (
                    height,
                    text.into_iter().map(Column::Text).collect::<Vec<_>>(),
                )
            }
            #[cfg(feature = "parquet")]
            Reader::Parquet(reader) => {
                let spelled: Vec<&str> = columns.iter().map(|(_, s)| s.as_str()).collect();
                reader.read(&file, &spelled)?
            }
        };
        if height == 0 {
            return Err(DataError::Empty {
                file,
                detail: "no data rows",
            });
        }
        let columns = columns
            .iter()
            .zip(read)
            .map(|((canonical, spelled), column)| {
                (canonical.to_string(), (spelled.clone(), column))
            })
            .collect();
        Ok(Table {
            file,
            format,
            height,
            columns,
        })
    }
}

/// The first line (1-based) whose number of fields differs from the header's:
/// `(line, header fields, fields found)`. Blank lines are ignored.
#[cfg(test)]
pub(crate) fn ragged_line(bytes: &[u8]) -> Option<(usize, usize, usize)> {
    let mut reader = csv_reader(bytes);
    let expected = csv_header(&mut reader).ok()?.len();
    match csv_records(&mut reader, expected, |_| {}) {
        Err(CsvFault::Ragged {
            line,
            expected,
            found,
        }) => Some((line, expected, found)),
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

    fn missing(&self, index: usize, column: &str) -> DataError {
        DataError::MissingValue {
            file: self.file.clone(),
            at: self.at(index),
            column: column.to_string(),
        }
    }

    fn unsupported(&self, column: &str, dtype: String, expected: &'static str) -> DataError {
        DataError::UnsupportedType {
            file: self.file.clone(),
            column: column.to_string(),
            dtype,
            expected,
        }
    }

    /// A text column (symbols): every value present and non-blank, trimmed.
    pub fn strings(&self, canonical: &str) -> Result<Vec<String>, DataError> {
        let (spelled, column) = self.get(canonical);
        let Column::Text(text) = column else {
            return Err(self.unsupported(spelled, column.dtype(), "text"));
        };
        text.iter()
            .enumerate()
            .map(|(i, v)| match v.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => Ok(s.to_string()),
                _ => Err(self.missing(i, spelled)),
            })
            .collect()
    }

    /// A numeric column checked by `check`. Text is parsed as Rust's `f64` syntax, untrimmed
    /// (`1e2`, `+104`, `inf`, `NaN` parse; ` 104 `, `0x10`, `NA` do not); blank text is a
    /// missing value.
    pub fn numbers(&self, canonical: &str, check: Check) -> Result<Vec<f64>, DataError> {
        let (spelled, column) = self.get(canonical);
        let values: Vec<Option<f64>> = match column {
            Column::Text(text) => {
                let mut out = Vec::with_capacity(self.height);
                for (i, raw) in text.iter().enumerate() {
                    match raw.as_deref() {
                        Some(r) if !r.trim().is_empty() => match r.parse::<f64>() {
                            Ok(v) => out.push(Some(v)),
                            Err(_) => {
                                return Err(DataError::BadNumber {
                                    file: self.file.clone(),
                                    at: self.at(i),
                                    column: spelled.to_string(),
                                    value: r.to_string(),
                                });
                            }
                        },
                        _ => out.push(None),
                    }
                }
                out
            }
            Column::Float { values, .. } => values.clone(),
            other => return Err(self.unsupported(spelled, other.dtype(), "a number")),
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
        match column {
            Column::Text(text) => text
                .iter()
                .enumerate()
                .map(|(i, v)| match v.as_deref() {
                    Some(s) if !s.trim().is_empty() => {
                        parse_date(s).ok_or_else(|| bad(i, s.to_string()))
                    }
                    _ => Err(self.missing(i, spelled)),
                })
                .collect(),
            Column::Date(days) => days
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let days = v.ok_or_else(|| self.missing(i, spelled))?;
                    from_days(i, i64::from(days))
                })
                .collect(),
            Column::Datetime {
                seconds,
                zone,
                dtype,
            } => {
                let zone: Option<chrono_tz::Tz> = match zone.as_deref() {
                    None | Some("UTC") => None,
                    Some(name) => Some(name.parse().map_err(|_| {
                        self.unsupported(spelled, dtype.clone(), "a known time zone")
                    })?),
                };
                seconds
                    .iter()
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
            other => {
                Err(self.unsupported(spelled, other.dtype(), "a date (text, Date or Datetime)"))
            }
        }
    }

    /// A timestamp column as Unix seconds (UTC): ISO 8601 text, or a Parquet `Datetime`. The flag
    /// is true when some values had no UTC offset (text without offset, `Datetime` without time
    /// zone); those were read as UTC.
    pub fn timestamps(&self, canonical: &str) -> Result<(Vec<i64>, bool), DataError> {
        let (spelled, column) = self.get(canonical);
        match column {
            Column::Text(text) => {
                let mut naive = false;
                let mut out = Vec::with_capacity(self.height);
                for (i, v) in text.iter().enumerate() {
                    match v.as_deref() {
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
            Column::Datetime { seconds, zone, .. } => {
                let naive = zone.is_none();
                let out = seconds
                    .iter()
                    .enumerate()
                    .map(|(i, s)| s.ok_or_else(|| self.missing(i, spelled)))
                    .collect::<Result<_, _>>()?;
                Ok((out, naive))
            }
            other => {
                Err(self.unsupported(spelled, other.dtype(), "a timestamp (text or Datetime)"))
            }
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
