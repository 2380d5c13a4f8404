//! Refitting everything (`POST /v1/fits`) and reloading the data (`POST /v1/data/reload`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use garch_core::{Execution, ModelSpec, Returns};
use rayon::prelude::*;
use svc_kit::problem::{ApiJson, Problem};

use crate::api::{DataStatus, RefitMode, RefitRequest, RefitResponse, RefitStatus, parse_spec};
use crate::routes::system::data_status;
use crate::state::{AppState, CachedFit, now_rfc3339, on_rayon};
use crate::universe::Universe;

/// Fits every asset of `universe` under `spec` (blocking; call on rayon) and caches the
/// results. Returns per-symbol statuses.
pub fn fit_all(
    state: &AppState,
    universe: &Universe,
    spec: ModelSpec,
    mode: Execution,
) -> Vec<RefitStatus> {
    let series: Vec<Returns> = universe.assets.iter().map(|a| a.returns.clone()).collect();
    let one = |(asset, r): (&crate::universe::Asset, &Returns)| {
        let start = Instant::now();
        let out = state.fit_now(r, spec);
        (asset.symbol.clone(), out, start.elapsed().as_secs_f64())
    };
    let pairs: Vec<_> = universe.assets.iter().zip(&series).collect();
    let results: Vec<(String, Result<CachedFit, String>, f64)> = match mode {
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
                error: out.as_ref().err().cloned(),
            };
            state.insert(universe.version, &symbol, spec, out);
            status
        })
        .collect()
}

/// Refits every symbol now and reports per-symbol status and timing.
#[utoipa::path(post, path = "/v1/fits", tag = "admin", request_body = RefitRequest,
    responses((status = 200, body = RefitResponse), (status = 400, body = Problem),
        (status = 501, body = Problem), (status = 503, body = Problem)))]
pub async fn refit(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<RefitRequest>,
) -> Result<Json<RefitResponse>, Problem> {
    let spec = parse_spec(req.model.as_deref(), req.dist.as_deref(), None)?;
    let execution = match req.mode {
        RefitMode::Sequential => Execution::Sequential,
        RefitMode::Parallel => Execution::Parallel,
        RefitMode::Distributed => {
            return Err(Problem::new(
                StatusCode::NOT_IMPLEMENTED,
                "distributed-unavailable",
                "distributed fitting runs on NATS JetStream workers, which this build does not \
                 have yet; use mode sequential or parallel",
            )
            .with_field("mode"));
        }
    };
    let universe = state.universe.load_full();
    let st = Arc::clone(&state);
    let start = Instant::now();
    let symbols = on_rayon(move || fit_all(&st, &universe, spec, execution)).await?;
    let total = start.elapsed().as_secs_f64();
    Ok(Json(RefitResponse {
        mode: req.mode,
        spec,
        total_seconds: total,
        fits_per_second: symbols.len() as f64 / total.max(1e-9),
        symbols,
    }))
}

fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), Problem> {
    let Some(expected) = state.token.as_deref() else {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "reload-disabled",
            "no reload token is configured (MARKET_SVC_TOKEN), so reloads are refused",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(expected) {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid 'Authorization: Bearer <token>' header is required",
        )
        .with_field("authorization"));
    }
    Ok(())
}

/// Loads the data file into a new snapshot and fits the default model on it (blocking).
pub fn load_and_fit(state: &AppState, version: u64) -> Result<Universe, String> {
    let universe = Universe::load(&state.data_path, version).map_err(|e| e.to_string())?;
    for (symbol, reason) in &universe.skipped {
        tracing::warn!(%symbol, %reason, "symbol skipped");
    }
    let statuses = fit_all(state, &universe, ModelSpec::default(), Execution::Parallel);
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

/// Reloads the data file atomically (token-protected).
#[utoipa::path(post, path = "/v1/data/reload", tag = "admin",
    responses((status = 200, body = DataStatus), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reload(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(problem) = check_token(&state, &headers) {
        let unauthorized = problem.status_code() == StatusCode::UNAUTHORIZED;
        let mut resp = problem.into_response();
        if unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        return resp;
    }
    let _guard = state.reload_lock.lock().await;
    let version = state.universe.load().version + 1;
    let st = Arc::clone(&state);
    match on_rayon(move || load_and_fit(&st, version)).await {
        Ok(Ok(universe)) => {
            state.universe.store(Arc::new(universe));
            state.evict_older_than(version);
            state.set_ready(true);
            Json(data_status(&state)).into_response()
        }
        Ok(Err(e)) => Problem::unprocessable("data", format!("reload failed, old data kept: {e}"))
            .into_response(),
        Err(p) => p.into_response(),
    }
}
