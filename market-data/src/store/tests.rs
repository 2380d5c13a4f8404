use super::*;

fn bar(ts: i64, close: f64) -> Bar {
    Bar {
        timestamp: ts,
        open: close,
        high: close * 1.01,
        low: close * 0.99,
        close,
        volume: 10.0,
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn appends_are_read_back_exactly_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/store.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        store
            .append_bars("AAA", &[bar(300, 0.1 + 0.2), bar(600, 101.5)])
            .unwrap();
        store.append_bars("AAA", &[bar(900, 1e-300)]).unwrap();
        store.append_bars("BBB", &[bar(300, 7.0)]).unwrap();
        store
            .append_closes(
                "AAA",
                &[
                    DailyClose {
                        date: day("2024-01-02"),
                        close: 1.0 / 3.0,
                    },
                    DailyClose {
                        date: day("2024-01-03"),
                        close: 2.5,
                    },
                ],
            )
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let bars = store.bars().unwrap();
    assert_eq!(
        bars["AAA"],
        vec![bar(300, 0.1 + 0.2), bar(600, 101.5), bar(900, 1e-300)]
    );
    assert_eq!(bars["BBB"], vec![bar(300, 7.0)]);
    let closes = store.closes().unwrap();
    // Bit for bit: REAL is an IEEE double.
    assert_eq!(closes["AAA"][0].close.to_bits(), (1.0f64 / 3.0).to_bits());
    assert_eq!(closes["AAA"][1].date, day("2024-01-03"));
    assert!(!closes.contains_key("BBB"));
}

#[test]
fn an_out_of_order_append_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    store.append_bars("AAA", &[bar(600, 1.0)]).unwrap();
    // Not after the stored bar.
    let e = store
        .append_bars("AAA", &[bar(600, 2.0), bar(900, 3.0)])
        .unwrap_err();
    assert!(matches!(e, StoreError::OutOfOrder { .. }), "{e}");
    // Not increasing within the batch.
    let e = store
        .append_bars("AAA", &[bar(1200, 2.0), bar(900, 3.0)])
        .unwrap_err();
    assert!(matches!(e, StoreError::OutOfOrder { .. }), "{e}");
    let e = store
        .append_bars("AAA", &[bar(1200, f64::NAN)])
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidRow { .. }), "{e}");
    let bad = [DailyClose {
        date: day("2024-01-02"),
        close: 0.0,
    }];
    assert!(matches!(
        store.append_closes("AAA", &bad).unwrap_err(),
        StoreError::InvalidRow { .. }
    ));
    let c = |d: &str| DailyClose {
        date: day(d),
        close: 1.0,
    };
    store.append_closes("AAA", &[c("2024-01-03")]).unwrap();
    assert!(matches!(
        store.append_closes("AAA", &[c("2024-01-03")]).unwrap_err(),
        StoreError::OutOfOrder { .. }
    ));
    assert_eq!(store.bars().unwrap()["AAA"], vec![bar(600, 1.0)]);
    assert_eq!(store.closes().unwrap()["AAA"], vec![c("2024-01-03")]);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let junk = b"this is not a SQLite database, but a desk's precious notes ......".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    let line = e.to_string();
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(!line.contains('\n'), "{line}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn a_damaged_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        let bars: Vec<Bar> = (1..2000).map(|i| bar(i * 300, i as f64)).collect();
        store.append_bars("AAA", &bars).unwrap();
        // Fold the log into the main file, so the damage below hits committed pages.
        store
            .lock()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    // Overwrite the second page (the first table's root or an interior page) with noise.
    for (i, b) in bytes[4096..8192].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()));
}

#[test]
fn a_store_of_a_newer_schema_or_another_application_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.sqlite3");
    drop(Store::open(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1))
        .unwrap();
    let e = Store::open(&newer).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerVersion { found, .. } if found == SCHEMA_VERSION + 1),
        "{e}"
    );
    assert!(e.to_string().contains("newer.sqlite3"));

    let foreign = dir.path().join("foreign.sqlite3");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER);")
        .unwrap();
    let e = Store::open(&foreign).unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
}

#[test]
fn estimates_are_replaced_and_stored_with_their_closes_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let store = Store::open(&path).unwrap();
    let e = |model: &str, state: &str| StoredEstimate {
        symbol: "AAA".into(),
        model: model.into(),
        state: state.into(),
    };
    let c = |d: &str| DailyClose {
        date: day(d),
        close: 1.0,
    };
    store
        .append_closes_with(
            "AAA",
            &[c("2024-01-02")],
            &[e("garch", "v1"), e("gjr", "g1")],
        )
        .unwrap();
    store.put_estimates(&[e("garch", "v2")]).unwrap();
    // Refused closes take their estimates down with them.
    assert!(
        store
            .append_closes_with("AAA", &[c("2024-01-02")], &[e("garch", "v3")])
            .is_err()
    );
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.estimates().unwrap(),
        vec![e("garch", "v2"), e("gjr", "g1")]
    );
}
