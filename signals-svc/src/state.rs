//! The bar store and the live indicator state.
//!
//! Each symbol keeps its 5-minute bars and a streaming [`IndicatorState`] under the default
//! parameters, updated in O(1) per appended bar; a change of its position is broadcast to the
//! SSE stream. Requests with other parameters or intervals compute from the bars (a fused pass
//! over a few thousand bars costs microseconds).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use indicators::{IndicatorConfig, IndicatorState};
use market_data::Bar;
use market_data::store::Store;
use prometheus_client::registry::Registry;
use svc_kit::metrics::HttpMetrics;
use svc_kit::readiness::{HasReadiness, Readiness};
use tokio::sync::broadcast;

use crate::api::SignalEvent;

/// One symbol's bars and live state.
pub struct Book {
    /// Bars in time order.
    pub bars: Vec<Bar>,
    /// Streaming indicators under [`IndicatorConfig::standard`] on 5-minute bars.
    pub live: IndicatorState,
}

impl Book {
    /// A book over `bars`, feeding them through the live state.
    pub fn new(bars: Vec<Bar>) -> Result<Self, indicators::IndicatorError> {
        let mut live = IndicatorState::new(IndicatorConfig::standard())?;
        for b in &bars {
            live.update(b.close)?;
        }
        Ok(Self { bars, live })
    }

    /// Bar timestamps.
    pub fn timestamps(&self) -> Vec<i64> {
        self.bars.iter().map(|b| b.timestamp).collect()
    }
}

/// Everything the handlers share.
pub struct AppState {
    /// Books by symbol.
    pub books: RwLock<BTreeMap<String, Book>>,
    /// Loaded, loading, or why loading failed (`/ready`).
    pub readiness: Readiness,
    /// Token for appends; `None` refuses them.
    pub token: Option<String>,
    /// Bar file.
    pub bars_path: PathBuf,
    /// Signal changes.
    pub events: broadcast::Sender<SignalEvent>,
    /// HTTP metrics.
    pub http_metrics: HttpMetrics,
    /// The durable store of appended bars.
    pub store: Arc<Store>,
    /// Serialises appends: validation, the durable write and the in-memory update of one append
    /// happen before the next one's validation, so the store and the books see the same order.
    pub append_lock: Mutex<()>,
}

impl AppState {
    /// Empty state (bars are loaded in the background) over an opened store.
    pub fn new(bars_path: PathBuf, token: Option<String>, store: Arc<Store>) -> Arc<Self> {
        let (events, _) = broadcast::channel(1024);
        Arc::new(Self {
            books: RwLock::new(BTreeMap::new()),
            readiness: Readiness::new(),
            token,
            bars_path,
            events,
            http_metrics: HttpMetrics::new(Registry::default()),
            store,
            append_lock: Mutex::new(()),
        })
    }

    /// Read access (a poisoned lock still holds consistent data: writers validate first).
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Book>> {
        self.books.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Write access.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Book>> {
        self.books.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl HasReadiness for AppState {
    fn readiness(&self) -> &Readiness {
        &self.readiness
    }
}
