//! The loader: every rejection names the file, the row and the column; the conveniences
//! (adj_close, case-insensitive names, sorting, skipping short symbols, Parquet) work. The
//! Parquet cases need the `parquet` feature (`cargo test --workspace` turns it on).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime};
use garch_core::MIN_OBSERVATIONS;
#[cfg(feature = "parquet")]
use market_data::generate::{GeneratorConfig, bundled_universe, generate, write_parquet};
use market_data::{
    BarSeries, DataError, MIN_DAILY_PRICES, RowLocation, Session, load_bars, load_daily,
    realized_variance,
};
#[cfg(feature = "parquet")]
use polars::prelude::*;
use tempfile::TempDir;

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn date(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(i as i64)
}

/// `n` rows `date,close` of a gently wiggling price.
fn single_series(n: usize) -> String {
    let mut s = String::from("date,close\n");
    for i in 0..n {
        let _ = writeln!(s, "{},{:.4}", date(i), price(i));
    }
    s
}

fn price(i: usize) -> f64 {
    100.0 * (0.01 * ((i * 7919) % 13) as f64).exp()
}

/// Long format for the given symbols, `n` days each, rows by date then symbol.
fn long_format(symbols: &[&str], n: usize) -> String {
    let mut s = String::from("date,symbol,close\n");
    for i in 0..n {
        for (k, sym) in symbols.iter().enumerate() {
            let _ = writeln!(s, "{},{sym},{:.4}", date(i), price(i + k));
        }
    }
    s
}

/// Replaces the `line`-th line (1-based) of `text`.
fn replace_line(text: &str, line: usize, with: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { with } else { l })
        .fold(String::new(), |mut acc, l| {
            acc.push_str(l);
            acc.push('\n');
            acc
        })
}

fn daily_err(path: &Path) -> (DataError, String) {
    let err = load_daily(path).expect_err("file should be rejected");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name the file: {msg}"
    );
    (err, msg)
}

fn bars_err(path: &Path) -> (DataError, String) {
    let err = load_bars(path).expect_err("file should be rejected");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name the file: {msg}"
    );
    (err, msg)
}

fn csv_row(row: usize) -> RowLocation {
    RowLocation { row, csv: true }
}

#[test]
fn missing_required_columns() {
    let dir = TempDir::new().unwrap();
    let p = write(&dir, "noclose.csv", "date,open\n2020-01-01,1\n");
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::MissingColumn { .. }), "{err:?}");
    assert!(
        msg.contains("missing required column 'close (or adj_close)'"),
        "{msg}"
    );
    assert!(msg.contains("columns found: date, open"), "{msg}");

    let p = write(&dir, "nodate.csv", "day,close\n2020-01-01,1\n");
    let (_, msg) = daily_err(&p);
    assert!(msg.contains("missing required column 'date'"), "{msg}");

    let p = write(&dir, "bars.csv", "timestamp,symbol,open,high,low,close\n");
    let (_, msg) = bars_err(&p);
    assert!(msg.contains("missing required column 'volume'"), "{msg}");
}

#[test]
fn unparseable_number_names_row_and_column() {
    let dir = TempDir::new().unwrap();
    let text = replace_line(&single_series(200), 4, "2020-01-03,12.5x");
    let p = write(&dir, "bad_number.csv", &text);
    let (err, msg) = daily_err(&p);
    assert_eq!(err.row(), Some(csv_row(3)));
    assert!(
        msg.ends_with("data row 3 (line 4), column 'close': cannot parse '12.5x' as a number"),
        "{msg}"
    );
}

#[test]
fn unparseable_date_and_timestamp_name_row_and_column() {
    let dir = TempDir::new().unwrap();
    let text = replace_line(&single_series(200), 11, "2020-13-45,101.0");
    let p = write(&dir, "bad_date.csv", &text);
    let (err, msg) = daily_err(&p);
    assert_eq!(err.row(), Some(csv_row(10)));
    assert!(
        msg.contains("data row 10 (line 11), column 'date': cannot parse '2020-13-45'"),
        "{msg}"
    );

    let bars = "Timestamp,Symbol,Open,High,Low,Close,Volume\n\
                2024-01-02T14:30:00Z,AAA,10,11,9,10.5,100\n\
                2024-01-02 14:35,AAA,10.5,11,10,10.8,100\n\
                02/01/2024 14:40,AAA,10.8,11,10,10.9,100\n";
    let p = write(&dir, "bad_ts.csv", bars);
    let (err, msg) = bars_err(&p);
    assert_eq!(err.row(), Some(csv_row(3)));
    assert!(
        msg.contains("data row 3 (line 4), column 'Timestamp': cannot parse '02/01/2024 14:40' as a timestamp"),
        "{msg}"
    );
}

#[test]
fn non_positive_and_non_finite_prices_name_row_and_column() {
    let dir = TempDir::new().unwrap();
    for (value, row, expected) in [
        ("-1.5", 7, "price is not positive (-1.5)"),
        ("0", 150, "price is not positive (0)"),
        ("NaN", 20, "not finite"),
        ("inf", 21, "not finite"),
    ] {
        let text = replace_line(
            &single_series(200),
            row + 1,
            &format!("{},{value}", date(row - 1)),
        );
        let p = write(&dir, "bad_price.csv", &text);
        let (err, msg) = daily_err(&p);
        assert_eq!(err.row(), Some(csv_row(row)), "{msg}");
        assert!(
            msg.contains(&format!(
                "data row {row} (line {}), column 'close'",
                row + 1
            )),
            "{msg}"
        );
        assert!(msg.contains(expected), "{value}: {msg}");
    }
}

#[test]
fn missing_value_names_row_and_column() {
    let dir = TempDir::new().unwrap();
    let text = replace_line(&long_format(&["AAA", "BBB"], 120), 6, "2020-01-03,,101.0");
    let p = write(&dir, "missing.csv", &text);
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::MissingValue { .. }), "{err:?}");
    assert!(
        msg.ends_with("data row 5 (line 6), column 'symbol': value is missing"),
        "{msg}"
    );
}

#[test]
fn duplicate_date_for_a_symbol_is_an_error() {
    let dir = TempDir::new().unwrap();
    // BBB's day 10 (line 2 + 2·10 + 1 = 23) gets day 9's date (2020-01-10, line 21).
    let text = replace_line(
        &long_format(&["AAA", "BBB"], 120),
        23,
        "2020-01-10,BBB,99.0",
    );
    let p = write(&dir, "dup.csv", &text);
    let (err, msg) = daily_err(&p);
    assert_eq!(err.row(), Some(csv_row(22)), "{msg}");
    assert!(
        msg.ends_with(
            "data row 22 (line 23), column 'date': duplicate date 2020-01-10 for symbol 'BBB' (first seen at data row 20)"
        ),
        "{msg}"
    );

    let bars = "timestamp,symbol,open,high,low,close,volume\n\
                2024-01-02T14:30:00Z,AAA,10,11,9,10.5,100\n\
                2024-01-02T14:30:00Z,BBB,10,11,9,10.5,100\n\
                2024-01-02 09:30:00-05:00,AAA,10.5,11,10,10.8,100\n";
    let p = write(&dir, "dup_bars.csv", bars);
    let (err, msg) = bars_err(&p);
    assert_eq!(err.row(), Some(csv_row(3)));
    assert!(
        msg.contains(
            "duplicate timestamp 2024-01-02T14:30:00Z for symbol 'AAA' (first seen at data row 1)"
        ),
        "{msg}"
    );
}

#[test]
fn empty_files_are_errors() {
    let dir = TempDir::new().unwrap();
    let p = write(&dir, "empty.csv", "");
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::Empty { .. }));
    assert!(msg.ends_with("file is empty (no header)"), "{msg}");
    let p = write(&dir, "blank.csv", "\n\n");
    let (_, msg) = daily_err(&p);
    assert!(msg.ends_with("file is empty (no header)"), "{msg}");
    let p = write(&dir, "header_only.csv", "date,symbol,close\n");
    let (_, msg) = daily_err(&p);
    assert!(msg.ends_with("file is empty (no data rows)"), "{msg}");
    let p = write(
        &dir,
        "empty_bars.csv",
        "timestamp,open,high,low,close,volume\n",
    );
    let (_, msg) = bars_err(&p);
    assert!(msg.ends_with("file is empty (no data rows)"), "{msg}");
    let p = write(&dir, "empty.parquet", "");
    let (_, msg) = daily_err(&p);
    assert!(msg.ends_with("file is empty (no header)"), "{msg}");
}

#[test]
fn malformed_files_are_errors_with_the_line() {
    let dir = TempDir::new().unwrap();
    let text = replace_line(&single_series(200), 42, "2020-02-10,101.0,7");
    let p = write(&dir, "ragged.csv", &text);
    let (err, msg) = daily_err(&p);
    assert!(
        matches!(err, DataError::Malformed { line: Some(42), .. }),
        "{err:?}"
    );
    assert!(
        msg.contains("line 42: malformed file: expected 2 fields as in the header, found 3"),
        "{msg}"
    );

    #[cfg(feature = "parquet")]
    {
        let p = write(&dir, "garbage.parquet", "this is not parquet");
        let (err, _) = daily_err(&p);
        assert!(
            matches!(err, DataError::Malformed { line: None, .. }),
            "{err:?}"
        );
    }

    let p = write(&dir, "prices.txt", "date,close\n");
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::UnsupportedFormat { .. }));
    assert!(msg.contains("unsupported file type 'txt'"), "{msg}");

    let missing = dir.path().join("nope.csv");
    let (err, _) = daily_err(&missing);
    assert!(matches!(err, DataError::Io { .. }));

    let p = write(&dir, "twice.csv", "date,Close,close\n2020-01-01,1,1\n");
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::AmbiguousColumn { .. }));
    assert!(
        msg.contains("columns 'Close', 'close' all mean 'close'"),
        "{msg}"
    );
}

#[test]
fn inconsistent_bars_name_row_and_column() {
    let dir = TempDir::new().unwrap();
    let bars = "timestamp,symbol,open,high,low,close,volume\n\
                2024-01-02T14:30:00Z,AAA,10,11,9,10.5,100\n\
                2024-01-02T14:35:00Z,AAA,10.5,10.6,10,10.8,100\n";
    let p = write(&dir, "hl.csv", bars);
    let (err, msg) = bars_err(&p);
    assert!(matches!(err, DataError::InconsistentBar { .. }));
    assert!(
        msg.contains("data row 2 (line 3), column 'high': high 10.6 is below"),
        "{msg}"
    );

    let bars = "timestamp,symbol,open,high,low,close,volume\n\
                2024-01-02T14:30:00Z,AAA,10,11,9,10.5,-3\n";
    let p = write(&dir, "vol.csv", bars);
    let (_, msg) = bars_err(&p);
    assert!(
        msg.contains("data row 1 (line 2), column 'volume': volume is negative (-3)"),
        "{msg}"
    );
}

#[test]
fn short_symbols_are_skipped_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let mut text = long_format(&["AAA", "CCC"], MIN_DAILY_PRICES);
    for i in 0..50 {
        let _ = writeln!(text, "{},BBB,{:.4}", date(i), price(i));
    }
    let p = write(&dir, "short.csv", &text);
    let data = load_daily(&p).unwrap();
    assert_eq!(data.symbols().collect::<Vec<_>>(), ["AAA", "CCC"]);
    assert_eq!(data.warnings.len(), 1, "{:?}", data.warnings);
    assert!(
        data.warnings[0].contains("skipped symbol 'BBB' has 50 prices, at least 101 are needed"),
        "{:?}",
        data.warnings
    );
    let aaa = data.get("AAA").unwrap();
    assert_eq!(aaa.returns().unwrap().len(), MIN_OBSERVATIONS);
    assert_eq!(aaa.return_dates().len(), MIN_OBSERVATIONS);
    assert_eq!(aaa.return_dates()[0], date(1));

    let p = write(&dir, "all_short.csv", &single_series(40));
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::NoUsableSeries { .. }));
    assert!(msg.contains("symbol 'all_short' has 40 prices"), "{msg}");
}

#[test]
fn unsorted_input_is_sorted_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let text = long_format(&["BBB", "AAA"], 150);
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let reversed = std::iter::once(header)
        .chain(lines)
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let sorted = load_daily(&write(&dir, "sorted.csv", &text)).unwrap();
    assert!(sorted.warnings.is_empty(), "{:?}", sorted.warnings);
    let p = write(&dir, "reversed.csv", &reversed);
    let data = load_daily(&p).unwrap();
    assert_eq!(data.series, sorted.series);
    assert_eq!(data.symbols().collect::<Vec<_>>(), ["AAA", "BBB"]);
    assert_eq!(data.warnings.len(), 1);
    assert!(
        data.warnings[0]
            .contains("rows of 2 symbol(s) were not in time order and have been sorted: AAA, BBB"),
        "{:?}",
        data.warnings
    );
    let aaa = data.get("AAA").unwrap();
    assert!(aaa.dates.windows(2).all(|w| w[0] < w[1]));
    // AAA is the second symbol of `long_format`: its day i has price(i + 1).
    assert_eq!(aaa.prices.as_slice()[3], (price(4) * 1e4).round() / 1e4);
}

#[test]
fn adj_close_is_preferred_and_names_are_case_insensitive() {
    let dir = TempDir::new().unwrap();
    let mut text = String::from("DATE,Close,Adj Close,Volume\n");
    for i in 0..120 {
        let _ = writeln!(
            text,
            "{},{:.4},{:.4},1000",
            date(i),
            2.0 * price(i),
            price(i)
        );
    }
    let p = write(&dir, "SPX.csv", &text);
    let data = load_daily(&p).unwrap();
    assert_eq!(data.series.len(), 1);
    let s = &data.series[0];
    assert_eq!(s.symbol, "SPX");
    assert_eq!(s.prices.as_slice()[5], (price(5) * 1e4).round() / 1e4);
    assert_eq!(s.dates[0], date(0));

    // close only, upper-case names, a symbol column.
    let text = long_format(&["AAA"], 120).replacen("date,symbol,close", "Date,SYMBOL,CLOSE", 1);
    let data = load_daily(&write(&dir, "upper.csv", &text)).unwrap();
    assert_eq!(data.series[0].symbol, "AAA");
    assert_eq!(data.series[0].dates.len(), 120);
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_round_trip_and_parquet_errors() {
    let dir = TempDir::new().unwrap();
    let mut config = GeneratorConfig::bundled();
    config.symbols = bundled_universe().into_iter().take(3).collect();
    config.trading_days = 150;
    config.intraday_days = 2;
    let data = generate(&config).unwrap();
    let csv = write(&dir, "daily.csv", &data.daily_csv());
    let pq = dir.path().join("daily.parquet");
    write_parquet(&mut data.daily_frame().unwrap(), &pq).unwrap();
    let from_csv = load_daily(&csv).unwrap();
    let from_pq = load_daily(&pq).unwrap();
    assert_eq!(from_csv, from_pq);
    assert_eq!(from_csv.series.len(), 3);
    assert_eq!(from_csv.series[0].dates, data.dates);
    assert_eq!(from_csv.series[0].prices.as_slice(), data.series[0].close);

    let csv = write(&dir, "bars.csv", &data.bars_csv());
    let pq = dir.path().join("bars.parquet");
    write_parquet(&mut data.bars_frame().unwrap(), &pq).unwrap();
    let from_csv = load_bars(&csv).unwrap();
    let from_pq = load_bars(&pq).unwrap();
    assert_eq!(from_csv, from_pq);
    assert!(from_pq.warnings.is_empty(), "{:?}", from_pq.warnings);
    assert_eq!(from_csv.series[0], data.series[0].bars);

    // A bad value in a Parquet file is located by row (no line numbers in Parquet).
    let mut df = df!(
        "Date" => ["2020-01-01", "2020-01-02", "2020-01-03"],
        "Close" => [1.0, 2.0, -3.0],
    )
    .unwrap();
    let p = dir.path().join("neg.parquet");
    write_parquet(&mut df, &p).unwrap();
    let (err, msg) = daily_err(&p);
    assert_eq!(err.row(), Some(RowLocation { row: 3, csv: false }));
    assert!(
        msg.ends_with("row 3, column 'Close': price is not positive (-3)"),
        "{msg}"
    );

    let mut df = df!("date" => ["2020-01-01"], "close" => [true]).unwrap();
    let p = dir.path().join("bool.parquet");
    write_parquet(&mut df, &p).unwrap();
    let (err, msg) = daily_err(&p);
    assert!(matches!(err, DataError::UnsupportedType { .. }), "{msg}");
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let p = write(&dir, "prices.parquet", "PAR1 not read");
    let (err, msg) = daily_err(&p);
    assert!(
        matches!(err, DataError::ParquetUnsupported { .. }),
        "{err:?}"
    );
    assert!(
        msg.contains(
            "built without Parquet support; rebuild with `--features market-data/parquet`"
        ),
        "{msg}"
    );
    let (err, _) = bars_err(&p);
    assert!(
        matches!(err, DataError::ParquetUnsupported { .. }),
        "{err:?}"
    );
}

#[test]
fn csv_quoting_bom_and_crlf() {
    let dir = TempDir::new().unwrap();
    let mut text = String::from("\u{feff}\"Date\",\"Close\"\r\n");
    for i in 0..120 {
        let _ = write!(text, "\"{}\",{:.4}\r\n", date(i), price(i));
        if i == 50 {
            text.push_str("\r\n");
        }
    }
    let p = write(&dir, "quoted.csv", &text);
    let data = load_daily(&p).unwrap();
    assert_eq!(data.series[0].dates.len(), 120);
    assert_eq!(data.series[0].dates[0], date(0));
    // A blank line is skipped but still counted by the line numbers of the ragged-row error.
    let text = replace_line(&text.replace("\r\n", "\n"), 60, "2020-02-25,1,2");
    let (err, msg) = daily_err(&write(&dir, "ragged_crlf.csv", &text));
    assert!(
        matches!(err, DataError::Malformed { line: Some(60), .. }),
        "{err:?}"
    );
    assert!(
        msg.contains("expected 2 fields as in the header, found 3"),
        "{msg}"
    );
}

#[test]
fn naive_timestamps_are_read_as_utc_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let bars = "timestamp,open,high,low,close,volume\n\
                2024-01-02 14:35:00,10.5,11,10,10.8,100\n\
                2024-01-02T14:30:00,10,11,9,10.5,100\n";
    let p = write(&dir, "ABC.csv", bars);
    let data = load_bars(&p).unwrap();
    let s = data.get("ABC").unwrap();
    assert_eq!(s.timestamps, [1_704_205_800, 1_704_206_100]);
    assert_eq!(s.close, [10.5, 10.8]);
    assert_eq!(data.warnings.len(), 2, "{:?}", data.warnings);
    assert!(data.warnings.iter().any(|w| w.contains("read as UTC")));
    assert!(data.warnings.iter().any(|w| w.contains("sorted")));
}

fn bar(ts: i64, open: f64, close: f64) -> (i64, f64, f64) {
    (ts, open, close)
}

#[test]
fn realized_variance_by_hand() {
    // Two days of three 5-minute bars in a UTC session 09:00–09:15, plus one bar outside it.
    let day1 = 1_704_186_000; // 2024-01-02T09:00:00Z
    let day2 = day1 + 86_400;
    let rows = [
        bar(day1, 100.0, 101.0),
        bar(day1 + 300, 101.0, 100.0),
        bar(day1 + 600, 100.0, 102.0),
        bar(day1 + 900, 102.0, 150.0), // 09:15: after the close, ignored
        bar(day2, 103.0, 103.0),
        bar(day2 + 300, 103.0, 101.0),
        bar(day2 + 600, 101.0, 104.0),
    ];
    let series = BarSeries {
        symbol: "X".into(),
        timestamps: rows.iter().map(|r| r.0).collect(),
        open: rows.iter().map(|r| r.1).collect(),
        high: rows.iter().map(|r| r.1.max(r.2)).collect(),
        low: rows.iter().map(|r| r.1.min(r.2)).collect(),
        close: rows.iter().map(|r| r.2).collect(),
        volume: vec![1.0; rows.len()],
    };
    let session = Session::fixed_offset(
        0,
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
    )
    .unwrap();
    let days = realized_variance(&series, &session);
    assert_eq!(days.len(), 2);
    let r = |a: f64, b: f64| 100.0 * (b / a).ln();
    let rv1 = r(100.0, 101.0).powi(2) + r(101.0, 100.0).powi(2) + r(100.0, 102.0).powi(2);
    let rv2 = 0.0 + r(103.0, 101.0).powi(2) + r(101.0, 104.0).powi(2);
    assert_eq!(days[0].date, NaiveDate::from_ymd_opt(2024, 1, 2).unwrap());
    assert_eq!(days[0].bars, 3);
    assert!((days[0].realized_variance - rv1).abs() < 1e-12);
    assert_eq!(days[0].overnight_return, None);
    assert!((days[0].intraday_return - r(100.0, 102.0)).abs() < 1e-12);
    assert_eq!(days[1].bars, 3);
    assert!((days[1].realized_variance - rv2).abs() < 1e-12);
    // Overnight: the previous session's last close (102, not the after-hours 150) to 103.
    assert!((days[1].overnight_return.unwrap() - r(102.0, 103.0)).abs() < 1e-12);
    assert!((days[1].intraday_return - r(103.0, 104.0)).abs() < 1e-12);

    // New York: 14:30Z is 09:30 in winter (EST), 13:30Z in summer (EDT).
    let ny = Session::us_equities();
    let winter = 1_704_205_800; // 2024-01-02T14:30:00Z
    let summer = 1_720_704_600; // 2024-07-11T13:30:00Z
    assert_eq!(ny.trading_date(winter), NaiveDate::from_ymd_opt(2024, 1, 2));
    assert_eq!(ny.trading_date(winter - 60), None);
    assert_eq!(
        ny.trading_date(summer),
        NaiveDate::from_ymd_opt(2024, 7, 11)
    );
    assert!(Session::new("Mars/Olympus", ny.open(), ny.close()).is_err());
}
