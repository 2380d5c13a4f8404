//! A bounded work budget for expensive routes (posted fits, refits, reloads): a service says
//! "not now" at once instead of queuing without bound.
//!
//! At most `concurrency` requests run; at most `queue` more wait, each for at most
//! `queue_wait`. A request beyond that — or one whose wait runs out — is refused with
//! `503 Service Unavailable`, a `Retry-After` header and a problem+json body
//! (`/problems/overloaded`). Cheap routes do not take the budget, so cached reads keep
//! answering while the expensive ones saturate the machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::Problem;

/// The budget's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Requests running at once (one per core is the natural size for CPU-bound work).
    pub concurrency: usize,
    /// Requests waiting for a running slot.
    pub queue: usize,
    /// Longest a request waits in the queue.
    pub queue_wait: Duration,
}

impl BudgetLimits {
    /// One running request per available core, as many waiting, 2 s of waiting at most.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            concurrency: cores,
            queue: cores,
            queue_wait: Duration::from_secs(2),
        }
    }
}

/// Shared by the handlers of one service.
#[derive(Debug, Clone)]
pub struct WorkBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    running: Arc<Semaphore>,
    /// Requests admitted (running or waiting).
    admitted: AtomicUsize,
    limits: BudgetLimits,
}

/// A running slot; dropping it frees the slot.
#[derive(Debug)]
pub struct WorkPermit {
    _running: OwnedSemaphorePermit,
    _admission: Admission,
}

/// One admitted request, counted until dropped (also when it gives up waiting).
#[derive(Debug)]
struct Admission(Arc<Inner>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WorkBudget {
    /// A budget with `limits` (a concurrency of 0 is taken as 1).
    pub fn new(limits: BudgetLimits) -> Self {
        let limits = BudgetLimits {
            concurrency: limits.concurrency.max(1),
            ..limits
        };
        Self {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(limits.concurrency)),
                admitted: AtomicUsize::new(0),
                limits,
            }),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> BudgetLimits {
        self.inner.limits
    }

    /// Requests running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.inner.admitted.load(Ordering::Acquire)
    }

    /// Waits for a running slot, or refuses at once when the queue is full, or after
    /// `queue_wait`: a 503 problem with `Retry-After`.
    pub async fn admit(&self) -> Result<WorkPermit, Problem> {
        let limits = self.inner.limits;
        let before = self.inner.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(Arc::clone(&self.inner));
        if before >= limits.concurrency + limits.queue {
            return Err(overloaded(format!(
                "{} expensive requests are running or queued (the limit is {} running + {} \
                 waiting); retry later",
                before, limits.concurrency, limits.queue
            )));
        }
        let running = Arc::clone(&self.inner.running);
        match tokio::time::timeout(limits.queue_wait, running.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(WorkPermit {
                _running: permit,
                _admission: admission,
            }),
            Ok(Err(_closed)) => Err(overloaded("the service is shutting down".to_string())),
            Err(_elapsed) => Err(overloaded(format!(
                "no slot freed within {:?} of queueing; retry later",
                limits.queue_wait
            ))),
        }
    }
}

fn overloaded(detail: String) -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", detail).with_retry_after(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(concurrency: usize, queue: usize, wait_ms: u64) -> WorkBudget {
        WorkBudget::new(BudgetLimits {
            concurrency,
            queue,
            queue_wait: Duration::from_millis(wait_ms),
        })
    }

    #[tokio::test]
    async fn full_queue_is_refused_at_once_with_retry_after() {
        let b = budget(1, 1, 60_000);
        let first = b.admit().await.unwrap();
        let b2 = b.clone();
        let waiting = tokio::spawn(async move { b2.admit().await.map(|_| ()) });
        while b.in_flight() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = b.admit().await.unwrap_err();
        assert_eq!(refused.status, 503);
        assert_eq!(refused.retry_after, Some(1));
        assert_eq!(b.in_flight(), 2, "a refused request leaves no count behind");
        drop(first);
        assert!(waiting.await.unwrap().is_ok(), "the queued request runs");
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_wait_that_runs_out_is_refused() {
        let b = budget(1, 4, 20);
        let _running = b.admit().await.unwrap();
        let refused = b.admit().await.unwrap_err();
        assert_eq!(refused.kind, "/problems/overloaded");
        assert_eq!(b.in_flight(), 1);
    }
}
