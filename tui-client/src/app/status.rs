//! The two back-end services and what the dashboard knows about each: URL and origin, the last
//! `/health` and `/ready` answers, and a log of recent calls with their latency — the data of
//! the Status view and of the status bar.

use std::collections::VecDeque;
use std::time::Duration;

use crate::client::{ApiError, Call, Readiness};

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
    /// Whether its event stream (`GET /v1/stream`) is open (`None` before the first try).
    pub streaming: Option<bool>,
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
            streaming: None,
        }
    }

    pub(super) fn record<T>(&mut self, call: &Call<T>) {
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
