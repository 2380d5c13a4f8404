//! Resampling of 5-minute bars to longer intervals, anchored at the session open (moved with
//! `resample` from the indicators to market-data, assertions unchanged).

use chrono::NaiveTime;
use market_data::{Bar, Interval, ResampleError, Session, resample};

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// 2024-01-02 (EST) 09:30 New York = 14:30 UTC; 2024-07-01 (EDT) 09:30 = 13:30 UTC.
const JAN2_OPEN: i64 = 1_704_205_800;
const JUL1_OPEN: i64 = 1_719_840_600;

fn session_bars(open: i64, count: i64, price0: f64) -> Vec<Bar> {
    (0..count)
        .map(|i| {
            let p = price0 + i as f64;
            Bar {
                timestamp: open + 300 * i,
                open: p,
                high: p + 0.5,
                low: p - 0.5,
                close: p + 0.25,
                volume: 100.0 + i as f64,
            }
        })
        .collect()
}

#[test]
fn resample_full_session_to_all_intervals() {
    // 78 five-minute bars = 09:30–16:00.
    let bars = session_bars(JAN2_OPEN, 78, 100.0);
    let same = resample(&bars, Interval::M5, Interval::M5, &Session::us_equities()).unwrap();
    assert_eq!(same, bars);
    for (to, count) in [(Interval::M15, 26), (Interval::M30, 13), (Interval::H1, 7)] {
        let out = resample(&bars, Interval::M5, to, &Session::us_equities()).unwrap();
        assert_eq!(out.len(), count, "{to}");
        let k = (to.seconds() / 300) as usize;
        for (j, b) in out.iter().enumerate() {
            assert_eq!(
                b.timestamp,
                JAN2_OPEN + j as i64 * to.seconds(),
                "{to} bucket {j}"
            );
            let src = &bars[j * k..((j + 1) * k).min(bars.len())];
            assert_eq!(b.open, src[0].open);
            assert_eq!(b.close, src[src.len() - 1].close);
            assert_eq!(b.high, src.iter().map(|b| b.high).fold(f64::MIN, f64::max));
            assert_eq!(b.low, src.iter().map(|b| b.low).fold(f64::MAX, f64::min));
            assert_eq!(b.volume, src.iter().map(|b| b.volume).sum::<f64>());
        }
    }
    // 1h buckets are anchored at 09:30: the last one (15:30–16:00) is partial.
    let h1 = resample(&bars, Interval::M5, Interval::H1, &Session::us_equities()).unwrap();
    assert_eq!(h1[6].timestamp, JAN2_OPEN + 6 * 3600);
    assert_eq!(
        h1[6].volume,
        (72..78).map(|i| 100.0 + i as f64).sum::<f64>()
    );
    // 15m → 1h works too
    let m15 = resample(&bars, Interval::M5, Interval::M15, &Session::us_equities()).unwrap();
    assert_eq!(
        resample(&m15, Interval::M15, Interval::H1, &Session::us_equities()).unwrap(),
        h1
    );
}

#[test]
fn resample_never_merges_sessions_and_handles_dst() {
    // Last 2 bars of 2 Jan (15:50, 15:55) and first 2 of 3 Jan: one hour bucket each side.
    let mut bars = session_bars(JAN2_OPEN + 76 * 300, 2, 100.0);
    bars.extend(session_bars(JAN2_OPEN + 86_400, 2, 200.0));
    let h1 = resample(&bars, Interval::M5, Interval::H1, &Session::us_equities()).unwrap();
    assert_eq!(h1.len(), 2);
    assert_eq!(h1[0].timestamp, JAN2_OPEN + 6 * 3600);
    assert_eq!(h1[1].timestamp, JAN2_OPEN + 86_400);
    assert_eq!((h1[0].open, h1[1].open), (100.0, 200.0));
    // Summer: the session opens at 13:30 UTC; buckets follow it.
    let bars = session_bars(JUL1_OPEN, 12, 50.0);
    let h1 = resample(&bars, Interval::M5, Interval::H1, &Session::us_equities()).unwrap();
    assert_eq!(h1.len(), 1);
    assert_eq!(h1[0].timestamp, JUL1_OPEN);
    // Anchoring matters: a UTC-midnight grid (whole UTC hours) splits the same hour in two.
    let utc_hours = Session::fixed_offset(0, hm(0, 0), hm(23, 59)).unwrap();
    let h1_utc = resample(&bars, Interval::M5, Interval::H1, &utc_hours).unwrap();
    assert_eq!(
        h1_utc.iter().map(|b| b.timestamp).collect::<Vec<_>>(),
        vec![JUL1_OPEN - 1800, JUL1_OPEN + 1800]
    );
    // An explicit fixed-offset session equal to EDT gives the same buckets as the US calendar.
    let edt = Session::fixed_offset(-4 * 3600, hm(9, 30), hm(16, 0)).unwrap();
    assert_eq!(
        resample(&bars, Interval::M5, Interval::H1, &edt).unwrap(),
        h1
    );
}

#[test]
fn resample_partial_buckets() {
    // Missing bars: 09:30, 09:35 absent; 09:40 alone forms the 09:30 bucket; gap at 10:00.
    let all = session_bars(JAN2_OPEN, 12, 10.0);
    let bars: Vec<Bar> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| ![0, 1, 6].contains(i))
        .map(|(_, b)| *b)
        .collect();
    let m15 = resample(&bars, Interval::M5, Interval::M15, &Session::us_equities()).unwrap();
    assert_eq!(m15.len(), 4);
    assert_eq!(m15[0].timestamp, JAN2_OPEN); // stamped with the bucket start
    assert_eq!(m15[0].open, all[2].open);
    assert_eq!(m15[0].volume, all[2].volume);
    assert_eq!(m15[2].volume, all[7].volume + all[8].volume);
    // an empty bucket is skipped, not emitted
    let sparse = vec![all[0], all[11]];
    let m15 = resample(
        &sparse,
        Interval::M5,
        Interval::M15,
        &Session::us_equities(),
    )
    .unwrap();
    assert_eq!(
        m15.iter().map(|b| b.timestamp).collect::<Vec<_>>(),
        vec![JAN2_OPEN, JAN2_OPEN + 2700]
    );
}

#[test]
fn resample_rejects_bad_input() {
    let bars = session_bars(JAN2_OPEN, 6, 10.0);
    let mut unsorted = bars.clone();
    unsorted.swap(2, 3);
    assert!(matches!(
        resample(
            &unsorted,
            Interval::M5,
            Interval::M15,
            &Session::us_equities()
        ),
        Err(ResampleError::UnsortedTimestamps { index: 3, .. })
    ));
    let mut dup = bars.clone();
    dup[4].timestamp = dup[3].timestamp;
    assert!(matches!(
        resample(&dup, Interval::M5, Interval::M15, &Session::us_equities()),
        Err(ResampleError::UnsortedTimestamps { index: 4, .. })
    ));
    let mut off_grid = bars.clone();
    off_grid[5].timestamp += 60;
    assert!(matches!(
        resample(
            &off_grid,
            Interval::M5,
            Interval::M15,
            &Session::us_equities()
        ),
        Err(ResampleError::MisalignedTimestamp {
            index: 5,
            interval: Interval::M5,
            ..
        })
    ));
    let mut nan = bars.clone();
    nan[2].high = f64::NAN;
    assert!(matches!(
        resample(&nan, Interval::M5, Interval::M15, &Session::us_equities()),
        Err(ResampleError::NonFinite {
            field: "high",
            index: 2,
            ..
        })
    ));
    let mut inverted = bars.clone();
    inverted[1].low = inverted[1].high + 1.0;
    assert!(matches!(
        resample(
            &inverted,
            Interval::M5,
            Interval::M15,
            &Session::us_equities()
        ),
        Err(ResampleError::InvalidBar { index: 1, .. })
    ));
    let mut negvol = bars.clone();
    negvol[0].volume = -1.0;
    assert!(matches!(
        resample(
            &negvol,
            Interval::M5,
            Interval::M15,
            &Session::us_equities()
        ),
        Err(ResampleError::InvalidBar { index: 0, .. })
    ));
    assert!(matches!(
        resample(&bars, Interval::M30, Interval::M15, &Session::us_equities()),
        Err(ResampleError::IncompatibleIntervals { .. })
    ));
    assert!(
        resample(&[], Interval::M5, Interval::H1, &Session::us_equities())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn interval_serde_shapes() {
    assert_eq!(serde_json::to_string(&Interval::H1).unwrap(), "\"1h\"");
    assert_eq!(
        serde_json::from_str::<Interval>("\"15m\"").unwrap(),
        Interval::M15
    );
    assert_eq!("30m".parse::<Interval>().unwrap(), Interval::M30);
    assert!("2h".parse::<Interval>().is_err());
}
