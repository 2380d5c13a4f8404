//! Many assets at once: the work is cut into (asset, block of consecutive windows) tasks that
//! run sequentially or on rayon, with bit-identical results either way.
//!
//! Determinism comes from the cut, not from the scheduler: each block starts cold from
//! `arch`'s grid at its first window and warm-starts its later windows from their
//! predecessors, so a block's result depends only on its asset, model, setting and window
//! range. The block length is therefore part of the setting (a run with blocks of 250 refits
//! may differ from one with a single block in the last digits where a warm start lands on a
//! slightly different point of the same optimum), and the same blocks are what the
//! distributed workers receive as chunks.

use std::ops::Range;

use garch_core::{FitOptions, ModelSpec, Returns};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Backtest;
use crate::risk::{Day, attach};
use crate::rolling::{BacktestError, DayForecast, Refit, run_windows};
use crate::scheme::{BacktestConfig, ConfigError, Window};

/// Sequential or rayon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// One task after another on the calling thread.
    Sequential,
    /// Tasks on rayon's current pool.
    Parallel,
}

/// The result of one block of consecutive windows of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Refits of the block (numbered across the whole asset).
    pub refits: Vec<Refit>,
    /// Days the block forecasts.
    pub path: Vec<Day>,
}

/// A block before its days' risk measures: the refits and each day's forecasts, what depends
/// on the estimation alone. With the series, [`Self::attach`] makes the [`Block`] (a
/// distributed worker sends this, in a fraction of the bytes, and the coordinator attaches).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockForecasts {
    /// Refits of the block (numbered across the whole asset).
    pub refits: Vec<Refit>,
    /// Forecasts of the days the block forecasts.
    pub days: Vec<DayForecast>,
}

impl BlockForecasts {
    /// The block: each day's return, mean, VaR, ES and exceedances from `y` (the whole
    /// series) at `levels`, computed as [`run_block`] computes them, so bit for bit its block;
    /// `refit_offset` is the index of the first refit among the asset's.
    pub fn attach(
        self,
        y: &[f64],
        spec: &ModelSpec,
        levels: &[f64],
        refit_offset: usize,
    ) -> Result<Block, BacktestError> {
        let Self { refits, days } = self;
        // A day needs its mean's lags in the series and its refit among these.
        let fits = |d: &DayForecast| {
            (spec.mean.hold_back()..y.len()).contains(&d.index)
                && (refit_offset..refit_offset + refits.len()).contains(&d.refit)
        };
        if let Some(d) = days.iter().find(|d| !fits(d)) {
            return Err(BacktestError::Block(format!(
                "day {} forecast by refit {} does not fit a series of {} and refits {}..{}",
                d.index,
                d.refit,
                y.len(),
                refit_offset,
                refit_offset + refits.len()
            )));
        }
        let path = attach(y, spec, levels, &refits, refit_offset, days)?;
        Ok(Block { refits, path })
    }
}

impl Block {
    /// The block without its days' risk measures (see [`BlockForecasts::attach`]).
    pub fn forecasts(&self) -> BlockForecasts {
        BlockForecasts {
            refits: self.refits.clone(),
            days: self
                .path
                .iter()
                .map(|d| DayForecast {
                    index: d.index,
                    refit: d.refit,
                    variance: d.variance,
                    horizons: d.horizons.clone(),
                })
                .collect(),
        }
    }
}

/// The window ranges (indices into `config.windows(len)`) of blocks of `block` refits.
pub fn blocks(
    config: &BacktestConfig,
    len: usize,
    block: usize,
) -> Result<Vec<Range<usize>>, ConfigError> {
    if block == 0 {
        return Err(ConfigError::BlockZero);
    }
    let n = config.windows(len).len();
    Ok((0..n)
        .step_by(block)
        .map(|s| s..(s + block).min(n))
        .collect())
}

/// Runs the consecutive `windows` of one series as a block; `refit_offset` is the index of the
/// first window among the asset's windows.
pub fn run_block(
    returns: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    windows: &[Window],
    refit_offset: usize,
) -> Result<Block, BacktestError> {
    run_block_with_progress(
        returns,
        spec,
        config,
        options,
        windows,
        refit_offset,
        &|| {},
    )
}

/// [`run_block`], calling `progress` after each refit (for progress bars).
pub fn run_block_with_progress(
    returns: &[f64],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    windows: &[Window],
    refit_offset: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Block, BacktestError> {
    let (refits, raw) = run_windows(
        returns,
        spec,
        config,
        options,
        windows,
        refit_offset,
        progress,
    )?;
    let path = attach(returns, &spec, config.levels(), &refits, refit_offset, raw)?;
    Ok(Block { refits, path })
}

/// [`run_block`] of the windows `range` (indices into `config.windows(offset + tail.len())`)
/// of a series of which only `tail = y[offset..]` is at hand: what a distributed worker
/// receives. Bit-identical to `run_block(y, …, &windows[range], range.start)`, indices
/// included (refit windows and day indices are those of the whole series), provided
/// `offset` is at most the first window's start: a block reads `y[w.start..]` of each of its
/// windows and nothing before (the forecast path's variance bounds come from the whole rest
/// of the series, so the tail must run to the end).
pub fn run_block_tail(
    tail: &[f64],
    offset: usize,
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    range: Range<usize>,
) -> Result<Block, BacktestError> {
    let refit_offset = range.start;
    let local = forecast_tail(tail, offset, spec, config, options, range)?;
    let mut block = local.attach(tail, &spec, config.levels(), refit_offset)?;
    let days = block.path.iter_mut().map(|d| &mut d.index);
    shift(&mut block.refits, days, offset);
    Ok(block)
}

/// [`run_block_tail`] without the days' risk measures (the block's
/// [`BlockForecasts`], indices of the whole series): what a distributed worker computes.
pub fn forecast_block_tail(
    tail: &[f64],
    offset: usize,
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    range: Range<usize>,
) -> Result<BlockForecasts, BacktestError> {
    let mut block = forecast_tail(tail, offset, spec, config, options, range)?;
    let days = block.days.iter_mut().map(|d| &mut d.index);
    shift(&mut block.refits, days, offset);
    Ok(block)
}

/// Moves refit windows and day indices of a tail starting at `offset` onto the whole series.
fn shift<'d>(refits: &mut [Refit], days: impl Iterator<Item = &'d mut usize>, offset: usize) {
    for w in refits.iter_mut().map(|r| &mut r.window) {
        w.start += offset;
        w.end += offset;
        w.forecast_end += offset;
    }
    days.for_each(|index| *index += offset);
}

/// The refits and day forecasts of the windows `range` on the tail `y[offset..]`, indices of
/// the tail (refits numbered from `range.start`).
fn forecast_tail(
    tail: &[f64],
    offset: usize,
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    range: Range<usize>,
) -> Result<BlockForecasts, BacktestError> {
    let len = offset + tail.len();
    config.check_len(len)?;
    let windows = config.windows(len);
    let first = windows.get(range.start).ok_or_else(|| {
        BacktestError::Block(format!(
            "windows {}..{} of {}",
            range.start,
            range.end,
            windows.len()
        ))
    })?;
    if range.is_empty() || range.end > windows.len() || first.start < offset {
        return Err(BacktestError::Block(format!(
            "windows {}..{} of {} starting at observation {} need the series from there, \
             got it from observation {offset}",
            range.start,
            range.end,
            windows.len(),
            first.start
        )));
    }
    let shifted: Vec<Window> = windows[range.clone()]
        .iter()
        .map(|w| Window {
            start: w.start - offset,
            end: w.end - offset,
            forecast_end: w.forecast_end - offset,
        })
        .collect();
    let (refits, days) = run_windows(tail, spec, config, options, &shifted, range.start, &|| {})?;
    Ok(BlockForecasts { refits, days })
}

/// An asset's windows and its blocks (ranges of window indices).
type Plan = (Vec<Window>, Vec<Range<usize>>);

/// Runs one model over many assets in blocks of `block` refits; one result per asset, in
/// order. Sequential and parallel runs give bit-identical results.
pub fn run_universe(
    assets: &[&[f64]],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    block: usize,
    execution: Execution,
) -> Vec<Result<Backtest, BacktestError>> {
    run_universe_until(assets, spec, config, options, block, execution, &|| false)
}

/// [`run_universe`], checking `stop` before each task: once it answers true, the remaining
/// tasks are skipped and their assets fail with [`BacktestError::Stopped`] (a service stops a
/// run whose caller went away).
pub fn run_universe_until(
    assets: &[&[f64]],
    spec: ModelSpec,
    config: &BacktestConfig,
    options: &FitOptions,
    block: usize,
    execution: Execution,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<Result<Backtest, BacktestError>> {
    // Validate every asset first; invalid ones get their error, the rest their tasks.
    let prepared: Vec<Result<Plan, BacktestError>> = assets
        .iter()
        .map(|y| {
            config.check_len(y.len())?;
            Returns::new(y.to_vec())?;
            Ok((config.windows(y.len()), blocks(config, y.len(), block)?))
        })
        .collect();
    let tasks: Vec<(usize, Range<usize>)> = prepared
        .iter()
        .enumerate()
        .filter_map(|(a, p)| p.as_ref().ok().map(|(_, b)| (a, b)))
        .flat_map(|(a, b)| b.iter().cloned().map(move |r| (a, r)))
        .collect();
    let task = |(a, r): &(usize, Range<usize>)| {
        if stop() {
            return Err(BacktestError::Stopped);
        }
        let windows = &prepared[*a]
            .as_ref()
            .expect("tasks come from valid assets")
            .0;
        run_block(
            assets[*a],
            spec,
            config,
            options,
            &windows[r.clone()],
            r.start,
        )
    };
    let results: Vec<Result<Block, BacktestError>> = match execution {
        Execution::Sequential => tasks.iter().map(task).collect(),
        Execution::Parallel => tasks.par_iter().map(task).collect(),
    };
    let mut results = results.into_iter();
    let mut tasks = tasks.iter().peekable();
    prepared
        .into_iter()
        .enumerate()
        .map(|(a, p)| {
            p?;
            let mut blocks = Vec::new();
            let mut first_err = None;
            while tasks.peek().is_some_and(|(ta, _)| *ta == a) {
                tasks.next();
                match results.next().expect("one result per task") {
                    Ok(b) => blocks.push(b),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            match first_err {
                Some(e) => Err(e),
                None => Ok(Backtest::from_blocks(spec, config, blocks)),
            }
        })
        .collect()
}
