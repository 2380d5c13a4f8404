//! The Risk view: one symbol's out-of-sample backtest under the model and distribution in use
//! (returns against the 1 % and 5 % VaR, coverage tests, losses) and the ranking of the
//! candidate models for that symbol.
//!
//! Both come from routes that compute on demand: a first request may answer 202 with a
//! `Retry-After`. The view then says "computing" and asks again once that delay has passed,
//! counted on the UI ticks (the app has no clock of its own): the delay starts at the first
//! tick after the answer, and the request goes out at the first tick after it.

use std::time::{Duration, Instant};

use super::refresh::Command;
use super::resource::{Resource, needs};
use super::spec::{Dist, Model};
use super::{App, View};
use crate::client::{ApiError, BacktestReport, Computed, ModelRanking};

/// Key of one symbol's backtest: symbol, model, distribution.
pub type BacktestKey = (String, Model, Dist);

/// Where a 202 answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Waiting for the first tick to start the delay.
    Answered,
    /// Ask again at this instant.
    At(Instant),
    /// Asked again; waiting for the answer.
    Asking,
}

/// The service said it is still computing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computing {
    /// What is being computed (the service's words).
    pub detail: String,
    /// Delay the service asked for.
    pub retry_after: Duration,
    /// 202 answers so far for this key.
    pub polls: u32,
    /// Where the polling stands.
    pub poll: Poll,
}

/// A remote value computed on demand: the [`Resource`] and, while the service answers 202,
/// what it is computing. A request stays "loading" until the result (or an error) arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled<K, T> {
    /// The value.
    pub res: Resource<K, T>,
    /// Set while the service answers 202.
    pub computing: Option<Computing>,
}

impl<K, T> Default for Polled<K, T> {
    fn default() -> Self {
        Self {
            res: Resource::default(),
            computing: None,
        }
    }
}

impl<K: PartialEq + Clone, T> Polled<K, T> {
    /// As [`Resource::request`]; a new key forgets the old key's polling.
    pub fn request(&mut self, key: K) -> bool {
        if self.res.key.as_ref() != Some(&key) {
            self.computing = None;
        }
        self.res.request(key)
    }

    /// Takes an answer for `key` (ignored, false, for another key). 202 keeps the request
    /// loading and arms the retry; a result or an error ends the polling.
    pub fn resolve(&mut self, key: &K, result: Result<Computed<T>, ApiError>) -> bool {
        if self.res.key.as_ref() != Some(key) || !self.res.loading {
            return false;
        }
        match result {
            Ok(Computed::Pending(p)) => {
                let polls = self.computing.as_ref().map_or(0, |c| c.polls) + 1;
                self.computing = Some(Computing {
                    detail: p.detail,
                    // At least a second, so a service saying 0 does not make a busy loop.
                    retry_after: Duration::from_secs(p.retry_after.max(1)),
                    polls,
                    poll: Poll::Answered,
                });
                true
            }
            Ok(Computed::Ready(v)) => {
                self.computing = None;
                self.res.resolve(key, Ok(v))
            }
            Err(e) => {
                self.computing = None;
                self.res.resolve(key, Err(e))
            }
        }
    }

    /// On a tick: the key to ask for again if its `Retry-After` has passed.
    pub fn due(&mut self, now: Instant) -> Option<K> {
        let c = self.computing.as_mut()?;
        match c.poll {
            Poll::Answered => {
                c.poll = Poll::At(now + c.retry_after);
                None
            }
            Poll::At(t) if now >= t => {
                c.poll = Poll::Asking;
                self.res.key.clone()
            }
            _ => None,
        }
    }
}

/// The Risk view's state for one symbol.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Risk {
    /// Ticker.
    pub symbol: String,
    /// Backtest under the model and distribution in use.
    pub backtest: Polled<BacktestKey, BacktestReport>,
    /// Ranking of the candidate models (keyed by the symbol: it covers every model).
    pub ranking: Polled<String, ModelRanking>,
}

impl Risk {
    /// Whether anything is in flight or being computed.
    pub fn loading(&self) -> bool {
        self.backtest.res.loading || self.ranking.res.loading
    }
}

impl App {
    /// Requests what the Risk view lacks; with `all`, refetches even loaded parts (the service
    /// answers from its cache).
    pub(super) fn refresh_risk(&mut self, all: bool) -> Vec<Command> {
        let (model, dist) = (self.model, self.dist);
        let Some(r) = self.risk.as_mut() else {
            return Vec::new();
        };
        let mut cmds = Vec::new();
        let key = (r.symbol.clone(), model, dist);
        if (all || needs(&r.backtest.res, &key)) && r.backtest.request(key.clone()) {
            cmds.push(Command::FetchBacktest(key));
        }
        let key = r.symbol.clone();
        if (all || needs(&r.ranking.res, &key)) && r.ranking.request(key.clone()) {
            cmds.push(Command::FetchRanking(key));
        }
        cmds
    }

    /// Opens the Risk view of `symbol`.
    pub fn open_risk(&mut self, symbol: &str) -> Vec<Command> {
        self.view = View::Risk;
        if self.risk.as_ref().map(|r| r.symbol.as_str()) != Some(symbol) {
            self.risk = Some(Risk {
                symbol: symbol.to_string(),
                ..Risk::default()
            });
        }
        self.refresh_risk(false)
    }

    /// On a tick: asks again for what answered 202 once its `Retry-After` has passed.
    pub(super) fn poll_risk(&mut self, now: Instant) -> Vec<Command> {
        let Some(r) = self.risk.as_mut() else {
            return Vec::new();
        };
        let mut cmds = Vec::new();
        if let Some(key) = r.backtest.due(now) {
            cmds.push(Command::FetchBacktest(key));
        }
        if let Some(key) = r.ranking.due(now) {
            cmds.push(Command::FetchRanking(key));
        }
        cmds
    }

    pub(super) fn backtest_result(
        &mut self,
        key: &BacktestKey,
        result: Result<Computed<BacktestReport>, ApiError>,
    ) {
        if let Some(r) = self.risk.as_mut() {
            r.backtest.resolve(key, result);
        }
    }

    pub(super) fn ranking_result(
        &mut self,
        key: &String,
        result: Result<Computed<ModelRanking>, ApiError>,
    ) {
        if let Some(r) = self.risk.as_mut() {
            r.ranking.resolve(key, result);
        }
    }
}
