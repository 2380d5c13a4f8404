//! Live data: daily closes appended while the service runs, and forecasts that follow them
//! without a refit.
//!
//! An append is validated against the symbol's last date, written durably to the store
//! (`market_data::store`, fsync'd) and only then made visible. Every finished fit of the symbol is
//! carried over to the longer series by filtering the new returns through its estimated
//! parameters ([`garch_core::FittedModel::filter`], `arch`'s `fix` on the extended series:
//! "forecast with new obs", arch issue #416), so the next `GET …/volatility` starts from the
//! new last date at the cost of one likelihood pass, and says through which date the
//! parameters were estimated (`fitted_through`).
//!
//! The refit policy re-estimates a model once `--refit-every` observations were filtered
//! through it: on a thread of its own, in the background, then swapped in atomically under the append lock
//! (carried forward by filtering if more closes arrived meanwhile). `POST /v1/fits` re-estimates
//! on demand the same way.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::NaiveDate;
use garch_core::{FitReport, ForecastOptions, ModelSpec, fix};
use market_data::store::{DailyClose, StoreError, StoredEstimate};
use serde::{Deserialize, Serialize};
use svc_kit::problem::Problem;

use crate::api::{
    AppendPricesRequest, AppendPricesResponse, ForecastEvent, ForecastReason, ForecastUpdate,
    MAX_APPENDED_CLOSES,
};
use crate::state::{AppState, CachedFit};
use crate::universe::{Asset, Universe};

/// Validates posted closes against each other and the symbol's last date: 422 for a missing
/// or malformed value, 409 for a date not after the previous one, each naming the field.
pub fn validate(
    req: &AppendPricesRequest,
    last: Option<NaiveDate>,
) -> Result<Vec<DailyClose>, Problem> {
    if req.prices.is_empty() {
        return Err(Problem::unprocessable("prices", "no closes to append"));
    }
    if req.prices.len() > MAX_APPENDED_CLOSES {
        return Err(Problem::unprocessable(
            "prices",
            format!(
                "{} closes posted; at most {MAX_APPENDED_CLOSES} per append",
                req.prices.len()
            ),
        ));
    }
    let mut prev = last;
    let mut out = Vec::with_capacity(req.prices.len());
    for (i, p) in req.prices.iter().enumerate() {
        let date = p
            .date
            .parse::<NaiveDate>()
            .ok()
            .filter(|d| d.to_string() == p.date)
            .ok_or_else(|| {
                Problem::unprocessable(
                    &format!("prices[{i}].date"),
                    format!("'{}' is not a YYYY-MM-DD date", p.date),
                )
            })?;
        if !(p.close.is_finite() && p.close > 0.0) {
            return Err(Problem::unprocessable(
                &format!("prices[{i}].close"),
                format!("close must be positive and finite, got {}", p.close),
            ));
        }
        if let Some(prev) = prev
            && date <= prev
        {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "out-of-order",
                format!("close {i} on {date} is not after the previous date {prev}"),
            )
            .with_field(format!("prices[{i}].date")));
        }
        prev = Some(date);
        out.push(DailyClose {
            date,
            close: p.close,
        });
    }
    Ok(out)
}

/// The next-day forecast of a cached model, for responses and events.
pub fn forecast_update(asset: &Asset, spec: ModelSpec, fit: &CachedFit) -> ForecastUpdate {
    let step = fit
        .model
        .forecast(1, &ForecastOptions::default())
        .ok()
        .and_then(|f| f.steps.first().copied());
    ForecastUpdate {
        spec,
        fitted_through: asset.date_of_return(fit.estimate.nobs).cloned(),
        observations_since_fit: fit.observations_since_fit(),
        volatility: step.map(|s| s.volatility),
        annualized_volatility: step.map(|s| s.annualized_volatility),
    }
}

fn announce(state: &AppState, asset: &Asset, reason: ForecastReason, update: ForecastUpdate) {
    // No subscriber is fine.
    let _ = state.events.send(ForecastEvent {
        symbol: asset.symbol.clone(),
        reason,
        data_through: asset.dates.last().cloned().unwrap_or_default(),
        forecast: update,
    });
}

/// `POST /v1/assets/{symbol}/prices` once authorised (blocking: the store fsyncs; run it off
/// the async workers). All or nothing: a rejected append writes and changes nothing.
pub fn append_closes(
    state: &Arc<AppState>,
    symbol: &str,
    req: &AppendPricesRequest,
) -> Result<AppendPricesResponse, Problem> {
    let _serial = state.lock_appends();
    let universe = state.universe.load_full();
    let index = universe
        .assets
        .iter()
        .position(|a| a.symbol.eq_ignore_ascii_case(symbol))
        .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
    let asset = &universe.assets[index];
    let last = asset.dates.last().and_then(|d| d.parse::<NaiveDate>().ok());
    let closes = validate(req, last)?;
    // The new series before anything is written: a close the model cannot take is refused
    // with nothing stored.
    let extended = asset
        .extended(&closes)
        .map_err(|e| Problem::unprocessable("prices", e.to_string()))?;
    // The finished fits carried over to the longer series (pure: nothing visible yet).
    let version = universe.version;
    let (old_n, new_n) = (asset.returns.len(), extended.returns.len());
    let mut carried = Vec::new();
    for (spec, fit) in state.finished_fits(version, &asset.symbol, old_n) {
        match fit.filtered(&extended.returns) {
            Ok(filtered) => carried.push((spec, filtered)),
            Err(e) => {
                // E.g. an estimate on a constraint that `fix` refuses: the model is fitted
                // afresh on the extended series when next asked for.
                tracing::warn!(symbol = %asset.symbol, %spec, error = %e,
                    "cannot filter the new closes through the cached fit; it will be refitted");
            }
        }
    }
    let records: Vec<StoredEstimate> = carried
        .iter()
        .map(|(spec, fit)| estimate_record(&asset.symbol, *spec, fit))
        .collect();
    // Durable before visible: the closes, and the estimates the forecasts now come from (so
    // that a restart serves the same forecasts, not fresh fits).
    state
        .store
        .append_closes_with(&asset.symbol, &closes, &records)
        .map_err(|e| {
            tracing::error!(error = %e, "append not stored");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                format!("the closes were not stored, nothing was applied: {e}"),
            )
            .with_field("prices")
        })?;
    // The filtered fits go in under the new series length before the new snapshot is visible,
    // so no reader of it starts a fresh fit for them.
    let mut forecasts = Vec::new();
    let mut refits = Vec::new();
    for (spec, filtered) in carried {
        if state.refit_every > 0 && filtered.observations_since_fit() >= state.refit_every {
            refits.push(spec);
        }
        forecasts.push(forecast_update(&extended, spec, &filtered));
        state.insert(version, &asset.symbol, new_n, spec, Ok(filtered));
    }
    let mut next: Universe = (*universe).clone();
    next.assets[index] = extended;
    let next = Arc::new(next);
    state.universe.store(Arc::clone(&next));
    state.evict_shorter(version, &next.assets[index].symbol, new_n);
    let asset = &next.assets[index];
    forecasts.sort_by_key(|f| f.spec.to_string());
    for f in &forecasts {
        announce(state, asset, ForecastReason::Append, f.clone());
    }
    let mut started = Vec::new();
    for spec in refits {
        if schedule_refit(state, &asset.symbol, spec) {
            started.push(spec);
        }
    }
    Ok(AppendPricesResponse {
        symbol: asset.symbol.clone(),
        appended: closes.len(),
        observations: asset.prices.len(),
        data_through: asset.dates.last().cloned().unwrap_or_default(),
        forecasts,
        refits_started: started,
    })
}

/// Starts re-estimating `symbol` under `spec` on the current data in the background, unless
/// a refit of it is already running. Returns whether one was started.
pub fn schedule_refit(state: &Arc<AppState>, symbol: &str, spec: ModelSpec) -> bool {
    let key = (symbol.to_string(), spec);
    {
        let mut running = state
            .refits_running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !running.insert(key.clone()) {
            return false;
        }
    }
    let (shared, running_key) = (state, key.clone());
    let state = Arc::clone(state);
    // A thread of its own, not rayon: the swap takes the append lock, which a reload holds
    // while it waits for rayon's pool, so no rayon job may wait for that lock.
    let spawned = std::thread::Builder::new()
        .name("refit".into())
        .spawn(move || {
            let universe = state.universe.load_full();
            if let Some(asset) = universe.get(&key.0) {
                match state.fit_now(&asset.returns, spec) {
                    Ok(fit) => {
                        promote(&state, &universe, &key.0, spec, Arc::new(fit));
                    }
                    Err(e) => tracing::warn!(symbol = %key.0, %spec, error = %e,
                    "background refit failed; the filtered model stays"),
                }
            }
            state
                .refits_running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
            // Closes that arrived during the refit may already call for the next one.
            let now = state.universe.load_full();
            if let Some(asset) = now.get(&key.0) {
                let current = state.finished_fit(&(
                    now.version,
                    asset.symbol.clone(),
                    asset.returns.len(),
                    spec,
                ));
                if state.refit_every > 0
                    && current.is_some_and(|f| f.observations_since_fit() >= state.refit_every)
                {
                    schedule_refit(&state, &key.0, spec);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a background refit");
        shared
            .refits_running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&running_key);
        return false;
    }
    true
}

/// Swaps a model estimated on `snapshot`'s series of `symbol` into the cache for the current
/// data (blocking): as is if no close arrived since, else carried forward by filtering. A
/// newer estimate already in place, or a reload since the snapshot, wins. Returns whether
/// it was installed.
pub fn promote(
    state: &Arc<AppState>,
    snapshot: &Universe,
    symbol: &str,
    spec: ModelSpec,
    fit: Arc<CachedFit>,
) -> bool {
    let _serial = state.lock_appends();
    let now = state.universe.load_full();
    if now.version != snapshot.version {
        return false;
    }
    let Some(asset) = now.get(symbol) else {
        return false;
    };
    let n = asset.returns.len();
    let fitted_n = fit.model.returns().len();
    let fit = if n == fitted_n {
        fit
    } else if n > fitted_n {
        match fit.filtered(&asset.returns) {
            Ok(f) => Arc::new(f),
            Err(e) => {
                tracing::warn!(%symbol, %spec, error = %e, "cannot carry a refit forward");
                return false;
            }
        }
    } else {
        return false;
    };
    let key = (now.version, asset.symbol.clone(), n, spec);
    if state
        .finished_fit(&key)
        .is_some_and(|current| current.estimate.nobs > fit.estimate.nobs)
    {
        return false;
    }
    // Durable before visible, as the closes: a restart must serve this estimate.
    if let Err(e) = state
        .store
        .put_estimates(&[estimate_record(&asset.symbol, spec, &fit)])
    {
        tracing::error!(%symbol, %spec, error = %e, "refit not stored; the filtered model stays");
        return false;
    }
    let update = forecast_update(asset, spec, &fit);
    state.insert_shared(now.version, &asset.symbol, n, spec, fit);
    announce(state, asset, ForecastReason::Refit, update);
    true
}

/// After a refit of every symbol on `snapshot` (`POST /v1/fits`): the symbols that received
/// closes while it ran get the new estimates carried forward to their current series.
pub fn catch_up(state: &Arc<AppState>, snapshot: &Universe, spec: ModelSpec) {
    let now = state.universe.load_full();
    if now.version != snapshot.version {
        return;
    }
    for old in &snapshot.assets {
        let grew = now
            .get(&old.symbol)
            .is_some_and(|a| a.returns.len() > old.returns.len());
        if !grew {
            continue;
        }
        let key = (
            snapshot.version,
            old.symbol.clone(),
            old.returns.len(),
            spec,
        );
        if let Some(fit) = state.finished_fit(&key) {
            promote(state, snapshot, &old.symbol, spec, fit);
        }
    }
}

/// What the store keeps of an estimate: enough to serve the same forecasts after a restart
/// (the parameters are filtered through the replayed series again, bit for bit the same).
#[derive(Debug, Serialize, Deserialize)]
struct EstimateRecord {
    report: FitReport,
    fitted_at: String,
    fit_seconds: f64,
}

fn estimate_record(symbol: &str, spec: ModelSpec, fit: &CachedFit) -> StoredEstimate {
    let record = EstimateRecord {
        report: fit.estimate.clone(),
        fitted_at: fit.fitted_at.clone(),
        fit_seconds: fit.fit_seconds,
    };
    StoredEstimate {
        symbol: symbol.to_string(),
        model: spec.to_string(),
        // A report of finite numbers always serialises.
        state: serde_json::to_string(&record).unwrap_or_default(),
    }
}

/// Stores the estimates a refit of every symbol on `snapshot` cached (`POST /v1/fits`), so
/// that a restart serves them rather than older stored ones (blocking).
pub fn persist_refit(state: &AppState, snapshot: &Universe, spec: ModelSpec) {
    let _serial = state.lock_appends();
    let now = state.universe.load_full();
    if now.version != snapshot.version {
        return;
    }
    // Symbols that received closes meanwhile are stored by [`catch_up`] as it carries them
    // forward.
    let records: Vec<StoredEstimate> = snapshot
        .assets
        .iter()
        .filter(|a| {
            now.get(&a.symbol)
                .is_some_and(|b| b.returns.len() == a.returns.len())
        })
        .filter_map(|a| {
            let key = (snapshot.version, a.symbol.clone(), a.returns.len(), spec);
            state
                .finished_fit(&key)
                .map(|fit| estimate_record(&a.symbol, spec, &fit))
        })
        .collect();
    if let Err(e) = state.store.put_estimates(&records) {
        tracing::error!(error = %e, "refit estimates not stored: a restart refits afresh");
    }
}

/// Puts the stored estimates back into the cache of a freshly loaded `universe` (blocking;
/// at start and on reload): each one estimated on fewer returns than the series now has is
/// filtered through it again (`fix`: the forecasts served before the restart, bit for bit).
/// One estimated on the whole series is what a fresh fit gives, and one on a longer series
/// (the data file changed) is skipped. Returns how many were restored.
pub fn restore_estimates(state: &AppState, universe: &Universe) -> Result<usize, StoreError> {
    let mut restored = 0;
    for stored in state.store.estimates()? {
        let Ok(record) = serde_json::from_str::<EstimateRecord>(&stored.state) else {
            tracing::warn!(symbol = %stored.symbol, model = %stored.model,
                "unreadable stored estimate skipped; the model is fitted afresh");
            continue;
        };
        let Some(asset) = universe.get(&stored.symbol) else {
            continue;
        };
        let n = asset.returns.len();
        if record.report.nobs >= n {
            continue;
        }
        let spec = record.report.spec;
        let params: Vec<f64> = record.report.params.iter().map(|p| p.value).collect();
        match fix(&asset.returns, spec, &params) {
            Ok(model) => {
                let fit = CachedFit {
                    model,
                    estimate: record.report,
                    fitted_at: record.fitted_at,
                    fit_seconds: record.fit_seconds,
                    responses: Default::default(),
                };
                state.insert(universe.version, &asset.symbol, n, spec, Ok(fit));
                restored += 1;
            }
            Err(e) => tracing::warn!(symbol = %asset.symbol, %spec, error = %e,
                "stored estimate does not apply; the model is fitted afresh"),
        }
    }
    Ok(restored)
}
