//! Wire types of the backtest routes: `GET /v1/assets/{symbol}/backtest`,
//! `GET /v1/assets/{symbol}/models` and `POST /v1/backtests`, and the validation of their
//! settings into a [`BacktestConfig`].
//!
//! The documented patterns and bounds are exactly what the parsers accept, so the OpenAPI
//! document stays the contract (a fuzzer checks both directions).

use std::collections::BTreeMap;

use backtest::{BacktestConfig, ConfigError, RankedModel, Scheme, Zone};
use garch_core::ModelSpec;
use serde::{Deserialize, Serialize};
use svc_kit::problem::Problem;
use utoipa::{IntoParams, ToSchema};

use super::{
    dist_field_schema, dist_schema, mean_field_schema, mean_schema, model_field_schema,
    model_schema, parse_spec_with_lags,
};

/// Default estimation window (returns).
pub const DEFAULT_WINDOW: usize = 1000;
/// Largest window accepted.
pub const MAX_WINDOW: usize = 100_000;
/// Largest refit interval accepted.
pub const MAX_REFIT_EVERY: usize = 100_000;
/// Default VaR levels.
pub const DEFAULT_LEVELS: &str = "0.01,0.05";
/// Default number of path days returned.
pub const DEFAULT_LIMIT: usize = 250;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 1_000_000;
/// Default refits per task of a universe backtest: a block of 500 daily refits is ~25 ms of
/// work, the bundled universe still gives the pool ~75 tasks, and on the NATS workers half
/// as many chunks as blocks of 250 halve the per-chunk overhead (distributed on 2 local
/// workers went from 1.29× to 1.19× the time of rayon on 2 threads).
pub const DEFAULT_BLOCK: usize = 500;

/// The setting of a backtest in a query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacktestSettingQuery {
    /// Estimation window in returns (default 1000; the initial window when `expanding`).
    #[param(minimum = 100, maximum = 100_000)]
    pub window: Option<usize>,
    /// Returns between refits (default 1: daily re-estimation).
    #[param(minimum = 1, maximum = 100_000)]
    pub refit_every: Option<usize>,
    /// Expanding instead of rolling windows (default false).
    pub expanding: Option<bool>,
    /// VaR levels: up to 8 comma-separated left-tail probabilities in (0, 0.5), e.g.
    /// `0.01,0.05` (the default); a level given twice counts once.
    #[param(
        example = "0.01,0.05",
        pattern = r"^0?\.([1-4][0-9]*|0+[1-9][0-9]*)(,0?\.([1-4][0-9]*|0+[1-9][0-9]*)){0,7}$"
    )]
    pub levels: Option<String>,
}

/// Query of `GET /v1/assets/{symbol}/backtest`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacktestQuery {
    /// `garch` (default), `gjr` or `egarch`.
    #[param(schema_with = model_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[param(schema_with = dist_schema)]
    pub dist: Option<String>,
    /// `constant` (default) or `zero`.
    #[param(schema_with = mean_schema)]
    pub mean: Option<String>,
    /// AR order of `mean=ar`, 1–10 (only with `mean=ar`).
    #[param(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Estimation window in returns (default 1000; the initial window when `expanding`).
    #[param(minimum = 100, maximum = 100_000)]
    pub window: Option<usize>,
    /// Returns between refits (default 1: daily re-estimation).
    #[param(minimum = 1, maximum = 100_000)]
    pub refit_every: Option<usize>,
    /// Expanding instead of rolling windows (default false).
    pub expanding: Option<bool>,
    /// VaR levels: up to 8 comma-separated left-tail probabilities in (0, 0.5), e.g.
    /// `0.01,0.05` (the default); a level given twice counts once.
    #[param(
        example = "0.01,0.05",
        pattern = r"^0?\.([1-4][0-9]*|0+[1-9][0-9]*)(,0?\.([1-4][0-9]*|0+[1-9][0-9]*)){0,7}$"
    )]
    pub levels: Option<String>,
    /// How many of the last out-of-sample days to return in `path` (default 250; 0: the
    /// summary only). The summary always covers every day.
    #[param(minimum = 0, maximum = 1_000_000)]
    pub limit: Option<usize>,
}

impl BacktestQuery {
    /// The model, the setting and the limit, or a problem naming the bad parameter.
    pub fn parse(&self) -> Result<(ModelSpec, BacktestConfig, usize), Problem> {
        let spec = parse_spec_with_lags(
            self.model.as_deref(),
            self.dist.as_deref(),
            self.mean.as_deref(),
            self.lags,
        )?;
        let config = parse_setting(
            self.window,
            self.refit_every,
            self.expanding,
            self.levels.as_deref(),
        )?;
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit > MAX_LIMIT {
            return Err(Problem::invalid_parameter(
                "limit",
                format!("limit must be at most {MAX_LIMIT}, got {limit}"),
            ));
        }
        Ok((spec, config, limit))
    }
}

impl BacktestSettingQuery {
    /// The setting, or a problem naming the bad parameter.
    pub fn parse(&self) -> Result<BacktestConfig, Problem> {
        parse_setting(
            self.window,
            self.refit_every,
            self.expanding,
            self.levels.as_deref(),
        )
    }
}

/// Validates a backtest setting (defaults: window 1000, daily refits, rolling, 1 % and 5 %).
pub fn parse_setting(
    window: Option<usize>,
    refit_every: Option<usize>,
    expanding: Option<bool>,
    levels: Option<&str>,
) -> Result<BacktestConfig, Problem> {
    let window = window.unwrap_or(DEFAULT_WINDOW);
    if window > MAX_WINDOW {
        return Err(Problem::invalid_parameter(
            "window",
            format!("window must be at most {MAX_WINDOW}, got {window}"),
        ));
    }
    let refit_every = refit_every.unwrap_or(1);
    if refit_every > MAX_REFIT_EVERY {
        return Err(Problem::invalid_parameter(
            "refit_every",
            format!("refit_every must be at most {MAX_REFIT_EVERY}, got {refit_every}"),
        ));
    }
    let scheme = if expanding.unwrap_or(false) {
        Scheme::Expanding
    } else {
        Scheme::Rolling
    };
    let levels = parse_var_levels(levels.unwrap_or(DEFAULT_LEVELS))?;
    BacktestConfig::new(scheme, window, refit_every, &levels, &[]).map_err(config_problem)
}

/// A setting error as a 400 naming its field.
pub fn config_problem(e: ConfigError) -> Problem {
    Problem::invalid_parameter(e.field(), e.to_string())
}

/// `levels` of a backtest: the documented grammar (decimals in (0, 0.5)), at most 8, each
/// once (a repeated level is dropped, not an error: it asks for nothing new).
fn parse_var_levels(text: &str) -> Result<Vec<f64>, Problem> {
    let items: Vec<&str> = text.split(',').collect();
    if items.len() > backtest::scheme::MAX_LEVELS {
        return Err(Problem::invalid_parameter(
            "levels",
            format!(
                "at most {} levels, got {}",
                backtest::scheme::MAX_LEVELS,
                items.len()
            ),
        ));
    }
    let mut levels: Vec<f64> = Vec::with_capacity(items.len());
    for item in items {
        let level = super::open_unit_decimal(item)
            .filter(|l| *l < 0.5)
            .ok_or_else(|| {
                Problem::invalid_parameter(
                    "levels",
                    format!("'{item}' is not a decimal in (0, 0.5) (e.g. 0.01)"),
                )
            })?;
        if !levels.contains(&level) {
            levels.push(level);
        }
    }
    Ok(levels)
}

/// How `POST /v1/backtests` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BacktestMode {
    /// One task after another on one thread.
    Sequential,
    /// The tasks on a rayon pool of all cores.
    Parallel,
    /// The tasks as chunks on the NATS JetStream workers.
    Distributed,
}

/// Body of `POST /v1/backtests`: a backtest of every symbol of the data set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mode": "parallel", "model": "garch", "dist": "normal", "window": 1000, "refit_every": 1}))]
pub struct UniverseBacktestRequest {
    /// Execution mode.
    pub mode: BacktestMode,
    /// `garch` (default), `gjr` or `egarch`.
    #[schema(schema_with = model_field_schema)]
    pub model: Option<String>,
    /// `normal` (default), `t`, `skewt` or `ged`.
    #[schema(schema_with = dist_field_schema)]
    pub dist: Option<String>,
    /// `constant` (default) or `zero`.
    #[schema(schema_with = mean_field_schema)]
    pub mean: Option<String>,
    /// AR order of `mean=ar`, 1–10 (only with `mean=ar`).
    #[schema(minimum = 1, maximum = 10)]
    pub lags: Option<usize>,
    /// Estimation window in returns (default 1000).
    #[schema(minimum = 100, maximum = 100_000)]
    pub window: Option<usize>,
    /// Returns between refits (default 1).
    #[schema(minimum = 1, maximum = 100_000)]
    pub refit_every: Option<usize>,
    /// Expanding instead of rolling windows (default false).
    pub expanding: Option<bool>,
    /// VaR levels as in the query parameter (default `0.01,0.05`).
    #[schema(
        example = "0.01,0.05",
        pattern = r"^0?\.([1-4][0-9]*|0+[1-9][0-9]*)(,0?\.([1-4][0-9]*|0+[1-9][0-9]*)){0,7}$"
    )]
    pub levels: Option<String>,
    /// Consecutive refits per task (default 500): the unit of work of the rayon pool and of
    /// the NATS chunks. Each task starts cold from the grid, so results depend on it (and on
    /// nothing else: every mode gives the same bits for the same block).
    #[schema(minimum = 1, maximum = 100_000)]
    pub block: Option<usize>,
}

impl UniverseBacktestRequest {
    /// The model, the setting and the block, or a problem naming the bad field.
    pub fn parse(&self) -> Result<(ModelSpec, BacktestConfig, usize), Problem> {
        let spec = parse_spec_with_lags(
            self.model.as_deref(),
            self.dist.as_deref(),
            self.mean.as_deref(),
            self.lags,
        )?;
        let config = parse_setting(
            self.window,
            self.refit_every,
            self.expanding,
            self.levels.as_deref(),
        )?;
        let block = self.block.unwrap_or(DEFAULT_BLOCK);
        if !(1..=100_000).contains(&block) {
            return Err(Problem::invalid_parameter(
                "block",
                format!("block must be between 1 and 100000 refits, got {block}"),
            ));
        }
        Ok((spec, config, block))
    }
}

/// One symbol of a universe backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssetBacktestSummary {
    /// Ticker.
    pub symbol: String,
    /// Why it could not be backtested (too short for the window, a window no fit could
    /// estimate, no worker answered); the other fields are then empty.
    pub error: Option<String>,
    /// Estimation windows.
    pub refits: usize,
    /// Of which not converged (their status says why; their forecasts are still used).
    pub unconverged: usize,
    /// Out-of-sample days.
    pub days: usize,
    /// Exceedances per VaR level.
    pub exceedances: BTreeMap<String, usize>,
    /// Kupiec's p-value per level (levels whose statistic is undefined are left out).
    pub kupiec_p_value: BTreeMap<String, f64>,
    /// Christoffersen's conditional-coverage p-value per level (levels whose statistic is
    /// undefined are left out).
    pub christoffersen_p_value: BTreeMap<String, f64>,
    /// Basel zone of the last 250 days at 1 %.
    pub traffic_light: Option<Zone>,
    /// Mean QLIKE against the variance proxy.
    pub qlike: Option<f64>,
    /// FNV-1a digest of every number of the backtest (estimates, log-likelihoods, forecasts,
    /// VaR, ES), hex: equal digests across modes mean bit-identical results.
    pub digest: Option<String>,
}

/// Distributed execution facts of a universe backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DistributedStats {
    /// Workers that computed chunks.
    pub workers: Vec<String>,
    /// Chunks published.
    pub chunks: usize,
    /// Chunk results that came from a redelivery (a worker was lost or slow).
    pub redelivered_chunks: usize,
    /// Results dropped as duplicates.
    pub duplicate_results: usize,
}

/// Answer of `POST /v1/backtests`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UniverseBacktestResponse {
    /// How it ran.
    pub mode: BacktestMode,
    /// The model.
    pub spec: ModelSpec,
    /// The setting.
    pub config: BacktestConfig,
    /// Refits per task.
    pub block: usize,
    /// Threads (parallel), 1 (sequential) or the workers' (distributed: `null`).
    pub threads: Option<usize>,
    /// Wall time of the whole job in seconds.
    pub total_seconds: f64,
    /// Refits in all.
    pub refits: usize,
    /// Refits per second of wall time.
    pub refits_per_second: f64,
    /// Digest over every symbol's digest: equal across modes iff all results are.
    pub digest: String,
    /// One per symbol, in symbol order.
    pub assets: Vec<AssetBacktestSummary>,
    /// Present in distributed mode.
    pub distributed: Option<DistributedStats>,
}

/// Answer of `GET /v1/assets/{symbol}/models`: the candidate models ranked by mean QLIKE.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelRanking {
    /// Ticker.
    pub symbol: String,
    /// The setting every candidate was backtested with.
    pub config: BacktestConfig,
    /// Out-of-sample days (the same for every candidate).
    pub days: usize,
    /// Best first.
    pub models: Vec<RankedModel>,
    /// Candidates that could not be backtested, with the reason.
    pub failed: Vec<FailedModel>,
}

/// A candidate that could not be backtested.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailedModel {
    /// The model.
    pub spec: ModelSpec,
    /// Why.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_documented_grammar() {
        let re_ok = ["0.01", ".05", "0.01,0.05", "0.499", "0.001,0.01,0.01"];
        for t in re_ok {
            assert!(parse_var_levels(t).is_ok(), "{t}");
        }
        assert_eq!(
            parse_var_levels("0.05,0.01,0.05").unwrap(),
            vec![0.05, 0.01]
        );
        for t in [
            "0.5", "0", "0.0", ".", "1", "5e-2", "0.01,", ",0.01", "0.6", "-0.01", "0.01 ",
        ] {
            assert!(parse_var_levels(t).is_err(), "{t}");
        }
        assert!(parse_var_levels(&["0.01"; 9].join(",")).is_err());
    }

    #[test]
    fn settings_name_their_field() {
        let field = |r: Result<BacktestConfig, Problem>| r.unwrap_err().field;
        assert_eq!(
            field(parse_setting(Some(99), None, None, None)).as_deref(),
            Some("window")
        );
        assert_eq!(
            field(parse_setting(None, Some(0), None, None)).as_deref(),
            Some("refit_every")
        );
        assert_eq!(
            field(parse_setting(None, None, None, Some("0.7"))).as_deref(),
            Some("levels")
        );
        let c = parse_setting(None, None, Some(true), None).unwrap();
        assert_eq!(c.scheme(), Scheme::Expanding);
        assert_eq!(c.levels(), &[0.01, 0.05]);
    }
}

/// Answer 202 of the backtest routes: the computation is running; ask again after
/// `retry_after` seconds (also in the `Retry-After` header) for the cached result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pending {
    /// Always `pending`.
    pub status: String,
    /// What is being computed.
    pub detail: String,
    /// Seconds after which to ask again.
    pub retry_after: u64,
}
