//! The fused RSI + Bollinger + signal kernel, and many-asset batches.
//!
//! [`compute_into`] makes one pass over the closes and writes every output. The first
//! `max(rsi_period, bb_period − 1) + 1` bars go through [`IndicatorState`] itself; the
//! rest (the steady state, where both indicators exist) run in blocks of 256 bars
//! (starting at multiples of 256, so that blocks are made of whole groups of four),
//! each in passes over data that stays in L1:
//!
//! 0. the **RSI** of the block, four bars per AVX2 register in one pass
//!    ([`rsi`](mod@super::rsi): the Wilder recurrence unrolled four times, its state
//!    carried in registers from group to group);
//! 1. the drift-free shifted **Bollinger sums** (see [`bollinger`](mod@super::bollinger)),
//!    a group of four bars per AVX2 register: each bar's raw state (shift, `Σ(x−K)`,
//!    `n·σ²`). A group is a prefix sum across its lanes plus the sums carried from the
//!    previous group, so the only serial chain is one vector add per four bars; the
//!    rare group whose error bound asks for an early re-seed is redone bar by bar;
//! 2. a **finishing pass**, four bars per register: `σ = √(n·σ²/n)`, `middle ± k·σ`
//!    (TA-Lib's `ta_BBANDS.c` operation order), each bar's condition reasons (built in
//!    the register and packed into one 64-bit store per four bars) and the block's
//!    signal events as bit masks (one bit per bar: the two entries and the two sides of
//!    the middle band). Exactly flat windows (σ = 0) are found here from the closes; a
//!    block without two equal consecutive closes has none, and one with them takes the
//!    bar-by-bar path;
//! 3. the **state machine** (`signal::run_events`) finds the next bar that moves the
//!    position 64 bars at a time with bit operations and fills the held position in
//!    between; [`transition`](super::signal) runs only on the bars that move it.
//!
//! Cost model (callgrind, 10⁶ random-walk bars; instructions per bar): RSI 9, the
//! finishing pass 15, the Bollinger groups 24.3 plus 7.2 in the periodic re-seeds,
//! the state machine 2.6, flat-window scan and input check 3.2 — about 62 in all,
//! against 91 for the serial design this replaced (one chain of dependent additions per
//! bar, with the state machine's table chain beside it). The count is not the whole
//! story: on a core that splits 256-bit operations in two (AMD Zen 1), halving the
//! RSI's instructions saved about 4 % of the wall time, the rest of its pass waiting on
//! the one division per bar, and the Bollinger groups on their prefix-scan chain.
//!
//! Every arithmetic step is an operation the streaming state performs in the same
//! order (`RsiCore`, `BbCore::slide_sums`, `middle_sigma`, `band_edges`,
//! `SignalCore::conditions` — the AVX2 forms in `simd` are lane-by-lane copies), and
//! the state machine applies the one `transition` function that `SignalCore::step`
//! uses, so results are bit-identical to streaming (tested with `f64::to_bits`).
//!
//! Throughput across assets comes from [`compute_many_par`] (rayon, one task per
//! series): the RSI recurrence is serial within a series, so one series cannot be
//! split without changing its floating-point results.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bollinger::{
    BLOCK, BandsPoint, BbCore, BollingerParams, RawBands, band_edges, block_end, flat_windows,
    middle_sigma, percent_b_value, slide_block,
};
use super::rsi::{RsiCore, check_period, rsi_steps};
use super::signal::{
    Events, ReasonSet, Signal, SignalConfig, SignalCore, SignalSummary, run_events,
};
use super::stream::IndicatorState;
use super::{IndicatorError, Series, check_finite, check_len};

/// Parameters of the combined computation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IndicatorConfig {
    /// RSI period (default 14).
    pub rsi_period: usize,
    /// Bollinger parameters (default 20, 2, 2).
    pub bollinger: BollingerParams,
    /// RSI thresholds (default 30/70).
    pub signal: SignalConfig,
}

impl Default for IndicatorConfig {
    /// [`IndicatorConfig::standard`] (a derived default would give an invalid RSI period of 0).
    fn default() -> Self {
        Self::standard()
    }
}

impl IndicatorConfig {
    /// The defaults: RSI(14), BB(20, 2), thresholds 30/70.
    pub fn standard() -> Self {
        Self {
            rsi_period: 14,
            bollinger: BollingerParams::default(),
            signal: SignalConfig::default(),
        }
    }

    /// Validates every parameter (errors name the parameter).
    pub fn validate(&self) -> Result<(), IndicatorError> {
        check_period("rsi_period", self.rsi_period)?;
        self.bollinger.validate()?;
        self.signal.validate()
    }
}

/// First valid index of each indicator in a [`compute_into`] output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FirstValid {
    /// First valid RSI index (`rsi_period`, or `len` if too short).
    pub rsi: usize,
    /// First valid band index (`bb_period − 1`, or `len` if too short).
    pub bands: usize,
}

/// Caller-provided output slices for [`compute_into`]; each must have the input's length.
#[derive(Debug)]
pub struct IndicatorBuffers<'a> {
    /// RSI (NaN during warm-up).
    pub rsi: &'a mut [f64],
    /// Upper band (NaN during warm-up).
    pub upper: &'a mut [f64],
    /// Middle band (NaN during warm-up).
    pub middle: &'a mut [f64],
    /// Lower band (NaN during warm-up).
    pub lower: &'a mut [f64],
    /// Position after each bar.
    pub position: &'a mut [Signal],
    /// Reasons that fired on each bar.
    pub reasons: &'a mut [ReasonSet],
}

/// Allocated result of [`compute`].
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct IndicatorSeries {
    /// RSI per bar.
    pub rsi: Series,
    /// Upper band per bar.
    pub upper: Series,
    /// Middle band per bar.
    pub middle: Series,
    /// Lower band per bar.
    pub lower: Series,
    /// Position after each bar.
    pub position: Vec<Signal>,
    /// Reasons per bar.
    pub reasons: Vec<ReasonSet>,
}

impl IndicatorSeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.position.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.position.is_empty()
    }

    /// Summary of the last bar; `close` must be the series the indicators were computed
    /// from (for the close, %B). `None` for an empty series or a length mismatch.
    pub fn latest(&self, close: &[f64]) -> Option<SignalSummary> {
        if close.len() != self.len() || self.is_empty() {
            return None;
        }
        let i = self.len() - 1;
        let position = self.position[i];
        let position_since = (position != Signal::Flat).then(|| {
            self.position[..=i]
                .iter()
                .rposition(|&p| p != position)
                .map_or(0, |j| j + 1)
        });
        let (upper, middle, lower) = (self.upper.get(i), self.middle.get(i), self.lower.get(i));
        let bands = match (upper, middle, lower) {
            (Some(u), Some(m), Some(l)) => Some((u, m, l)),
            _ => None,
        };
        Some(SignalSummary {
            index: i,
            close: close[i],
            rsi: self.rsi.get(i),
            upper,
            middle,
            lower,
            percent_b: bands.map(|(u, _, l)| percent_b_value(close[i], u, l)),
            bandwidth: bands.and_then(|(u, m, l)| (m != 0.0).then(|| (u - l) / m)),
            position,
            reasons: self.reasons[i],
            position_since,
        })
    }
}

/// Fused RSI + Bollinger + signal over `close`, writing into `out`; returns the first
/// valid indices. Validates the configuration, the buffer lengths and the input.
pub fn compute_into(
    close: &[f64],
    config: &IndicatorConfig,
    out: IndicatorBuffers<'_>,
) -> Result<FirstValid, IndicatorError> {
    config.validate()?;
    let len = close.len();
    check_len("rsi", len, out.rsi.len())?;
    check_len("upper", len, out.upper.len())?;
    check_len("middle", len, out.middle.len())?;
    check_len("lower", len, out.lower.len())?;
    check_len("position", len, out.position.len())?;
    check_len("reasons", len, out.reasons.len())?;
    check_finite("close", close)?;
    let state = IndicatorState::new(*config)?;
    Ok(fused_kernel(close, state, out))
}

fn fused_kernel(close: &[f64], mut state: IndicatorState, out: IndicatorBuffers<'_>) -> FirstValid {
    let config = *state.config();
    let len = close.len();
    let nr = config.rsi_period;
    let nb = config.bollinger.period;
    let first = FirstValid {
        rsi: nr.min(len),
        bands: (nb - 1).min(len),
    };
    // Warm-up (and the first bar where both indicators exist) via the streaming state.
    let warm = (nr.max(nb - 1) + 1).min(len);
    for (i, &x) in close[..warm].iter().enumerate() {
        let p = state.push(x);
        out.rsi[i] = p.rsi.unwrap_or(f64::NAN);
        let b = p.bands.unwrap_or(BandsPoint {
            middle: f64::NAN,
            upper: f64::NAN,
            lower: f64::NAN,
            sigma: f64::NAN,
        });
        out.upper[i] = b.upper;
        out.middle[i] = b.middle;
        out.lower[i] = b.lower;
        out.position[i] = p.position;
        out.reasons[i] = p.reasons;
    }
    if warm < len {
        let (rsi_state, bb_state, signal) = state.into_parts();
        steady(
            close,
            warm,
            rsi_state.core(),
            bb_state.into_core(),
            signal,
            out,
        );
    }
    first
}

/// The steady state (both indicators valid at every bar), in blocks of up to [`BLOCK`]
/// bars, each in passes over data that stays in L1:
///
/// 0. the RSI of the block by its four-lane passes (`rsi_steps`);
/// 1. the Bollinger sums, a group of four bars at a time (`slide_block`), keeping each
///    bar's raw state;
/// 2. a finishing pass with independent iterations turns the raw state into the bands,
///    each bar's condition reasons and the block's signal [`Events`] (`finish`);
/// 3. the state machine (`run_events`), which skips from one change of position to the
///    next 64 bars at a time.
fn steady(
    close: &[f64],
    start: usize,
    mut rsi_core: RsiCore,
    mut bands: BbCore,
    signal: SignalCore,
    out: IndicatorBuffers<'_>,
) {
    let len = close.len();
    let IndicatorBuffers {
        rsi,
        upper,
        middle,
        lower,
        position,
        reasons,
    } = out;
    let mut raw = RawBands::new();
    let mut flat = Box::new([false; BLOCK]);
    let mut events = Events::default();
    let mut held = signal.position;
    let mut b0 = start;
    while b0 < len {
        let b1 = block_end(b0, len);
        let m = b1 - b0;
        rsi_steps(&mut rsi_core, close, b0, b1, rsi);
        slide_block(&mut bands, close, b0, b1, &mut raw);
        events.clear();
        finish(
            Block {
                raw: &raw,
                flat: &mut flat[..m],
                close,
                b0,
                rsi: &rsi[b0..b1],
            },
            &bands,
            &signal,
            &mut events,
            (&mut upper[b0..b1], &mut middle[b0..b1], &mut lower[b0..b1]),
            &mut reasons[b0..b1],
        );
        held = run_events(
            &events,
            m,
            held,
            &mut position[b0..b1],
            &mut reasons[b0..b1],
        );
        b0 = b1;
    }
}

/// The inputs of [`finish`] for the block of `rsi.len()` bars starting at `b0`.
struct Block<'a> {
    raw: &'a RawBands,
    flat: &'a mut [bool],
    close: &'a [f64],
    b0: usize,
    rsi: &'a [f64],
}

/// Bands, condition reasons and signal events of a block from its raw state, with
/// independent iterations: `middle_sigma`, `band_edges` and `SignalCore::conditions`,
/// the functions the streaming state calls — four bars at a time in AVX2 registers
/// where the target has them (`simd::finish_group`, the same operations). Exactly flat
/// windows (σ = 0, middle = the close, as `BbCore::point`) are found here from the
/// closes (a block without two equal consecutive closes has none); a block with one
/// takes the bar-by-bar path.
#[inline(always)]
fn finish(
    block: Block<'_>,
    bb: &BbCore,
    signal: &SignalCore,
    events: &mut Events,
    (upper, middle, lower): (&mut [f64], &mut [f64], &mut [f64]),
    reasons: &mut [ReasonSet],
) {
    let Block {
        raw,
        flat,
        close,
        b0,
        rsi,
    } = block;
    let m = rsi.len();
    let (n, inv_n, k_up, k_dn) = (bb.n, bb.inv_n, bb.k_up, bb.k_dn);
    let xs = &close[b0..b0 + m];
    let has_flat = flat_windows(close, b0, n, flat);
    #[allow(unused_mut)]
    let mut t = 0;
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    if !has_flat {
        use super::simd::finish_group;
        while t + 4 <= m {
            let four = |s: &[f64]| -> [f64; 4] { s[t..t + 4].try_into().expect("four bars") };
            let ([up, mid, lo], group_events, why) = finish_group(
                &four(&raw.shift[..m]),
                &four(&raw.s1[..m]),
                &four(&raw.var_n[..m]),
                &four(xs),
                &four(rsi),
                inv_n,
                (k_up, k_dn),
                signal,
            );
            upper[t..t + 4].copy_from_slice(&up);
            middle[t..t + 4].copy_from_slice(&mid);
            lower[t..t + 4].copy_from_slice(&lo);
            reasons[t..t + 4].copy_from_slice(&why);
            events.add_group(t, group_events);
            t += 4;
        }
    }
    for t in t..m {
        let (mid, sigma) = if has_flat && flat[t] {
            (xs[t], 0.0)
        } else {
            middle_sigma(raw.shift[t], raw.s1[t], raw.var_n[t], inv_n)
        };
        let (up, lo) = band_edges(mid, sigma, k_up, k_dn);
        let c = signal.conditions(xs[t], rsi[t], up, mid, lo);
        events.add_code(t, c);
        (upper[t], middle[t], lower[t]) = (up, mid, lo);
        reasons[t] = ReasonSet::of_conditions(c);
    }
}

/// Fused RSI + Bollinger + signal over `close` (allocating form of [`compute_into`]).
pub fn compute(close: &[f64], config: &IndicatorConfig) -> Result<IndicatorSeries, IndicatorError> {
    let len = close.len();
    let (mut rsi, mut upper, mut middle, mut lower) = (
        vec![0.0; len],
        vec![0.0; len],
        vec![0.0; len],
        vec![0.0; len],
    );
    let mut position = vec![Signal::Flat; len];
    let mut reasons = vec![ReasonSet::EMPTY; len];
    let first = compute_into(
        close,
        config,
        IndicatorBuffers {
            rsi: &mut rsi,
            upper: &mut upper,
            middle: &mut middle,
            lower: &mut lower,
            position: &mut position,
            reasons: &mut reasons,
        },
    )?;
    let bands = |values| Series {
        values,
        first_valid: first.bands,
    };
    Ok(IndicatorSeries {
        rsi: Series {
            values: rsi,
            first_valid: first.rsi,
        },
        upper: bands(upper),
        middle: bands(middle),
        lower: bands(lower),
        position,
        reasons,
    })
}

/// [`compute`] over many series, sequentially. One result per series, so a bad series
/// (e.g. containing NaN) does not hide the others.
pub fn compute_many<S: AsRef<[f64]>>(
    series: &[S],
    config: &IndicatorConfig,
) -> Vec<Result<IndicatorSeries, IndicatorError>> {
    series.iter().map(|s| compute(s.as_ref(), config)).collect()
}

/// [`compute`] over many series in parallel on the current rayon pool (one task per
/// series; results in input order and bit-identical to [`compute_many`]).
pub fn compute_many_par<S: AsRef<[f64]> + Sync>(
    series: &[S],
    config: &IndicatorConfig,
) -> Vec<Result<IndicatorSeries, IndicatorError>> {
    series
        .par_iter()
        .map(|s| compute(s.as_ref(), config))
        .collect()
}
