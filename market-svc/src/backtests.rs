//! The service side of backtests: per-symbol results cached per key, the model ranking, and
//! universe runs that never hold up the other routes.
//!
//! * A symbol's backtest and ranking are computed once per (data version, symbol, series
//!   length, model, setting) and shared by concurrent requests (a `OnceCell` per key, as the
//!   fit cache does); the cache holds at most [`CACHE_ENTRIES`] results and forgets older data
//!   versions and shorter series first.
//! * The computations run detached from the request: a request waits for its result at most
//!   the configured wait (`--backtest-wait`) and otherwise answers 202 with `Retry-After`
//!   (the result is cached when done), so a long backtest is neither cut by the request
//!   timeout nor computed twice. They have a budget of their own (one at a time, a few
//!   queued, 429 beyond), so they never take the slots of the fit routes, and they run on a
//!   rayon pool of their own, never on the global pool that computes the other routes' fits.
//! * A universe run (`POST /v1/backtests`) is seconds of work on every core. It runs on a rayon
//!   pool of its own (parallel mode) or a thread of its own (sequential), so the global rayon
//!   pool stays free for the fits of other requests, and one runs at a time: a second request
//!   meanwhile gets 429 with `Retry-After` instead of queueing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use backtest::{Backtest, BacktestConfig, Ranking};
use garch_core::ModelSpec;
use svc_kit::budget::{BudgetLimits, WorkBudget, WorkPermit};
use svc_kit::problem::Problem;
use tokio::sync::{OnceCell, Semaphore};

use crate::backtest_report::BacktestReport;
use crate::universe::Asset;

/// Most cached backtests (and, separately, rankings).
pub const CACHE_ENTRIES: usize = 64;

/// What identifies a computed result: data version, symbol, series length, model (`None` for
/// a ranking over all models), setting (its JSON: `BacktestConfig` is not `Hash`).
type Key = (u64, String, usize, Option<ModelSpec>, String);

/// A symbol's backtest, ready to serve.
#[derive(Debug)]
pub struct SymbolBacktest {
    /// The library's result (indices, per-level vectors).
    pub backtest: Backtest,
    /// Its JSON face with every day.
    pub report: BacktestReport,
}

type Cell<T> = Arc<OnceCell<Result<Arc<T>, Problem>>>;

/// What a computation gives: `Err` is transient (the request was shed, the computation
/// aborted) and is not cached; `Ok` is the outcome for this key, kept: a result, or the
/// problem every later request would meet too (a window no fit can estimate).
pub type Computed<T> = Result<Result<T, Problem>, Problem>;

/// A bounded map of computed results shared by concurrent requests.
struct ComputeCache<T> {
    cells: Mutex<HashMap<Key, Cell<T>>>,
}

impl<T> ComputeCache<T> {
    fn new() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The cell of `key`, making room when the cache is full: entries of older versions or
    /// shorter series of the same symbol go first, then finished ones.
    fn cell(&self, key: Key) -> Cell<T> {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cell) = cells.get(&key) {
            return Arc::clone(cell);
        }
        let (version, symbol, nobs) = (key.0, key.1.clone(), key.2);
        cells.retain(|k, _| k.0 >= version && !(k.1 == symbol && k.2 < nobs));
        if cells.len() >= CACHE_ENTRIES {
            let finished: Vec<Key> = cells
                .iter()
                .filter(|(_, c)| c.initialized())
                .map(|(k, _)| k.clone())
                .take(cells.len() + 1 - CACHE_ENTRIES)
                .collect();
            for k in finished {
                cells.remove(&k);
            }
        }
        Arc::clone(cells.entry(key).or_default())
    }
}

/// A result, or that it is still being computed.
#[derive(Debug)]
pub enum Ready<T> {
    /// Done.
    Done(T),
    /// Still computing after the wait; the computation goes on.
    Pending,
}

/// How long a request waits for its computation unless configured (`--backtest-wait`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(20);

/// Backtests (and rankings) computed at once; more wait in [`QUEUED`].
pub const RUNNING: usize = 1;
/// Backtests waiting for [`RUNNING`]; beyond, requests get 429.
pub const QUEUED: usize = 4;

/// Backtest state of the service.
pub struct Backtests {
    backtests: Arc<ComputeCache<SymbolBacktest>>,
    rankings: Arc<ComputeCache<Ranking>>,
    budget: WorkBudget,
    /// `--backtest-wait`, set once at start ([`DEFAULT_WAIT`] until then).
    wait: OnceLock<Duration>,
    /// One universe run at a time.
    universe_gate: Arc<Semaphore>,
    /// The universe runs' own rayon pool (built on first use).
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
}

impl Default for Backtests {
    fn default() -> Self {
        Self {
            backtests: Arc::new(ComputeCache::new()),
            rankings: Arc::new(ComputeCache::new()),
            // Queued computations are detached from requests: they may wait long.
            budget: WorkBudget::new(BudgetLimits {
                concurrency: RUNNING,
                queue: QUEUED,
                queue_wait: Duration::from_secs(3600),
            }),
            wait: OnceLock::new(),
            universe_gate: Arc::new(Semaphore::new(1)),
            pool: OnceLock::new(),
        }
    }
}

/// The variance proxy of `asset` aligned with its returns (`None` on days without bars).
pub fn proxy_of(asset: &Asset) -> Option<Vec<Option<f64>>> {
    (!asset.variance_proxy.is_empty()).then(|| {
        asset
            .return_dates()
            .iter()
            .map(|d| asset.variance_proxy.get(d).copied())
            .collect()
    })
}

/// The key part of a setting.
fn setting_key(config: &BacktestConfig) -> String {
    serde_json::to_string(config).unwrap_or_default()
}

impl Backtests {
    /// How long a request waits for a computation before answering "pending"; the first call
    /// (at start) wins.
    pub fn set_wait(&self, wait: Duration) {
        let _ = self.wait.set(wait);
    }

    fn wait(&self) -> Duration {
        self.wait.get().copied().unwrap_or(DEFAULT_WAIT)
    }

    /// A slot for one computation (queued if busy; 429 when the queue is full).
    pub async fn admit(&self) -> Result<WorkPermit, Problem> {
        self.budget.admit().await.map_err(|_| {
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "backtests-busy",
                format!(
                    "{RUNNING} backtest is computing and {QUEUED} are waiting; retry later \
                     (cached results are served at once)"
                ),
            )
            .with_retry_after(10)
        })
    }

    /// The backtest of `asset` (data `version`) under `spec` and `config`; `compute` runs
    /// detached on the first request (on a cache hit it is dropped unpolled).
    pub async fn backtest(
        &self,
        version: u64,
        asset: &Asset,
        spec: ModelSpec,
        config: &BacktestConfig,
        compute: impl Future<Output = Computed<SymbolBacktest>> + Send + 'static,
    ) -> Result<Ready<Arc<SymbolBacktest>>, Problem> {
        let key = (
            version,
            asset.symbol.clone(),
            asset.returns.len(),
            Some(spec),
            setting_key(config),
        );
        detached(self.backtests.cell(key), compute, self.wait()).await
    }

    /// The ranking of `asset` under `config`, as [`Backtests::backtest`].
    pub async fn ranking(
        &self,
        version: u64,
        asset: &Asset,
        config: &BacktestConfig,
        compute: impl Future<Output = Computed<Ranking>> + Send + 'static,
    ) -> Result<Ready<Arc<Ranking>>, Problem> {
        let key = (
            version,
            asset.symbol.clone(),
            asset.returns.len(),
            None,
            setting_key(config),
        );
        detached(self.rankings.cell(key), compute, self.wait()).await
    }

    /// Admits one universe run, or answers 429 while another is running.
    pub fn admit_universe_run(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
        Arc::clone(&self.universe_gate)
            .try_acquire_owned()
            .map_err(|_| {
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "backtest-running",
                    "a universe backtest is already running; retry when it is done",
                )
                .with_retry_after(5)
            })
    }

    /// Runs `f` on the backtests' pool and awaits its result without blocking the runtime.
    /// Backtests never run on rayon's global pool: that one serves the fits of every other
    /// route, and a minutes-long ranking there would hold them up until the request timeout.
    pub async fn compute<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Problem> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool()?.spawn(move || {
            let _ = tx.send(f());
        });
        rx.await
            .map_err(|_| Problem::internal("the computation was aborted"))
    }

    /// The backtests' rayon pool (all cores; universe runs, per-symbol backtests, rankings).
    pub fn pool(&self) -> Result<&rayon::ThreadPool, Problem> {
        self.pool
            .get_or_init(|| {
                rayon::ThreadPoolBuilder::new()
                    .thread_name(|i| format!("backtest-{i}"))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Problem::internal(format!("cannot start the backtest pool: {e}")))
    }
}

/// Fills `cell` with `compute` on a task of its own (unless it is filled or being filled) and
/// waits at most `wait` for the outcome.
async fn detached<T: Send + Sync + 'static>(
    cell: Cell<T>,
    compute: impl Future<Output = Computed<T>> + Send + 'static,
    wait: Duration,
) -> Result<Ready<Arc<T>>, Problem> {
    if let Some(done) = cell.get() {
        return done.clone().map(Ready::Done);
    }
    let task = tokio::spawn(async move {
        cell.get_or_try_init(|| async { compute.await.map(|r| r.map(Arc::new)) })
            .await
            .cloned()
    });
    match tokio::time::timeout(wait, task).await {
        Ok(Ok(Ok(outcome))) => outcome.map(Ready::Done),
        Ok(Ok(Err(transient))) => Err(transient),
        Ok(Err(join)) => Err(Problem::internal(format!(
            "the backtest was aborted: {join}"
        ))),
        Err(_still_running) => Ok(Ready::Pending),
    }
}

/// FNV-1a over the bits of every number of a backtest: estimates, log-likelihoods, forecasts,
/// VaR, ES, exceedances. Equal digests mean bit-identical results (up to a 2⁻⁶⁴ collision).
pub fn digest(bt: &Backtest) -> u64 {
    let mut h = Fnv::default();
    for r in &bt.refits {
        h.u64(r.window.start as u64);
        h.u64(r.window.end as u64);
        for p in &r.report.params {
            h.f64(p.value);
        }
        h.f64(r.report.log_likelihood);
    }
    for d in &bt.path {
        h.u64(d.index as u64);
        h.f64(d.variance);
        for (v, e) in d.var.iter().zip(&d.es) {
            h.f64(*v);
            h.f64(*e);
        }
        for x in &d.exceedance {
            h.u64(u64::from(*x));
        }
        for v in d.horizons.iter().flatten() {
            h.f64(*v);
        }
    }
    h.0
}

/// Combines digests in order.
pub fn combine(digests: impl IntoIterator<Item = u64>) -> u64 {
    let mut h = Fnv::default();
    for d in digests {
        h.u64(d);
    }
    h.0
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn u64(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
}
