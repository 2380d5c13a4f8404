//! Value at risk and expected shortfall of each out-of-sample day, from the fitted law.
//!
//! With `μ` the fitted mean, `σ²_{t}` the one-step variance forecast for day `t` and `z` the
//! unit-variance standardised shock of the fitted distribution at its fitted shape
//! ([`garch_core::ShockLaw`]):
//!
//! * `VaR_a(t) = μ + σ_t·q_a`, `q_a` the `a`-quantile of `z` (a return quantile, negative in
//!   the left tail; normal `Φ⁻¹(a)`, Student-t `t_ν⁻¹(a)·√((ν−2)/ν)`, as `arch`'s `ppf`);
//! * `ES_a(t) = μ + σ_t·E[z | z ≤ q_a]`, the expected return on a day that exceeds the VaR;
//! * an exceedance on day `t` when `r_t < VaR_a(t)`.
//!
//! The quantile functions are garch-core's (one implementation for every service), not this
//! crate's.

use garch_core::{ModelSpec, ShockLaw};
use serde::{Deserialize, Serialize};

use crate::rolling::{BacktestError, DayForecast, Refit, conditional_mean, params_of, shape_of};

/// One out-of-sample day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Day {
    /// Index of the day in the return series.
    pub index: usize,
    /// Which refit's parameters forecast it (index into the backtest's refits).
    pub refit: usize,
    /// The realised return `r_t`.
    #[serde(rename = "return")]
    pub ret: f64,
    /// Fitted conditional mean of the day (`μ`, 0, or the AR forecast from the day before).
    pub mean: f64,
    /// One-step variance forecast `σ²_t` made at the close of day `t − 1`.
    pub variance: f64,
    /// Variance forecasts made at the same origin for the configured horizons `h` (the
    /// variance of day `t − 1 + h`); `None` where no closed form exists (EGARCH) or no horizon
    /// was asked.
    pub horizons: Option<Vec<f64>>,
    /// `VaR_a(t)` per configured level (ascending levels).
    pub var: Vec<f64>,
    /// `ES_a(t)` per level.
    pub es: Vec<f64>,
    /// `r_t < VaR_a(t)` per level.
    pub exceedance: Vec<bool>,
}

/// VaR and ES at `levels` of a day with conditional mean `mu` (see [`day_mean`]) and variance
/// forecast `variance` under a model with parameters `params` (`arch`'s order): `(VaR, ES)`,
/// one entry per level.
pub fn measures(
    spec: &ModelSpec,
    params: &[f64],
    mu: f64,
    variance: f64,
    levels: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), BacktestError> {
    let law = ShockLaw::new(spec.distribution, shape_of(spec, params))
        .map_err(|e| BacktestError::Law(e.to_string()))?;
    let sigma = variance.sqrt();
    Ok(levels
        .iter()
        .map(|&a| {
            (
                mu + sigma * law.quantile(a),
                mu + sigma * law.expected_shortfall(a),
            )
        })
        .unzip())
}

/// The conditional mean of day `t` of the returns `y` under `params`: `μ`, 0, or with an AR(p)
/// mean `c + Σ φ_i y_{t−i}` (`arch`'s one-step `forecast(...).mean` from origin `t − 1`).
pub fn day_mean(spec: &ModelSpec, params: &[f64], y: &[f64], t: usize) -> f64 {
    conditional_mean(spec, params, y, t)
}

/// The shock law of a refit, with its quantiles and tail means at `levels`.
pub(crate) struct TailTable {
    pub params: Vec<f64>,
    pub q: Vec<f64>,
    pub es: Vec<f64>,
}

/// The tail table of `refit`; its quantiles and tail means are `previous`'s when the shape
/// parameters are the same bits (always, for normal errors: the quantile is solved once per
/// run of refits, not once per refit).
pub(crate) fn tail_table(
    spec: &ModelSpec,
    refit: &Refit,
    levels: &[f64],
    previous: Option<&TailTable>,
) -> Result<TailTable, BacktestError> {
    let params = params_of(&refit.report);
    let shape = shape_of(spec, &params);
    if let Some(prev) = previous
        && shape
            .iter()
            .map(|v| v.to_bits())
            .eq(shape_of(spec, &prev.params).iter().map(|v| v.to_bits()))
    {
        return Ok(TailTable {
            q: prev.q.clone(),
            es: prev.es.clone(),
            params,
        });
    }
    let law =
        ShockLaw::new(spec.distribution, shape).map_err(|e| BacktestError::Law(e.to_string()))?;
    Ok(TailTable {
        q: levels.iter().map(|&a| law.quantile(a)).collect(),
        es: levels.iter().map(|&a| law.expected_shortfall(a)).collect(),
        params,
    })
}

/// Attaches returns, VaR, ES and exceedances to the raw days.
pub(crate) fn attach(
    y: &[f64],
    spec: &ModelSpec,
    levels: &[f64],
    refits: &[Refit],
    refit_offset: usize,
    raw: Vec<DayForecast>,
) -> Result<Vec<Day>, BacktestError> {
    let mut tables: Vec<TailTable> = Vec::with_capacity(refits.len());
    for r in refits {
        let table = tail_table(spec, r, levels, tables.last())?;
        tables.push(table);
    }
    Ok(raw
        .into_iter()
        .map(|d| {
            let tab = &tables[d.refit - refit_offset];
            let sigma = d.variance.sqrt();
            let ret = y[d.index];
            let mean = conditional_mean(spec, &tab.params, y, d.index);
            let var: Vec<f64> = tab.q.iter().map(|q| mean + sigma * q).collect();
            let es = tab.es.iter().map(|e| mean + sigma * e).collect();
            let exceedance = var.iter().map(|v| ret < *v).collect();
            Day {
                index: d.index,
                refit: d.refit,
                ret,
                mean,
                variance: d.variance,
                horizons: d.horizons,
                var,
                es,
                exceedance,
            }
        })
        .collect())
}
