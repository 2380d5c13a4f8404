//! The dashboard's state and its update logic.
//!
//! Pure: no terminal, no network, no clock of its own. Keys, ticks and API results come in
//! ([`App::handle_key`], [`App::tick`], [`App::apply`]); what to fetch goes out as
//! [`Command`]s, which the event loop turns into spawned HTTP calls whose results come back
//! through [`App::apply`]. That keeps every rule here unit-testable.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::client::{
    ApiError, Call, FitMode, FitsRun, History, Readiness, SignalScreener, SymbolSignals, VolDetail,
    VolScreener,
};

/// The two back-end services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Volatility forecasts.
    Market,
    /// RSI/Bollinger signals.
    Signals,
}

impl Service {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Market => "market-svc",
            Self::Signals => "signals-svc",
        }
    }
}

/// The views, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// All symbols.
    Screener,
    /// One symbol.
    Detail,
    /// Refit timings.
    Benchmark,
    /// Service health.
    Status,
}

impl View {
    /// All views in Tab order.
    pub const ALL: [View; 4] = [Self::Screener, Self::Detail, Self::Benchmark, Self::Status];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Screener => "Screener",
            Self::Detail => "Detail",
            Self::Benchmark => "Benchmark",
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

    fn next(self) -> Self {
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
}

impl Dist {
    /// Query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::T => "t",
        }
    }

    /// Display label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::T => "Student-t",
        }
    }

    fn toggle(self) -> Self {
        match self {
            Self::Normal => Self::T,
            Self::T => Self::Normal,
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

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The natural direction: names A→Z, numbers highest first.
    fn default_descending(self) -> bool {
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

/// A key press, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Ctrl-C.
    CtrlC,
}

/// A remote value: the last data, whether a request is in flight, and the last error. `K`
/// identifies what was asked for; results for another key are stale and dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource<K, T> {
    /// What the data (or the request in flight) is for.
    pub key: Option<K>,
    /// Last good data for `key`.
    pub data: Option<T>,
    /// A request is in flight.
    pub loading: bool,
    /// The last request failed.
    pub error: Option<ApiError>,
}

impl<K, T> Default for Resource<K, T> {
    fn default() -> Self {
        Self {
            key: None,
            data: None,
            loading: false,
            error: None,
        }
    }
}

impl<K: PartialEq + Clone, T> Resource<K, T> {
    /// Marks a request for `key`; returns false if one is already in flight for it. Data for
    /// another key is dropped (it would be mislabelled).
    pub fn request(&mut self, key: K) -> bool {
        if self.key.as_ref() == Some(&key) {
            if self.loading {
                return false;
            }
        } else {
            self.data = None;
            self.error = None;
            self.key = Some(key);
        }
        self.loading = true;
        true
    }

    /// Takes a result for `key`; ignored (returns false) if it is not the current key. On error
    /// the previous data is kept, so a flaky service shows stale numbers with a warning.
    pub fn resolve(&mut self, key: &K, result: Result<T, ApiError>) -> bool {
        if self.key.as_ref() != Some(key) {
            return false;
        }
        self.loading = false;
        match result {
            Ok(d) => {
                self.data = Some(d);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        true
    }
}

/// Whether a resource lacks good data for `key` (never asked, another key, or failed).
fn needs<K: PartialEq, T>(r: &Resource<K, T>, key: &K) -> bool {
    r.key.as_ref() != Some(key) || r.data.is_none() || r.error.is_some()
}

/// Key of the market screener: model, distribution, horizon.
pub type VolKey = (Model, Dist, usize);
/// Key of one symbol's fit: symbol, model, distribution, horizon.
pub type DetailKey = (String, Model, Dist, usize);
/// Key of one symbol's history: symbol, model, distribution.
pub type HistoryKey = (String, Model, Dist);

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

/// Work for the event loop: each becomes one spawned HTTP call (or two for health).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `GET /v1/volatility`.
    FetchVolScreener(VolKey),
    /// `GET /v1/signals`.
    FetchSignalScreener(String),
    /// `GET /v1/assets/{symbol}/volatility`.
    FetchDetail(DetailKey),
    /// `GET /v1/assets/{symbol}/history`.
    FetchHistory(HistoryKey),
    /// `GET /v1/assets/{symbol}/signals`.
    FetchSymbolSignals(String),
    /// `POST /v1/fits`.
    RunFits(FitMode, Model, Dist),
    /// `GET /health` and `GET /ready`.
    CheckHealth(Service),
}

/// A result coming back from a command.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiResult {
    /// Market screener.
    VolScreener(VolKey, Call<VolScreener>),
    /// Signals screener.
    SignalScreener(String, Call<SignalScreener>),
    /// One symbol's fit and forecast.
    Detail(DetailKey, Call<VolDetail>),
    /// One symbol's volatility history.
    History(HistoryKey, Call<History>),
    /// One symbol's signals.
    SymbolSignals(String, Call<SymbolSignals>),
    /// A refit.
    Fits(FitMode, Call<FitsRun>),
    /// Liveness.
    Health(Service, Call<()>),
    /// Readiness.
    Ready(Service, Call<Readiness>),
}

/// One mode's state in the benchmark.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchState {
    /// Not run yet.
    Idle,
    /// Waiting for the service.
    Running,
    /// Done.
    Done(FitsRun),
    /// The service cannot run this mode now (501/503: no NATS, no workers).
    Unavailable(String),
    /// Failed.
    Failed(String),
}

/// The benchmark view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Per mode, in [`FitMode::ALL`] order.
    pub modes: [BenchState; 3],
    /// Model of the last run.
    pub model: Model,
    /// Distribution of the last run.
    pub dist: Dist,
    /// Runs started.
    pub runs: u32,
}

impl Benchmark {
    fn new() -> Self {
        Self {
            modes: [BenchState::Idle, BenchState::Idle, BenchState::Idle],
            model: Model::Garch,
            dist: Dist::Normal,
            runs: 0,
        }
    }

    /// Whether a run is in progress.
    pub fn running(&self) -> bool {
        self.modes.contains(&BenchState::Running)
    }

    /// The state of `mode`.
    pub fn state(&self, mode: FitMode) -> &BenchState {
        &self.modes[mode_index(mode)]
    }

    /// Sequential time over parallel time, when both ran.
    pub fn speedup(&self) -> Option<f64> {
        match (
            self.state(FitMode::Sequential),
            self.state(FitMode::Parallel),
        ) {
            (BenchState::Done(s), BenchState::Done(p)) if p.total_seconds > 0.0 => {
                Some(s.total_seconds / p.total_seconds)
            }
            _ => None,
        }
    }
}

fn mode_index(mode: FitMode) -> usize {
    FitMode::ALL.iter().position(|m| *m == mode).unwrap_or(0)
}

/// One recorded call, for the status view.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// Path.
    pub path: String,
    /// Round trip.
    pub latency: Duration,
    /// `None` when it succeeded, else the error.
    pub error: Option<String>,
}

/// What the dashboard knows about one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStatus {
    /// Base URL, or why the service is not available.
    pub url: Result<String, String>,
    /// `in-process` or `external`.
    pub origin: &'static str,
    /// Last `/health` outcome.
    pub health: Option<Result<(), ApiError>>,
    /// Last `/ready` outcome.
    pub ready: Option<Result<Readiness, ApiError>>,
    /// Newest calls first (at most [`ServiceStatus::KEEP`]).
    pub calls: VecDeque<CallRecord>,
    /// Calls that succeeded.
    pub ok_calls: u64,
    /// Calls that failed.
    pub failed_calls: u64,
    /// The last error, with its path.
    pub last_error: Option<(String, String)>,
}

impl ServiceStatus {
    /// Calls kept for display.
    pub const KEEP: usize = 8;

    /// A service at `url`.
    pub fn new(url: Result<String, String>, origin: &'static str) -> Self {
        Self {
            url,
            origin,
            health: None,
            ready: None,
            calls: VecDeque::new(),
            ok_calls: 0,
            failed_calls: 0,
            last_error: None,
        }
    }

    fn record<T>(&mut self, call: &Call<T>) {
        let error = call.result.as_ref().err().map(ToString::to_string);
        match &error {
            Some(e) => {
                self.failed_calls += 1;
                self.last_error = Some((call.path.clone(), e.clone()));
            }
            None => self.ok_calls += 1,
        }
        self.calls.push_front(CallRecord {
            path: call.path.clone(),
            latency: call.latency,
            error,
        });
        self.calls.truncate(Self::KEEP);
    }

    /// Whether the service answered its last health check.
    pub fn is_up(&self) -> bool {
        matches!(self.health, Some(Ok(())))
    }

    /// Why the service is not ready, if the last check said so.
    pub fn not_ready_reason(&self) -> Option<&str> {
        match &self.ready {
            Some(Ok(Readiness::NotReady(why))) => Some(why),
            _ => None,
        }
    }
}

/// One symbol's detail view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// Ticker.
    pub symbol: String,
    /// Fit and forecast.
    pub fit: Resource<DetailKey, VolDetail>,
    /// Conditional/realized volatility history.
    pub history: Resource<HistoryKey, History>,
    /// Price, bands and RSI.
    pub signals: Resource<String, SymbolSignals>,
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

    /// Whether anything is being fetched (for the spinner).
    pub fn is_loading(&self) -> bool {
        self.vol.loading
            || self.signals.loading
            || self.bench.running()
            || self
                .detail
                .as_ref()
                .is_some_and(|d| d.fit.loading || d.history.loading || d.signals.loading)
    }

    /// The first commands: everything the screener and status need.
    pub fn start(&mut self, now: Instant) -> Vec<Command> {
        self.last_refresh = Some(now);
        self.refresh_all()
    }

    fn refresh_all(&mut self) -> Vec<Command> {
        let mut cmds = vec![
            Command::CheckHealth(Service::Market),
            Command::CheckHealth(Service::Signals),
        ];
        cmds.extend(self.refresh_screener());
        if self.view == View::Detail {
            cmds.extend(self.refresh_detail(true));
        }
        cmds
    }

    fn refresh_screener(&mut self) -> Vec<Command> {
        let mut cmds = Vec::new();
        let key = self.vol_key();
        if self.vol.request(key) {
            cmds.push(Command::FetchVolScreener(key));
        }
        if self.signals.request(INTERVAL.to_string()) {
            cmds.push(Command::FetchSignalScreener(INTERVAL.to_string()));
        }
        cmds
    }

    /// Requests what the detail view lacks; with `all`, refetches even loaded parts.
    fn refresh_detail(&mut self, all: bool) -> Vec<Command> {
        let (model, dist, horizon) = (self.model, self.dist, self.horizon);
        let Some(d) = self.detail.as_mut() else {
            return Vec::new();
        };
        let mut cmds = Vec::new();
        let fit_key = (d.symbol.clone(), model, dist, horizon);
        if (all || needs(&d.fit, &fit_key)) && d.fit.request(fit_key.clone()) {
            cmds.push(Command::FetchDetail(fit_key));
        }
        let hist_key = (d.symbol.clone(), model, dist);
        if (all || needs(&d.history, &hist_key)) && d.history.request(hist_key.clone()) {
            cmds.push(Command::FetchHistory(hist_key));
        }
        let sig_key = d.symbol.clone();
        if (all || needs(&d.signals, &sig_key)) && d.signals.request(sig_key.clone()) {
            cmds.push(Command::FetchSymbolSignals(sig_key));
        }
        cmds
    }

    /// Opens the detail view of `symbol`.
    pub fn open_detail(&mut self, symbol: &str) -> Vec<Command> {
        self.view = View::Detail;
        if self.detail.as_ref().map(|d| d.symbol.as_str()) != Some(symbol) {
            self.detail = Some(Detail {
                symbol: symbol.to_string(),
                ..Detail::default()
            });
        }
        self.refresh_detail(false)
    }

    /// A UI tick: advances the spinner and, every `refresh_every`, refreshes the data and
    /// retries what failed.
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        self.frame = self.frame.wrapping_add(1);
        let due = self
            .last_refresh
            .is_none_or(|t| now.saturating_duration_since(t) >= self.refresh_every);
        if !due {
            return Vec::new();
        }
        self.last_refresh = Some(now);
        let mut cmds = vec![
            Command::CheckHealth(Service::Market),
            Command::CheckHealth(Service::Signals),
        ];
        cmds.extend(self.refresh_screener());
        // The detail's data only changes with the keys; refetch only what failed.
        if self.view == View::Detail {
            cmds.extend(self.refresh_detail(false));
        }
        cmds
    }

    /// Takes a result from the network.
    pub fn apply(&mut self, result: ApiResult) -> Vec<Command> {
        match result {
            ApiResult::VolScreener(key, call) => {
                self.status_mut(Service::Market).record(&call);
                self.vol.resolve(&key, call.result);
                self.clamp_selection();
            }
            ApiResult::SignalScreener(key, call) => {
                self.status_mut(Service::Signals).record(&call);
                self.signals.resolve(&key, call.result);
                self.clamp_selection();
            }
            ApiResult::Detail(key, call) => {
                self.status_mut(Service::Market).record(&call);
                if let Some(d) = self.detail.as_mut() {
                    d.fit.resolve(&key, call.result);
                }
            }
            ApiResult::History(key, call) => {
                self.status_mut(Service::Market).record(&call);
                if let Some(d) = self.detail.as_mut() {
                    d.history.resolve(&key, call.result);
                }
            }
            ApiResult::SymbolSignals(key, call) => {
                self.status_mut(Service::Signals).record(&call);
                if let Some(d) = self.detail.as_mut() {
                    d.signals.resolve(&key, call.result);
                }
            }
            ApiResult::Fits(mode, call) => {
                self.status_mut(Service::Market).record(&call);
                return self.bench_result(mode, call.result);
            }
            ApiResult::Health(service, call) => {
                let st = self.status_mut(service);
                st.record(&call);
                st.health = Some(call.result);
            }
            ApiResult::Ready(service, call) => {
                let st = self.status_mut(service);
                st.record(&call);
                let was_ready = matches!(st.ready, Some(Ok(Readiness::Ready)));
                st.ready = Some(call.result);
                let now_ready = matches!(st.ready, Some(Ok(Readiness::Ready)));
                // A service that just became ready has data the screener has not seen yet.
                if now_ready && !was_ready {
                    return self.refetch(service);
                }
            }
        }
        Vec::new()
    }

    /// Refetches the screener part served by `service` (unless already in flight).
    fn refetch(&mut self, service: Service) -> Vec<Command> {
        match service {
            Service::Market => {
                let key = self.vol_key();
                if self.vol.request(key) {
                    return vec![Command::FetchVolScreener(key)];
                }
            }
            Service::Signals => {
                if self.signals.request(INTERVAL.to_string()) {
                    return vec![Command::FetchSignalScreener(INTERVAL.to_string())];
                }
            }
        }
        Vec::new()
    }

    fn bench_result(&mut self, mode: FitMode, result: Result<FitsRun, ApiError>) -> Vec<Command> {
        let i = mode_index(mode);
        if self.bench.modes[i] != BenchState::Running {
            return Vec::new();
        }
        self.bench.modes[i] = match result {
            Ok(run) => BenchState::Done(run),
            // 501/503: the service cannot run this mode (no NATS or no workers).
            Err(ApiError::Status {
                status: 501 | 503,
                title,
                detail,
            }) => BenchState::Unavailable(detail.unwrap_or(title)),
            Err(e) => BenchState::Failed(e.to_string()),
        };
        // Modes run one after another, so they do not compete for the same cores.
        match FitMode::ALL.get(i + 1) {
            Some(&next) => {
                self.bench.modes[i + 1] = BenchState::Running;
                vec![Command::RunFits(next, self.bench.model, self.bench.dist)]
            }
            None => Vec::new(),
        }
    }

    fn start_bench(&mut self) -> Vec<Command> {
        if self.bench.running() {
            return Vec::new();
        }
        self.bench.model = self.model;
        self.bench.dist = self.dist;
        self.bench.runs += 1;
        self.bench.modes = [BenchState::Running, BenchState::Idle, BenchState::Idle];
        vec![Command::RunFits(FitMode::Sequential, self.model, self.dist)]
    }

    fn clamp_selection(&mut self) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    fn move_selection(&mut self, delta: isize) {
        let n = self.rows().len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let cur = self.selected.min(n - 1) as isize;
        self.selected = (cur + delta).clamp(0, n as isize - 1) as usize;
    }

    /// Moves to the previous/next symbol in the detail view (following the screener order).
    fn step_detail(&mut self, delta: isize) -> Vec<Command> {
        let rows = self.rows();
        if rows.is_empty() {
            return Vec::new();
        }
        let cur = self
            .detail
            .as_ref()
            .and_then(|d| rows.iter().position(|r| r.symbol == d.symbol))
            .unwrap_or(self.selected.min(rows.len() - 1));
        let next = (cur as isize + delta).rem_euclid(rows.len() as isize) as usize;
        self.selected = next;
        let symbol = rows[next].symbol.clone();
        self.open_detail(&symbol)
    }

    /// The model, distribution or horizon changed: refetch what depends on them.
    fn spec_changed(&mut self) -> Vec<Command> {
        let mut cmds = self.refetch(Service::Market);
        cmds.extend(self.refresh_detail(false));
        cmds
    }

    fn set_sort(&mut self, column: SortColumn) {
        self.sort = column;
        self.descending = column.default_descending();
        self.selected = 0;
    }

    /// Handles a key press.
    pub fn handle_key(&mut self, key: Key) -> Vec<Command> {
        if key == Key::CtrlC {
            self.should_quit = true;
            return Vec::new();
        }
        if self.editing_filter {
            match key {
                Key::Char(c) => {
                    self.filter.push(c);
                    self.selected = 0;
                }
                Key::Backspace => {
                    self.filter.pop();
                    self.selected = 0;
                }
                Key::Enter => self.editing_filter = false,
                Key::Esc => {
                    self.filter.clear();
                    self.editing_filter = false;
                    self.selected = 0;
                }
                Key::Up => self.move_selection(-1),
                Key::Down => self.move_selection(1),
                _ => {}
            }
            return Vec::new();
        }
        if self.show_help {
            self.show_help = false;
            if key == Key::Char('q') {
                self.should_quit = true;
            }
            return Vec::new();
        }
        match key {
            Key::Char('q') => {
                self.should_quit = true;
                return Vec::new();
            }
            Key::Esc => {
                // Esc first clears an active filter, then quits.
                if self.view == View::Screener && !self.filter.is_empty() {
                    self.filter.clear();
                    self.selected = 0;
                } else {
                    self.should_quit = true;
                }
                return Vec::new();
            }
            Key::Char('?') => {
                self.show_help = true;
                return Vec::new();
            }
            Key::Tab => return self.switch_view(self.view.next()),
            Key::BackTab => return self.switch_view(self.view.prev()),
            Key::Char(c @ '1'..='4') => {
                let i = c as usize - '1' as usize;
                return self.switch_view(View::ALL[i]);
            }
            Key::Char('m') => {
                self.model = self.model.next();
                return self.spec_changed();
            }
            Key::Char('d') => {
                self.dist = self.dist.toggle();
                return self.spec_changed();
            }
            Key::Char('+') | Key::Char('=') => {
                let next = HORIZONS.iter().find(|h| **h > self.horizon);
                if let Some(&h) = next {
                    self.horizon = h;
                    return self.spec_changed();
                }
                return Vec::new();
            }
            Key::Char('-') | Key::Char('_') => {
                let prev = HORIZONS.iter().rev().find(|h| **h < self.horizon);
                if let Some(&h) = prev {
                    self.horizon = h;
                    return self.spec_changed();
                }
                return Vec::new();
            }
            Key::Char('r') => {
                self.vol.loading = false;
                self.signals.loading = false;
                return self.refresh_all();
            }
            Key::Char('b') => {
                self.view = View::Benchmark;
                return self.start_bench();
            }
            _ => {}
        }
        match self.view {
            View::Screener => self.screener_key(key),
            View::Detail => self.detail_key(key),
            View::Benchmark => {
                if key == Key::Enter {
                    self.start_bench()
                } else {
                    Vec::new()
                }
            }
            View::Status => Vec::new(),
        }
    }

    fn switch_view(&mut self, view: View) -> Vec<Command> {
        if view == View::Detail {
            let symbol = self
                .detail
                .as_ref()
                .map(|d| d.symbol.clone())
                .or_else(|| self.selected_row().map(|r| r.symbol));
            if let Some(s) = symbol {
                return self.open_detail(&s);
            }
        }
        self.view = view;
        Vec::new()
    }

    fn screener_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Up | Key::Char('k') => self.move_selection(-1),
            Key::Down | Key::Char('j') => self.move_selection(1),
            Key::PageUp => self.move_selection(-10),
            Key::PageDown => self.move_selection(10),
            Key::Home | Key::Char('g') => self.selected = 0,
            Key::End | Key::Char('G') => self.move_selection(isize::MAX / 2),
            Key::Left | Key::Char('h') => {
                let i = self.sort.index();
                let n = SortColumn::ALL.len();
                self.set_sort(SortColumn::ALL[(i + n - 1) % n]);
            }
            Key::Right | Key::Char('l') | Key::Char('s') => {
                let i = self.sort.index();
                self.set_sort(SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]);
            }
            Key::Char('S') => self.descending = !self.descending,
            Key::Char('/') => self.editing_filter = true,
            Key::Enter => {
                if let Some(row) = self.selected_row() {
                    return self.open_detail(&row.symbol);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn detail_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Up | Key::Char('k') | Key::Left | Key::Char('h') => self.step_detail(-1),
            Key::Down | Key::Char('j') | Key::Right | Key::Char('l') => self.step_detail(1),
            Key::Backspace => {
                self.view = View::Screener;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::client::{SignalRow, VolRow};

    pub(crate) fn vol_row(symbol: &str, vol: f64, persistence: f64) -> VolRow {
        VolRow {
            symbol: symbol.into(),
            annualized_forecast: Some(vol),
            long_run_annualized: Some(vol * 0.9),
            persistence: Some(persistence),
            half_life_days: Some(20.0),
            converged: true,
            error: None,
        }
    }

    pub(crate) fn sig_row(symbol: &str, rsi: f64, pb: f64, signal: &str) -> SignalRow {
        SignalRow {
            symbol: symbol.into(),
            close: Some(100.0),
            rsi: Some(rsi),
            percent_b: Some(pb),
            bandwidth: Some(0.05),
            signal: Some(signal.into()),
            reasons: vec![format!("{signal} reason")],
        }
    }

    pub(crate) fn ok<T>(service: Service, path: &str, value: T) -> Call<T> {
        Call {
            service,
            path: path.into(),
            latency: Duration::from_millis(7),
            result: Ok(value),
        }
    }

    pub(crate) fn err<T>(service: Service, path: &str, e: ApiError) -> Call<T> {
        Call {
            service,
            path: path.into(),
            latency: Duration::from_millis(3),
            result: Err(e),
        }
    }

    pub(crate) fn new_app() -> App {
        App::new(
            ServiceStatus::new(Ok("http://127.0.0.1:1".into()), "in-process"),
            ServiceStatus::new(
                Err("signals-svc not available in this build".into()),
                "in-process",
            ),
            Duration::from_secs(5),
        )
    }

    /// An app with both screeners loaded: AAA (vol 30, long), BBB (20, short), CCC (25, flat).
    pub(crate) fn loaded_app() -> App {
        let mut app = new_app();
        let cmds = app.start(Instant::now());
        assert!(cmds.contains(&Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))));
        app.apply(ApiResult::VolScreener(
            (Model::Garch, Dist::Normal, 10),
            ok(
                Service::Market,
                "/v1/volatility",
                VolScreener {
                    horizon: 10,
                    rows: vec![
                        vol_row("BBB", 20.0, 0.95),
                        vol_row("AAA", 30.0, 0.99),
                        vol_row("CCC", 25.0, 0.90),
                    ],
                },
            ),
        ));
        app.apply(ApiResult::SignalScreener(
            INTERVAL.into(),
            ok(
                Service::Signals,
                "/v1/signals",
                SignalScreener {
                    interval: INTERVAL.into(),
                    rows: vec![
                        sig_row("AAA", 25.0, -0.1, "long"),
                        sig_row("BBB", 75.0, 1.1, "short"),
                        sig_row("CCC", 50.0, 0.5, "flat"),
                    ],
                },
            ),
        ));
        app
    }

    fn symbols(app: &App) -> Vec<String> {
        app.rows().into_iter().map(|r| r.symbol).collect()
    }

    #[test]
    fn start_asks_for_health_and_both_screeners() {
        let mut app = new_app();
        let cmds = app.start(Instant::now());
        assert_eq!(
            cmds,
            vec![
                Command::CheckHealth(Service::Market),
                Command::CheckHealth(Service::Signals),
                Command::FetchVolScreener((Model::Garch, Dist::Normal, 10)),
                Command::FetchSignalScreener("5m".into()),
            ]
        );
        assert!(app.is_loading());
    }

    #[test]
    fn rows_merge_both_services_by_symbol() {
        let app = loaded_app();
        let rows = app.rows();
        assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
        assert_eq!(rows[0].vol, Some(30.0));
        assert_eq!(rows[0].rsi, Some(25.0));
        assert_eq!(rows[0].signal, Some(Signal::Long));
        assert_eq!(rows[1].signal, Some(Signal::Short));
    }

    #[test]
    fn merge_keeps_symbols_known_to_one_service_only() {
        let vol = VolScreener {
            horizon: 10,
            rows: vec![vol_row("AAA", 1.0, 0.9)],
        };
        let sig = SignalScreener {
            interval: "5m".into(),
            rows: vec![sig_row("ZZZ", 50.0, 0.5, "flat")],
        };
        let rows = merge_rows(Some(&vol), Some(&sig));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].rsi, None);
        assert_eq!(rows[1].vol, None);
        assert_eq!(rows[1].converged, None);
        assert!(merge_rows(Some(&vol), None)[0].signal.is_none());
    }

    #[test]
    fn sort_cycles_columns_with_natural_direction_and_missing_last() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('s'));
        assert_eq!(app.sort, SortColumn::Vol);
        assert!(app.descending);
        assert_eq!(symbols(&app), ["AAA", "CCC", "BBB"]);
        app.handle_key(Key::Char('S'));
        assert_eq!(symbols(&app), ["BBB", "CCC", "AAA"]);
        app.handle_key(Key::Char('s'));
        assert_eq!(app.sort, SortColumn::Persistence);
        assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
        app.handle_key(Key::Char('s'));
        assert_eq!(app.sort, SortColumn::Rsi);
        assert_eq!(symbols(&app), ["BBB", "CCC", "AAA"]);
        app.handle_key(Key::Char('h'));
        assert_eq!(app.sort, SortColumn::Persistence);
        for _ in 0..4 {
            app.handle_key(Key::Char('l'));
        }
        assert_eq!(app.sort, SortColumn::Symbol);

        let mut rows = vec![
            Row {
                symbol: "X".into(),
                vol: None,
                ..Row::default()
            },
            Row {
                symbol: "Y".into(),
                vol: Some(1.0),
                ..Row::default()
            },
        ];
        sort_rows(&mut rows, SortColumn::Vol, false);
        assert_eq!(rows[0].symbol, "Y");
        sort_rows(&mut rows, SortColumn::Vol, true);
        assert_eq!(rows[0].symbol, "Y");
    }

    #[test]
    fn signal_sort_puts_longs_first() {
        let mut app = loaded_app();
        app.set_sort(SortColumn::Signal);
        assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
        app.handle_key(Key::Char('S'));
        assert_eq!(symbols(&app), ["CCC", "BBB", "AAA"]);
    }

    #[test]
    fn filter_typing_backspace_enter_and_esc() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('/'));
        assert!(app.editing_filter);
        // Keys that are commands elsewhere are text while typing.
        app.handle_key(Key::Char('b'));
        app.handle_key(Key::Char('q'));
        assert!(!app.should_quit);
        assert_eq!(app.filter, "bq");
        assert!(symbols(&app).is_empty());
        app.handle_key(Key::Backspace);
        assert_eq!(symbols(&app), ["BBB"]);
        app.handle_key(Key::Enter);
        assert!(!app.editing_filter);
        assert_eq!(symbols(&app), ["BBB"]);
        // Esc clears an active filter before it quits.
        app.handle_key(Key::Esc);
        assert!(app.filter.is_empty());
        assert!(!app.should_quit);
        assert_eq!(symbols(&app).len(), 3);
        // Filter by signal name.
        app.filter = "short".into();
        assert_eq!(symbols(&app), ["BBB"]);
        app.handle_key(Key::Esc);
        app.handle_key(Key::Esc);
        assert!(app.should_quit);
    }

    #[test]
    fn selection_moves_and_clamps() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('j'));
        app.handle_key(Key::Down);
        app.handle_key(Key::Down);
        assert_eq!(app.selected, 2);
        app.handle_key(Key::Char('k'));
        assert_eq!(app.selected_row().unwrap().symbol, "BBB");
        app.handle_key(Key::Char('g'));
        assert_eq!(app.selected, 0);
        app.handle_key(Key::End);
        assert_eq!(app.selected, 2);
        app.handle_key(Key::Up);
        app.handle_key(Key::PageUp);
        assert_eq!(app.selected, 0);
    }

    #[test]
    fn tab_cycles_views_both_ways_and_digits_jump() {
        let mut app = new_app();
        assert_eq!(app.view, View::Screener);
        app.handle_key(Key::Tab);
        // No symbol yet: the detail view opens empty.
        assert_eq!(app.view, View::Detail);
        app.handle_key(Key::Tab);
        assert_eq!(app.view, View::Benchmark);
        app.handle_key(Key::Tab);
        assert_eq!(app.view, View::Status);
        app.handle_key(Key::Tab);
        assert_eq!(app.view, View::Screener);
        app.handle_key(Key::BackTab);
        assert_eq!(app.view, View::Status);
        app.handle_key(Key::Char('3'));
        assert_eq!(app.view, View::Benchmark);
    }

    #[test]
    fn enter_opens_detail_and_fetches_its_three_parts() {
        let mut app = loaded_app();
        app.handle_key(Key::Down);
        let cmds = app.handle_key(Key::Enter);
        assert_eq!(app.view, View::Detail);
        assert_eq!(
            cmds,
            vec![
                Command::FetchDetail(("BBB".into(), Model::Garch, Dist::Normal, 10)),
                Command::FetchHistory(("BBB".into(), Model::Garch, Dist::Normal)),
                Command::FetchSymbolSignals("BBB".into()),
            ]
        );
        // Tab away and back: nothing refetched while in flight.
        app.handle_key(Key::Tab);
        assert!(app.handle_key(Key::BackTab).is_empty());
        // Next symbol with j.
        let cmds = app.handle_key(Key::Char('j'));
        assert_eq!(app.detail.as_ref().unwrap().symbol, "CCC");
        assert_eq!(cmds.len(), 3);
        // Wraps around.
        app.handle_key(Key::Char('l'));
        assert_eq!(app.detail.as_ref().unwrap().symbol, "AAA");
        app.handle_key(Key::Backspace);
        assert_eq!(app.view, View::Screener);
    }

    #[test]
    fn model_dist_and_horizon_keys_refetch_with_the_new_key() {
        let mut app = loaded_app();
        let cmds = app.handle_key(Key::Char('m'));
        assert_eq!(app.model, Model::Gjr);
        assert_eq!(
            cmds,
            vec![Command::FetchVolScreener((Model::Gjr, Dist::Normal, 10))]
        );
        // Data for the old key is dropped, not shown under the new label.
        assert!(app.vol.data.is_none());
        assert!(app.vol.loading);
        app.handle_key(Key::Char('m'));
        assert_eq!(app.model, Model::Egarch);
        app.handle_key(Key::Char('m'));
        assert_eq!(app.model, Model::Garch);
        app.handle_key(Key::Char('d'));
        assert_eq!(app.dist, Dist::T);
        let cmds = app.handle_key(Key::Char('+'));
        assert_eq!(app.horizon, 21);
        assert_eq!(
            cmds,
            vec![Command::FetchVolScreener((Model::Garch, Dist::T, 21))]
        );
        app.handle_key(Key::Char('-'));
        app.handle_key(Key::Char('-'));
        app.handle_key(Key::Char('-'));
        assert_eq!(app.horizon, 1);
        assert!(app.handle_key(Key::Char('-')).is_empty());
        for _ in 0..10 {
            app.handle_key(Key::Char('+'));
        }
        assert_eq!(app.horizon, 252);
    }

    #[test]
    fn horizon_change_in_detail_refetches_the_fit_but_not_the_history() {
        let mut app = loaded_app();
        app.open_detail("AAA");
        let d = app.detail.as_mut().unwrap();
        d.history.resolve(
            &("AAA".into(), Model::Garch, Dist::Normal),
            Ok(History {
                dates: vec![],
                conditional_volatility: vec![],
                realized_volatility: vec![],
            }),
        );
        let cmds = app.handle_key(Key::Char('+'));
        assert!(cmds.contains(&Command::FetchDetail((
            "AAA".into(),
            Model::Garch,
            Dist::Normal,
            21
        ))));
        assert!(!cmds.iter().any(|c| matches!(c, Command::FetchHistory(_))));
    }

    #[test]
    fn stale_results_are_dropped_but_still_counted_in_status() {
        let mut app = new_app();
        app.start(Instant::now());
        app.handle_key(Key::Char('m')); // now GJR
        app.apply(ApiResult::VolScreener(
            (Model::Garch, Dist::Normal, 10),
            ok(
                Service::Market,
                "/v1/volatility",
                VolScreener {
                    horizon: 10,
                    rows: vec![vol_row("OLD", 1.0, 0.5)],
                },
            ),
        ));
        assert!(app.vol.data.is_none());
        assert!(app.vol.loading);
        assert_eq!(app.market_status.ok_calls, 1);
    }

    #[test]
    fn errors_keep_old_data_and_are_recorded() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('r'));
        app.apply(ApiResult::VolScreener(
            (Model::Garch, Dist::Normal, 10),
            err(
                Service::Market,
                "/v1/volatility",
                ApiError::Unreachable("connection failed".into()),
            ),
        ));
        assert!(app.vol.data.is_some());
        assert!(app.vol.error.is_some());
        assert!(!app.vol.loading);
        assert_eq!(app.market_status.failed_calls, 1);
        assert_eq!(
            app.market_status.last_error,
            Some((
                "/v1/volatility".into(),
                "unreachable: connection failed".into()
            ))
        );
    }

    #[test]
    fn signals_down_leaves_the_market_columns_usable() {
        let mut app = new_app();
        app.start(Instant::now());
        app.apply(ApiResult::SignalScreener(
            INTERVAL.into(),
            Call::unavailable(
                Service::Signals,
                "/v1/signals",
                "signals-svc not available in this build",
            ),
        ));
        app.apply(ApiResult::VolScreener(
            (Model::Garch, Dist::Normal, 10),
            ok(
                Service::Market,
                "/v1/volatility",
                VolScreener {
                    horizon: 10,
                    rows: vec![vol_row("AAA", 1.0, 0.5)],
                },
            ),
        ));
        assert_eq!(symbols(&app), ["AAA"]);
        assert!(app.signals.error.is_some());
        assert!(!app.is_loading());
    }

    #[test]
    fn tick_refreshes_only_when_due_and_retries_failures() {
        let t0 = Instant::now();
        let mut app = loaded_app();
        app.last_refresh = Some(t0);
        assert!(app.tick(t0 + Duration::from_secs(1)).is_empty());
        let cmds = app.tick(t0 + Duration::from_secs(6));
        assert!(cmds.contains(&Command::CheckHealth(Service::Market)));
        assert!(cmds.contains(&Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))));
        // In flight: the next due tick does not pile up another screener request.
        let cmds = app.tick(t0 + Duration::from_secs(12));
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Command::FetchVolScreener(_)))
        );

        // A failed detail part is retried on the next due tick.
        let mut app = loaded_app();
        app.last_refresh = Some(t0);
        app.open_detail("AAA");
        app.apply(ApiResult::SymbolSignals(
            "AAA".into(),
            Call::unavailable(Service::Signals, "/v1/assets/AAA/signals", "down"),
        ));
        let cmds = app.tick(t0 + Duration::from_secs(6));
        assert!(cmds.contains(&Command::FetchSymbolSignals("AAA".into())));
    }

    fn fits(total: f64) -> FitsRun {
        FitsRun {
            total_seconds: total,
            fits_per_second: 25.0 / total,
            symbols: vec![],
        }
    }

    #[test]
    fn benchmark_runs_modes_in_turn_and_shows_501_as_unavailable() {
        let mut app = new_app();
        app.handle_key(Key::Char('3'));
        let cmds = app.handle_key(Key::Enter);
        assert_eq!(
            cmds,
            vec![Command::RunFits(
                FitMode::Sequential,
                Model::Garch,
                Dist::Normal
            )]
        );
        assert!(app.bench.running());
        // A second press while running does nothing.
        assert!(app.handle_key(Key::Char('b')).is_empty());
        let cmds = app.apply(ApiResult::Fits(
            FitMode::Sequential,
            ok(Service::Market, "/v1/fits", fits(4.0)),
        ));
        assert_eq!(
            cmds,
            vec![Command::RunFits(
                FitMode::Parallel,
                Model::Garch,
                Dist::Normal
            )]
        );
        let cmds = app.apply(ApiResult::Fits(
            FitMode::Parallel,
            ok(Service::Market, "/v1/fits", fits(1.0)),
        ));
        assert_eq!(
            cmds,
            vec![Command::RunFits(
                FitMode::Distributed,
                Model::Garch,
                Dist::Normal
            )]
        );
        let cmds = app.apply(ApiResult::Fits(
            FitMode::Distributed,
            err(
                Service::Market,
                "/v1/fits",
                ApiError::Status {
                    status: 501,
                    title: "Not Implemented".into(),
                    detail: Some("no NATS".into()),
                },
            ),
        ));
        assert!(cmds.is_empty());
        assert!(!app.bench.running());
        assert_eq!(app.bench.speedup(), Some(4.0));
        assert_eq!(
            app.bench.state(FitMode::Distributed),
            &BenchState::Unavailable("no NATS".into())
        );
        // Results that arrive when nothing is running are ignored.
        assert!(
            app.apply(ApiResult::Fits(
                FitMode::Parallel,
                ok(Service::Market, "/v1/fits", fits(9.0)),
            ))
            .is_empty()
        );
        assert_eq!(app.bench.speedup(), Some(4.0));
    }

    #[test]
    fn health_and_readiness_are_tracked_per_service() {
        let mut app = new_app();
        app.apply(ApiResult::Health(
            Service::Market,
            ok(Service::Market, "/health", ()),
        ));
        app.apply(ApiResult::Ready(
            Service::Market,
            ok(
                Service::Market,
                "/ready",
                Readiness::NotReady("data is loading".into()),
            ),
        ));
        assert!(app.market_status.is_up());
        assert_eq!(
            app.market_status.not_ready_reason(),
            Some("data is loading")
        );
        app.apply(ApiResult::Health(
            Service::Signals,
            Call::unavailable(Service::Signals, "/health", "not in this build"),
        ));
        assert!(!app.signals_status.is_up());
        assert_eq!(app.signals_status.calls.len(), 1);
        for _ in 0..20 {
            app.apply(ApiResult::Health(
                Service::Market,
                ok(Service::Market, "/health", ()),
            ));
        }
        assert_eq!(app.market_status.calls.len(), ServiceStatus::KEEP);
    }

    #[test]
    fn becoming_ready_refetches_the_screener_once() {
        let mut app = loaded_app();
        let ready = |r| ApiResult::Ready(Service::Market, ok(Service::Market, "/ready", r));
        assert!(
            app.apply(ready(Readiness::NotReady("loading".into())))
                .is_empty()
        );
        assert_eq!(
            app.apply(ready(Readiness::Ready)),
            vec![Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))]
        );
        assert!(app.apply(ready(Readiness::Ready)).is_empty());
    }

    #[test]
    fn help_overlay_and_quit_keys() {
        let mut app = new_app();
        app.handle_key(Key::Char('?'));
        assert!(app.show_help);
        app.handle_key(Key::Char('j'));
        assert!(!app.show_help);
        assert!(!app.should_quit);
        app.handle_key(Key::Char('?'));
        app.handle_key(Key::Char('q'));
        assert!(app.should_quit);
        let mut app = new_app();
        app.handle_key(Key::Char('q'));
        assert!(app.should_quit);
        let mut app = new_app();
        app.editing_filter = true;
        app.handle_key(Key::CtrlC);
        assert!(app.should_quit);
    }
}
