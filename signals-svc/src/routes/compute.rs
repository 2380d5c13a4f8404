//! `POST /v1/signals/compute`: indicators of a posted close series, aligned with the input.

use axum::Json;
use indicators::{IndicatorError, compute as compute_indicators};
use svc_kit::problem::{ApiJson, Problem};

use crate::api::{ComputeRequest, ComputeResponse, indicator_config};

/// Largest series accepted.
pub const MAX_BARS: usize = 1_000_000;

/// RSI, bands, %B, bandwidth and the signal for a close series (null during warm-up).
#[utoipa::path(post, path = "/v1/signals/compute", tag = "signals", request_body = ComputeRequest,
    responses((status = 200, body = ComputeResponse), (status = 400, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
pub async fn compute(
    ApiJson(req): ApiJson<ComputeRequest>,
) -> Result<Json<ComputeResponse>, Problem> {
    let config = indicator_config(
        req.rsi_period,
        req.bb_period,
        req.bb_k,
        req.oversold,
        req.overbought,
    )?;
    if req.close.is_empty() || req.close.len() > MAX_BARS {
        return Err(Problem::unprocessable(
            "close",
            format!(
                "close must hold 1 to {MAX_BARS} values, got {}",
                req.close.len()
            ),
        ));
    }
    if let Some(ts) = &req.timestamps
        && ts.len() != req.close.len()
    {
        return Err(Problem::unprocessable(
            "timestamps",
            format!("{} timestamps for {} closes", ts.len(), req.close.len()),
        ));
    }
    if let Some(i) = req.close.iter().position(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(Problem::unprocessable(
            &format!("close[{i}]"),
            format!("close must be positive and finite, got {}", req.close[i]),
        ));
    }
    let series = compute_indicators(&req.close, &config).map_err(|e| match e {
        IndicatorError::NonFinite { index, .. } => {
            Problem::unprocessable(&format!("close[{index}]"), e.to_string())
        }
        other => Problem::unprocessable("close", other.to_string()),
    })?;
    let n = req.close.len();
    let (mut percent_b, mut bandwidth) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let bands = match (
            series.upper.get(i),
            series.middle.get(i),
            series.lower.get(i),
        ) {
            (Some(u), Some(m), Some(l)) => Some((u, m, l)),
            _ => None,
        };
        percent_b.push(bands.map(|(u, _, l)| {
            if u > l {
                (req.close[i] - l) / (u - l)
            } else {
                0.5
            }
        }));
        bandwidth.push(bands.and_then(|(u, m, l)| (m != 0.0).then(|| (u - l) / m)));
    }
    Ok(Json(ComputeResponse {
        timestamps: req.timestamps,
        rsi: series.rsi.iter().collect(),
        bb_upper: series.upper.iter().collect(),
        bb_middle: series.middle.iter().collect(),
        bb_lower: series.lower.iter().collect(),
        percent_b,
        bandwidth,
        signal: series.position.clone(),
        reasons: series.reasons.iter().map(|r| r.iter().collect()).collect(),
    }))
}
