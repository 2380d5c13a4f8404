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
//! alone: four independent chains in one vector register. The `h` terms of a group of
//! four bars come from its closes and the previous group's `q = c·u₋₁ + u` terms, so
//! the batch form is one pass with its state in registers (the crate-private
//! `RsiCore` gives every formula, including the three bars after the seed).
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

use std::array::from_fn;

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

/// Appends `x` to a four-bar history (the oldest value drops out).
#[inline(always)]
pub(crate) fn shift_in(h: &mut Lanes, x: f64) {
    *h = [h[1], h[2], h[3], x];
}

/// Gain and loss of one change, each divided by `n`: `(max(d, 0)/n, max(−d, 0)/n)`,
/// computed as `s = d·(1/n)`, `u = max(s, 0)`, `v = u − s`. That is the same value bit
/// for bit (the product's rounding is symmetric in the sign, a positive `s` gives
/// `s − s = +0`, a non-positive one `0 − s = −s`, and `−0` gives `+0` both ways) in
/// three operations instead of five.
#[inline(always)]
fn gain_loss(d: f64, inv_n: f64) -> (f64, f64) {
    let scaled = d * inv_n;
    let up = if scaled > 0.0 { scaled } else { 0.0 };
    (up, up - scaled)
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
    /// `1/n`.
    pub(super) inv_n: f64,
    /// `[1, c, c², c³, c⁴]` with `c = (n−1)/n`.
    pub(super) c: [f64; 5],
    /// Smoothing steps since the seed, saturating at [`LANES`].
    steps: usize,
    /// Average gain/loss of the last four bars (index 3: the current one; during the
    /// seed, index 3 holds the running sums).
    pub(super) gain: Lanes,
    pub(super) loss: Lanes,
    /// `u`, `v` (gain/n, loss/n) and `q` of the last four bars.
    pub(super) up: Lanes,
    pub(super) down: Lanes,
    pub(super) q_up: Lanes,
    pub(super) q_down: Lanes,
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
    /// The same formulas as [`RsiCore::smooth`]'s steady case, a group of four bars in
    /// one pass: `u`, `v` of the group from its closes, `q` from them and the previous
    /// group's last `u`, `v`, `h` from `q` and the previous group's last two `q`, then
    /// the lane recurrence `g = c⁴·g₋₄ + h` — in AVX2 registers carried from group to
    /// group where the target has them (`simd::rsi_groups`), else lane by lane
    /// ([`RsiCore::smooth_group`]).
    #[inline(always)]
    pub(crate) fn smooth_groups(&mut self, close: &[f64], t0: usize, t1: usize, out: &mut [f64]) {
        if t0 == t1 {
            // Nothing to do (a series too short to reach four steps after the seed).
            return;
        }
        debug_assert!(self.steps == LANES && (t1 - t0).is_multiple_of(LANES) && t0 >= LANES);
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        super::simd::rsi_groups(self, close, t0, t1, out);
        #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
        for (closes, out) in close[t0 - 1..t1]
            .windows(LANES + 1)
            .step_by(LANES)
            .zip(out.chunks_exact_mut(LANES))
        {
            out.copy_from_slice(&self.smooth_group(closes.try_into().expect("five closes")));
        }
    }

    /// One group of [`RsiCore::smooth_groups`] lane by lane: `closes` are the four
    /// bars' closes after the one before them; returns the four RSI values.
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "avx2"), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn smooth_group(&mut self, closes: &[f64; LANES + 1]) -> Lanes {
        let [_, c, c2, _, c4] = self.c;
        let gl: [(f64, f64); LANES] = from_fn(|j| gain_loss(closes[j + 1] - closes[j], self.inv_n));
        let (u, v): (Lanes, Lanes) = (from_fn(|j| gl[j].0), from_fn(|j| gl[j].1));
        // Each lane's previous u, v: the previous group's last lane, then this group's.
        let u1 = [self.up[3], u[0], u[1], u[2]];
        let v1 = [self.down[3], v[0], v[1], v[2]];
        let q_up: Lanes = from_fn(|j| u1[j] * c + u[j]);
        let q_down: Lanes = from_fn(|j| v1[j] * c + v[j]);
        // Each lane's q two bars back.
        let q_up2 = [self.q_up[2], self.q_up[3], q_up[0], q_up[1]];
        let q_down2 = [self.q_down[2], self.q_down[3], q_down[0], q_down[1]];
        self.gain = from_fn(|j| self.gain[j] * c4 + (q_up2[j] * c2 + q_up[j]));
        self.loss = from_fn(|j| self.loss[j] * c4 + (q_down2[j] * c2 + q_down[j]));
        (self.up, self.down, self.q_up, self.q_down) = (u, v, q_up, q_down);
        from_fn(|j| rsi_value(self.gain[j], self.loss[j]))
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
    rsi_steps(&mut core, close, period + 1, len, out);
    period
}

/// Smooths bars `t0..t1` (after the seed) writing `out[t]`: one bar at a time until the
/// four-bar lanes can run, then whole groups, then the remainder.
#[inline(always)]
pub(crate) fn rsi_steps(core: &mut RsiCore, close: &[f64], t0: usize, t1: usize, out: &mut [f64]) {
    let mut t = t0;
    while t < t1 && !core.steady() {
        core.smooth(close[t] - close[t - 1]);
        out[t] = core.value();
        t += 1;
    }
    let groups_end = t + (t1 - t) / LANES * LANES;
    core.smooth_groups(close, t, groups_end, &mut out[t..groups_end]);
    for t in groups_end..t1 {
        core.smooth(close[t] - close[t - 1]);
        out[t] = core.value();
    }
}

/// RSI of `close` (allocating form of [`rsi_into`]).
///
/// ```
/// use indicators::rsi;
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

#[cfg(test)]
mod tests {
    use super::super::test_inputs::{unit, xorshift};
    use super::*;

    /// Closes with signed zeros, extreme magnitudes, flat stretches and ordinary moves.
    fn closes() -> Vec<f64> {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut v = vec![0.0, -0.0, 1.0, -1.0, 1e-300, -1e300, 1e300, 100.0, 100.0];
        v.extend((0..600).map(|_| {
            let x = next();
            let u = unit(x);
            match x % 5 {
                0 => 100.0 + u,
                1 => -u * 1e-3,
                2 => u * 1e6,
                3 => 5e-324 * (x % 7) as f64,
                _ => 100.0,
            }
        }));
        v
    }

    fn state(c: &RsiCore) -> ([[u64; LANES]; 6], usize) {
        let bits = |l: Lanes| l.map(f64::to_bits);
        let lanes = [c.gain, c.loss, c.up, c.down, c.q_up, c.q_down].map(bits);
        (lanes, c.steps)
    }

    #[test]
    fn gain_loss_is_the_scaled_select_bit_for_bit() {
        let d = closes();
        for n in [2, 3, 7, 14, 50, 99_999] {
            let inv_n = 1.0 / n as f64;
            for w in d.windows(2) {
                let d = w[1] - w[0];
                let (u, v) = gain_loss(d, inv_n);
                let up = if d > 0.0 { d } else { 0.0 } * inv_n;
                let down = if -d > 0.0 { -d } else { 0.0 } * inv_n;
                assert_eq!(
                    (u.to_bits(), v.to_bits()),
                    (up.to_bits(), down.to_bits()),
                    "d {d:e} n {n}"
                );
            }
        }
    }

    #[test]
    fn groups_are_four_streaming_steps_bit_for_bit() {
        let x = closes();
        for n in [2, 3, 14, 50] {
            // a core four steps past its seed, as the batch paths receive it
            let mut core = RsiCore::new(n);
            for t in 1..=n {
                core.seed_add(x[t] - x[t - 1]);
            }
            core.seed_finish();
            for t in n + 1..n + 1 + LANES {
                core.smooth(x[t] - x[t - 1]);
            }
            assert!(core.steady());
            let start = n + 1 + LANES;
            let end = start + (x.len() - start) / LANES * LANES;

            let mut streaming = core;
            let expected: Vec<u64> = (start..end)
                .map(|t| {
                    streaming.smooth(x[t] - x[t - 1]);
                    streaming.value().to_bits()
                })
                .collect();
            let mut lane_by_lane = core;
            let portable: Vec<u64> = (start..end)
                .step_by(LANES)
                .flat_map(|t| lane_by_lane.smooth_group(x[t - 1..t + LANES].try_into().unwrap()))
                .map(f64::to_bits)
                .collect();
            // the compiled batch form (AVX2 registers where the target has them)
            let mut batch = core;
            let mut out = vec![0.0; end - start];
            batch.smooth_groups(&x, start, end, &mut out);
            let batch_bits: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();

            assert_eq!(portable, expected, "lane by lane, n {n}");
            assert_eq!(batch_bits, expected, "batch, n {n}");
            assert_eq!(
                state(&lane_by_lane),
                state(&streaming),
                "lane by lane, n {n}"
            );
            assert_eq!(state(&batch), state(&streaming), "batch, n {n}");
        }
    }
}
