//! The screener: one row per symbol, merging market-svc's volatility forecasts with
//! signals-svc's indicators, then filtered and sorted as the user asked; and the selection
//! within those rows.

use std::collections::BTreeMap;

use super::App;
use super::spec::{Dist, Model};
use crate::client::{SignalScreener, VolScreener};

/// Screener columns that can be sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// Ticker.
    Symbol,
    /// Annualised volatility forecast.
    Vol,
    /// Persistence.
    Persistence,
    /// RSI.
    Rsi,
    /// %B.
    PercentB,
    /// Signal (long, short, flat).
    Signal,
}

impl SortColumn {
    /// All columns, in screen order.
    pub const ALL: [SortColumn; 6] = [
        Self::Symbol,
        Self::Vol,
        Self::Persistence,
        Self::Rsi,
        Self::PercentB,
        Self::Signal,
    ];

    /// Short name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Symbol => "symbol",
            Self::Vol => "vol",
            Self::Persistence => "persistence",
            Self::Rsi => "RSI",
            Self::PercentB => "%B",
            Self::Signal => "signal",
        }
    }

    pub(super) fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The natural direction: names A→Z, numbers highest first.
    pub(super) fn default_descending(self) -> bool {
        !matches!(self, Self::Symbol | Self::Signal)
    }
}

/// A trading signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    /// Buy.
    Long,
    /// Sell.
    Short,
    /// Nothing.
    Flat,
}

impl Signal {
    /// Parses the wire value (`long`, `short`, `flat`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "long" => Some(Self::Long),
            "short" => Some(Self::Short),
            "flat" => Some(Self::Flat),
            _ => None,
        }
    }

    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
            Self::Flat => "flat",
        }
    }
}

/// Key of the market screener: model, distribution, horizon.
pub type VolKey = (Model, Dist, usize);

/// One merged screener row (market fields and signal fields, either may be missing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Ticker.
    pub symbol: String,
    /// Annualised vol forecast, percent.
    pub vol: Option<f64>,
    /// Long-run annualised vol, percent.
    pub long_run: Option<f64>,
    /// Persistence.
    pub persistence: Option<f64>,
    /// Half-life, days.
    pub half_life: Option<f64>,
    /// Whether the fit converged (`None`: no market data for this symbol).
    pub converged: Option<bool>,
    /// Why the fit failed.
    pub fit_error: Option<String>,
    /// Latest close.
    pub close: Option<f64>,
    /// RSI.
    pub rsi: Option<f64>,
    /// %B.
    pub percent_b: Option<f64>,
    /// Bandwidth.
    pub bandwidth: Option<f64>,
    /// Signal.
    pub signal: Option<Signal>,
    /// Why the signal fired.
    pub reasons: Vec<String>,
}

/// Merges the two screeners by symbol (the union of both symbol sets, sorted by symbol).
pub fn merge_rows(vol: Option<&VolScreener>, signals: Option<&SignalScreener>) -> Vec<Row> {
    let mut by_symbol: BTreeMap<String, Row> = BTreeMap::new();
    for r in vol.map(|v| v.rows.as_slice()).unwrap_or_default() {
        let row = by_symbol.entry(r.symbol.clone()).or_default();
        row.symbol = r.symbol.clone();
        row.vol = r.annualized_forecast;
        row.long_run = r.long_run_annualized;
        row.persistence = r.persistence;
        row.half_life = r.half_life_days;
        row.converged = Some(r.converged);
        row.fit_error = r.error.clone();
    }
    for r in signals.map(|s| s.rows.as_slice()).unwrap_or_default() {
        let row = by_symbol.entry(r.symbol.clone()).or_default();
        row.symbol = r.symbol.clone();
        row.close = r.close;
        row.rsi = r.rsi;
        row.percent_b = r.percent_b;
        row.bandwidth = r.bandwidth;
        row.signal = r.signal.as_deref().and_then(Signal::parse);
        row.reasons = r.reasons.clone();
    }
    by_symbol.into_values().collect()
}

/// Sorts rows by a column; missing values always go last.
pub fn sort_rows(rows: &mut [Row], column: SortColumn, descending: bool) {
    fn num(a: Option<f64>, b: Option<f64>, desc: bool) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (a, b) {
            (Some(x), Some(y)) => {
                let o = x.total_cmp(&y);
                if desc { o.reverse() } else { o }
            }
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (None, None) => Equal,
        }
    }
    rows.sort_by(|a, b| {
        let primary = match column {
            SortColumn::Symbol => {
                let o = a.symbol.cmp(&b.symbol);
                if descending { o.reverse() } else { o }
            }
            SortColumn::Vol => num(a.vol, b.vol, descending),
            SortColumn::Persistence => num(a.persistence, b.persistence, descending),
            SortColumn::Rsi => num(a.rsi, b.rsi, descending),
            SortColumn::PercentB => num(a.percent_b, b.percent_b, descending),
            SortColumn::Signal => match (a.signal, b.signal) {
                (Some(x), Some(y)) => {
                    let o = x.cmp(&y);
                    if descending { o.reverse() } else { o }
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            },
        };
        primary.then_with(|| a.symbol.cmp(&b.symbol))
    });
}

/// Whether a row matches a filter: case-insensitive substring of the symbol, or the signal name.
pub fn matches_filter(row: &Row, filter: &str) -> bool {
    let f = filter.trim().to_ascii_lowercase();
    f.is_empty()
        || row.symbol.to_ascii_lowercase().contains(&f)
        || row.signal.is_some_and(|s| s.as_str() == f)
}

impl App {
    /// The screener rows as shown: merged, filtered, sorted.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = merge_rows(self.vol.data.as_ref(), self.signals.data.as_ref())
            .into_iter()
            .filter(|r| matches_filter(r, &self.filter))
            .collect();
        sort_rows(&mut rows, self.sort, self.descending);
        rows
    }

    /// The selected screener row.
    pub fn selected_row(&self) -> Option<Row> {
        let rows = self.rows();
        let i = self.selected.min(rows.len().saturating_sub(1));
        rows.into_iter().nth(i)
    }

    pub(super) fn clamp_selection(&mut self) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    pub(super) fn move_selection(&mut self, delta: isize) {
        let n = self.rows().len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let cur = self.selected.min(n - 1) as isize;
        self.selected = (cur + delta).clamp(0, n as isize - 1) as usize;
    }

    pub(super) fn set_sort(&mut self, column: SortColumn) {
        self.sort = column;
        self.descending = column.default_descending();
        self.selected = 0;
    }
}
