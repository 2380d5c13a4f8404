//! Spawning the real application for a test.

use std::time::Duration;

use signals_svc::config::ServeConfig;
use signals_svc::startup;
use svc_kit::telemetry::LogFormat;
use svc_kit::testing::TestServer;
pub use svc_kit::testing::assert_problem;

/// 2024-01-02 09:30 New York (14:30 UTC).
pub const OPEN: i64 = 1_704_205_800;

/// A running app (its HTTP helpers through `Deref`) and the folder of its bar file.
pub struct TestApp {
    server: TestServer,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// A deterministic wiggly price path.
pub fn path(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut p = 100.0;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = ((x >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            p *= 1.0 + 0.002 * u;
            p
        })
        .collect()
}

/// Two sessions of 78 bars for AAA and BBB.
pub fn write_bars(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("timestamp,symbol,open,high,low,close,volume\n");
    for (k, sym) in ["AAA", "BBB"].iter().enumerate() {
        let closes = path(156, k as u64 + 3);
        for (i, c) in closes.iter().enumerate() {
            let day = (i / 78) as i64;
            let ts = OPEN + day * 86_400 + (i % 78) as i64 * 300;
            let t = humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + Duration::from_secs(ts as u64),
            );
            text.push_str(&format!(
                "{t},{sym},{c},{},{},{c},100\n",
                c * 1.001,
                c * 0.999
            ));
        }
    }
    let p = dir.join("bars.csv");
    std::fs::write(&p, text).unwrap();
    p
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Some("tok".into())).await
}

pub async fn spawn_with(token: Option<String>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        bars: write_bars(dir.path()),
        store: None,
        token,
        log_format: LogFormat::Text,
        request_timeout_secs: 30,
        body_limit: 64 * 1024,
    };
    let server = TestServer::start_ready(startup::build(&config).await.unwrap()).await;
    TestApp { server, _dir: dir }
}
