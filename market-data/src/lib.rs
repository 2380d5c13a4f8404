//! # market-data
//!
//! Market data as the services and the benchmark see it: bars, the exchange calendar, the
//! files they come from and what is measured on them. It computes no model and no indicator
//! (those are `garch-core` and `indicators`); it turns files and bars into validated series.
//!
//! * [`Bar`]: one OHLCV bar, the row every part of the system speaks; [`Interval`] the bar
//!   lengths served.
//! * [`Session`]: the one exchange calendar (IANA time zone through chrono-tz, regular
//!   hours): trading date of a bar, local day and session open of an instant.
//! * [`resample()`]: 5-minute bars to 15m/30m/1h, anchored at each session's open.
//! * `load_daily` → `DailyData` (cargo feature `daily`, default): per-symbol validated prices
//!   (garch-core's `Prices`) with their dates, and percent log returns for the models.
//! * [`load_bars`] → [`BarData`]: per-symbol intraday bars, stored as columns
//!   ([`BarSeries`], whose rows are [`Bar`]s).
//! * [`realized_variance`]: per-day realized variance and overnight return from bars.
//! * `generate` (feature `daily`): the seeded generator behind `data/` (example
//!   `generate_data`).
//! * `store` (feature `store`): the services' durable store of appended bars and daily
//!   closes (SQLite, fsync'd before an append is acknowledged).
//!
//! Without the `daily` feature the crate does not link garch-core (and so neither its
//! optimiser nor its linear algebra): signals-svc, which needs only bars, builds that way.
//!
//! CSV files are read with the `csv` crate. Parquet files need the cargo feature `parquet`
//! (off by default), which builds polars, most of a release build's time; without it a
//! Parquet file is rejected with [`DataError::ParquetUnsupported`], and the generator writes
//! no Parquet.
//!
//! A file is either loaded whole or rejected with one [`DataError`] naming the file, the row
//! and the column at fault. Anything the loader fixed or skipped (unsorted rows, symbols too
//! short to fit) is returned in a `warnings` list for the caller to log; this crate does not
//! log.

mod bar;
#[cfg(feature = "daily")]
mod daily;
mod error;
#[cfg(feature = "daily")]
pub mod generate;
mod loader;
#[cfg(feature = "parquet")]
mod parquet;
mod realized;
pub mod resample;
mod session;
#[cfg(feature = "store")]
pub mod store;
mod table;

pub use bar::{Bar, Interval, ParseIntervalError};
#[cfg(feature = "daily")]
pub use daily::{DailyData, DailySeries, MIN_DAILY_PRICES, load_daily};
pub use error::{DataError, RowLocation};
pub use loader::{BarData, BarSeries, load_bars};
pub use realized::{RealizedDay, realized_variance};
pub use resample::{ResampleError, resample};
pub use session::{Session, SessionDay, UnknownTimeZone};
