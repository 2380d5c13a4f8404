//! Durability over real processes: the real `market-svc` binary, `kill -9` right after a 200,
//! a restart on the same store; a burst of concurrent appends; stores it must refuse.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use svc_kit::testing::{ChildService, refused_start};

use crate::helpers::{iso_date, write_daily};

const BIN: &str = env!("CARGO_BIN_EXE_market-svc");

struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    store: PathBuf,
    missing_bars: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = write_daily(dir.path());
        let store = dir.path().join("store");
        let missing_bars = dir.path().join("no-bars.csv");
        Self {
            _dir: dir,
            data,
            store,
            missing_bars,
        }
    }
    fn store_file(&self) -> PathBuf {
        self.store.join(market_svc::config::STORE_FILE)
    }
    fn args(&self) -> Vec<&str> {
        vec![
            "--data",
            self.data.to_str().unwrap(),
            "--bars",
            self.missing_bars.to_str().unwrap(),
            "--store",
            self.store.to_str().unwrap(),
            "--token",
            "tok",
            "--refit-every",
            "0",
        ]
    }
    async fn start(&self) -> ChildService {
        ChildService::spawn_ready(BIN, &self.args()).await
    }
}

async fn json_of(app: &ChildService, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

const PATHS: [&str; 4] = [
    "/v1/assets",
    "/v1/assets/AAA/volatility",
    "/v1/assets/BBB/volatility?model=gjr&dist=t&horizon=5",
    "/v1/assets/AAA/history?limit=5",
];

async fn snapshot(app: &ChildService) -> Vec<Value> {
    let mut out = Vec::new();
    for p in PATHS {
        out.push(json_of(app, p).await);
    }
    out
}

async fn append(app: &ChildService, symbol: &str, days: std::ops::Range<i64>, close: f64) {
    let prices: Vec<Value> = days
        .map(|d| json!({"date": iso_date(d), "close": close + d as f64 / 100.0}))
        .collect();
    let r = app
        .post(
            &format!("/v1/assets/{symbol}/prices"),
            json!({ "prices": prices }),
            Some("tok"),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn appended_closes_and_their_forecasts_survive_kill_9_identically() {
    let setup = Setup::new();
    let app = setup.start().await;
    // Both models cached before the append, so both are filtered, not refitted.
    snapshot(&app).await;
    append(&app, "AAA", 701..704, 55.0).await;
    append(&app, "BBB", 701..703, 66.0).await;
    let before = snapshot(&app).await;
    assert_eq!(before[1]["data_through"], iso_date(703));
    assert_eq!(before[1]["fitted_through"], iso_date(700));
    assert_eq!(before[2]["fitted_through"], iso_date(700));
    app.kill9();

    let app = setup.start().await;
    // Everything, fit times included: the same estimates filtered through the same data.
    assert_eq!(snapshot(&app).await, before);

    // A refit on demand, then one more close: that state must come back too.
    let r = app
        .post("/v1/fits", json!({"mode": "parallel"}), Some("tok"))
        .await;
    assert_eq!(r.status(), 200);
    append(&app, "AAA", 704..705, 57.0).await;
    let before = snapshot(&app).await;
    assert_eq!(before[1]["fitted_through"], iso_date(703));
    assert_eq!(before[1]["data_through"], iso_date(704));
    app.kill9();
    let app = setup.start().await;
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_burst_of_concurrent_appends_is_stored_once_each_in_order() {
    let setup = Setup::new();
    let app = Arc::new(setup.start().await);
    // 40 requests racing for 20 dates (each posted twice); every fifth close is zero.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40i64 {
        let app = Arc::clone(&app);
        tasks.spawn(async move {
            let date = iso_date(701 + i / 2);
            let invalid = i % 5 == 4;
            let close = if invalid { 0.0 } else { 50.0 + i as f64 };
            let r = app
                .post(
                    "/v1/assets/AAA/prices",
                    json!({"prices": [{"date": date, "close": close}]}),
                    Some("tok"),
                )
                .await;
            (date, close, invalid, r.status().as_u16())
        });
    }
    let mut accepted = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (date, close, invalid, status) = joined.unwrap();
        match status {
            200 => {
                assert!(!invalid);
                accepted.push((date, close));
            }
            409 => assert!(!invalid, "a zero close is a 422 whatever its date"),
            422 => assert!(invalid),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(!accepted.is_empty());
    accepted.sort_by(|a, b| a.0.cmp(&b.0));
    let assets = json_of(&app, "/v1/assets").await;
    assert_eq!(assets[0]["observations"], 701 + accepted.len());
    Arc::try_unwrap(app).ok().expect("one owner").kill9();

    let stored = market_data::store::Store::open(&setup.store_file())
        .unwrap()
        .closes()
        .unwrap();
    let got: Vec<(String, f64)> = stored["AAA"]
        .iter()
        .map(|c| (c.date.to_string(), c.close))
        .collect();
    assert_eq!(got, accepted);
    assert_eq!(stored.len(), 1);
}

fn set_user_version(file: &Path, value: u32) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[60..64].copy_from_slice(&value.to_be_bytes());
    std::fs::write(file, bytes).unwrap();
}

fn assert_refused(setup: &Setup, expect: &str) {
    let (status, stderr) = refused_start(BIN, &setup.args());
    assert!(!status.success(), "{status}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].contains(&setup.store_file().display().to_string()),
        "names the file: {stderr}"
    );
    assert!(lines[0].contains(expect), "{stderr}");
}

#[tokio::test]
async fn a_corrupt_or_newer_store_stops_the_start_with_one_line_naming_it() {
    let setup = Setup::new();
    std::fs::create_dir_all(&setup.store).unwrap();
    std::fs::write(setup.store_file(), b"SQLite format 3\0".repeat(400)).unwrap();
    assert_refused(&setup, "corrupt");

    let setup = Setup::new();
    drop(market_data::store::Store::open(&setup.store_file()).unwrap());
    set_user_version(
        &setup.store_file(),
        market_data::store::SCHEMA_VERSION as u32 + 1,
    );
    assert_refused(&setup, "newer version");
}
