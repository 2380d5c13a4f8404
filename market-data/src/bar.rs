//! One OHLCV bar — the row every part of the system speaks — and the bar intervals the
//! services resample to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One OHLCV bar. `timestamp` = start of the bar, Unix seconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Start of the bar's interval (Unix seconds, UTC).
    pub timestamp: i64,
    /// First trade price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

/// Bar interval. Serialised as `"5m"`, `"15m"`, `"30m"`, `"1h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Interval {
    /// 5 minutes.
    #[serde(rename = "5m")]
    M5,
    /// 15 minutes.
    #[serde(rename = "15m")]
    M15,
    /// 30 minutes.
    #[serde(rename = "30m")]
    M30,
    /// 1 hour.
    #[serde(rename = "1h")]
    H1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 4] = [Interval::M5, Interval::M15, Interval::M30, Interval::H1];

    /// Length in seconds.
    pub const fn seconds(self) -> i64 {
        match self {
            Interval::M5 => 300,
            Interval::M15 => 900,
            Interval::M30 => 1800,
            Interval::H1 => 3600,
        }
    }

    /// The serialised name (`"5m"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Interval::from_str`]: the unknown name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown interval {0:?} (expected 5m, 15m, 30m or 1h)")]
pub struct ParseIntervalError(pub String);

impl FromStr for Interval {
    type Err = ParseIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Interval::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| ParseIntervalError(s.to_owned()))
    }
}
