//! # market-svc
//!
//! Adapters from the outside world to `garch-core`'s volatility models. The crate is thin on
//! purpose: parsing, validation messages and presentation live here, numerics do not.
//!
//! * [`fit_command`]: `market-svc fit`, one series from a CSV file to a report on stdout.
//! * [`csv_input`]: reading a price series (single-series or long format) from CSV.

pub mod csv_input;
pub mod fit_command;
