//! The benchmarks: the refit (`POST /v1/fits`, key `b`) and the universe backtest
//! (`POST /v1/backtests` at [`super::UNIVERSE_SETTING`], key `B`), each in the three modes one after
//! another so they do not compete for the same cores (and one benchmark at a time), with
//! 501/503 shown as "unavailable" rather than as a failure.

use super::App;
use super::refresh::Command;
use super::spec::{Dist, Model};
use crate::client::{ApiError, FitMode, FitsRun, UniverseRun};

/// One mode's state in a benchmark (`T`: the mode's result).
#[derive(Debug, Clone, PartialEq)]
pub enum BenchState<T = FitsRun> {
    /// Not run yet.
    Idle,
    /// Waiting for the service.
    Running,
    /// Done.
    Done(T),
    /// The service cannot run this mode now (501/503: no NATS, no workers).
    Unavailable(String),
    /// Failed.
    Failed(String),
}

/// The benchmark view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Refits per mode, in [`FitMode::ALL`] order.
    pub modes: [BenchState; 3],
    /// Universe backtests per mode, in [`FitMode::ALL`] order.
    pub backtests: [BenchState<UniverseRun>; 3],
    /// Model and distribution of the last universe backtest.
    pub backtest_spec: (Model, Dist),
    /// Universe backtests started.
    pub backtest_runs: u32,
    /// Model of the last run.
    pub model: Model,
    /// Distribution of the last run.
    pub dist: Dist,
    /// Runs started.
    pub runs: u32,
}

impl Benchmark {
    pub(super) fn new() -> Self {
        Self {
            modes: [BenchState::Idle, BenchState::Idle, BenchState::Idle],
            backtests: [BenchState::Idle, BenchState::Idle, BenchState::Idle],
            backtest_spec: (Model::Garch, Dist::Normal),
            backtest_runs: 0,
            model: Model::Garch,
            dist: Dist::Normal,
            runs: 0,
        }
    }

    /// Whether a run (refits or universe backtest) is in progress.
    pub fn running(&self) -> bool {
        self.modes.contains(&BenchState::Running) || self.backtests.contains(&BenchState::Running)
    }

    /// The universe backtest's state in `mode`.
    pub fn backtest(&self, mode: FitMode) -> &BenchState<UniverseRun> {
        &self.backtests[mode_index(mode)]
    }

    /// Sequential time over `mode`'s time in the universe backtest, when both ran.
    pub fn backtest_speedup(&self, mode: FitMode) -> Option<f64> {
        match (self.backtest(FitMode::Sequential), self.backtest(mode)) {
            (BenchState::Done(s), BenchState::Done(m)) if m.total_seconds > 0.0 => {
                Some(s.total_seconds / m.total_seconds)
            }
            _ => None,
        }
    }

    /// Whether the modes that completed the universe backtest agree bit for bit (equal
    /// digests); `None` until two have completed.
    pub fn bit_identical(&self) -> Option<bool> {
        let digests: Vec<&str> = self
            .backtests
            .iter()
            .filter_map(|b| match b {
                BenchState::Done(run) => Some(run.digest.as_str()),
                _ => None,
            })
            .collect();
        (digests.len() >= 2).then(|| digests.iter().all(|d| *d == digests[0]))
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

/// A mode's answer as its state: 501/503 (no NATS, no workers) are "unavailable" with the
/// service's detail.
fn finished<T>(result: Result<T, ApiError>) -> BenchState<T> {
    match result {
        Ok(run) => BenchState::Done(run),
        Err(ApiError::Status {
            status: 501 | 503,
            title,
            detail,
        }) => BenchState::Unavailable(detail.unwrap_or(title)),
        Err(e) => BenchState::Failed(e.to_string()),
    }
}

impl App {
    pub(super) fn universe_result(
        &mut self,
        mode: FitMode,
        result: Result<UniverseRun, ApiError>,
    ) -> Vec<Command> {
        let i = mode_index(mode);
        if self.bench.backtests[i] != BenchState::Running {
            return Vec::new();
        }
        self.bench.backtests[i] = finished(result);
        match FitMode::ALL.get(i + 1) {
            Some(&next) => {
                self.bench.backtests[i + 1] = BenchState::Running;
                let (model, dist) = self.bench.backtest_spec;
                vec![Command::RunBacktests(next, model, dist)]
            }
            None => Vec::new(),
        }
    }

    /// Starts the universe backtest (sequential first) unless a benchmark is running.
    pub(super) fn start_universe(&mut self) -> Vec<Command> {
        if self.bench.running() {
            return Vec::new();
        }
        self.bench.backtest_spec = (self.model, self.dist);
        self.bench.backtest_runs += 1;
        self.bench.backtests = [BenchState::Running, BenchState::Idle, BenchState::Idle];
        vec![Command::RunBacktests(
            FitMode::Sequential,
            self.model,
            self.dist,
        )]
    }

    pub(super) fn bench_result(
        &mut self,
        mode: FitMode,
        result: Result<FitsRun, ApiError>,
    ) -> Vec<Command> {
        let i = mode_index(mode);
        if self.bench.modes[i] != BenchState::Running {
            return Vec::new();
        }
        self.bench.modes[i] = finished(result);
        // Modes run one after another, so they do not compete for the same cores.
        match FitMode::ALL.get(i + 1) {
            Some(&next) => {
                self.bench.modes[i + 1] = BenchState::Running;
                vec![Command::RunFits(next, self.bench.model, self.bench.dist)]
            }
            None => Vec::new(),
        }
    }

    pub(super) fn start_bench(&mut self) -> Vec<Command> {
        if self.bench.running() {
            return Vec::new();
        }
        self.bench.model = self.model;
        self.bench.dist = self.dist;
        self.bench.runs += 1;
        self.bench.modes = [BenchState::Running, BenchState::Idle, BenchState::Idle];
        vec![Command::RunFits(FitMode::Sequential, self.model, self.dist)]
    }
}
