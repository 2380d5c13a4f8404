//! Market data: loading daily prices and intraday bars (CSV or Parquet, with polars), realized
//! variance from intraday bars, and the deterministic generator of the bundled data sets.
//!
//! Only built with the cargo feature `data`, so the numerics and their tests build without
//! polars.
//!
//! * [`load_daily`] → [`DailyData`]: per-symbol validated prices ([`crate::Prices`]) with their
//!   dates, and percent log returns for the models ([`DailySeries::returns`]).
//! * [`load_bars`] → [`BarData`]: per-symbol intraday bars as parallel columns ([`BarSeries`]).
//! * [`realized_variance`]: per-day realized variance and overnight return from bars.
//! * [`generate`](mod@generate): the seeded generator behind `data/` (example `generate_data`).
//!
//! A file is either loaded whole or rejected with one [`DataError`] naming the file, the row and
//! the column at fault. Anything the loader fixed or skipped (unsorted rows, symbols too short to
//! fit) is returned in a `warnings` list for the caller to log; this crate does not log.

mod error;
pub mod generate;
mod loader;
mod realized;
mod table;

pub use error::{DataError, RowLocation};
pub use loader::{
    BarData, BarSeries, DailyData, DailySeries, MIN_DAILY_PRICES, load_bars, load_daily,
};
pub use realized::{RealizedDay, Session, UnknownTimeZone, realized_variance};
