//! Spawning the real application for a test.

use std::path::PathBuf;
use std::time::Duration;

use garch_core::{Distribution, MeanModel, ModelSpec, VolatilityModel, simulate};
use market_svc::config::ServeConfig;
use market_svc::startup;
use svc_kit::telemetry::LogFormat;

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub data: PathBuf,
}

/// ISO date of day `n` after 2015-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn iso_date(n: i64) -> String {
    let z = n + 16436 + 719_468; // 2015-01-01 is day 16436 since 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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
    let dir = std::env::temp_dir().join(format!(
        "market-svc-api-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let data = write_daily(&dir);
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        bars: write_bars(&dir),
        token,
        log_format: LogFormat::Text,
        request_timeout_secs: 30,
        body_limit: 64 * 1024,
        distributed: Default::default(),
    };
    let app = startup::build(&config).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/ready")).send().await
            && r.status() == 200
        {
            return TestApp { base, client, data };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("app never became ready");
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts a problem+json response with the status and, if given, the field.
pub async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    field: Option<&str>,
) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    if let Some(f) = field {
        assert_eq!(body["field"], f, "field named: {body}");
    }
    body
}
