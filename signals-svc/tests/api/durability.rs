//! Durability over real processes: the real `signals-svc` binary, `kill -9`, a restart on the
//! same store; a burst of concurrent appends; stores the service must refuse.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use svc_kit::testing::{ChildService, refused_start};

use crate::bars::bar;
use crate::helpers::{OPEN, write_bars};

const BIN: &str = env!("CARGO_BIN_EXE_signals-svc");

/// The bar file and store folder of one test.
struct Setup {
    _dir: tempfile::TempDir,
    bars: PathBuf,
    store: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bars = write_bars(dir.path());
        let store = dir.path().join("store");
        Self {
            _dir: dir,
            bars,
            store,
        }
    }
    fn store_dir(&self) -> PathBuf {
        self.store.clone()
    }
    fn store_file(&self) -> PathBuf {
        self.store_dir().join(signals_svc::config::STORE_FILE)
    }
    async fn start(&self) -> ChildService {
        ChildService::spawn_ready(BIN, &self.args()).await
    }
    fn args(&self) -> Vec<&str> {
        vec![
            "--bars",
            self.bars.to_str().unwrap(),
            "--store",
            self.store.to_str().unwrap(),
            "--token",
            "tok",
        ]
    }
}

async fn json_of(app: &ChildService, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// What a restart must reproduce: the asset list and every computed indicator of AAA.
async fn snapshot(app: &ChildService) -> (Value, Value, Value) {
    (
        json_of(app, "/v1/assets").await,
        json_of(app, "/v1/assets/AAA/signals").await,
        json_of(app, "/v1/assets/AAA/signals?interval=15m").await,
    )
}

#[tokio::test]
async fn appended_bars_survive_kill_9_and_give_identical_indicators() {
    let setup = Setup::new();
    let app = setup.start().await;
    let day3 = OPEN + 2 * 86_400;
    let bars: Vec<_> = (0..5)
        .map(|i| bar(day3 + 300 * i, 101.0 + i as f64))
        .collect();
    let r = app
        .post("/v1/assets/AAA/bars", json!({ "bars": bars }), Some("tok"))
        .await;
    assert_eq!(r.status(), 200);
    let before = snapshot(&app).await;
    assert_eq!(before.0[0]["bars"], 156 + 5, "{}", before.0);
    // Right after the 200: no shutdown, nothing flushed by the process.
    app.kill9();

    let app = setup.start().await;
    let after = snapshot(&app).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_burst_of_concurrent_appends_is_stored_once_each_in_order_and_rejects_leave_no_trace() {
    let setup = Setup::new();
    let app = Arc::new(setup.start().await);
    let day3 = OPEN + 2 * 86_400;
    // 48 requests racing for 24 timestamps (each posted twice, so at most one of a pair can
    // win); every sixth one is invalid (high under low) and must leave no trace.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..48i64 {
        let app = Arc::clone(&app);
        tasks.spawn(async move {
            let ts = day3 + 300 * (i / 2);
            let mut b = bar(ts, 100.0 + i as f64);
            let invalid = i % 6 == 5;
            if invalid {
                b["high"] = json!(1.0);
            }
            let r = app
                .post("/v1/assets/AAA/bars", json!({ "bars": [b] }), Some("tok"))
                .await;
            (ts, 100.0 + i as f64, invalid, r.status().as_u16())
        });
    }
    let mut accepted = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (ts, close, invalid, status) = joined.unwrap();
        match status {
            200 => {
                assert!(!invalid);
                accepted.push((ts, close));
            }
            409 => assert!(!invalid, "an invalid bar is a 422 whatever its timestamp"),
            422 => assert!(invalid),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(!accepted.is_empty());
    accepted.sort_by_key(|a| a.0);
    let served = json_of(&app, "/v1/assets").await;
    assert_eq!(served[0]["bars"], 156 + accepted.len());
    Arc::try_unwrap(app).ok().expect("one owner").kill9();

    // Exactly the acknowledged bars, in time order, each once.
    let stored = market_data::store::Store::open(&setup.store_file())
        .unwrap()
        .bars()
        .unwrap();
    let got: Vec<(i64, f64)> = stored["AAA"]
        .iter()
        .map(|b| (b.timestamp, b.close))
        .collect();
    assert_eq!(got, accepted);
    assert!(!stored.contains_key("BBB"));
}

/// Writes `value` as the SQLite header's `user_version` (big-endian at offset 60): what a
/// newer build's schema migration leaves.
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
    std::fs::create_dir_all(setup.store_dir()).unwrap();
    std::fs::write(setup.store_file(), b"not a database ".repeat(300)).unwrap();
    assert_refused(&setup, "corrupt");
    assert_eq!(
        std::fs::read(setup.store_file()).unwrap(),
        b"not a database ".repeat(300),
        "left untouched"
    );

    let setup = Setup::new();
    let app = setup.start().await;
    let r = app
        .post(
            "/v1/assets/AAA/bars",
            json!({ "bars": [bar(OPEN + 2 * 86_400, 100.0)] }),
            Some("tok"),
        )
        .await;
    assert_eq!(r.status(), 200);
    drop(app);
    // The killed process left its log beside the file: fold it in, as a clean open does.
    drop(market_data::store::Store::open(&setup.store_file()).unwrap());
    set_user_version(
        &setup.store_file(),
        market_data::store::SCHEMA_VERSION as u32 + 1,
    );
    assert_refused(&setup, "newer version");
}
