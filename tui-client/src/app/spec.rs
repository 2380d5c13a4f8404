//! What the dashboard asks the services for: the forecast's model, error distribution and
//! horizon (switched with `m`, `d`, `+`/`-`), and the fixed sizes of the signals and history
//! requests, and the backtest settings of the Risk and Benchmark views. Every remote value is
//! keyed by these, so they live apart from the views using them.

use crate::client::Setting;

/// Volatility model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// GARCH(1,1).
    Garch,
    /// GJR-GARCH(1,1,1).
    Gjr,
    /// EGARCH(1,1,1).
    Egarch,
}

impl Model {
    /// Query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Garch => "garch",
            Self::Gjr => "gjr",
            Self::Egarch => "egarch",
        }
    }

    /// Display label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Garch => "GARCH(1,1)",
            Self::Gjr => "GJR(1,1,1)",
            Self::Egarch => "EGARCH(1,1,1)",
        }
    }

    pub(super) fn next(self) -> Self {
        match self {
            Self::Garch => Self::Gjr,
            Self::Gjr => Self::Egarch,
            Self::Egarch => Self::Garch,
        }
    }
}

/// Error distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dist {
    /// Normal.
    Normal,
    /// Standardised Student-t.
    T,
    /// Hansen's skewed Student-t.
    SkewT,
    /// Generalised error distribution.
    Ged,
}

impl Dist {
    /// Query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::T => "t",
            Self::SkewT => "skewt",
            Self::Ged => "ged",
        }
    }

    /// Display label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::T => "Student-t",
            Self::SkewT => "skew-t",
            Self::Ged => "GED",
        }
    }

    /// The next law in the cycle normal → Student-t → skew-t → GED → normal (the `d` key).
    pub(super) fn next(self) -> Self {
        match self {
            Self::Normal => Self::T,
            Self::T => Self::SkewT,
            Self::SkewT => Self::Ged,
            Self::Ged => Self::Normal,
        }
    }
}

/// Forecast horizons `+`/`-` step through (trading days: day, week, two weeks, month, quarter,
/// half year, year).
pub const HORIZONS: [usize; 7] = [1, 5, 10, 21, 63, 126, 252];

/// Bar interval of the signals.
pub const INTERVAL: &str = "5m";

/// Days of volatility history fetched for the detail chart.
pub const HISTORY_LIMIT: usize = 250;

/// Bars of price/RSI fetched for the detail charts.
pub const SIGNAL_POINTS: usize = 150;

/// The Risk view's backtest: rolling window of 1000 returns, re-estimated every day.
pub const RISK_SETTING: Setting = Setting {
    window: 1000,
    refit_every: 1,
};

/// The Risk view's model ranking: 12 candidates, so refits every 20 days (seconds, not a
/// minute, the first time).
pub const RANKING_SETTING: Setting = Setting {
    window: 1000,
    refit_every: 20,
};

/// Out-of-sample days of the Risk chart (the summary covers every day).
pub const RISK_DAYS: usize = 250;

/// The Benchmark's universe backtest: window 1000, refits every 5 days (seconds of real work
/// for the bundled 25 symbols).
pub const UNIVERSE_SETTING: Setting = Setting {
    window: 1000,
    refit_every: 5,
};
