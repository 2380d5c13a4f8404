//! The Parquet reader (cargo feature `parquet`): polars' eager reader, whose columns are turned
//! into the loader's own [`Column`]s so that nothing else in the crate depends on polars.

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use polars::prelude::*;

use crate::error::DataError;
use crate::table::Column as Read;

/// An opened Parquet file whose footer (metadata, schema) has been read.
pub(crate) struct Reader(ParquetReader<File>);

/// Runs `f`, turning a polars error or a panic inside polars into [`DataError::Malformed`].
fn catch<T>(file: &Path, f: impl FnOnce() -> PolarsResult<T>) -> Result<T, DataError> {
    let malformed = |message: String| DataError::Malformed {
        file: file.to_path_buf(),
        line: None,
        message,
    };
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(malformed(e.to_string())),
        Err(panic) => Err(malformed(
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the parser panicked".to_string()),
        )),
    }
}

impl Reader {
    /// Opens `path` and reads its column names from the footer.
    pub fn open(path: &Path) -> Result<(Self, Vec<String>), DataError> {
        let handle = File::open(path).map_err(|source| DataError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        catch(path, || {
            let mut reader = ParquetReader::new(handle);
            let names = reader
                .schema()?
                .iter_names()
                .map(|n| n.to_string())
                .collect();
            Ok((Self(reader), names))
        })
    }

    /// Reads the columns spelled `columns` (and nothing else): the number of rows and the
    /// columns in that order.
    pub fn read(self, file: &Path, columns: &[&str]) -> Result<(usize, Vec<Read>), DataError> {
        let df = catch(file, || {
            self.0
                .with_columns(Some(columns.iter().map(|&s| s.to_string()).collect()))
                .finish()
        })?;
        let engine = |context: &'static str| {
            move |e: PolarsError| DataError::Engine {
                file: file.to_path_buf(),
                context,
                message: e.to_string(),
            }
        };
        let read = columns
            .iter()
            .map(|&spelled| {
                let column = df
                    .column(spelled)
                    .map_err(engine("selected column is absent"))?;
                convert(column).map_err(engine("reading a column"))
            })
            .collect::<Result<_, _>>()?;
        Ok((df.height(), read))
    }
}

/// A polars column as the loader's: text, any number (as `f64`), `Date`, `Datetime` (in whole
/// seconds), or the name of a type the loader does not read.
fn convert(column: &polars::prelude::Column) -> PolarsResult<Read> {
    let dtype = column.dtype();
    Ok(match dtype {
        DataType::String => Read::Text(
            column
                .str()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
        ),
        DataType::Date => Read::Date(column.to_physical_repr().i32()?.iter().collect()),
        DataType::Datetime(unit, tz) => {
            let per_second = match unit {
                TimeUnit::Milliseconds => 1_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Nanoseconds => 1_000_000_000,
            };
            Read::Datetime {
                seconds: column
                    .to_physical_repr()
                    .i64()?
                    .iter()
                    .map(|v| v.map(|v| v.div_euclid(per_second)))
                    .collect(),
                zone: tz.as_ref().map(|tz| tz.to_string()),
                dtype: dtype.to_string(),
            }
        }
        d if d.is_primitive_numeric() => Read::Float {
            values: column.cast(&DataType::Float64)?.f64()?.iter().collect(),
            dtype: dtype.to_string(),
        },
        other => Read::Other(other.to_string()),
    })
}
