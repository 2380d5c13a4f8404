//! Refitting everything (`POST /v1/fits`) and reloading the data (`POST /v1/data/reload`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use garch_core::{Execution, FitOptions, ModelSpec};
use svc_kit::auth::{require_bearer, require_bearer_if_configured};
use svc_kit::problem::{ApiJson, Problem};

use crate::api::{DataStatus, RefitMode, RefitRequest, RefitResponse, parse_spec};
use crate::distributed::JobRequest;
use crate::fitting::{cache_remote_fits, fit_all, load_and_fit};
use crate::live::{catch_up, persist_refit};
use crate::routes::system::data_status;
use crate::routes::{distributed_failed, distributed_unavailable};
use crate::state::{AppState, on_rayon};

/// Refits every symbol now and reports per-symbol status and timing. `mode=distributed` runs
/// on NATS JetStream workers (503 when no NATS server is configured, NATS is unreachable, or
/// no worker answers before the deadline); its results are bit-identical to the other modes.
#[utoipa::path(post, path = "/v1/fits", tag = "admin", request_body = RefitRequest,
    responses((status = 200, body = RefitResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 503, body = Problem)),
    security((), ("bearer" = [])))]
pub async fn refit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<ApiJson<RefitRequest>, Problem>,
) -> Response {
    // The token before the body: an unauthenticated caller learns nothing about the API.
    if let Err(refused) = require_bearer_if_configured(state.token.as_deref(), &headers) {
        return refused.into_response();
    }
    let ApiJson(req) = match body {
        Ok(body) => body,
        Err(problem) => return problem.into_response(),
    };
    match state.budget.admit().await {
        Ok(_permit) => refit_admitted(state, req).await.into_response(),
        Err(shed) => shed.into_response(),
    }
}

async fn refit_admitted(
    state: Arc<AppState>,
    req: RefitRequest,
) -> Result<Json<RefitResponse>, Problem> {
    let spec = parse_spec(req.model.as_deref(), req.dist.as_deref(), None)?;
    let execution = match req.mode {
        RefitMode::Sequential => Execution::Sequential,
        RefitMode::Parallel => Execution::Parallel,
        RefitMode::Distributed => return refit_distributed(state, spec).await.map(Json),
    };
    let universe = state.universe.load_full();
    let st = Arc::clone(&state);
    let start = Instant::now();
    let snapshot = Arc::clone(&universe);
    let symbols = on_rayon(move || fit_all(&st, &universe, spec, execution)).await?;
    let total = start.elapsed().as_secs_f64();
    carry_forward(&state, snapshot, spec).await;
    Ok(Json(RefitResponse {
        mode: req.mode,
        spec,
        total_seconds: total,
        fits_per_second: symbols.len() as f64 / total.max(1e-9),
        symbols,
    }))
}

/// `mode=distributed`: the coordinator fits on the workers, the reports are reattached to the
/// local series (one likelihood pass each, bit-identical to a local fit) and cached.
async fn refit_distributed(
    state: Arc<AppState>,
    spec: ModelSpec,
) -> Result<RefitResponse, Problem> {
    let Some(dist) = state.distributed.get().cloned() else {
        return Err(distributed_unavailable());
    };
    let universe = state.universe.load_full();
    let start = Instant::now();
    let mut statuses = Vec::new();
    if !universe.assets.is_empty() {
        let job = JobRequest {
            spec,
            options: FitOptions::default(),
            series: universe
                .assets
                .iter()
                .map(|a| (a.symbol.clone(), a.returns.as_slice().to_vec()))
                .collect(),
            deadline: dist.deadline,
        };
        let outcome = dist
            .coordinator
            .run(job)
            .await
            .map_err(|e| distributed_failed(e, &dist.url))?;
        let st = Arc::clone(&state);
        let snapshot = Arc::clone(&universe);
        statuses =
            on_rayon(move || cache_remote_fits(&st, &universe, spec, outcome.symbols)).await?;
        carry_forward(&state, snapshot, spec).await;
    }
    let total = start.elapsed().as_secs_f64();
    Ok(RefitResponse {
        mode: RefitMode::Distributed,
        spec,
        total_seconds: total,
        fits_per_second: statuses.len() as f64 / total.max(1e-9),
        symbols: statuses,
    })
}

/// Symbols that received closes during a refit get its estimates carried forward (off the
/// runtime's workers and off rayon: it takes the append lock, see [`crate::live::schedule_refit`]).
async fn carry_forward(
    state: &Arc<AppState>,
    snapshot: Arc<crate::universe::Universe>,
    spec: ModelSpec,
) {
    let st = Arc::clone(state);
    let _ = tokio::task::spawn_blocking(move || {
        persist_refit(&st, &snapshot, spec);
        catch_up(&st, &snapshot, spec);
    })
    .await;
}

/// Reloads the data file atomically (token-protected).
#[utoipa::path(post, path = "/v1/data/reload", tag = "admin",
    responses((status = 200, body = DataStatus), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn reload(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(refused) = require_bearer(state.token.as_deref(), &headers, "MARKET_SVC_TOKEN") {
        return refused.into_response();
    }
    let _permit = match state.budget.admit().await {
        Ok(permit) => permit,
        Err(shed) => return shed.into_response(),
    };
    let _guard = state.reload_lock.lock().await;
    let version = state.universe.load().version + 1;
    let st = Arc::clone(&state);
    // Appends wait for the reload (it replays the store, so none may land in between): the
    // append lock is held on a blocking thread, not on rayon, whose pool does the fitting.
    let reloaded = tokio::task::spawn_blocking(move || {
        let _serial = st.lock_appends();
        let universe = load_and_fit(&st, version)?;
        st.universe.store(Arc::new(universe));
        st.evict_older_than(version);
        Ok::<(), crate::fitting::LoadError>(())
    })
    .await;
    match reloaded {
        Ok(Ok(())) => {
            state.readiness.set_load_error(None);
            state.readiness.set_ready(true);
            Json(data_status(&state)).into_response()
        }
        Ok(Err(e)) => Problem::unprocessable("data", format!("reload failed, old data kept: {e}"))
            .into_response(),
        Err(e) => Problem::internal(format!("the reload was aborted: {e}")).into_response(),
    }
}
