//! The application's work, apart from HTTP: loading the data and fitting every symbol into
//! the cache, locally (sequential or on rayon) or from the reports of distributed workers.
//! Routes and startup call these; they know nothing of requests.

use std::time::Instant;

use garch_core::{Execution, FitError, FittedModel, ModelSpec, Returns};
use market_data::DataError;
use rayon::prelude::*;

use crate::api::RefitStatus;
use crate::distributed::SymbolOutcome;
use crate::state::{AppState, CachedFit, FitFailure, now_rfc3339};
use crate::universe::{Asset, Universe};

/// Fits every asset of `universe` under `spec` (blocking; call on rayon) and caches the
/// results. Returns per-symbol statuses.
pub fn fit_all(
    state: &AppState,
    universe: &Universe,
    spec: ModelSpec,
    mode: Execution,
) -> Vec<RefitStatus> {
    let series: Vec<Returns> = universe.assets.iter().map(|a| a.returns.clone()).collect();
    let one = |(asset, r): (&Asset, &Returns)| {
        let start = Instant::now();
        let out = state.fit_now(r, spec);
        (asset.symbol.clone(), out, start.elapsed().as_secs_f64())
    };
    let pairs: Vec<_> = universe.assets.iter().zip(&series).collect();
    let results: Vec<(String, Result<CachedFit, FitError>, f64)> = match mode {
        Execution::Sequential => pairs.into_iter().map(one).collect(),
        _ => pairs.into_par_iter().map(one).collect(),
    };
    results
        .into_iter()
        .map(|(symbol, out, seconds)| {
            let status = RefitStatus {
                symbol: symbol.clone(),
                ok: out.is_ok(),
                converged: out.as_ref().is_ok_and(|f| f.model.report().converged),
                seconds,
                error: out.as_ref().err().map(ToString::to_string),
            };
            let nobs = universe.get(&symbol).map_or(0, |a| a.returns.len());
            state.insert(
                universe.version,
                &symbol,
                nobs,
                spec,
                out.map_err(FitFailure::from),
            );
            status
        })
        .collect()
}

/// Why the data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The data file is unreadable or invalid.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The store cannot be read.
    #[error(transparent)]
    Store(#[from] market_data::store::StoreError),
}

/// Loads the data file into a new snapshot, replays the closes appended since from the store
/// on top of it, and fits the default model on it (blocking).
pub fn load_and_fit(state: &AppState, version: u64) -> Result<Universe, LoadError> {
    let mut universe = Universe::load(&state.data_path, state.bars_path.as_deref(), version)?;
    let replayed = universe.replay(state.store.closes()?);
    tracing::info!(replayed, store = %state.store.path().display(), "appended closes replayed");
    for (symbol, reason) in &universe.skipped {
        tracing::warn!(%symbol, %reason, "symbol skipped");
    }
    for warning in &universe.warnings {
        tracing::warn!("{warning}");
    }
    let statuses = fit_all(state, &universe, ModelSpec::default(), Execution::Parallel);
    let restored = crate::live::restore_estimates(state, &universe)?;
    tracing::info!(restored, "stored estimates restored");
    let failed = statuses.iter().filter(|s| !s.ok).count();
    tracing::info!(
        symbols = universe.assets.len(),
        failed,
        version,
        at = %now_rfc3339(),
        "data loaded and fitted"
    );
    Ok(universe)
}

/// Caches the reports of a distributed refit of `universe` (one outcome per asset, in the
/// universe's order), each reattached to the local series (one likelihood pass,
/// bit-identical to a local fit), and reports per-symbol statuses (blocking; call on rayon).
pub fn cache_remote_fits(
    state: &AppState,
    universe: &Universe,
    spec: ModelSpec,
    outcomes: Vec<SymbolOutcome>,
) -> Vec<RefitStatus> {
    let rebuilt: Vec<_> = outcomes
        .into_par_iter()
        .zip(&universe.assets)
        .map(|(o, asset)| {
            let fit = o.outcome.and_then(|report| {
                FittedModel::from_report(&asset.returns, report).map_err(|e| e.to_string())
            });
            (o.symbol, o.seconds, fit)
        })
        .collect();
    rebuilt
        .into_iter()
        .map(|(symbol, seconds, fit)| {
            state.record_remote_fit(seconds, fit.is_ok());
            let status = RefitStatus {
                symbol: symbol.clone(),
                ok: fit.is_ok(),
                converged: fit.as_ref().is_ok_and(|m| m.report().converged),
                seconds,
                error: fit.as_ref().err().cloned(),
            };
            let cached = fit
                .map(|model| CachedFit::estimated(model, now_rfc3339(), seconds))
                .map_err(FitFailure::Remote);
            let nobs = universe.get(&symbol).map_or(0, |a| a.returns.len());
            state.insert(universe.version, &symbol, nobs, spec, cached);
            status
        })
        .collect()
}
