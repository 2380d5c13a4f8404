//! Shared application state: the current data snapshot, the fit cache and the fit metrics.
//!
//! The cache is keyed by data version, symbol, series length and model: an append makes a new
//! series length, and [`crate::live`] fills its entries by filtering the new returns through the
//! cached parameters (no re-estimation), so a reader of either snapshot sees a model attached to
//! exactly the series it reads.
//!
//! Fits run on rayon's pool, never on the async runtime's workers: a handler hands the work to
//! rayon and awaits a oneshot channel. Concurrent requests for the same uncached fit wait on one
//! computation (a `OnceCell` per cache key).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use garch_core::{FitError, FitOptions, FitReport, FittedModel, ModelSpec, Returns, fit};
use market_data::store::Store;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use svc_kit::budget::{BudgetLimits, WorkBudget};
use svc_kit::metrics::{HttpMetrics, latency_histogram};
use svc_kit::problem::Problem;
use svc_kit::readiness::{HasReadiness, Readiness};
use tokio::sync::OnceCell;

use crate::distributed::Coordinator;
use crate::universe::Universe;

/// A fit kept in the cache.
#[derive(Debug)]
pub struct CachedFit {
    /// The model attached to the series it serves: as estimated, or (after appends) the
    /// estimated parameters filtered through the longer series.
    pub model: FittedModel,
    /// The estimation the parameters come from (its `nobs` is the length of the series they
    /// were estimated on).
    pub estimate: FitReport,
    /// When it was fitted (RFC 3339).
    pub fitted_at: String,
    /// Fit wall time.
    pub fit_seconds: f64,
    /// Serialised `GET …/volatility` responses by horizon.
    pub responses: Mutex<HashMap<usize, Bytes>>,
}

impl CachedFit {
    /// A freshly estimated model.
    pub fn estimated(model: FittedModel, fitted_at: String, fit_seconds: f64) -> Self {
        Self {
            estimate: model.report().clone(),
            model,
            fitted_at,
            fit_seconds,
            responses: Mutex::new(HashMap::new()),
        }
    }

    /// The same parameters attached to `extended` (the series with observations appended):
    /// conditional variances and forecasts from the new end, no re-estimation
    /// ([`FittedModel::filter`], `arch`'s `fix`).
    pub fn filtered(&self, extended: &Returns) -> Result<Self, FitError> {
        Ok(Self {
            model: self.model.filter(extended)?,
            estimate: self.estimate.clone(),
            fitted_at: self.fitted_at.clone(),
            fit_seconds: self.fit_seconds,
            responses: Mutex::new(HashMap::new()),
        })
    }

    /// Observations appended since the estimation.
    pub fn observations_since_fit(&self) -> usize {
        self.model
            .returns()
            .len()
            .saturating_sub(self.estimate.nobs)
    }
}

/// Why the cache holds no model for a key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FitFailure {
    /// The fit failed here.
    #[error(transparent)]
    Local(#[from] FitError),
    /// The fit failed on a distributed worker, or its report did not fit the local series.
    #[error("{0}")]
    Remote(String),
    /// The computation was aborted before it finished.
    #[error("the fit was aborted: {0}")]
    Aborted(String),
}

/// A cache entry's outcome.
pub type FitOutcome = Result<CachedFit, FitFailure>;

/// A cache slot: filled once, by the first request that needs it.
pub type FitCell = Arc<OnceCell<Result<Arc<CachedFit>, FitFailure>>>;

/// Cache key: data version, symbol, number of returns, model.
pub type CacheKey = (u64, String, usize, ModelSpec);

/// Counters and histograms of the fitting work.
#[derive(Clone)]
pub struct FitMetrics {
    /// Fits completed.
    pub fits: Counter,
    /// Fits that failed.
    pub failures: Counter,
    /// Fit durations.
    pub duration: Histogram,
}

impl FitMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self {
            fits: Counter::default(),
            failures: Counter::default(),
            duration: latency_histogram(),
        };
        registry.register("garch_fits", "Model fits completed", m.fits.clone());
        registry.register(
            "garch_fit_failures",
            "Model fits that failed",
            m.failures.clone(),
        );
        registry.register(
            "garch_fit_duration_seconds",
            "Wall time of one model fit",
            m.duration.clone(),
        );
        m
    }
}

/// Everything the handlers share.
pub struct AppState {
    /// The data snapshot; replaced atomically on reload.
    pub universe: ArcSwap<Universe>,
    cache: Mutex<HashMap<CacheKey, FitCell>>,
    /// Loaded and first fits done, loading, or why loading failed (`/ready`).
    pub readiness: Readiness,
    /// Bearer token for mutating endpoints; `None` refuses them.
    pub token: Option<String>,
    /// Data file.
    pub data_path: PathBuf,
    /// Five-minute bars for realized variance, if configured.
    pub bars_path: Option<PathBuf>,
    /// Serialises reloads.
    pub reload_lock: tokio::sync::Mutex<()>,
    /// The budget of the expensive routes.
    pub budget: WorkBudget,
    /// HTTP metrics (and the registry).
    pub http_metrics: HttpMetrics,
    /// Fit metrics.
    pub fit_metrics: FitMetrics,
    /// The distributed-fitting coordinator, when a NATS server is configured (set once, at
    /// start).
    pub distributed: OnceLock<DistributedFits>,
    /// The durable store of appended daily closes.
    pub store: Arc<Store>,
    /// Serialises what changes the data: appends, reloads, and the swap of a background refit.
    pub append_lock: Mutex<()>,
    /// Re-estimate a model once this many observations were appended since its estimation
    /// (0: never by count, only through `POST /v1/fits`).
    pub refit_every: usize,
    /// Background refits running, by symbol and model (one at a time each).
    pub refits_running: Mutex<std::collections::HashSet<(String, ModelSpec)>>,
    /// Forecast updates for the SSE stream.
    pub events: tokio::sync::broadcast::Sender<crate::api::ForecastEvent>,
    /// Cached backtests and rankings, and the universe runs' pool.
    pub backtests: crate::backtests::Backtests,
}

/// What `mode=distributed` needs: a coordinator and how long to wait for it.
#[derive(Debug, Clone)]
pub struct DistributedFits {
    /// Connected (or connecting) coordinator.
    pub coordinator: Coordinator,
    /// Deadline of one refit job.
    pub deadline: std::time::Duration,
    /// NATS URL for messages (credentials redacted).
    pub url: String,
}

/// Runs `f` on rayon's pool and awaits its result without blocking the runtime.
pub async fn on_rayon<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Problem> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| Problem::internal("the computation was aborted"))
}

/// RFC 3339 timestamp of now, to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

impl AppState {
    /// State over `universe` (possibly empty until the first load) and an opened store.
    pub fn new(
        universe: Universe,
        data_path: PathBuf,
        bars_path: Option<PathBuf>,
        token: Option<String>,
        budget: BudgetLimits,
        store: Arc<Store>,
        refit_every: usize,
    ) -> Arc<Self> {
        let mut registry = Registry::default();
        let fit_metrics = FitMetrics::register(&mut registry);
        Arc::new(Self {
            universe: ArcSwap::from_pointee(universe),
            cache: Mutex::new(HashMap::new()),
            readiness: Readiness::new(),
            token,
            data_path,
            bars_path,
            reload_lock: tokio::sync::Mutex::new(()),
            budget: WorkBudget::new(budget),
            http_metrics: HttpMetrics::new(registry),
            fit_metrics,
            distributed: OnceLock::new(),
            store,
            append_lock: Mutex::new(()),
            refit_every,
            refits_running: Mutex::new(Default::default()),
            events: tokio::sync::broadcast::channel(1024).0,
            backtests: Default::default(),
        })
    }

    /// Fits `returns` (blocking; call from rayon), recording metrics.
    pub fn fit_now(&self, returns: &Returns, spec: ModelSpec) -> Result<CachedFit, FitError> {
        let start = Instant::now();
        let result = fit(returns, spec, &FitOptions::default());
        let secs = start.elapsed().as_secs_f64();
        self.fit_metrics.duration.observe(secs);
        match result {
            Ok(model) => {
                self.fit_metrics.fits.inc();
                Ok(CachedFit::estimated(model, now_rfc3339(), secs))
            }
            Err(e) => {
                self.fit_metrics.failures.inc();
                Err(e)
            }
        }
    }

    /// Records a fit done elsewhere (on a distributed worker) in the fit metrics.
    pub fn record_remote_fit(&self, seconds: f64, ok: bool) {
        self.fit_metrics.duration.observe(seconds);
        if ok {
            self.fit_metrics.fits.inc();
        } else {
            self.fit_metrics.failures.inc();
        }
    }

    fn cell(&self, version: u64, symbol: &str, nobs: usize, spec: ModelSpec) -> FitCell {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((version, symbol.to_string(), nobs, spec))
            .or_default()
            .clone()
    }

    /// Puts a finished fit into the cache for the series of `nobs` returns of `symbol` in data
    /// version `version` (used by batch refits).
    pub fn insert(
        &self,
        version: u64,
        symbol: &str,
        nobs: usize,
        spec: ModelSpec,
        fit: FitOutcome,
    ) {
        let cell = Arc::new(OnceCell::new());
        let _ = cell.set(fit.map(Arc::new));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert((version, symbol.to_string(), nobs, spec), cell);
    }

    /// Puts a finished, shared fit into the cache (a background refit swapped in).
    pub fn insert_shared(
        &self,
        version: u64,
        symbol: &str,
        nobs: usize,
        spec: ModelSpec,
        fit: Arc<CachedFit>,
    ) {
        let cell = Arc::new(OnceCell::new());
        let _ = cell.set(Ok(fit));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert((version, symbol.to_string(), nobs, spec), cell);
    }

    /// Drops cache entries of older data versions.
    pub fn evict_older_than(&self, version: u64) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(v, _, _, _), _| *v >= version);
    }

    /// The finished fits of `symbol` on its series of `nobs` returns in data version `version`,
    /// by model (pending and failed ones are left out).
    pub fn finished_fits(
        &self,
        version: u64,
        symbol: &str,
        nobs: usize,
    ) -> Vec<(ModelSpec, Arc<CachedFit>)> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .iter()
            .filter(|((v, s, n, _), _)| *v == version && s == symbol && *n == nobs)
            .filter_map(|((_, _, _, spec), cell)| match cell.get() {
                Some(Ok(fit)) => Some((*spec, Arc::clone(fit))),
                _ => None,
            })
            .collect()
    }

    /// The finished fit under a key, if any.
    pub fn finished_fit(&self, key: &CacheKey) -> Option<Arc<CachedFit>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(key)?.get() {
            Some(Ok(fit)) => Some(Arc::clone(fit)),
            _ => None,
        }
    }

    /// Drops the entries of `symbol` in version `version` for series shorter than `nobs`
    /// (superseded by an append; readers holding them keep their `Arc`).
    pub fn evict_shorter(&self, version: u64, symbol: &str, nobs: usize) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(v, s, n, _), _| !(*v == version && s == symbol && *n < nobs));
    }

    /// Serialises changes of the data (see [`AppState::append_lock`]).
    pub fn lock_appends(&self) -> std::sync::MutexGuard<'_, ()> {
        self.append_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached fit of `symbol` under `spec` for the current data, fitting it on rayon if
    /// needed: 404 if the symbol is unknown, 422 if it cannot be fitted.
    pub async fn fitted(
        self: &Arc<Self>,
        symbol: &str,
        spec: ModelSpec,
    ) -> Result<(Arc<Universe>, Arc<CachedFit>), Problem> {
        let universe = self.universe.load_full();
        let asset = universe
            .get(symbol)
            .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
        let canonical = asset.symbol.clone();
        let cell = self.cell(universe.version, &canonical, asset.returns.len(), spec);
        let state = Arc::clone(self);
        let uni = Arc::clone(&universe);
        let result = cell
            .get_or_init(|| async move {
                let outcome = on_rayon(move || {
                    let asset = uni
                        .get(&canonical)
                        .expect("asset present in its own snapshot");
                    state.fit_now(&asset.returns, spec)
                })
                .await;
                match outcome {
                    Ok(r) => r.map(Arc::new).map_err(FitFailure::from),
                    Err(p) => Err(FitFailure::Aborted(p.detail)),
                }
            })
            .await
            .clone();
        result
            .map(|f| (universe, f))
            .map_err(|e| Problem::unprocessable("symbol", format!("cannot fit {symbol}: {e}")))
    }
}

impl HasReadiness for AppState {
    fn readiness(&self) -> &Readiness {
        &self.readiness
    }
}
