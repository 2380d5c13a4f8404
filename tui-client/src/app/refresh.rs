//! Data in and out: the [`Command`]s the app asks the event loop to run and the [`ApiResult`]s
//! that come back, the first fetch at start-up, the refresh clock (refetch and retry every
//! `refresh_every`, and every tick the Risk view's 202 retries), applying results to the state,
//! and refetching after a spec change or when a service turns ready.

use std::time::Instant;

use super::detail::{DetailKey, HistoryKey};
use super::risk::BacktestKey;
use super::screener::VolKey;
use super::spec::{Dist, INTERVAL, Model};
use super::{App, Service, View};
use crate::client::{
    BacktestReport, Call, Computed, FitMode, FitsRun, History, ModelRanking, Readiness,
    SignalScreener, SymbolSignals, UniverseRun, VolDetail, VolScreener,
};

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
    /// `GET /v1/assets/{symbol}/backtest` at [`super::RISK_SETTING`].
    FetchBacktest(BacktestKey),
    /// `GET /v1/assets/{symbol}/models` at [`super::RANKING_SETTING`].
    FetchRanking(String),
    /// `POST /v1/backtests` at [`super::UNIVERSE_SETTING`].
    RunBacktests(FitMode, Model, Dist),
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
    /// One symbol's backtest (or 202: still computing).
    Backtest(BacktestKey, Call<Computed<BacktestReport>>),
    /// One symbol's model ranking (or 202: still computing).
    Ranking(String, Call<Computed<ModelRanking>>),
    /// A universe backtest.
    Backtests(FitMode, Call<UniverseRun>),
    /// Liveness.
    Health(Service, Call<()>),
    /// Readiness.
    Ready(Service, Call<Readiness>),
    /// The service announced new data for a symbol on its stream (`GET /v1/stream`).
    Pushed(Service, String),
    /// The service's stream opened (`true`: subscribed, events from now on arrive) or closed.
    Streaming(Service, bool),
}

impl App {
    /// The first commands: everything the screener and status need.
    pub fn start(&mut self, now: Instant) -> Vec<Command> {
        self.last_refresh = Some(now);
        self.refresh_all()
    }

    pub(super) fn refresh_all(&mut self) -> Vec<Command> {
        let mut cmds = vec![
            Command::CheckHealth(Service::Market),
            Command::CheckHealth(Service::Signals),
        ];
        cmds.extend(self.refresh_screener());
        match self.view {
            View::Detail => cmds.extend(self.refresh_detail(true)),
            View::Risk => cmds.extend(self.refresh_risk(true)),
            _ => {}
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

    /// A UI tick: advances the spinner, asks again for what answered 202 once its
    /// `Retry-After` has passed and, every `refresh_every`, refreshes the data and retries what
    /// failed.
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        self.frame = self.frame.wrapping_add(1);
        let mut cmds = self.poll_risk(now);
        let due = self
            .last_refresh
            .is_none_or(|t| now.saturating_duration_since(t) >= self.refresh_every);
        if !due {
            return cmds;
        }
        self.last_refresh = Some(now);
        cmds.extend([
            Command::CheckHealth(Service::Market),
            Command::CheckHealth(Service::Signals),
        ]);
        cmds.extend(self.refresh_screener());
        // The detail's data only changes with the keys; refetch only what failed.
        match self.view {
            View::Detail => cmds.extend(self.refresh_detail(false)),
            View::Risk => cmds.extend(self.refresh_risk(false)),
            _ => {}
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
            ApiResult::Backtest(key, call) => {
                self.status_mut(Service::Market).record(&call);
                self.backtest_result(&key, call.result);
            }
            ApiResult::Ranking(key, call) => {
                self.status_mut(Service::Market).record(&call);
                self.ranking_result(&key, call.result);
            }
            ApiResult::Backtests(mode, call) => {
                self.status_mut(Service::Market).record(&call);
                return self.universe_result(mode, call.result);
            }
            ApiResult::Health(service, call) => {
                let st = self.status_mut(service);
                st.record(&call);
                st.health = Some(call.result);
            }
            ApiResult::Pushed(service, symbol) => return self.pushed(service, &symbol),
            ApiResult::Streaming(service, open) => self.status_mut(service).streaming = Some(open),
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

    /// A stream event: `symbol` has new data on `service`. Refetch the screener part it serves
    /// and, if that symbol's detail is open, its parts from that service (and its backtest and
    /// ranking if the Risk view shows it), so an append shows without a key press (a fetch
    /// already in flight is not doubled).
    fn pushed(&mut self, service: Service, symbol: &str) -> Vec<Command> {
        let mut cmds = self.refetch(service);
        let (model, dist, horizon) = (self.model, self.dist, self.horizon);
        if let Some(d) = self.detail.as_mut()
            && d.symbol.eq_ignore_ascii_case(symbol)
        {
            match service {
                Service::Market => {
                    let fit_key = (d.symbol.clone(), model, dist, horizon);
                    if d.fit.request(fit_key.clone()) {
                        cmds.push(Command::FetchDetail(fit_key));
                    }
                    let hist_key = (d.symbol.clone(), model, dist);
                    if d.history.request(hist_key.clone()) {
                        cmds.push(Command::FetchHistory(hist_key));
                    }
                }
                Service::Signals => {
                    if d.signals.request(d.symbol.clone()) {
                        cmds.push(Command::FetchSymbolSignals(d.symbol.clone()));
                    }
                }
            }
        }
        // New prices change that symbol's backtest and ranking (market-svc caches them per data
        // version): refetch them if the Risk view shows it.
        if service == Service::Market
            && self.view == View::Risk
            && self
                .risk
                .as_ref()
                .is_some_and(|r| r.symbol.eq_ignore_ascii_case(symbol))
        {
            cmds.extend(self.refresh_risk(true));
        }
        cmds
    }

    /// The model, distribution or horizon changed: refetch what depends on them.
    pub(super) fn spec_changed(&mut self) -> Vec<Command> {
        let mut cmds = self.refetch(Service::Market);
        cmds.extend(self.refresh_detail(false));
        // A backtest is heavy: only for the view showing it (opening the view fetches anyway).
        if self.view == View::Risk {
            cmds.extend(self.refresh_risk(false));
        }
        cmds
    }
}
