//! Out-of-sample backtests: one symbol (`GET /v1/assets/{symbol}/backtest`), the ranking of
//! the candidate models of a symbol (`GET /v1/assets/{symbol}/models`), and every symbol at
//! once in a chosen execution mode with timings (`POST /v1/backtests`).
//!
//! The handlers only parse, look up and hand over: the computation is the `backtest` crate's,
//! the caching and scheduling [`crate::backtests`]'.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use backtest::{
    Backtest, BacktestConfig, BacktestError, Execution, Ranking, rank_models, run,
    run_universe_until,
};
use garch_core::{Distribution, FitOptions, MeanModel, ModelSpec, VolatilityModel};
use svc_kit::auth::require_bearer_if_configured;
use svc_kit::problem::{ApiJson, ApiQuery, Problem};

use crate::api::backtest::{
    AssetBacktestSummary, BacktestMode, BacktestQuery, BacktestSettingQuery, DistributedStats,
    FailedModel, ModelRanking, Pending, UniverseBacktestRequest, UniverseBacktestResponse,
};
use crate::backtest_report::{BacktestReport, finite, level_key};
use crate::backtests::{Ready, SymbolBacktest, combine, digest, proxy_of};
use crate::distributed::BacktestJobRequest;
use crate::routes::{distributed_failed, distributed_unavailable};
use crate::state::AppState;
use crate::universe::{Asset, Universe};

/// The candidates of a ranking: every volatility model × every error law, constant mean.
pub fn candidates() -> Vec<ModelSpec> {
    let models = [
        VolatilityModel::garch(),
        VolatilityModel::gjr(),
        VolatilityModel::egarch(),
    ];
    let laws = [
        Distribution::Normal,
        Distribution::StudentT,
        Distribution::SkewT,
        Distribution::Ged,
    ];
    models
        .iter()
        .flat_map(|m| {
            laws.iter()
                .map(|d| ModelSpec::new(MeanModel::Constant, *m, *d))
        })
        .collect()
}

/// A backtest that cannot run on this symbol's data: 422 naming the field.
fn backtest_problem(symbol: &str, e: BacktestError) -> Problem {
    let field = match &e {
        BacktestError::Config(c) => c.field(),
        _ => "symbol",
    };
    Problem::unprocessable(field, format!("cannot backtest {symbol}: {e}"))
}

/// The symbol in the current data, and the data: 404 when unknown, 422 when the window
/// leaves no out-of-sample day of its series.
fn lookup(
    state: &AppState,
    symbol: &str,
    config: &BacktestConfig,
) -> Result<(Arc<Universe>, usize), Problem> {
    let universe = state.universe.load_full();
    let index = universe
        .assets
        .iter()
        .position(|a| a.symbol.eq_ignore_ascii_case(symbol))
        .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
    config
        .check_len(universe.assets[index].returns.len())
        .map_err(|e| backtest_problem(symbol, e.into()))?;
    Ok((universe, index))
}

/// One symbol's rolling (or expanding) re-estimation backtest: the estimate of every window,
/// the one-step variance, VaR, ES and exceedances of every out-of-sample day (the last
/// `limit`), Kupiec's and Christoffersen's coverage tests, the Basel traffic light, and the
/// forecast losses against realized variance (from 5-minute bars) or squared returns. Cached
/// per symbol, model and setting for the current data.
#[utoipa::path(get, path = "/v1/assets/{symbol}/backtest", tag = "backtests",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME"), BacktestQuery),
    responses((status = 200, body = BacktestReport), (status = 400, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 202, description = "Still computing: ask again after `Retry-After` seconds",
            body = Pending),
        (status = 422, description = "The window leaves no out-of-sample day, or a window \
            cannot be estimated", body = Problem),
        (status = 429, description = "Too many backtests computing", body = Problem)))]
pub async fn asset_backtest(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    ApiQuery(q): ApiQuery<BacktestQuery>,
) -> Result<Response, Problem> {
    let (spec, config, limit) = q.parse()?;
    let (universe, index) = lookup(&state, &symbol, &config)?;
    let asset = &universe.assets[index];
    let compute = {
        let (state, universe, config) = (Arc::clone(&state), Arc::clone(&universe), config.clone());
        async move {
            let _permit = state.backtests.admit().await?;
            let work = move || compute_backtest(&universe.assets[index], spec, &config);
            state.backtests.compute(work).await
        }
    };
    match state
        .backtests
        .backtest(universe.version, asset, spec, &config, compute)
        .await?
    {
        Ready::Done(computed) => {
            Ok(Json(computed.report.last_days(&computed.backtest, limit)).into_response())
        }
        Ready::Pending => Ok(pending(format!("the {spec} backtest of {}", asset.symbol))),
    }
}

/// 202 with `Retry-After`: the computation goes on and its result will be cached.
fn pending(what: String) -> Response {
    const RETRY_AFTER: u64 = 5;
    (
        StatusCode::ACCEPTED,
        [(header::RETRY_AFTER, RETRY_AFTER.to_string())],
        Json(Pending {
            status: "pending".into(),
            detail: format!("{what} is being computed; ask again in {RETRY_AFTER} s"),
            retry_after: RETRY_AFTER,
        }),
    )
        .into_response()
}

/// Runs and evaluates one symbol's backtest (blocking; call on rayon).
fn compute_backtest(
    asset: &Asset,
    spec: ModelSpec,
    config: &BacktestConfig,
) -> Result<SymbolBacktest, Problem> {
    let bt = run(
        asset.returns.as_slice(),
        spec,
        config,
        &FitOptions::default(),
    )
    .map_err(|e| backtest_problem(&asset.symbol, e))?;
    let ev = bt
        .evaluate(proxy_of(asset).as_deref())
        .map_err(|e| backtest_problem(&asset.symbol, e))?;
    let report = BacktestReport::new(&asset.symbol, asset.return_dates(), &bt, &ev, config);
    Ok(SymbolBacktest {
        backtest: bt,
        report,
    })
}

/// Which model to trust for a symbol: GARCH, GJR and EGARCH × normal, t, skew-t and GED
/// errors (constant mean), each backtested on the same days, ranked by mean QLIKE against
/// the variance proxy, with the Diebold–Mariano test against the best model's losses, the
/// in-sample BIC and each model's coverage tests. Cached per symbol and setting.
#[utoipa::path(get, path = "/v1/assets/{symbol}/models", tag = "backtests",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME"), BacktestSettingQuery),
    responses((status = 200, body = ModelRanking), (status = 400, body = Problem),
        (status = 404, description = "Unknown symbol", body = Problem),
        (status = 202, description = "Still computing: ask again after `Retry-After` seconds",
            body = Pending),
        (status = 422, description = "The window leaves no out-of-sample day", body = Problem),
        (status = 429, description = "Too many backtests computing", body = Problem)))]
pub async fn asset_models(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    ApiQuery(q): ApiQuery<BacktestSettingQuery>,
) -> Result<Response, Problem> {
    let config = q.parse()?;
    let (universe, index) = lookup(&state, &symbol, &config)?;
    let asset = &universe.assets[index];
    let compute = {
        let (state, universe, config) = (Arc::clone(&state), Arc::clone(&universe), config.clone());
        async move {
            let _permit = state.backtests.admit().await?;
            state
                .backtests
                .compute(move || {
                    let asset = &universe.assets[index];
                    rank_models(
                        asset.returns.as_slice(),
                        &candidates(),
                        &config,
                        &FitOptions::default(),
                        proxy_of(asset).as_deref(),
                    )
                    .map_err(|e| backtest_problem(&asset.symbol, e))
                })
                .await
        }
    };
    let ranking: Arc<Ranking> = match state
        .backtests
        .ranking(universe.version, asset, &config, compute)
        .await?
    {
        Ready::Done(ranking) => ranking,
        Ready::Pending => return Ok(pending(format!("the model ranking of {}", asset.symbol))),
    };
    Ok(Json(ModelRanking {
        symbol: asset.symbol.clone(),
        days: config
            .windows(asset.returns.len())
            .iter()
            .map(|w| w.forecast_end - w.end)
            .sum(),
        config,
        models: ranking.ranked.clone(),
        failed: ranking
            .failed
            .iter()
            .map(|(spec, e)| FailedModel {
                spec: *spec,
                error: e.to_string(),
            })
            .collect(),
    })
    .into_response())
}

/// Backtests every symbol of the data set under one model and setting, sequentially, on all
/// cores (rayon) or on the NATS JetStream workers, and reports the wall time, each symbol's
/// coverage and loss summary, and digests that are equal across modes exactly when the
/// results are bit-identical. One run at a time (429 with `Retry-After` meanwhile); it runs
/// off the pools that serve the other routes.
#[utoipa::path(post, path = "/v1/backtests", tag = "backtests",
    request_body = UniverseBacktestRequest,
    responses((status = 200, body = UniverseBacktestResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 429, description = "Another universe backtest is running", body = Problem),
        (status = 503, body = Problem)),
    security((), ("bearer" = [])))]
pub async fn universe_backtest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<ApiJson<UniverseBacktestRequest>, Problem>,
) -> Response {
    if let Err(refused) = require_bearer_if_configured(state.token.as_deref(), &headers) {
        return refused.into_response();
    }
    let ApiJson(req) = match body {
        Ok(body) => body,
        Err(problem) => return problem.into_response(),
    };
    match universe_admitted(state, req).await {
        Ok(body) => Json(body).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn universe_admitted(
    state: Arc<AppState>,
    req: UniverseBacktestRequest,
) -> Result<UniverseBacktestResponse, Problem> {
    let (spec, config, block) = req.parse()?;
    let _running = state.backtests.admit_universe_run()?;
    let universe = state.universe.load_full();
    let start = Instant::now();
    let (results, threads, distributed) = match req.mode {
        BacktestMode::Sequential | BacktestMode::Parallel => {
            let (st, uni, cfg) = (Arc::clone(&state), Arc::clone(&universe), config.clone());
            let mode = req.mode;
            // Dropped with this request (the caller went away, the request timed out): the
            // run stops at its next task instead of computing for nobody.
            let stop = StopOnDrop::default();
            let stopped = Arc::clone(&stop.0);
            let results = tokio::task::spawn_blocking(move || {
                let assets: Vec<&[f64]> = uni.assets.iter().map(|a| a.returns.as_slice()).collect();
                let options = FitOptions::default();
                let until = || stopped.load(Ordering::Relaxed);
                let run = |execution| {
                    run_universe_until(&assets, spec, &cfg, &options, block, execution, &until)
                };
                match mode {
                    BacktestMode::Parallel => {
                        let pool = st.backtests.pool()?;
                        Ok::<_, Problem>((
                            pool.install(|| run(Execution::Parallel)),
                            pool.current_num_threads(),
                        ))
                    }
                    _ => Ok((run(Execution::Sequential), 1)),
                }
            })
            .await
            .map_err(|e| Problem::internal(format!("the backtest was aborted: {e}")))??;
            let (results, threads) = results;
            (
                results
                    .into_iter()
                    .map(|r| r.map_err(|e| e.to_string()))
                    .collect::<Vec<_>>(),
                Some(threads),
                None,
            )
        }
        BacktestMode::Distributed => {
            let (results, stats) =
                distributed_backtest(&state, &universe, spec, &config, block).await?;
            (results, None, Some(stats))
        }
    };
    let total = start.elapsed().as_secs_f64();
    // Evaluation is linear in the days: milliseconds for the whole universe.
    let assets: Vec<AssetBacktestSummary> = universe
        .assets
        .iter()
        .zip(results)
        .map(|(a, r)| summarize(a, r))
        .collect();
    let refits = assets.iter().map(|a| a.refits).sum::<usize>();
    let digest = combine(assets.iter().map(|a| {
        a.digest
            .as_deref()
            .and_then(|d| u64::from_str_radix(d, 16).ok())
            .unwrap_or(0)
    }));
    Ok(UniverseBacktestResponse {
        mode: req.mode,
        spec,
        config,
        block,
        threads,
        total_seconds: total,
        refits,
        refits_per_second: refits as f64 / total.max(1e-9),
        digest: format!("{digest:016x}"),
        assets,
        distributed,
    })
}

/// One symbol's line of a universe run.
fn summarize(asset: &Asset, result: Result<Backtest, String>) -> AssetBacktestSummary {
    let failed = |error: String| AssetBacktestSummary {
        symbol: asset.symbol.clone(),
        error: Some(error),
        refits: 0,
        unconverged: 0,
        days: 0,
        exceedances: BTreeMap::new(),
        kupiec_p_value: BTreeMap::new(),
        christoffersen_p_value: BTreeMap::new(),
        traffic_light: None,
        qlike: None,
        digest: None,
    };
    let bt = match result {
        Ok(bt) => bt,
        Err(e) => return failed(e),
    };
    let ev = match bt.evaluate(proxy_of(asset).as_deref()) {
        Ok(ev) => ev,
        Err(e) => return failed(e.to_string()),
    };
    let s = &ev.summary;
    AssetBacktestSummary {
        symbol: asset.symbol.clone(),
        error: None,
        refits: bt.refits.len(),
        unconverged: bt.refits.iter().filter(|r| !r.report.converged).count(),
        days: bt.path.len(),
        exceedances: s
            .kupiec
            .iter()
            .map(|k| (level_key(k.level), k.exceedances))
            .collect(),
        kupiec_p_value: s
            .kupiec
            .iter()
            .filter_map(|k| Some((level_key(k.level), finite(k.p_value)?)))
            .collect(),
        christoffersen_p_value: s
            .christoffersen
            .iter()
            .filter_map(|c| Some((level_key(c.level), finite(c.p_value_cc)?)))
            .collect(),
        traffic_light: s.traffic_light.map(|t| t.zone),
        qlike: s.qlike,
        digest: Some(format!("{:016x}", digest(&bt))),
    }
}

/// Per-symbol results and execution facts of a universe run on the NATS workers.
type DistributedRun = (Vec<Result<Backtest, String>>, DistributedStats);

/// `mode=distributed`: the universe as (symbol, block) chunks on the JetStream workers. 503
/// when NATS is not configured or unreachable, or when no worker answered before the deadline;
/// symbols whose blocks were missing at the deadline carry that error.
async fn distributed_backtest(
    state: &AppState,
    universe: &Universe,
    spec: ModelSpec,
    config: &BacktestConfig,
    block: usize,
) -> Result<DistributedRun, Problem> {
    let Some(dist) = state.distributed.get().cloned() else {
        return Err(distributed_unavailable());
    };
    let job = BacktestJobRequest {
        spec,
        config: config.clone(),
        options: FitOptions::default(),
        block,
        series: universe
            .assets
            .iter()
            .map(|a| (a.symbol.clone(), a.returns.as_slice().to_vec()))
            .collect(),
        deadline: dist.deadline,
    };
    let outcome = dist
        .coordinator
        .run_backtest(job)
        .await
        .map_err(|e| distributed_failed(e, &dist.url))?;
    let stats = DistributedStats {
        workers: outcome.workers.iter().cloned().collect(),
        chunks: outcome.chunks,
        redelivered_chunks: outcome.redelivered_chunks,
        duplicate_results: outcome.duplicate_results,
    };
    Ok((
        outcome.assets.into_iter().map(|a| a.outcome).collect(),
        stats,
    ))
}

/// Sets its flag when dropped.
#[derive(Default)]
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
