//! Realized variance per trading day from intraday bars: the yardstick for daily volatility
//! forecasts.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use super::loader::BarSeries;

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone '{0}'; expected an IANA name such as America/New_York")]
pub struct UnknownTimeZone(pub String);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

/// A trading session: the exchange's time zone and its regular hours `[open, close)` in local
/// time. Bars are assigned to the local date of their start time; bars starting outside the
/// session (pre- and post-market) are ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Session {
    zone: Zone,
    open: NaiveTime,
    close: NaiveTime,
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Session {
    /// US equities: America/New_York (daylight saving handled), 09:30–16:00.
    pub fn us_equities() -> Self {
        Self {
            zone: Zone::Named(chrono_tz::America::New_York),
            open: hm(9, 30),
            close: hm(16, 0),
        }
    }

    /// A session in an IANA time zone, e.g. `Session::new("Europe/London", 08:00, 16:30)`.
    pub fn new(
        time_zone: &str,
        open: NaiveTime,
        close: NaiveTime,
    ) -> Result<Self, UnknownTimeZone> {
        let tz = time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| UnknownTimeZone(time_zone.to_string()))?;
        Ok(Self {
            zone: Zone::Named(tz),
            open,
            close,
        })
    }

    /// A session at a fixed offset from UTC (no daylight saving); `None` if the offset is not
    /// within ±24 h. `fixed_offset(0, …)` is a session in UTC.
    pub fn fixed_offset(
        utc_offset_seconds: i32,
        open: NaiveTime,
        close: NaiveTime,
    ) -> Option<Self> {
        FixedOffset::east_opt(utc_offset_seconds).map(|offset| Self {
            zone: Zone::Fixed(offset),
            open,
            close,
        })
    }

    /// Local opening time.
    pub fn open(&self) -> NaiveTime {
        self.open
    }

    /// Local closing time.
    pub fn close(&self) -> NaiveTime {
        self.close
    }

    /// The local wall-clock time of a Unix timestamp.
    pub fn local(&self, unix_seconds: i64) -> Option<NaiveDateTime> {
        let utc = DateTime::from_timestamp(unix_seconds, 0)?;
        Some(match self.zone {
            Zone::Named(tz) => utc.with_timezone(&tz).naive_local(),
            Zone::Fixed(off) => utc.with_timezone(&off).naive_local(),
        })
    }

    /// The Unix timestamp of a local wall-clock time (the earlier instant if the time occurs
    /// twice, `None` if it does not exist because of a daylight-saving jump).
    pub fn unix_seconds(&self, local: NaiveDateTime) -> Option<i64> {
        match self.zone {
            Zone::Named(tz) => tz
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.timestamp()),
            Zone::Fixed(off) => off
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.timestamp()),
        }
    }

    /// The trading date of a bar starting at `unix_seconds`, if it starts within the session.
    pub fn trading_date(&self, unix_seconds: i64) -> Option<NaiveDate> {
        let local = self.local(unix_seconds)?;
        let t = local.time();
        (t >= self.open && t < self.close).then(|| local.date())
    }
}

/// One trading day's realized variance.
#[derive(Debug, Clone, PartialEq)]
pub struct RealizedDay {
    /// Local trading date.
    pub date: NaiveDate,
    /// Sum of squared intraday percent log returns (percent²): the first bar's open-to-close
    /// return, then close-to-close returns of consecutive bars. It excludes the overnight return.
    pub realized_variance: f64,
    /// Percent log return from the previous trading day's last close to this day's first open;
    /// `None` on the first day of the series. `overnight_return + intraday_return` is the
    /// close-to-close return.
    pub overnight_return: Option<f64>,
    /// Percent log return from the first bar's open to the last bar's close (the sum of the
    /// intraday returns).
    pub intraday_return: f64,
    /// Bars in the session that day.
    pub bars: usize,
}

/// Realized variance per trading day of `bars` (sorted by time, as [`super::load_bars`] returns
/// them) in `session`. Bars outside the session are ignored; a day with a missing bar simply has
/// one longer return. Days come out in date order.
pub fn realized_variance(bars: &BarSeries, session: &Session) -> Vec<RealizedDay> {
    let mut days: Vec<RealizedDay> = Vec::new();
    let mut prev_close: Option<f64> = None; // last close of the previous session day
    let mut day_prev_close: Option<f64> = None; // last close within the current day
    let mut day_open = 0.0;
    for i in 0..bars.len() {
        let Some(date) = session.trading_date(bars.timestamps[i]) else {
            continue;
        };
        let (open, close) = (bars.open[i], bars.close[i]);
        let new_day = days.last().is_none_or(|d| d.date != date);
        if new_day {
            if let Some(c) = day_prev_close {
                prev_close = Some(c);
            }
            let r = 100.0 * (close / open).ln();
            days.push(RealizedDay {
                date,
                realized_variance: r * r,
                overnight_return: prev_close.map(|p| 100.0 * (open / p).ln()),
                intraday_return: 0.0,
                bars: 1,
            });
            day_open = open;
        } else if let (Some(day), Some(p)) = (days.last_mut(), day_prev_close) {
            let r = 100.0 * (close / p).ln();
            day.realized_variance += r * r;
            day.bars += 1;
        }
        if let Some(day) = days.last_mut() {
            day.intraday_return = 100.0 * (close / day_open).ln();
        }
        day_prev_close = Some(close);
    }
    days
}
