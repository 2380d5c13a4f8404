//! `GET /v1/assets` and `GET /v1/assets/{symbol}/history`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use svc_kit::problem::{ApiQuery, Problem};

use crate::api::{AssetSummary, HistoryQuery, HistoryResponse, parse_spec};
use crate::state::AppState;

/// Symbols with their date range.
#[utoipa::path(get, path = "/v1/assets", tag = "assets",
    responses((status = 200, body = [AssetSummary])))]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<AssetSummary>> {
    let u = state.universe.load();
    Json(
        u.assets
            .iter()
            .map(|a| AssetSummary {
                symbol: a.symbol.clone(),
                first_date: a.dates.first().cloned().unwrap_or_default(),
                last_date: a.dates.last().cloned().unwrap_or_default(),
                observations: a.prices.len(),
            })
            .collect(),
    )
}

/// Returns and fitted conditional volatility, for charts.
#[utoipa::path(get, path = "/v1/assets/{symbol}/history", tag = "assets",
    params(("symbol" = String, Path, description = "Ticker", example = "ACME"), HistoryQuery),
    responses((status = 200, body = HistoryResponse), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<Arc<AppState>>,
    Path(symbol): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryResponse>, Problem> {
    let spec = parse_spec(q.model.as_deref(), q.dist.as_deref(), None)?;
    if q.limit == Some(0) {
        return Err(Problem::invalid_parameter(
            "limit",
            "limit must be at least 1",
        ));
    }
    let (universe, fit) = state.fitted(&symbol, spec).await?;
    let asset = universe
        .get(&symbol)
        .ok_or_else(|| Problem::not_found("symbol", format!("unknown symbol '{symbol}'")))?;
    let n = asset.returns.len();
    let start = n - q.limit.unwrap_or(n).min(n);
    Ok(Json(HistoryResponse {
        symbol: asset.symbol.clone(),
        spec,
        dates: asset.return_dates()[start..].to_vec(),
        returns: asset.returns.as_slice()[start..].to_vec(),
        conditional_volatility: fit.model.conditional_variance()[start..]
            .iter()
            .map(|v| v.sqrt())
            .collect(),
        realized_volatility: asset.return_dates()[start..]
            .iter()
            .map(|d| asset.realized.get(d).map(|rv| rv.sqrt()))
            .collect(),
    }))
}
