//! The dashboard's state and its update logic.
//!
//! Pure: no terminal, no network, no clock of its own. Keys, ticks and API results come in
//! ([`App::handle_key`], [`App::tick`], [`App::apply`]); what to fetch goes out as
//! [`Command`]s, which the event loop turns into spawned HTTP calls whose results come back
//! through [`App::apply`]. That keeps every rule here unit-testable.
//!
//! This module holds [`App`] itself and the [`View`] being shown; the rest is split by concept,
//! each file adding its state and its `impl App` methods (everything is re-exported here):
//! * `keys`: the key bindings — a [`Key`] in, state changes and commands out.
//! * `refresh`: [`Command`]s and [`ApiResult`]s, start-up, the refresh clock, applying results.
//! * `resource`: [`Resource`], a remote value keyed by what was asked for.
//! * `spec`: what is asked for — model, distribution, horizon, bar interval, sizes.
//! * `screener`, `detail`, `risk`, `benchmark`, `status`: each view's state and rules, named as
//!   their renderers in [`crate::ui`].
//! * `tests`: unit tests of these rules, and the fixtures the renderer tests share.

mod benchmark;
mod detail;
mod keys;
mod refresh;
mod resource;
mod risk;
mod screener;
mod spec;
mod status;

#[cfg(test)]
pub(crate) mod tests;

use std::time::{Duration, Instant};

use crate::client::{SignalScreener, VolScreener};

pub use benchmark::{BenchState, Benchmark};
pub use detail::{Detail, DetailKey, HistoryKey};
pub use keys::Key;
pub use refresh::{ApiResult, Command};
pub use resource::Resource;
pub use risk::{BacktestKey, Computing, Poll, Polled, Risk};
pub use screener::{Row, Signal, SortColumn, VolKey, matches_filter, merge_rows, sort_rows};
pub use spec::{
    Dist, HISTORY_LIMIT, HORIZONS, INTERVAL, Model, RANKING_SETTING, RISK_DAYS, RISK_SETTING,
    SIGNAL_POINTS, UNIVERSE_SETTING,
};
pub use status::{CallRecord, Service, ServiceStatus};

/// The views, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// All symbols.
    Screener,
    /// One symbol.
    Detail,
    /// One symbol's backtest and model ranking.
    Risk,
    /// Refit timings.
    Benchmark,
    /// Service health.
    Status,
}

impl View {
    /// All views in Tab order.
    pub const ALL: [View; 5] = [
        Self::Screener,
        Self::Detail,
        Self::Risk,
        Self::Benchmark,
        Self::Status,
    ];

    /// Tab title (short: five tabs and the spec share 80 columns).
    pub fn title(self) -> &'static str {
        match self {
            Self::Screener => "Screener",
            Self::Detail => "Detail",
            Self::Risk => "Risk",
            Self::Benchmark => "Bench",
            Self::Status => "Status",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    fn next(self) -> Self {
        Self::ALL[(self.index() + 1) % Self::ALL.len()]
    }

    fn prev(self) -> Self {
        Self::ALL[(self.index() + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

/// The whole dashboard state.
#[derive(Debug, Clone)]
pub struct App {
    /// View shown.
    pub view: View,
    /// Model of the forecasts.
    pub model: Model,
    /// Distribution of the forecasts.
    pub dist: Dist,
    /// Forecast horizon in days.
    pub horizon: usize,
    /// Sort column of the screener.
    pub sort: SortColumn,
    /// Sort direction.
    pub descending: bool,
    /// Screener filter text.
    pub filter: String,
    /// The filter is being typed.
    pub editing_filter: bool,
    /// Selected row among the visible screener rows.
    pub selected: usize,
    /// The help overlay is shown.
    pub show_help: bool,
    /// The user asked to quit.
    pub should_quit: bool,
    /// Market screener.
    pub vol: Resource<VolKey, VolScreener>,
    /// Signals screener.
    pub signals: Resource<String, SignalScreener>,
    /// Symbol detail (once a symbol was opened).
    pub detail: Option<Detail>,
    /// Risk view (once a symbol was opened there).
    pub risk: Option<Risk>,
    /// Benchmark.
    pub bench: Benchmark,
    /// market-svc status.
    pub market_status: ServiceStatus,
    /// signals-svc status.
    pub signals_status: ServiceStatus,
    /// Notes from start-up (e.g. a missing data file).
    pub notes: Vec<String>,
    /// How often data is refreshed and failed calls retried.
    pub refresh_every: Duration,
    /// Animation frame (advances every tick).
    pub frame: usize,
    last_refresh: Option<Instant>,
}

impl App {
    /// A dashboard over the two services.
    pub fn new(market: ServiceStatus, signals: ServiceStatus, refresh_every: Duration) -> Self {
        Self {
            view: View::Screener,
            model: Model::Garch,
            dist: Dist::Normal,
            horizon: 10,
            sort: SortColumn::Symbol,
            descending: false,
            filter: String::new(),
            editing_filter: false,
            selected: 0,
            show_help: false,
            should_quit: false,
            vol: Resource::default(),
            signals: Resource::default(),
            detail: None,
            risk: None,
            bench: Benchmark::new(),
            market_status: market,
            signals_status: signals,
            notes: Vec::new(),
            refresh_every,
            frame: 0,
            last_refresh: None,
        }
    }

    /// The status of `service`.
    pub fn status(&self, service: Service) -> &ServiceStatus {
        match service {
            Service::Market => &self.market_status,
            Service::Signals => &self.signals_status,
        }
    }

    fn status_mut(&mut self, service: Service) -> &mut ServiceStatus {
        match service {
            Service::Market => &mut self.market_status,
            Service::Signals => &mut self.signals_status,
        }
    }

    /// The current screener key.
    pub fn vol_key(&self) -> VolKey {
        (self.model, self.dist, self.horizon)
    }

    /// Whether anything is being fetched (for the spinner).
    pub fn is_loading(&self) -> bool {
        self.vol.loading
            || self.signals.loading
            || self.bench.running()
            || self
                .detail
                .as_ref()
                .is_some_and(|d| d.fit.loading || d.history.loading || d.signals.loading)
            || self.risk.as_ref().is_some_and(Risk::loading)
    }
}
