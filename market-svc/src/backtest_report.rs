//! The JSON face of a backtest, shared by `market-svc backtest --format json` and the REST
//! routes (`GET /v1/assets/{symbol}/backtest`, `POST /v1/backtests`), so a backtest reads the
//! same wherever it was run.
//!
//! The library's [`backtest::Backtest`] speaks in indices and per-level vectors; here days and
//! windows carry their dates and the per-level numbers are keyed by the level (`"0.01"`), which
//! is what a reader of JSON wants. The summary (coverage tests, losses) always covers every
//! out-of-sample day, also when the path is cut to its last days ([`BacktestReport::last_days`]).

use std::collections::BTreeMap;

use backtest::{Backtest, BacktestConfig, Evaluation, MincerZarnowitz, Proxy, Start, TrafficLight};
use garch_core::{ModelSpec, ParameterEstimate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One estimation window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefitOut {
    /// Date of the first return of the window.
    pub first_date: String,
    /// Date of the last return of the window.
    pub last_date: String,
    /// Estimates, as `fit` reports them.
    pub params: Vec<ParameterEstimate>,
    /// Log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Whether the optimiser converged (a KKT point of the constrained problem).
    pub converged: bool,
    /// `cold`, `warm` or `warm_fell_back`.
    pub start: Start,
}

/// One out-of-sample day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DayOut {
    /// Date of the return.
    pub date: String,
    /// The return (percent).
    #[serde(rename = "return")]
    pub ret: f64,
    /// One-step variance forecast made the day before (percent²).
    pub variance: f64,
    /// Variance forecasts for the requested horizons (`h` → variance), when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizons: Option<BTreeMap<usize, f64>>,
    /// VaR per level: the return quantile (negative in the left tail).
    pub var: BTreeMap<String, f64>,
    /// Expected shortfall per level: the expected return below the VaR.
    pub es: BTreeMap<String, f64>,
    /// Whether the return fell below the VaR, per level.
    pub exceedance: BTreeMap<String, bool>,
    /// The variance proxy of the day.
    pub proxy: f64,
    /// `realized_variance` or `squared_return`.
    pub proxy_kind: Proxy,
}

/// A coverage test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestOut {
    /// Likelihood ratio (`null` where the statistic is undefined).
    pub lr: Option<f64>,
    /// Its p-value (`null` where the statistic is undefined).
    pub p_value: Option<f64>,
    /// Exceedances observed.
    pub exceedances: usize,
    /// Exceedances expected.
    pub expected: f64,
}

/// Christoffersen's two tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChristoffersenOut {
    /// Independence (χ²(1)).
    pub independence: TestOut,
    /// Conditional coverage (strict form on the same transitions, χ²(2)).
    pub conditional_coverage: TestOut,
}

/// A backtest of one symbol: its windows, its days and their evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestReport {
    /// Symbol.
    pub symbol: String,
    /// The model.
    pub spec: ModelSpec,
    /// The setting.
    pub config: BacktestConfig,
    /// Estimation windows in all.
    pub refit_count: usize,
    /// Out-of-sample days in all (the summary covers them all).
    pub days: usize,
    /// Estimation windows, oldest first (those forecasting `path` when it was cut).
    pub refits: Vec<RefitOut>,
    /// Out-of-sample days, oldest first (the last `limit` when a limit was asked).
    pub path: Vec<DayOut>,
    /// Kupiec's unconditional coverage per level.
    pub kupiec: BTreeMap<String, TestOut>,
    /// Christoffersen's tests per level.
    pub christoffersen: BTreeMap<String, ChristoffersenOut>,
    /// Basel zone of the last 250 days of the 1 % VaR (needs that level and 250 days).
    pub traffic_light: Option<TrafficLight>,
    /// Mean QLIKE (days with a positive proxy).
    pub qlike: Option<f64>,
    /// Mean MSE.
    pub mse: Option<f64>,
    /// Mincer–Zarnowitz regression of the proxy on the one-step forecast.
    pub mincer_zarnowitz: Option<MincerZarnowitz>,
    /// Days whose proxy was intraday realized variance (plus the squared overnight return).
    pub realized_variance_days: usize,
    /// Days whose proxy was the squared daily return.
    pub squared_return_days: usize,
}

/// `Some` for a finite number: JSON has no NaN, and `null` says "undefined" honestly.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// A level as a JSON key: `0.01`.
pub fn level_key(level: f64) -> String {
    format!("{level}")
}

impl BacktestReport {
    /// The report of `bt` evaluated as `ev`; `dates` are the dates of the returns `bt` ran on.
    pub fn new(
        symbol: &str,
        dates: &[String],
        bt: &Backtest,
        ev: &Evaluation,
        config: &BacktestConfig,
    ) -> Self {
        let s = &ev.summary;
        let keyed = |values: &[f64]| -> BTreeMap<String, f64> {
            bt.levels
                .iter()
                .map(|a| level_key(*a))
                .zip(values.iter().copied())
                .collect()
        };
        let test = |lr: f64, p_value: f64, exceedances, expected| TestOut {
            lr: finite(lr),
            p_value: finite(p_value),
            exceedances,
            expected,
        };
        Self {
            symbol: symbol.to_string(),
            spec: bt.spec,
            config: config.clone(),
            refit_count: bt.refits.len(),
            days: bt.path.len(),
            refits: bt
                .refits
                .iter()
                .map(|r| RefitOut {
                    first_date: dates[r.window.start].clone(),
                    last_date: dates[r.window.end - 1].clone(),
                    params: r.report.params.clone(),
                    log_likelihood: r.report.log_likelihood,
                    converged: r.report.converged,
                    start: r.start,
                })
                .collect(),
            path: bt
                .path
                .iter()
                .enumerate()
                .map(|(i, d)| DayOut {
                    date: dates[d.index].clone(),
                    ret: d.ret,
                    variance: d.variance,
                    horizons: d
                        .horizons
                        .as_ref()
                        .map(|h| bt.horizons.iter().copied().zip(h.iter().copied()).collect()),
                    var: keyed(&d.var),
                    es: keyed(&d.es),
                    exceedance: bt
                        .levels
                        .iter()
                        .map(|a| level_key(*a))
                        .zip(d.exceedance.iter().copied())
                        .collect(),
                    proxy: ev.proxy[i],
                    proxy_kind: ev.proxy_kind[i],
                })
                .collect(),
            kupiec: s
                .kupiec
                .iter()
                .map(|k| {
                    (
                        level_key(k.level),
                        test(k.lr, k.p_value, k.exceedances, k.expected),
                    )
                })
                .collect(),
            christoffersen: s
                .christoffersen
                .iter()
                .map(|c| {
                    (
                        level_key(c.level),
                        ChristoffersenOut {
                            independence: test(c.lr_ind, c.p_value_ind, c.exceedances, c.expected),
                            conditional_coverage: test(
                                c.lr_cc,
                                c.p_value_cc,
                                c.exceedances,
                                c.expected,
                            ),
                        },
                    )
                })
                .collect(),
            traffic_light: s.traffic_light,
            qlike: s.qlike,
            mse: finite(s.mse),
            mincer_zarnowitz: s.mincer_zarnowitz,
            realized_variance_days: s.realized_variance_days,
            squared_return_days: s.squared_return_days,
        }
    }

    /// The report with the last `limit` days of the path and the windows that forecast them;
    /// the summary still covers every day. Copies only what it keeps (a cached report of
    /// thousands of days is served many times with a short limit).
    pub fn last_days(&self, bt: &Backtest, limit: usize) -> Self {
        let cut = self.path.len().saturating_sub(limit);
        // The first kept day's refit, or every refit when no day is kept.
        let first_refit = bt.path.get(cut).map_or(self.refits.len(), |d| d.refit);
        Self {
            symbol: self.symbol.clone(),
            spec: self.spec,
            config: self.config.clone(),
            refit_count: self.refit_count,
            days: self.days,
            refits: self.refits[first_refit..].to_vec(),
            path: self.path[cut..].to_vec(),
            kupiec: self.kupiec.clone(),
            christoffersen: self.christoffersen.clone(),
            traffic_light: self.traffic_light,
            qlike: self.qlike,
            mse: self.mse,
            mincer_zarnowitz: self.mincer_zarnowitz,
            realized_variance_days: self.realized_variance_days,
            squared_return_days: self.squared_return_days,
        }
    }
}
