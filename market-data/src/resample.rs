//! Resampling of OHLCV bars (5-minute bars to 15m/30m/1h), aligned to the trading session.
//!
//! # Assumptions and rules
//!
//! * A [`Bar`]'s `timestamp` is the **start** of its interval, in Unix seconds UTC.
//!   Input bars must be strictly increasing in time and each must start on the input
//!   interval's grid anchored at its session open (`(ts − open) % from == 0`), else a
//!   typed error names the bar.
//! * Buckets are anchored at the **session open**, not at UTC midnight or the hour:
//!   US equities open at 09:30 New York time, so 1h buckets are 09:30, 10:30, …, 15:30
//!   (the last one naturally partial, 15:30–16:00). The bucket of a bar is
//!   `floor((ts − open)/to)` where `open` is the session open of the bar's
//!   exchange-local calendar day, given by the [`Session`] calendar — explicitly, because
//!   UTC timestamps alone cannot tell EST from EDT ([`Session::us_equities`]: 09:30
//!   America/New_York from the tz database; [`Session::new`] any IANA zone;
//!   [`Session::fixed_offset`] an exchange at a fixed UTC offset).
//! * A bucket never spans two exchange-local days: its key is (day, bucket index).
//!   Pre-/post-market bars are not filtered — they are bucketed on the same grid (filter
//!   beforehand if only regular hours are wanted); a bucket that would begin on the
//!   previous local day is stamped at the day's local midnight instead.
//! * Aggregation: open = first open, high = max high, low = min low, close = last
//!   close, volume = sum. The output bar is stamped with its bucket start. Partial
//!   buckets (missing bars, early closes, the 15:30 hour) are emitted with the bars
//!   present; empty buckets are not emitted.
//! * Bars are validated: all fields finite, `volume ≥ 0`, `low ≤ high`.

use crate::bar::{Bar, Interval};
use crate::session::{Session, SessionDay};

/// Why [`resample()`] refused its input. Every variant names the offending bar.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// A bar field is NaN or ±∞.
    #[error("non-finite {field} value {value} at index {index}")]
    NonFinite {
        /// Which field holds the value (`"close"`, `"high"`, …).
        field: &'static str,
        /// Index of the bar.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Bar timestamps must be strictly increasing.
    #[error("bar {index}: timestamp {timestamp} is not after the previous bar's {previous}")]
    UnsortedTimestamps {
        /// Index of the offending bar.
        index: usize,
        /// Timestamp of the previous bar.
        previous: i64,
        /// Timestamp of the offending bar.
        timestamp: i64,
    },
    /// A bar does not start on the input interval's grid anchored at the session open.
    #[error("bar {index}: timestamp {timestamp} is not on the {interval} grid of its session")]
    MisalignedTimestamp {
        /// Index of the offending bar.
        index: usize,
        /// Its timestamp.
        timestamp: i64,
        /// The input interval.
        interval: Interval,
    },
    /// A bar is internally inconsistent (e.g. `low > high`, negative volume).
    #[error("bar {index}: {reason}")]
    InvalidBar {
        /// Index of the offending bar.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The target interval is not a whole multiple of the source interval.
    #[error(
        "cannot resample {from} bars to {to}: target must be a multiple of the source interval"
    )]
    IncompatibleIntervals {
        /// Source interval.
        from: Interval,
        /// Requested target interval.
        to: Interval,
    },
}

fn validate_bar(index: usize, b: &Bar) -> Result<(), ResampleError> {
    for (field, value) in [
        ("open", b.open),
        ("high", b.high),
        ("low", b.low),
        ("close", b.close),
        ("volume", b.volume),
    ] {
        if !value.is_finite() {
            return Err(ResampleError::NonFinite {
                field,
                index,
                value,
            });
        }
    }
    if b.volume < 0.0 {
        return Err(ResampleError::InvalidBar {
            index,
            reason: "negative volume",
        });
    }
    if b.low > b.high {
        return Err(ResampleError::InvalidBar {
            index,
            reason: "low above high",
        });
    }
    Ok(())
}

/// Aggregates `bars` of interval `from` into interval `to` (a multiple of `from`; equal
/// intervals just validate and copy), with buckets anchored at each session's open.
/// See the [module docs](self) for the rules.
///
/// ```
/// use market_data::{resample, Bar, Interval, Session};
/// // 2024-01-02 09:30 New York = 14:30 UTC (EST).
/// let open = 1_704_205_800;
/// let bars: Vec<Bar> = (0..6)
///     .map(|i| Bar { timestamp: open + 300 * i, open: 1.0, high: 2.0 + i as f64,
///                    low: 0.5, close: 1.5, volume: 10.0 })
///     .collect();
/// let m15 = resample(&bars, Interval::M5, Interval::M15, &Session::us_equities()).unwrap();
/// assert_eq!(m15.len(), 2);
/// assert_eq!(m15[1].timestamp, open + 900);
/// assert_eq!((m15[1].high, m15[1].volume), (7.0, 30.0));
/// ```
pub fn resample(
    bars: &[Bar],
    from: Interval,
    to: Interval,
    session: &Session,
) -> Result<Vec<Bar>, ResampleError> {
    let (step, width) = (from.seconds(), to.seconds());
    if width % step != 0 {
        return Err(ResampleError::IncompatibleIntervals { from, to });
    }
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len() / (width / step) as usize + 1);
    let mut key: Option<(i64, i64)> = None;
    let mut prev_ts = i64::MIN;
    let mut cached: Option<SessionDay> = None;
    for (index, b) in bars.iter().enumerate() {
        validate_bar(index, b)?;
        if index > 0 && b.timestamp <= prev_ts {
            return Err(ResampleError::UnsortedTimestamps {
                index,
                previous: prev_ts,
                timestamp: b.timestamp,
            });
        }
        prev_ts = b.timestamp;
        // One calendar look-up per local day, not per bar.
        let day = match cached {
            Some(d) if d.contains(b.timestamp) => d,
            _ => *cached.insert(session.session_day(b.timestamp)),
        };
        let offset = b.timestamp - day.open;
        if offset.rem_euclid(step) != 0 {
            return Err(ResampleError::MisalignedTimestamp {
                index,
                timestamp: b.timestamp,
                interval: from,
            });
        }
        let bucket = offset.div_euclid(width);
        let this_key = (day.day_start, bucket);
        match out.last_mut() {
            Some(agg) if key == Some(this_key) => {
                agg.high = agg.high.max(b.high);
                agg.low = agg.low.min(b.low);
                agg.close = b.close;
                agg.volume += b.volume;
            }
            _ => {
                key = Some(this_key);
                out.push(Bar {
                    timestamp: (day.open + bucket * width).max(day.day_start),
                    ..*b
                });
            }
        }
    }
    Ok(out)
}
