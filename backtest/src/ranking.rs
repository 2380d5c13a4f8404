//! Which model to trust for an asset: every candidate backtested on the same days against the
//! same proxy, ranked by mean QLIKE (Patton 2011: the loss that ranks variance forecasts
//! consistently under a noisy proxy), each with the Diebold–Mariano test of its QLIKE series
//! against the best model's and its in-sample BIC (a fit on the whole series).
//!
//! QLIKE series are compared on the days where both are defined (the proxy is shared, so
//! these are the same days for every model).
//!
//! The candidates are independent, so they run on rayon; each candidate's numbers do not depend
//! on the scheduling. A candidate that cannot be backtested (a window no fit can estimate) is
//! reported beside the ranking instead of sinking it.

use garch_core::{FitOptions, ModelSpec, Returns, fit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::loss::{DieboldMariano, diebold_mariano};
use crate::rolling::BacktestError;
use crate::scheme::BacktestConfig;
use crate::{Evaluation, Summary, run};

/// One model's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedModel {
    /// 1 for the best mean QLIKE.
    pub rank: usize,
    /// The model.
    pub spec: ModelSpec,
    /// Mean QLIKE out of sample.
    pub mean_qlike: Option<f64>,
    /// Diebold–Mariano of this model's QLIKE against the best's (`None` for the best itself).
    pub dm_vs_best: Option<DieboldMariano>,
    /// In-sample BIC of a fit on the whole series (`None` if that fit failed).
    pub bic: Option<f64>,
    /// The backtest's coverage tests and losses.
    pub summary: Summary,
}

/// A ranking: the models that could be backtested, best first, and those that could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Best mean QLIKE first.
    pub ranked: Vec<RankedModel>,
    /// Candidates whose backtest failed, in input order, with the reason.
    pub failed: Vec<(ModelSpec, BacktestError)>,
}

/// Backtests each of `specs` on `returns` (in parallel on rayon's current pool) and ranks them
/// by mean QLIKE (ties and undefined QLIKE last, in input order). `realized` as in
/// [`crate::Backtest::evaluate`]. Fails only when the series or setting is unusable for every
/// candidate alike; a candidate's own failure goes into [`Ranking::failed`].
pub fn rank_models(
    returns: &[f64],
    specs: &[ModelSpec],
    config: &BacktestConfig,
    options: &FitOptions,
    realized: Option<&[Option<f64>]>,
) -> Result<Ranking, BacktestError> {
    config.check_len(returns.len())?;
    let full = Returns::new(returns.to_vec())?;
    let outcomes: Vec<Result<(Evaluation, Option<f64>), BacktestError>> = specs
        .par_iter()
        .map(|&spec| {
            let bt = run(returns, spec, config, options)?;
            let ev = bt.evaluate(realized)?;
            let bic = fit(&full, spec, options).ok().map(|m| m.report().bic);
            Ok((ev, bic))
        })
        .collect();
    let mut evaluated: Vec<(ModelSpec, Evaluation, Option<f64>)> = Vec::with_capacity(specs.len());
    let mut failed = Vec::new();
    for (&spec, outcome) in specs.iter().zip(outcomes) {
        match outcome {
            Ok((ev, bic)) => evaluated.push((spec, ev, bic)),
            Err(e) => failed.push((spec, e)),
        }
    }
    if evaluated.is_empty() {
        return Ok(Ranking {
            ranked: Vec::new(),
            failed,
        });
    }
    let mut order: Vec<usize> = (0..evaluated.len()).collect();
    order.sort_by(|&i, &j| {
        let key = |k: usize| evaluated[k].1.summary.qlike.unwrap_or(f64::INFINITY);
        key(i).total_cmp(&key(j))
    });
    let best = order[0];
    let paired = |a: &Evaluation, b: &Evaluation| -> (Vec<f64>, Vec<f64>) {
        a.qlike
            .iter()
            .zip(&b.qlike)
            .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
            .unzip()
    };
    let ranked = order
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let (spec, ev, bic) = &evaluated[i];
            let dm_vs_best = (i != best)
                .then(|| {
                    let (l, lb) = paired(ev, &evaluated[best].1);
                    diebold_mariano(&l, &lb, None)
                })
                .flatten();
            RankedModel {
                rank: r + 1,
                spec: *spec,
                mean_qlike: ev.summary.qlike,
                dm_vs_best,
                bic: *bic,
                summary: ev.summary.clone(),
            }
        })
        .collect();
    Ok(Ranking { ranked, failed })
}
