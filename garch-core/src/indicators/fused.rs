//! The fused one-pass RSI + Bollinger + signal kernel, and many-asset batches.
//!
//! [`compute_into`] makes one pass over the closes, updating the RSI averages, the
//! Bollinger sums and the signal state machine per bar and writing every output. The
//! first `max(rsi_period, bb_period − 1) + 1` bars go through [`IndicatorState`]
//! itself; the rest run the same `RsiCore`/`BbCore`/`SignalCore` step functions reading
//! the window straight from the input slice, so results are bit-identical to streaming.
//!
//! Throughput across assets comes from [`compute_many_par`] (rayon, one task per
//! series): the RSI recurrence is serial within a series, so one series cannot be
//! split without changing its floating-point results.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bollinger::{BandsPoint, BollingerParams, percent_b_value};
use super::rsi::check_period;
use super::signal::{ReasonSet, Signal, SignalConfig, SignalSummary};
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
    if warm == len {
        return first;
    }
    // Steady state: both indicators valid at every remaining bar.
    let (rsi_state, bb_state, mut signal) = state.into_parts();
    let mut rc = rsi_state.core();
    let mut bc = bb_state.into_core();
    let IndicatorBuffers {
        rsi,
        upper,
        middle,
        lower,
        position,
        reasons,
    } = out;
    for i in warm..len {
        let x = close[i];
        rc.smooth(x - close[i - 1]);
        let r = rc.value();
        bc.observe(x);
        bc.slide(x, close[i - nb], (&close[i + 1 - nb..=i], &[]));
        let b = bc.point();
        let why = signal.step(x, r, b.upper, b.middle, b.lower);
        rsi[i] = r;
        upper[i] = b.upper;
        middle[i] = b.middle;
        lower[i] = b.lower;
        position[i] = signal.position;
        reasons[i] = why;
    }
    first
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
