//! Shared application state: the current data snapshot, the fit cache and the fit metrics.
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
use garch_core::{FitError, FitOptions, FittedModel, ModelSpec, Returns, fit};
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
    /// The fitted model.
    pub model: FittedModel,
    /// When it was fitted (RFC 3339).
    pub fitted_at: String,
    /// Fit wall time.
    pub fit_seconds: f64,
    /// Serialised `GET …/volatility` responses by horizon.
    pub responses: Mutex<HashMap<usize, Bytes>>,
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

type FitCell = Arc<OnceCell<Result<Arc<CachedFit>, FitFailure>>>;

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
    cache: Mutex<HashMap<(u64, String, ModelSpec), FitCell>>,
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
    /// State over `universe` (possibly empty until the first load).
    pub fn new(
        universe: Universe,
        data_path: PathBuf,
        bars_path: Option<PathBuf>,
        token: Option<String>,
        budget: BudgetLimits,
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
                Ok(CachedFit {
                    model,
                    fitted_at: now_rfc3339(),
                    fit_seconds: secs,
                    responses: Mutex::new(HashMap::new()),
                })
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

    fn cell(&self, version: u64, symbol: &str, spec: ModelSpec) -> FitCell {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((version, symbol.to_string(), spec))
            .or_default()
            .clone()
    }

    /// Puts a finished fit into the cache (used by batch refits).
    pub fn insert(&self, version: u64, symbol: &str, spec: ModelSpec, fit: FitOutcome) {
        let cell = Arc::new(OnceCell::new());
        let _ = cell.set(fit.map(Arc::new));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert((version, symbol.to_string(), spec), cell);
    }

    /// Drops cache entries of older data versions.
    pub fn evict_older_than(&self, version: u64) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(v, _, _), _| *v >= version);
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
        let cell = self.cell(universe.version, &canonical, spec);
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
