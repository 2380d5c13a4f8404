//! The refit benchmark: `POST /v1/fits` in each mode, one after another so they do not compete
//! for the same cores, with 501/503 shown as "unavailable" rather than as a failure.

use super::App;
use super::refresh::Command;
use super::spec::{Dist, Model};
use crate::client::{ApiError, FitMode, FitsRun};

/// One mode's state in the benchmark.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchState {
    /// Not run yet.
    Idle,
    /// Waiting for the service.
    Running,
    /// Done.
    Done(FitsRun),
    /// The service cannot run this mode now (501/503: no NATS, no workers).
    Unavailable(String),
    /// Failed.
    Failed(String),
}

/// The benchmark view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Per mode, in [`FitMode::ALL`] order.
    pub modes: [BenchState; 3],
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
            model: Model::Garch,
            dist: Dist::Normal,
            runs: 0,
        }
    }

    /// Whether a run is in progress.
    pub fn running(&self) -> bool {
        self.modes.contains(&BenchState::Running)
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

impl App {
    pub(super) fn bench_result(
        &mut self,
        mode: FitMode,
        result: Result<FitsRun, ApiError>,
    ) -> Vec<Command> {
        let i = mode_index(mode);
        if self.bench.modes[i] != BenchState::Running {
            return Vec::new();
        }
        self.bench.modes[i] = match result {
            Ok(run) => BenchState::Done(run),
            // 501/503: the service cannot run this mode (no NATS or no workers).
            Err(ApiError::Status {
                status: 501 | 503,
                title,
                detail,
            }) => BenchState::Unavailable(detail.unwrap_or(title)),
            Err(e) => BenchState::Failed(e.to_string()),
        };
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
