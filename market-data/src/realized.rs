//! Realized variance per trading day from intraday bars: the yardstick for daily volatility
//! forecasts.

use chrono::NaiveDate;

use crate::loader::BarSeries;
use crate::session::Session;

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

impl RealizedDay {
    /// The day's close-to-close variance proxy: the intraday realized variance plus the squared
    /// overnight return (the intraday sum alone misses the overnight move, so it is biased low
    /// for the close-to-close variance a daily model forecasts). `None` on the first day of the
    /// bars, whose overnight return is unknown.
    pub fn close_to_close_variance(&self) -> Option<f64> {
        self.overnight_return
            .map(|o| self.realized_variance + o * o)
    }
}

/// Realized variance per trading day of `bars` (sorted by time, as [`crate::load_bars`] returns
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
