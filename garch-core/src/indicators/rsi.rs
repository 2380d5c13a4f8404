//! Relative Strength Index, as TA-Lib's `TA_RSI` (`src/ta_func/ta_RSI.c`).
//!
//! For period `n` and closes `x₀, x₁, …`:
//!
//! * changes `dᵢ = xᵢ − xᵢ₋₁`, gain `max(d, 0)`, loss `max(−d, 0)`;
//! * seed (index `n`, the first output, which uses `n + 1` closes): `g = Σ gains / n`,
//!   `l = Σ losses / n` over `d₁..dₙ`;
//! * afterwards Wilder smoothing `g = (g·(n−1) + gain)·(1/n)` (likewise `l`);
//! * `RSI = 100·(g/(g+l))`, or [`RSI_FLAT_VALUE`] when `g + l == 0`.
//!
//! The operation order is TA-Lib's (`prevGain *= n−1; prevGain += d; prevGain /= n` with
//! the division compiled as a multiplication by the reciprocal in the shipped binary),
//! which makes the results bit-identical to `talib.RSI` on all fixtures. TA-Lib's
//! "unstable period" and Metastock compatibility mode are not supported (the defaults —
//! no unstable period, classic mode — are what this reproduces).
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

/// The arithmetic shared by [`RsiState`], [`rsi_into`] and the fused kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RsiCore {
    nm1: f64,
    inv_n: f64,
    pub(crate) gain: f64,
    pub(crate) loss: f64,
}

impl RsiCore {
    pub(crate) fn new(period: usize) -> Self {
        // Periods are ≤ 100_000, exactly representable.
        let n = period as f64;
        Self {
            nm1: n - 1.0,
            inv_n: 1.0 / n,
            gain: 0.0,
            loss: 0.0,
        }
    }

    /// Adds one change to the seed sums (`d₁..dₙ`).
    #[inline(always)]
    pub(crate) fn seed_add(&mut self, d: f64) {
        // Branch-free; adding +0.0 to a non-negative sum is exact, so this equals
        // TA-Lib's `if (d < 0) loss -= d; else gain += d;` bit for bit.
        self.gain += if d > 0.0 { d } else { 0.0 };
        self.loss += if d < 0.0 { -d } else { 0.0 };
    }

    /// Turns the seed sums into means (after `n` changes).
    #[inline(always)]
    pub(crate) fn seed_finish(&mut self) {
        self.gain *= self.inv_n;
        self.loss *= self.inv_n;
    }

    /// One Wilder smoothing step with change `d`.
    #[inline(always)]
    pub(crate) fn smooth(&mut self, d: f64) {
        let up = if d > 0.0 { d } else { 0.0 };
        let down = if d < 0.0 { -d } else { 0.0 };
        self.gain = (self.gain * self.nm1 + up) * self.inv_n;
        self.loss = (self.loss * self.nm1 + down) * self.inv_n;
    }

    /// The RSI for the current averages.
    #[inline(always)]
    pub(crate) fn value(&self) -> f64 {
        rsi_value(self.gain, self.loss)
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
    for (o, w) in out[period + 1..].iter_mut().zip(close[period..].windows(2)) {
        core.smooth(w[1] - w[0]);
        *o = core.value();
    }
    period
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
