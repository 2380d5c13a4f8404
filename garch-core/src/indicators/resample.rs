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
//!   exchange-local calendar day, supplied by a [`SessionAnchor`] — explicitly, because
//!   UTC timestamps alone cannot tell EST from EDT: [`UsEquitySession`] implements the
//!   US rules (09:30 America/New_York, DST since 2007), [`FixedOffsetSession`] any
//!   exchange with a fixed UTC offset, and any `Fn(i64) -> SessionDay` closure a custom
//!   calendar.
//! * A bucket never spans two exchange-local days: its key is (day, bucket index).
//!   Pre-/post-market bars are not filtered — they are bucketed on the same grid (filter
//!   beforehand if only regular hours are wanted); a bucket that would begin on the
//!   previous local day is stamped at the day's local midnight instead.
//! * Aggregation: open = first open, high = max high, low = min low, close = last
//!   close, volume = sum. The output bar is stamped with its bucket start. Partial
//!   buckets (missing bars, early closes, the 15:30 hour) are emitted with the bars
//!   present; empty buckets are not emitted.
//! * Bars are validated: all fields finite, `volume ≥ 0`, `low ≤ high`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{IndicatorError, check_finite_at};

/// One OHLCV bar. `timestamp` = start of the bar, Unix seconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Start of the bar's interval (Unix seconds, UTC).
    pub timestamp: i64,
    /// First trade price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

/// Bar interval. Serialised as `"5m"`, `"15m"`, `"30m"`, `"1h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Interval {
    /// 5 minutes.
    #[serde(rename = "5m")]
    M5,
    /// 15 minutes.
    #[serde(rename = "15m")]
    M15,
    /// 30 minutes.
    #[serde(rename = "30m")]
    M30,
    /// 1 hour.
    #[serde(rename = "1h")]
    H1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 4] = [Interval::M5, Interval::M15, Interval::M30, Interval::H1];

    /// Length in seconds.
    pub const fn seconds(self) -> i64 {
        match self {
            Interval::M5 => 300,
            Interval::M15 => 900,
            Interval::M30 => 1800,
            Interval::H1 => 3600,
        }
    }

    /// The serialised name (`"5m"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Interval::from_str`]: the unknown name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown interval {0:?} (expected 5m, 15m, 30m or 1h)")]
pub struct ParseIntervalError(pub String);

impl FromStr for Interval {
    type Err = ParseIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Interval::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| ParseIntervalError(s.to_owned()))
    }
}

/// The exchange-local day containing an instant, as UTC timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDay {
    /// Local midnight starting the day (Unix seconds UTC).
    pub day_start: i64,
    /// Session open on that day (Unix seconds UTC).
    pub open: i64,
}

/// Where sessions open: maps any instant to its exchange-local day and session open.
pub trait SessionAnchor {
    /// The local day (and its session open) containing `timestamp` (Unix seconds UTC).
    fn session_day(&self, timestamp: i64) -> SessionDay;
}

impl<F: Fn(i64) -> SessionDay> SessionAnchor for F {
    fn session_day(&self, timestamp: i64) -> SessionDay {
        self(timestamp)
    }
}

/// An exchange at a fixed UTC offset opening at a fixed local time every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedOffsetSession {
    /// Local time minus UTC, in seconds (e.g. −18000 for EST, 0 for UTC).
    pub utc_offset_secs: i64,
    /// Session open, seconds after local midnight (e.g. 34200 for 09:30).
    pub open_secs: i64,
}

impl SessionAnchor for FixedOffsetSession {
    fn session_day(&self, timestamp: i64) -> SessionDay {
        let local_day = (timestamp + self.utc_offset_secs).div_euclid(DAY);
        let day_start = local_day * DAY - self.utc_offset_secs;
        SessionDay {
            day_start,
            open: day_start + self.open_secs,
        }
    }
}

/// US equities (NYSE/Nasdaq): 09:30 America/New_York, with US daylight-saving rules in
/// force since 2007 (EDT from the second Sunday of March 02:00 to the first Sunday of
/// November 02:00, otherwise EST). Holidays need no handling (no bars), early closes
/// simply produce fewer bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UsEquitySession;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const EST: i64 = -5 * HOUR;
const EDT: i64 = -4 * HOUR;
const OPEN_0930: i64 = 9 * HOUR + 30 * 60;

impl UsEquitySession {
    /// New York's UTC offset (seconds) at instant `timestamp`.
    pub fn utc_offset(timestamp: i64) -> i64 {
        let (year, _, _) = civil_from_days(timestamp.div_euclid(DAY));
        // DST starts 02:00 EST (07:00 UTC) on the 2nd Sunday of March and ends
        // 02:00 EDT (06:00 UTC) on the 1st Sunday of November.
        let start = nth_sunday(year, 3, 2) * DAY + 7 * HOUR;
        let end = nth_sunday(year, 11, 1) * DAY + 6 * HOUR;
        if (start..end).contains(&timestamp) {
            EDT
        } else {
            EST
        }
    }
}

impl SessionAnchor for UsEquitySession {
    fn session_day(&self, timestamp: i64) -> SessionDay {
        let local_day = (timestamp + Self::utc_offset(timestamp)).div_euclid(DAY);
        // The offset in force at the open (02:00 switches never fall between midnight
        // and 09:30 on a trading day, but be exact anyway).
        let open_est = local_day * DAY + OPEN_0930 - EST;
        let open_edt = local_day * DAY + OPEN_0930 - EDT;
        let open = if Self::utc_offset(open_edt) == EDT {
            open_edt
        } else {
            open_est
        };
        let day_start = local_day * DAY - Self::utc_offset(local_day * DAY - EST);
        SessionDay { day_start, open }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Day number of the `nth` Sunday of `month` in `year`.
fn nth_sunday(year: i64, month: i64, nth: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    let weekday = (first + 4).rem_euclid(7); // 0 = Sunday; 1970-01-01 was a Thursday
    first + (7 - weekday) % 7 + 7 * (nth - 1)
}

fn validate_bar(index: usize, b: &Bar) -> Result<(), IndicatorError> {
    for (field, value) in [
        ("open", b.open),
        ("high", b.high),
        ("low", b.low),
        ("close", b.close),
        ("volume", b.volume),
    ] {
        check_finite_at(field, index, value)?;
    }
    if b.volume < 0.0 {
        return Err(IndicatorError::InvalidBar {
            index,
            reason: "negative volume",
        });
    }
    if b.low > b.high {
        return Err(IndicatorError::InvalidBar {
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
/// use garch_core::indicators::{resample, Bar, Interval, UsEquitySession};
/// // 2024-01-02 09:30 New York = 14:30 UTC (EST).
/// let open = 1_704_205_800;
/// let bars: Vec<Bar> = (0..6)
///     .map(|i| Bar { timestamp: open + 300 * i, open: 1.0, high: 2.0 + i as f64,
///                    low: 0.5, close: 1.5, volume: 10.0 })
///     .collect();
/// let m15 = resample(&bars, Interval::M5, Interval::M15, &UsEquitySession).unwrap();
/// assert_eq!(m15.len(), 2);
/// assert_eq!(m15[1].timestamp, open + 900);
/// assert_eq!((m15[1].high, m15[1].volume), (7.0, 30.0));
/// ```
pub fn resample<A: SessionAnchor + ?Sized>(
    bars: &[Bar],
    from: Interval,
    to: Interval,
    anchor: &A,
) -> Result<Vec<Bar>, IndicatorError> {
    let (step, width) = (from.seconds(), to.seconds());
    if width % step != 0 {
        return Err(IndicatorError::IncompatibleIntervals { from, to });
    }
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len() / (width / step) as usize + 1);
    let mut key: Option<(i64, i64)> = None;
    let mut prev_ts = i64::MIN;
    for (index, b) in bars.iter().enumerate() {
        validate_bar(index, b)?;
        if index > 0 && b.timestamp <= prev_ts {
            return Err(IndicatorError::UnsortedTimestamps {
                index,
                previous: prev_ts,
                timestamp: b.timestamp,
            });
        }
        prev_ts = b.timestamp;
        let day = anchor.session_day(b.timestamp);
        let offset = b.timestamp - day.open;
        if offset.rem_euclid(step) != 0 {
            return Err(IndicatorError::MisalignedTimestamp {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip_and_dst_dates() {
        for z in [-800_000, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2024: DST 10 March – 3 November; 2023: 12 March – 5 November.
        assert_eq!(civil_from_days(nth_sunday(2024, 3, 2)), (2024, 3, 10));
        assert_eq!(civil_from_days(nth_sunday(2024, 11, 1)), (2024, 11, 3));
        assert_eq!(civil_from_days(nth_sunday(2023, 3, 2)), (2023, 3, 12));
        assert_eq!(civil_from_days(nth_sunday(2023, 11, 1)), (2023, 11, 5));
    }

    #[test]
    fn us_session_open_utc() {
        // 2024-01-02 (EST): 14:30 UTC; 2024-07-01 (EDT): 13:30 UTC.
        let jan = days_from_civil(2024, 1, 2) * DAY;
        let jul = days_from_civil(2024, 7, 1) * DAY;
        assert_eq!(
            UsEquitySession.session_day(jan + 15 * HOUR).open,
            jan + 14 * HOUR + 1800
        );
        assert_eq!(
            UsEquitySession.session_day(jul + 15 * HOUR).open,
            jul + 13 * HOUR + 1800
        );
        // Monday after the March switch is already EDT.
        let mar11 = days_from_civil(2024, 3, 11) * DAY;
        assert_eq!(
            UsEquitySession.session_day(mar11 + 14 * HOUR).open,
            mar11 + 13 * HOUR + 1800
        );
        // Late evening New York time (01:00 UTC next day) still belongs to the local day.
        let d = UsEquitySession.session_day(jan + DAY + HOUR);
        assert_eq!(d.open, jan + 14 * HOUR + 1800);
        assert_eq!(d.day_start, jan + 5 * HOUR);
    }
}
