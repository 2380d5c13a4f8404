//! Spawning the real application for a test.

use std::path::PathBuf;

use garch_core::{Distribution, MeanModel, ModelSpec, VolatilityModel, simulate};
use market_svc::config::ServeConfig;
use market_svc::startup;
use svc_kit::telemetry::LogFormat;
use svc_kit::testing::TestServer;
pub use svc_kit::testing::assert_problem;

/// A running app (its HTTP helpers through `Deref`) and its data file.
pub struct TestApp {
    server: TestServer,
    pub data: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// ISO date of day `n` after 2015-01-01.
pub fn iso_date(n: i64) -> String {
    let day0 = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    (day0 + chrono::Days::new(n as u64)).to_string()
}

/// Writes a long-format daily file: AAA (GARCH), BBB (GJR-t), and CCC with too few rows.
pub fn write_daily(dir: &std::path::Path) -> PathBuf {
    let mut text = String::from("date,symbol,open,high,low,close,volume\n");
    let specs = [
        (
            "AAA",
            ModelSpec::default(),
            vec![0.04, 0.03, 0.08, 0.9],
            700usize,
        ),
        (
            "BBB",
            ModelSpec::new(
                MeanModel::Constant,
                VolatilityModel::gjr(),
                Distribution::StudentT,
            ),
            vec![0.03, 0.05, 0.03, 0.12, 0.85, 7.0],
            700,
        ),
        ("CCC", ModelSpec::default(), vec![0.0, 0.05, 0.05, 0.9], 40),
    ];
    for (i, (sym, spec, params, n)) in specs.iter().enumerate() {
        let sim = simulate(*spec, params, *n, 40 + i as u64).unwrap();
        let mut price = 50.0 + 10.0 * i as f64;
        text.push_str(&format!(
            "{},{sym},{price},{price},{price},{price},1000\n",
            iso_date(0)
        ));
        for (t, r) in sim.returns.iter().enumerate() {
            price *= (r / 100.0).exp();
            text.push_str(&format!(
                "{},{sym},{price:.6},{price:.6},{price:.6},{price:.6},1000\n",
                iso_date(t as i64 + 1)
            ));
        }
    }
    let path = dir.join("daily.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// 78 five-minute bars of AAA on the last daily date, 2016-12-01 (09:30 New York = 14:30 UTC),
/// closes rising 0.1% per bar from 100.
pub fn write_bars(dir: &std::path::Path) -> PathBuf {
    assert_eq!(iso_date(700), "2016-12-01");
    let mut text = String::from("timestamp,symbol,open,high,low,close,volume\n");
    let mut close = 100.0f64;
    for i in 0..78 {
        let (h, m) = (14 + (30 + 5 * i) / 60, (30 + 5 * i) % 60);
        let open = close;
        close *= 1.001;
        text.push_str(&format!(
            "2016-12-01T{h:02}:{m:02}:00Z,AAA,{open},{close},{open},{close},100\n"
        ));
    }
    let path = dir.join("bars.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the app with a reload token and a 64 KiB body limit; waits until ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(Some("s3cret".into())).await
}

/// Starts the app with the given token.
pub async fn spawn_with(token: Option<String>) -> TestApp {
    spawn_configured(token, |_| {}).await
}

/// Starts an open app (no token) whose work budget runs `running` and queues `queued`
/// expensive requests (waiting at most 100 ms), with the service's default 4 MiB body limit.
pub async fn spawn_with_budget(running: usize, queued: usize) -> TestApp {
    spawn_configured(None, |c| {
        c.budget.max_running = Some(running);
        c.budget.max_queued = Some(queued);
        c.budget.queue_wait = 0.1;
        c.body_limit = 4 * 1024 * 1024;
    })
    .await
}

/// Starts an open app with a body limit of `bytes`.
pub async fn spawn_with_body_limit(bytes: usize) -> TestApp {
    spawn_configured(None, |c| c.body_limit = bytes).await
}

pub async fn spawn_configured(
    token: Option<String>,
    adjust: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let data = write_daily(dir.path());
    let mut config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        bars: write_bars(dir.path()),
        store: None,
        refit_every: 20,
        token,
        log_format: LogFormat::Text,
        request_timeout_secs: 30,
        body_limit: 64 * 1024,
        distributed: Default::default(),
        budget: Default::default(),
    };
    adjust(&mut config);
    let app = startup::build(&config).await.expect("app builds");
    TestApp {
        server: TestServer::start_ready(app).await,
        data,
        _dir: dir,
    }
}
