//! Relative Strength Index, as TA-Lib's `TA_RSI` (`src/ta_func/ta_RSI.c`).
//!
//! For period `n` and closes `x₀, x₁, …`:
//!
//! * changes `dᵢ = xᵢ − xᵢ₋₁`, gain `max(d, 0)`, loss `max(−d, 0)`;
//! * seed (index `n`, the first output, which uses `n + 1` closes): `g = Σ gains / n`,
//!   `l = Σ losses / n` over `d₁..dₙ`;
//! * afterwards Wilder smoothing `g = (g·(n−1) + gain)/n` (likewise `l`);
//! * `RSI = 100·(g/(g+l))`, or [`RSI_FLAT_VALUE`] when `g + l == 0`.
//!
//! # Four bars at a time
//!
//! The smoothing is the linear recurrence `g_t = c·g_{t−1} + u_t` with `c = (n−1)/n`
//! and `u_t = gain_t/n`. Evaluated as written it is a multiply → add → multiply chain
//! per bar (TA-Lib's `prevGain *= n−1; prevGain += d; prevGain /= n`), 9 cycles on a
//! current x86 core, i.e. ≥ 3.7 ms per million bars however the rest is arranged.
//! Unrolled four times it becomes `g_t = c⁴·g_{t−4} + h_t`, with
//! `h_t = c²·(c·u_{t−3} + u_{t−2}) + (c·u_{t−1} + u_t)` a function of the closes
//! alone: four independent chains, one vector register, and the `h` terms computed in
//! a vectorised pass ([`RsiCore`] gives every formula, including the three bars after
//! the seed).
//!
//! The recurrence is TA-Lib's in exact arithmetic; only the rounding differs. Every
//! term is non-negative and the recurrence contracts (`c⁴ < 1`), so the relative
//! difference from TA-Lib stays within a few ε·n/4: the fixtures measure ≤ 3.7e-15
//! for n ≤ 50 (required: 1e-12). Streaming ([`RsiState`]) and batch ([`rsi_into`],
//! the fused kernel) evaluate the same formula for every bar and stay bit-identical.
//! TA-Lib's "unstable period" and Metastock compatibility mode are not supported (the
//! defaults — no unstable period, classic mode — are what this reproduces).
//!
//! **Flat policy.** TA-Lib writes 0 when `g + l` is 0 (its C source tests a ±1e-14 band,
//! `TA_IS_ZERO`; the 0.8.1 binary behaves as an exact-zero test). A flat market is not
//! "oversold", so we return the neutral 50 there, and only there: when `g + l` is tiny
//! but non-zero (a long flat stretch after movement) the ratio is still well defined
//! and scale-free, so it is kept, exactly like TA-Lib 0.8.1.

use super::{IndicatorError, Series, check_finite, check_finite_at, check_len};

/// Smallest RSI period (as TA-Lib).
pub const RSI_MIN_PERIOD: usize = 2;
/// Largest RSI period (as TA-Lib).
pub const RSI_MAX_PERIOD: usize = 100_000;
/// RSI reported when the smoothed gain and loss are both exactly 0 (TA-Lib reports 0).
pub const RSI_FLAT_VALUE: f64 = 50.0;

/// Validates an RSI period.
pub(crate) fn check_period(name: &'static str, period: usize) -> Result<(), IndicatorError> {
    if (RSI_MIN_PERIOD..=RSI_MAX_PERIOD).contains(&period) {
        Ok(())
    } else {
        Err(IndicatorError::InvalidPeriod {
            name,
            value: period,
            min: RSI_MIN_PERIOD,
            max: RSI_MAX_PERIOD,
        })
    }
}

/// Lanes of the strided recurrences: one AVX2 register of `f64`.
pub(crate) const LANES: usize = 4;

/// Four consecutive bars' values, oldest first (index 3 is the latest bar).
pub(crate) type Lanes = [f64; LANES];

/// Bars per chunk of the batch passes (their scratch stays in L1).
pub(crate) const CHUNK: usize = 256;

/// Per-chunk scratch of the batch smoothing (allocated once per series).
pub(crate) struct RsiScratch {
    /// `u`, `v` of a chunk's bars and the three before them.
    u: [f64; CHUNK + 3],
    v: [f64; CHUNK + 3],
    /// `h` of the chunk's bars, then their averages.
    hu: [f64; CHUNK],
    hv: [f64; CHUNK],
}

impl RsiScratch {
    pub(crate) fn new() -> Box<Self> {
        Box::new(Self {
            u: [0.0; CHUNK + 3],
            v: [0.0; CHUNK + 3],
            hu: [0.0; CHUNK],
            hv: [0.0; CHUNK],
        })
    }
}

/// Appends `x` to a four-bar history (the oldest value drops out).
#[inline(always)]
pub(crate) fn shift_in(h: &mut Lanes, x: f64) {
    *h = [h[1], h[2], h[3], x];
}

/// Gain and loss of one change, each divided by `n`: `(max(d, 0)/n, max(−d, 0)/n)`.
#[inline(always)]
fn gain_loss(d: f64, inv_n: f64) -> (f64, f64) {
    // `0 − d` (not `−d`) keeps both selects of the same shape, so that they vectorise
    // as compare-and-mask; the values are the same (a zero change gives +0 either way).
    let nd = 0.0 - d;
    let up = if d > 0.0 { d } else { 0.0 };
    let down = if nd > 0.0 { nd } else { 0.0 };
    (up * inv_n, down * inv_n)
}

/// The Wilder smoothing arithmetic shared by [`RsiState`], [`rsi_into`] and the fused
/// kernel.
///
/// The smoothing `g_t = c·g_{t−1} + u_t` (`c = (n−1)/n`, `u_t = gain_t/n`) is evaluated
/// four bars at a time (see the module docs): `q_t = c·u_{t−1} + u_t`, then
/// `g_t = c⁴·g_{t−4} + (c²·q_{t−2} + q_t)`. The first three steps after the seed `g_s`
/// use what exists: `g_{s+1} = c·g_s + u_{s+1}`, `g_{s+2} = c²·g_s + q_{s+2}`,
/// `g_{s+3} = c³·g_s + (c²·u_{s+1} + q_{s+3})`. Every bar is one of these four formulas,
/// whichever code path computes it, so streaming and batch results are bit-identical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RsiCore {
    inv_n: f64,
    c: [f64; 5],
    /// Smoothing steps since the seed, saturating at [`LANES`].
    steps: usize,
    /// Average gain/loss of the last four bars (index 3: the current one; during the
    /// seed, index 3 holds the running sums).
    gain: Lanes,
    loss: Lanes,
    /// `u`, `v` (gain/n, loss/n) and `q` of the last four bars.
    up: Lanes,
    down: Lanes,
    q_up: Lanes,
    q_down: Lanes,
}

impl RsiCore {
    pub(crate) fn new(period: usize) -> Self {
        // Periods are ≤ 100_000, exactly representable.
        let n = period as f64;
        let inv_n = 1.0 / n;
        let c = (n - 1.0) * inv_n;
        let c2 = c * c;
        Self {
            inv_n,
            c: [1.0, c, c2, c2 * c, c2 * c2],
            steps: 0,
            gain: [0.0; LANES],
            loss: [0.0; LANES],
            up: [0.0; LANES],
            down: [0.0; LANES],
            q_up: [0.0; LANES],
            q_down: [0.0; LANES],
        }
    }

    /// Adds one change to the seed sums (`d₁..dₙ`).
    #[inline(always)]
    pub(crate) fn seed_add(&mut self, d: f64) {
        // Branch-free; adding +0.0 to a non-negative sum is exact, so this equals
        // TA-Lib's `if (d < 0) loss -= d; else gain += d;` bit for bit.
        self.gain[3] += if d > 0.0 { d } else { 0.0 };
        self.loss[3] += if d < 0.0 { -d } else { 0.0 };
    }

    /// Turns the seed sums into means (after `n` changes).
    #[inline(always)]
    pub(crate) fn seed_finish(&mut self) {
        self.gain[3] *= self.inv_n;
        self.loss[3] *= self.inv_n;
        self.steps = 0;
    }

    /// One smoothing step with change `d`.
    #[inline(always)]
    pub(crate) fn smooth(&mut self, d: f64) {
        let [_, c, c2, c3, c4] = self.c;
        let (u, v) = gain_loss(d, self.inv_n);
        let q_up = self.up[3] * c + u;
        let q_down = self.down[3] * c + v;
        let (g, l) = match self.steps {
            0 => (self.gain[3] * c + u, self.loss[3] * c + v),
            1 => (self.gain[2] * c2 + q_up, self.loss[2] * c2 + q_down),
            2 => (
                self.gain[1] * c3 + (self.up[2] * c2 + q_up),
                self.loss[1] * c3 + (self.down[2] * c2 + q_down),
            ),
            _ => (
                self.gain[0] * c4 + (self.q_up[2] * c2 + q_up),
                self.loss[0] * c4 + (self.q_down[2] * c2 + q_down),
            ),
        };
        self.steps = (self.steps + 1).min(LANES);
        shift_in(&mut self.gain, g);
        shift_in(&mut self.loss, l);
        shift_in(&mut self.up, u);
        shift_in(&mut self.down, v);
        shift_in(&mut self.q_up, q_up);
        shift_in(&mut self.q_down, q_down);
    }

    /// Smooths bars `t0..t1` of `close` four at a time and writes their RSI to
    /// `out[t − t0]`; needs four steps since the seed and `t1 − t0` a multiple of four.
    /// The same formulas as [`RsiCore::smooth`]'s steady case, arranged in passes with
    /// independent iterations (which the compiler vectorises) over chunks of
    /// [`CHUNK`] bars: the `h` terms (pure functions of the closes), then the lane
    /// recurrence `g = c⁴·g₋₄ + h`, four lanes wide.
    #[inline(always)]
    pub(crate) fn smooth_groups(
        &mut self,
        close: &[f64],
        t0: usize,
        t1: usize,
        out: &mut [f64],
        scratch: &mut RsiScratch,
    ) {
        if t0 == t1 {
            // Nothing to do (a series too short to reach four steps after the seed).
            return;
        }
        debug_assert!(self.steps == LANES && (t1 - t0).is_multiple_of(LANES) && t0 >= LANES);
        let [_, c, c2, _, c4] = self.c;
        let inv_n = self.inv_n;
        let (mut g, mut l) = (self.gain, self.loss);
        // u, v of the chunk's bars and the three before them; h of the chunk's bars.
        let RsiScratch { u, v, hu, hv } = scratch;
        let mut c0 = t0;
        while c0 < t1 {
            let m = (t1 - c0).min(CHUNK);
            let (xs, ps) = (&close[c0 - 3..c0 + m], &close[c0 - 4..c0 + m - 1]);
            for ((x, p), (u, v)) in xs.iter().zip(ps).zip(u.iter_mut().zip(v.iter_mut())) {
                (*u, *v) = gain_loss(x - p, inv_n);
            }
            for (j, (hu, hv)) in hu[..m].iter_mut().zip(hv[..m].iter_mut()).enumerate() {
                // bar c0 + j is u[j + 3]
                *hu = (u[j] * c + u[j + 1]) * c2 + (u[j + 2] * c + u[j + 3]);
                *hv = (v[j] * c + v[j + 1]) * c2 + (v[j + 2] * c + v[j + 3]);
            }
            // The lane recurrences (each vectorises as one register), overwriting h with
            // the averages. Gain and loss advance in the same loop: each step is a
            // multiply and an add that wait on the previous step, so the two chains
            // must overlap rather than run one after the other.
            for (hu, hv) in hu[..m]
                .chunks_exact_mut(LANES)
                .zip(hv[..m].chunks_exact_mut(LANES))
            {
                for j in 0..LANES {
                    g[j] = g[j] * c4 + hu[j];
                    hu[j] = g[j];
                }
                for j in 0..LANES {
                    l[j] = l[j] * c4 + hv[j];
                    hv[j] = l[j];
                }
            }
            for ((o, g), l) in out[c0 - t0..c0 - t0 + m]
                .iter_mut()
                .zip(&hu[..m])
                .zip(&hv[..m])
            {
                *o = rsi_value(*g, *l);
            }
            c0 += m;
        }
        (self.gain, self.loss) = (g, l);
        // The histories `smooth` reads next: the last four bars' u, v and q.
        for t in t1 - LANES..t1 {
            let (u, v) = gain_loss(close[t] - close[t - 1], inv_n);
            let (u1, v1) = gain_loss(close[t - 1] - close[t - 2], inv_n);
            shift_in(&mut self.up, u);
            shift_in(&mut self.down, v);
            shift_in(&mut self.q_up, u1 * c + u);
            shift_in(&mut self.q_down, v1 * c + v);
        }
    }

    /// Whether [`RsiCore::smooth_groups`] may run (four steps since the seed).
    #[inline(always)]
    pub(crate) fn steady(&self) -> bool {
        self.steps == LANES
    }

    /// The RSI for the current averages.
    #[inline(always)]
    pub(crate) fn value(&self) -> f64 {
        rsi_value(self.gain[3], self.loss[3])
    }
}

/// `100·(g/(g+l))`, or [`RSI_FLAT_VALUE`] when `g + l == 0`.
#[inline(always)]
pub(crate) fn rsi_value(gain: f64, loss: f64) -> f64 {
    let s = gain + loss;
    if s == 0.0 {
        RSI_FLAT_VALUE
    } else {
        100.0 * (gain / s)
    }
}

/// Streaming RSI: feed closes one at a time; O(1) time and memory per update.
///
/// Produces exactly (bit for bit) the values of [`rsi()`] on the same closes.
#[derive(Debug, Clone, PartialEq)]
pub struct RsiState {
    period: usize,
    core: RsiCore,
    prev: f64,
    count: usize,
}

impl RsiState {
    /// A fresh state; errors if `period` is outside
    /// [`RSI_MIN_PERIOD`]`..=`[`RSI_MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("rsi_period", period)?;
        Ok(Self {
            period,
            core: RsiCore::new(period),
            prev: 0.0,
            count: 0,
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Number of closes accepted so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Feeds the next close; returns the RSI at this bar (`None` during the first `n`
    /// bars). A non-finite close is rejected (state unchanged) with its bar index.
    pub fn update(&mut self, close: f64) -> Result<Option<f64>, IndicatorError> {
        check_finite_at("close", self.count, close)?;
        Ok(self.push(close))
    }

    /// The current RSI (`None` during warm-up).
    pub fn value(&self) -> Option<f64> {
        (self.count > self.period).then(|| self.core.value())
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        self.core = RsiCore::new(self.period);
        self.count = 0;
        self.prev = 0.0;
    }

    /// The smoothing core (for the fused kernel's hand-over after warm-up).
    pub(crate) fn core(&self) -> RsiCore {
        self.core
    }

    /// Update without validation (the caller guarantees a finite close).
    #[inline(always)]
    pub(crate) fn push(&mut self, close: f64) -> Option<f64> {
        let n = self.period;
        let count = self.count;
        self.count += 1;
        if count == 0 {
            self.prev = close;
            return None;
        }
        let d = close - self.prev;
        self.prev = close;
        if count < n {
            self.core.seed_add(d);
            None
        } else if count == n {
            self.core.seed_add(d);
            self.core.seed_finish();
            Some(self.core.value())
        } else {
            self.core.smooth(d);
            Some(self.core.value())
        }
    }
}

/// RSI of `close` into `out` (same length); returns the index of the first valid value
/// (`period`, or `close.len()` when the series is too short). Warm-up slots are NaN.
pub fn rsi_into(close: &[f64], period: usize, out: &mut [f64]) -> Result<usize, IndicatorError> {
    check_period("rsi_period", period)?;
    check_len("rsi", close.len(), out.len())?;
    check_finite("close", close)?;
    Ok(rsi_kernel(close, period, out))
}

/// The unchecked batch RSI (validated input), shared with the fused kernel.
pub(crate) fn rsi_kernel(close: &[f64], period: usize, out: &mut [f64]) -> usize {
    let len = close.len();
    if len <= period {
        out.fill(f64::NAN);
        return len;
    }
    out[..period].fill(f64::NAN);
    let mut core = RsiCore::new(period);
    for w in close[..=period].windows(2) {
        core.seed_add(w[1] - w[0]);
    }
    core.seed_finish();
    out[period] = core.value();
    rsi_steps(
        &mut core,
        close,
        period + 1,
        len,
        out,
        &mut RsiScratch::new(),
    );
    period
}

/// Smooths bars `t0..t1` (after the seed) writing `out[t]`: one bar at a time until the
/// four-bar lanes can run, then whole groups, then the remainder.
#[inline(always)]
pub(crate) fn rsi_steps(
    core: &mut RsiCore,
    close: &[f64],
    t0: usize,
    t1: usize,
    out: &mut [f64],
    scratch: &mut RsiScratch,
) {
    let mut t = t0;
    while t < t1 && !core.steady() {
        core.smooth(close[t] - close[t - 1]);
        out[t] = core.value();
        t += 1;
    }
    let groups_end = t + (t1 - t) / LANES * LANES;
    core.smooth_groups(close, t, groups_end, &mut out[t..groups_end], scratch);
    for t in groups_end..t1 {
        core.smooth(close[t] - close[t - 1]);
        out[t] = core.value();
    }
}

/// RSI of `close` (allocating form of [`rsi_into`]).
///
/// ```
/// use garch_core::indicators::rsi;
/// let close = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
///              45.89, 46.03, 45.61, 46.28, 46.28, 46.00];
/// let r = rsi(&close, 14).unwrap();
/// assert_eq!(r.first_valid(), 14);
/// assert!(r.get(13).is_none());
/// assert!((r.get(14).unwrap() - 70.46).abs() < 0.01);
/// ```
pub fn rsi(close: &[f64], period: usize) -> Result<Series, IndicatorError> {
    let mut out = vec![0.0; close.len()];
    let first_valid = rsi_into(close, period, &mut out)?;
    Ok(Series {
        values: out,
        first_valid,
    })
}
