//! The fused RSI + Bollinger + signal kernel, and many-asset batches.
//!
//! [`compute_into`] makes one pass over the closes and writes every output. The first
//! `max(rsi_period, bb_period − 1) + 1` bars go through [`IndicatorState`] itself; the
//! rest (the steady state, where both indicators exist) run in blocks of a few hundred
//! bars, each in passes over data that stays in L1:
//!
//! 0. the **RSI** of the block, by its own vectorised four-lane passes
//!    ([`rsi`](mod@super::rsi): the Wilder recurrence unrolled four times);
//! 1. a **serial pass**: the recurrence that cannot be reordered without changing its
//!    floating-point results — the drift-free shifted Bollinger sums (see
//!    [`bollinger`](mod@super::bollinger)) — keeping each bar's raw state (shift,
//!    `Σ(x−K)`, `n·σ²`). The loop body is straight-line code: the periodic exact
//!    re-seed of the sums happens between inner loops, with its two passes over the
//!    window computed one window ahead; the early re-seed (and the check that its
//!    window is not exactly flat) is a cold branch. The signal state machine of the
//!    *previous* block runs in the same loop as one table load per bar (the table is
//!    `signal::transition` evaluated for every position and condition code), so the two
//!    dependency chains overlap;
//! 2. a **finishing pass** whose iterations are independent (the compiler vectorises
//!    it): `σ = √(n·σ²/n)` (one square root per bar), `middle ± k·σ` (TA-Lib's
//!    `ta_BBANDS.c` operation order) and the signal condition code of each bar. Exactly
//!    flat windows (σ = 0) are found here from the closes; a block without two equal
//!    consecutive closes has none.
//!
//! Cost model (criterion, 10⁶ bars, this project's 2-core Zen 5 host): RSI alone takes
//! 1.44 ms, the Bollinger bands alone 3.18 ms, and merely writing the outputs (35 bytes a
//! bar) 1.63 ms; the fused kernel 6.22 ms, about half of it in the serial pass. The serial pass is
//! its own function so that the sums stay in registers (see `serial_pass`). Tried and
//! not kept, because they did not beat this in wall time: the Bollinger segments four
//! at a time in vector lanes (fewer instructions, but transposes and gathers), and the
//! positions as 64-bar bit masks instead of the table chain.
//!
//! Every arithmetic step is one of the functions the streaming state calls (`RsiCore`,
//! `BbCore`, `middle_sigma`, `band_edges`, `SignalCore::conditions`), and
//! the state machine's table is built from the one `transition` function that
//! `SignalCore::step` uses, so results are bit-identical to streaming by construction
//! (and tested with `f64::to_bits`).
//!
//! Throughput across assets comes from [`compute_many_par`] (rayon, one task per
//! series): the RSI recurrence is serial within a series, so one series cannot be
//! split without changing its floating-point results.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bollinger::{
    BLOCK, BandsPoint, BbCore, BollingerParams, Reseed, band_edges, early_reseed_sums,
    flat_windows, middle_sigma, percent_b_value, periodic_reseed_sums, window_is_flat,
};
use super::rsi::{RsiCore, RsiScratch, check_period, rsi_steps};
use super::signal::{ReasonSet, Signal, SignalConfig, SignalCore, SignalSummary, SignalTable};
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

/// Per-block scratch, structure-of-arrays so that the finishing pass vectorises.
struct Scratch {
    shift: [f64; BLOCK],
    s1: [f64; BLOCK],
    var_n: [f64; BLOCK],
    flat: [bool; BLOCK],
    /// Condition codes of the block (read by the next block's serial pass).
    codes: [u64; BLOCK],
}

impl Scratch {
    /// Keeps bar `u`'s Bollinger state and moves the previous block's state machine on
    /// by its bar `u` (the serial pass's per-bar bookkeeping).
    #[inline(always)]
    fn record(
        &mut self,
        u: usize,
        bb: &BbCore,
        table: &SignalTable,
        row: &mut usize,
        position: &mut Signal,
        reasons: &mut ReasonSet,
    ) {
        self.shift[u] = bb.shift;
        self.s1[u] = bb.s1;
        self.var_n[u] = bb.var_n;
        let e = table.get(*row, self.codes[u]);
        *row = usize::from(e.next_row);
        *position = e.position;
        *reasons = e.reasons;
    }
}

/// The steady state (both indicators valid at every bar), in blocks of [`BLOCK`] bars:
///
/// 0. the RSI of the block by its four-lane passes (`rsi_steps`);
/// 1. a serial pass runs the Bollinger sums (exactly
///    `BbCore::{tick, slide_sums, apply_reseed}`, the
///    streaming state's steps) and keeps each bar's raw state in [`Scratch`]; the signal
///    state machine of the *previous* block runs in the same loop, so the two serial
///    dependency chains overlap;
/// 2. a finishing pass with independent iterations (it vectorises) turns the raw state
///    into RSI values, bands and signal condition codes;
/// 3. the last block's state machine runs on its own.
fn steady(
    close: &[f64],
    start: usize,
    mut rsi_core: RsiCore,
    mut bands: BbCore,
    signal: SignalCore,
    out: IndicatorBuffers<'_>,
) {
    let len = close.len();
    // Look-ahead: the re-seed sums of the next periodic re-seed bar, computed one window
    // early so that the re-seed's two passes are off the critical path.
    let mut ahead: Option<(usize, Reseed)> = None;
    let table = SignalTable::new();
    let mut row = SignalTable::row(signal.position);
    let mut scr = Box::new(Scratch {
        shift: [0.0; BLOCK],
        s1: [0.0; BLOCK],
        var_n: [0.0; BLOCK],
        flat: [false; BLOCK],
        codes: [0; BLOCK],
    });
    // The first block's "previous block" is a dummy of code 0, which never changes the
    // position (no entry, no exit) and whose outputs are discarded.
    let mut dummy_pos = [Signal::Flat; BLOCK];
    let mut dummy_why = [ReasonSet::EMPTY; BLOCK];
    let IndicatorBuffers {
        rsi,
        upper,
        middle,
        lower,
        position,
        reasons,
    } = out;
    let mut rsi_scratch = RsiScratch::new();
    let mut prev_block: Option<usize> = None;
    let mut b0 = start;
    while b0 < len {
        let m = (len - b0).min(BLOCK);
        let b1 = b0 + m;
        // The previous block is always full: only the last block can be shorter.
        let (ppos, pwhy): (&mut [Signal], &mut [ReasonSet]) = match prev_block {
            Some(p0) => (&mut position[p0..p0 + BLOCK], &mut reasons[p0..p0 + BLOCK]),
            None => (&mut dummy_pos, &mut dummy_why),
        };
        // 0. RSI (its own vectorised four-lane passes)
        rsi_steps(&mut rsi_core, close, b0, b1, rsi, &mut rsi_scratch);
        // 1. serial pass (+ the previous block's state machine)
        (bands, ahead, row) = serial_pass(
            bands,
            ahead,
            close,
            b0,
            m,
            &mut scr,
            &table,
            row,
            (ppos, pwhy),
        );
        // (only after the last, short block: the rest of the previous block)
        for u in m..BLOCK {
            let e = table.get(row, scr.codes[u]);
            row = usize::from(e.next_row);
            ppos[u] = e.position;
            pwhy[u] = e.reasons;
        }
        // 2. finishing pass
        finish(
            &mut scr,
            close,
            b0,
            &bands,
            &signal,
            &rsi[b0..b1],
            &mut upper[b0..b1],
            &mut middle[b0..b1],
            &mut lower[b0..b1],
        );
        prev_block = Some(b0);
        if m < BLOCK {
            // 3. the last block's state machine
            for ((&c, pos), why) in scr.codes[..m]
                .iter()
                .zip(&mut position[b0..b1])
                .zip(&mut reasons[b0..b1])
            {
                let e = table.get(row, c);
                row = usize::from(e.next_row);
                *pos = e.position;
                *why = e.reasons;
            }
            return;
        }
        b0 = b1;
    }
    // The series ended on a full block: its state machine.
    if let Some(p0) = prev_block {
        for ((&c, pos), why) in scr
            .codes
            .iter()
            .zip(&mut position[p0..p0 + BLOCK])
            .zip(&mut reasons[p0..p0 + BLOCK])
        {
            let e = table.get(row, c);
            row = usize::from(e.next_row);
            *pos = e.position;
            *why = e.reasons;
        }
    }
}

/// The serial pass over the block of `m` bars from `b0` (step 1 of [`steady`]): the
/// Bollinger sums, exactly `BbCore::{tick, slide_sums, apply_reseed}` (the streaming
/// state's steps), keeping each bar's raw state in [`Scratch`], and the previous block's
/// state machine (`previous`: its positions and reasons) in the same loop.
///
/// Its own function, taking and returning the state by value: inlined into the large
/// `steady`, the sums were kept on the stack, and every slide waited on a store and a
/// load (a ~5-cycle round trip on each of the loop-carried sums).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn serial_pass(
    mut bands: BbCore,
    mut ahead: Option<(usize, Reseed)>,
    close: &[f64],
    b0: usize,
    m: usize,
    scr: &mut Scratch,
    table: &SignalTable,
    mut row: usize,
    previous: (&mut [Signal], &mut [ReasonSet]),
) -> (BbCore, Option<(usize, Reseed)>, usize) {
    let n = bands.n;
    let (ppos, pwhy) = previous;
    let (xs, olds) = (&close[b0..b0 + m], &close[b0 - n..b0 + m - n]);
    let mut t = 0;
    while t < m {
        // Bars before the next periodic re-seed: plain slides (no call in this loop).
        let free = (n - 1 - bands.since_reseed).min(m - t);
        let mut fired = None;
        for u in t..t + free {
            let periodic = bands.tick();
            debug_assert!(!periodic);
            if bands.slide_sums(xs[u], olds[u]) {
                fired = Some(u);
                break;
            }
            scr.record(u, &bands, table, &mut row, &mut ppos[u], &mut pwhy[u]);
        }
        let u = match fired {
            Some(u) => {
                // not for an exactly flat window (as `BbCore::slide`)
                if !window_is_flat(close, b0 + u, n) {
                    bands.apply_reseed(early_reseed_sums(close, b0 + u, n, bands.inv_n));
                    ahead = None;
                }
                u
            }
            None if t + free < m => {
                // the periodic re-seed bar
                let u = t + free;
                let periodic = bands.tick();
                debug_assert!(periodic);
                let (sums, next) = periodic_reseed_sums(close, b0 + u, n, bands.inv_n, ahead);
                bands.apply_reseed(sums);
                ahead = next;
                u
            }
            None => break,
        };
        scr.record(u, &bands, table, &mut row, &mut ppos[u], &mut pwhy[u]);
        t = u + 1;
    }
    (bands, ahead, row)
}

/// RSI values, bands and condition codes of the block of `m` bars starting at `b0`
/// from its raw state, with independent iterations: `rsi_value`, `middle_sigma`,
/// `band_edges` and `SignalCore::conditions`, the functions the streaming state calls.
/// Exactly flat windows (σ = 0, middle = the close, as `BbCore::point`) are found here
/// from the closes: a block without two equal consecutive closes has none.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn finish(
    scr: &mut Scratch,
    close: &[f64],
    b0: usize,
    bb: &BbCore,
    signal: &SignalCore,
    rsi: &[f64],
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) {
    let m = rsi.len();
    let (n, inv_n, k_up, k_dn) = (bb.n, bb.inv_n, bb.k_up, bb.k_dn);
    let xs = &close[b0..b0 + m];
    let (shift, s1, var_n) = (&scr.shift[..m], &scr.s1[..m], &scr.var_n[..m]);
    let flat = &mut scr.flat[..m];
    let codes = &mut scr.codes[..m];
    let (rsi, upper, middle, lower) = (
        &rsi[..m],
        &mut upper[..m],
        &mut middle[..m],
        &mut lower[..m],
    );
    if flat_windows(close, b0, n, flat) {
        for t in 0..m {
            let r = rsi[t];
            let (mid, sigma) = if flat[t] {
                (xs[t], 0.0)
            } else {
                middle_sigma(shift[t], s1[t], var_n[t], inv_n)
            };
            let (up, lo) = band_edges(mid, sigma, k_up, k_dn);
            codes[t] = signal.conditions(xs[t], r, up, mid, lo);
            (upper[t], middle[t], lower[t]) = (up, mid, lo);
        }
    } else {
        for t in 0..m {
            let r = rsi[t];
            let (mid, sigma) = middle_sigma(shift[t], s1[t], var_n[t], inv_n);
            let (up, lo) = band_edges(mid, sigma, k_up, k_dn);
            codes[t] = signal.conditions(xs[t], r, up, mid, lo);
            (upper[t], middle[t], lower[t]) = (up, mid, lo);
        }
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
