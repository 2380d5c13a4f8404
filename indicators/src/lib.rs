//! # indicators
//!
//! Technical indicators — RSI and Bollinger Bands exactly as TA-Lib defines them — plus
//! streaming state and mean-reversion trading signals, over plain slices of closes.
//!
//! The crate depends on nothing heavy (std, rayon, serde, and safe_arch for the AVX2
//! kernels): a service that computes an RSI links no optimiser and no dataframe library. Bars,
//! sessions and resampling are market data (crate `market-data`); this crate sees closes.
//!
//! # What and why
//!
//! The signal service must produce the same numbers traders see in TA-Lib (and in
//! TradingView, whose `ta.rsi`/`ta.stdev` use the same definitions), so this module is a
//! reference implementation of two TA-Lib functions, verified against fixtures produced by
//! the `ta-lib` 0.8.2 Python wheel (C library 0.8.1) to ≤ 1e-12 relative
//! (`tests/`, `tests/fixtures/talib/`):
//!
//! * [`rsi()`] — `TA_RSI` (`src/ta_func/ta_RSI.c`): first output at index `n`, seed =
//!   plain means of the first `n` gains/losses, then Wilder smoothing
//!   `avg = (prev·(n−1) + cur)/n`, value `100·g/(g+l)`. The smoothing runs four bars
//!   at a time (see [`rsi`](mod@rsi)): same recurrence, different rounding, within
//!   3.7e-15 of TA-Lib on every fixture (required: 1e-12).
//! * [`bollinger()`] — `TA_BBANDS` with `matype = SMA` (`src/ta_func/ta_BBANDS.c`):
//!   middle = SMA(n), σ = population standard deviation, upper/lower =
//!   middle ± k·σ, first output at index `n − 1`. σ is computed with an O(1)-per-bar
//!   sliding update that cannot drift (see [`bollinger`](mod@bollinger)); on 10⁶
//!   random-walk closes it stays within 1e-12 relative of an exact two-pass σ.
//!
//! # Deliberate differences from TA-Lib (documented policies)
//!
//! * **Flat RSI.** When the smoothed gain and loss are both exactly 0 (no price movement
//!   in everything the average remembers, e.g. a flat start) TA-Lib writes 0 — which a
//!   signal layer would read as "extremely oversold". We return the neutral
//!   [`RSI_FLAT_VALUE`] = 50. Everywhere else the value is TA-Lib's.
//! * **%B on collapsed bands.** When `upper == lower` (σ = 0, or k = 0) %B is 0.5 (the
//!   close then equals the middle band); see [`BandsPoint::percent_b`].
//! * **Input.** NaN/±∞ anywhere is an [`IndicatorError::NonFinite`] naming the index
//!   (TA-Lib silently turns everything after a NaN into 0 or NaN). Band multipliers must
//!   be finite and ≥ 0 (TA-Lib accepts negative ones, which invert the bands).
//!
//! # Shape of the API
//!
//! * Output: [`Series`] — one value per input bar with warm-up bars *missing* (stored as
//!   NaN internally, exposed as `Option<f64>`, serialised as JSON `null`, never 0), and
//!   the index of the first valid value.
//! * Allocation-aware: every batch function has an `*_into` form writing into
//!   caller-provided slices ([`rsi_into`], [`bollinger_into`], [`compute_into`]); the
//!   plain forms allocate.
//! * Streaming: [`RsiState`], [`BollingerState`] and the combined [`IndicatorState`]
//!   take one bar at a time in O(1). The batch functions run the very same update code
//!   (`RsiCore`/`BbCore`/`SignalCore` step functions), so streaming and batch results are
//!   bit-identical by construction (and tested with `f64::to_bits`).
//! * Signals: [`Signal`] (long/short/flat), [`Reason`]/[`ReasonSet`] (why, per bar),
//!   [`SignalConfig`] thresholds, [`SignalSummary`] for the latest bar.
//! * Speed: [`compute_into`] is a fused RSI + Bollinger + signal kernel (one pass over
//!   the closes in blocks: a serial pass for the recurrences, a vectorised one for the
//!   rest, see [`fused`](mod@fused));
//!   [`compute_many`] / [`compute_many_par`] run it over many assets (rayon).

mod error;

pub mod bollinger;
pub mod fused;
pub mod rsi;
pub mod signal;
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
mod simd;
pub mod stream;
#[cfg(test)]
mod test_inputs;

pub use bollinger::{
    BB_MAX_PERIOD, BB_MIN_PERIOD, Bands, BandsPoint, BollingerParams, BollingerState, bollinger,
    bollinger_into,
};
pub use error::IndicatorError;
pub use fused::{
    FirstValid, IndicatorBuffers, IndicatorConfig, IndicatorSeries, compute, compute_into,
    compute_many, compute_many_par,
};
pub use rsi::{RSI_FLAT_VALUE, RSI_MAX_PERIOD, RSI_MIN_PERIOD, RsiState, rsi, rsi_into};
pub use signal::{Reason, ReasonSet, Signal, SignalConfig, SignalSummary};
pub use stream::{IndicatorPoint, IndicatorState};

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// An indicator output aligned with its input: one slot per input bar.
///
/// Missing values (warm-up bars, or a derived value that is undefined at that bar) are
/// stored as NaN — inputs are validated finite, so NaN can mean nothing else — and are
/// exposed as `None` by [`Series::get`]/[`Series::iter`] and serialised as `null`.
///
/// Equality is bitwise (missing equals missing), which is what "identical results"
/// means for comparing runs.
#[derive(Debug, Clone, Default)]
pub struct Series {
    values: Vec<f64>,
    first_valid: usize,
}

impl Series {
    /// Wraps raw values (NaN = missing); `first_valid` is recomputed from the data.
    pub fn from_raw(values: Vec<f64>) -> Self {
        let first_valid = values
            .iter()
            .position(|v| !v.is_nan())
            .unwrap_or(values.len());
        Self {
            values,
            first_valid,
        }
    }

    /// Number of slots (= number of input bars).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no slots at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Index of the first non-missing value (`len()` if every value is missing).
    pub fn first_valid(&self) -> usize {
        self.first_valid
    }

    /// The value at `index`, `None` if missing or out of range.
    pub fn get(&self, index: usize) -> Option<f64> {
        self.values.get(index).copied().filter(|v| !v.is_nan())
    }

    /// The last value, `None` if missing or the series is empty.
    pub fn last(&self) -> Option<f64> {
        self.values.last().copied().filter(|v| !v.is_nan())
    }

    /// All slots as options.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<f64>> + '_ {
        self.values.iter().map(|&v| (!v.is_nan()).then_some(v))
    }

    /// Raw slots, NaN for missing values (zero-copy access for numeric code).
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }

    /// The slots from [`Series::first_valid`] on.
    pub fn valid(&self) -> &[f64] {
        &self.values[self.first_valid..]
    }

    /// Consumes the series, returning the raw slots (NaN = missing).
    pub fn into_vec(self) -> Vec<f64> {
        self.values
    }
}

impl PartialEq for Series {
    fn eq(&self, other: &Self) -> bool {
        self.first_valid == other.first_valid
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Serialize for Series {
    /// A JSON array with `null` for missing values.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.values.len()))?;
        for v in self.iter() {
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

/// Rejects one non-finite `value` of `field` at bar `index` (the streaming updates' check).
pub(crate) fn check_finite_at(
    field: &'static str,
    index: usize,
    value: f64,
) -> Result<(), IndicatorError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(IndicatorError::NonFinite {
            field,
            index,
            value,
        })
    }
}

/// Rejects NaN/±∞, naming the first offending index.
///
/// Checks 256-value blocks with a branch-free OR reduction (vectorises), and only
/// searches a block that contains a bad value.
pub(crate) fn check_finite(field: &'static str, xs: &[f64]) -> Result<(), IndicatorError> {
    const BLOCK: usize = 256;
    for (b, block) in xs.chunks(BLOCK).enumerate() {
        let bad = block.iter().fold(false, |acc, x| acc | !x.is_finite());
        if bad {
            let (i, &value) = block
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_finite())
                .unwrap_or((0, &f64::NAN));
            return Err(IndicatorError::NonFinite {
                field,
                index: b * BLOCK + i,
                value,
            });
        }
    }
    Ok(())
}

/// Checks that an output buffer matches the input length.
pub(crate) fn check_len(
    name: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), IndicatorError> {
    if expected == actual {
        Ok(())
    } else {
        Err(IndicatorError::LengthMismatch {
            name,
            expected,
            actual,
        })
    }
}
