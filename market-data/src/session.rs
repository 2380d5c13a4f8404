//! The exchange session calendar: an IANA time zone (daylight saving from the tz database,
//! through chrono-tz) or a fixed UTC offset, and the regular hours `[open, close)` in local time.
//!
//! It answers the two questions the rest of the crate asks of a calendar: which trading date a
//! bar belongs to ([`Session::trading_date`], for realized variance) and where that local day
//! starts and its session opens ([`Session::session_day`], the anchor of resampling). UTC
//! timestamps alone cannot tell EST from EDT, so both go through the zone.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};

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
    /// The local day containing `unix_seconds` and its session open, as Unix seconds: the
    /// anchor of [`crate::resample()`]. Local midnight or the open falling in a daylight-saving
    /// gap (never the case for US equities, whose switches are at 02:00) are taken at the
    /// instant's own UTC offset.
    pub fn session_day(&self, unix_seconds: i64) -> SessionDay {
        let Some(local) = self.local(unix_seconds) else {
            // Outside chrono's range (±262,000 years): a UTC day, the open at its local time.
            let day_start = unix_seconds.div_euclid(DAY) * DAY;
            let open = day_start + i64::from(self.open.num_seconds_from_midnight());
            return SessionDay {
                day_start,
                open,
                next_day_start: day_start + DAY,
            };
        };
        let offset = local.and_utc().timestamp() - unix_seconds;
        let at = |date: NaiveDate, time: NaiveTime| {
            let wall = date.and_time(time);
            self.unix_seconds(wall)
                .unwrap_or_else(|| wall.and_utc().timestamp() - offset)
        };
        let date = local.date();
        let day_start = at(date, NaiveTime::MIN);
        let next_day_start = date
            .succ_opt()
            .map_or(day_start + DAY, |next| at(next, NaiveTime::MIN));
        SessionDay {
            day_start,
            open: at(date, self.open),
            next_day_start,
        }
    }
}

const DAY: i64 = 86_400;

/// The exchange-local day containing an instant, as Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDay {
    /// Local midnight starting the day.
    pub day_start: i64,
    /// Session open on that day.
    pub open: i64,
    /// Local midnight starting the next day (23 or 25 hours later across a daylight-saving
    /// switch).
    pub next_day_start: i64,
}

impl SessionDay {
    /// Whether `unix_seconds` falls within this local day.
    pub fn contains(&self, unix_seconds: i64) -> bool {
        (self.day_start..self.next_day_start).contains(&unix_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC date and hour.
    fn utc(y: i32, m: u32, d: u32, hour: i64) -> i64 {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        date.and_time(NaiveTime::MIN).and_utc().timestamp() + hour * 3600
    }

    #[test]
    fn us_session_open_utc() {
        let ny = Session::us_equities();
        // 2024-01-02 (EST): 14:30 UTC; 2024-07-01 (EDT): 13:30 UTC.
        assert_eq!(
            ny.session_day(utc(2024, 1, 2, 15)).open,
            utc(2024, 1, 2, 14) + 1800
        );
        assert_eq!(
            ny.session_day(utc(2024, 7, 1, 15)).open,
            utc(2024, 7, 1, 13) + 1800
        );
        // Monday after the March switch (10 March 2024) is already EDT.
        assert_eq!(
            ny.session_day(utc(2024, 3, 11, 14)).open,
            utc(2024, 3, 11, 13) + 1800
        );
        // Late evening New York time (01:00 UTC next day) still belongs to the local day.
        let d = ny.session_day(utc(2024, 1, 3, 1));
        assert_eq!(d.open, utc(2024, 1, 2, 14) + 1800);
        assert_eq!(d.day_start, utc(2024, 1, 2, 5));
        assert_eq!(d.next_day_start, utc(2024, 1, 3, 5));
        // The day of the March switch has 23 hours, November's 25.
        let mar = ny.session_day(utc(2024, 3, 10, 12));
        assert_eq!(mar.next_day_start - mar.day_start, 23 * 3600);
        let nov = ny.session_day(utc(2024, 11, 3, 12));
        assert_eq!(nov.next_day_start - nov.day_start, 25 * 3600);
    }

    #[test]
    fn fixed_offset_session_day() {
        let tokyo = Session::fixed_offset(
            9 * 3600,
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
        )
        .unwrap();
        let d = tokyo.session_day(utc(2024, 1, 2, 3));
        assert_eq!(d.day_start, utc(2024, 1, 1, 15));
        assert_eq!(d.open, utc(2024, 1, 2, 0));
        assert!(d.contains(utc(2024, 1, 2, 14)) && !d.contains(utc(2024, 1, 2, 15)));
    }
}
