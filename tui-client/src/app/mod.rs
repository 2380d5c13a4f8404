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
pub(crate) mod tests;
