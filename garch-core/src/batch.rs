//! Fitting many assets: sequentially or in parallel on rayon, with identical results.
//!
//! Each fit is deterministic and independent (no shared state, no parallel reductions inside a
//! fit), so the parallel path returns bit-identical reports in the input order. One failing
//! asset never fails the batch: its error sits in its own slot.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::fit::{FitError, FitOptions, FittedModel, fit};
use crate::series::Returns;
use crate::spec::ModelSpec;

/// How a batch is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// One after another on the calling thread.
    Sequential,
    /// On rayon's global pool.
    Parallel,
    /// On a dedicated rayon pool of this many threads (for scaling measurements).
    ParallelWith {
        /// Worker threads.
        threads: usize,
    },
}

/// Why a batch could not run at all (per-asset failures are reported per slot instead).
#[derive(Debug, thiserror::Error)]
#[error("cannot build a thread pool: {0}")]
pub struct BatchError(#[from] rayon::ThreadPoolBuildError);

/// Fits `spec` to every series. Results come back in input order.
pub fn fit_batch(
    series: &[Returns],
    spec: ModelSpec,
    options: &FitOptions,
    execution: Execution,
) -> Result<Vec<Result<FittedModel, FitError>>, BatchError> {
    let one = |r: &Returns| fit(r, spec, options);
    Ok(match execution {
        Execution::Sequential => series.iter().map(one).collect(),
        Execution::Parallel => series.par_iter().map(one).collect(),
        Execution::ParallelWith { threads } => rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()?
            .install(|| series.par_iter().map(one).collect()),
    })
}
