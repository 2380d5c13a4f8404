//! Readiness: a service answers `/health` as soon as it listens, and `/ready` only once its
//! data is loaded. While loading (or after a failed load) `/ready` is a 503 problem saying
//! which, so an orchestrator waits and an operator sees why.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;

use crate::problem::Problem;

/// Whether the data a service serves is loaded, and why the last load failed if it did.
#[derive(Debug, Default)]
pub struct Readiness {
    ready: AtomicBool,
    load_error: Mutex<Option<String>>,
}

impl Readiness {
    /// Not ready, no error: loading.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the data is loaded.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Marks the service ready (or not).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Records why loading failed (`None` clears it after a successful reload).
    pub fn set_load_error(&self, error: Option<String>) {
        *self.load_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    /// Why loading failed, if it did.
    pub fn load_error(&self) -> Option<String> {
        self.load_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The 503 `not-ready` problem of `/ready`: `loading` while the load runs, `cannot load
    /// {what}: {error}` after it failed.
    pub fn not_ready(&self, what: &str, loading: &str) -> Problem {
        let detail = self.load_error().map_or_else(
            || loading.to_string(),
            |e| format!("cannot load {what}: {e}"),
        );
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", detail)
    }
}

/// State that carries a [`Readiness`] (for [`crate::server::load_in_background`]).
pub trait HasReadiness {
    /// The service's readiness.
    fn readiness(&self) -> &Readiness;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_then_failed_then_ready() {
        let r = Readiness::new();
        assert!(!r.is_ready());
        assert_eq!(
            r.not_ready("the bars", "bars are loading").detail,
            "bars are loading"
        );
        r.set_load_error(Some("no such file".into()));
        let p = r.not_ready("the bars", "bars are loading");
        assert_eq!(p.detail, "cannot load the bars: no such file");
        assert_eq!(p.status, 503);
        r.set_ready(true);
        assert!(r.is_ready());
    }
}
