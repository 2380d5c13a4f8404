//! `POST /v1/fits` with `mode=distributed` through the real service.

use std::time::Duration;

use garch_core::{ModelSpec, simulate};
use market_svc::config::{DistributedConfig, ServeConfig};
use market_svc::startup;
use serde_json::{Value, json};
use svc_kit::telemetry::LogFormat;

use crate::harness::{
    ACK_WAIT, NatsServer, SERIAL, WorkerProcess, nats_server_or_skip, wait_for_workers,
};

/// ISO date `n` days after 2001-01-01 (days of month 1..28 only, months and years rolling).
fn date(n: usize) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        2001 + n / 336,
        1 + (n / 28) % 12,
        1 + n % 28
    )
}

fn write_prices(dir: &std::path::Path, symbols: usize, days: usize) -> std::path::PathBuf {
    let mut text = String::from("date,symbol,close\n");
    for s in 0..symbols {
        let sim = simulate(
            ModelSpec::default(),
            &[0.04, 0.03, 0.08, 0.9],
            days,
            90 + s as u64,
        )
        .unwrap();
        let mut price = 100.0;
        text.push_str(&format!("{},SYM{s},{price}\n", date(0)));
        for (t, r) in sim.returns.iter().enumerate() {
            price *= (r / 100.0).exp();
            text.push_str(&format!("{},SYM{s},{price:.6}\n", date(t + 1)));
        }
    }
    let path = dir.join("daily.csv");
    std::fs::write(&path, text).unwrap();
    path
}

async fn spawn_service(data: std::path::PathBuf, nats: Option<String>, deadline: f64) -> String {
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data,
        bars: std::path::PathBuf::from("/nonexistent/bars.csv"),
        store: None,
        refit_every: 20,
        token: None,
        log_format: LogFormat::Text,
        request_timeout_secs: 60,
        body_limit: 64 * 1024,
        distributed: DistributedConfig {
            nats,
            distributed_deadline: deadline,
            chunk_size: 2,
            ack_wait: ACK_WAIT.as_secs_f64(),
        },
        budget: Default::default(),
    };
    let app = startup::build(&config).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    for _ in 0..600 {
        if let Ok(r) = reqwest::get(format!("{base}/ready")).await
            && r.status() == 200
        {
            return base;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("service never became ready");
}

async fn refit(base: &str, mode: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/fits"))
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .unwrap()
}

/// Report and forecast of every symbol as served from the cache.
async fn served(base: &str, symbols: usize) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for s in 0..symbols {
        let v: Value = reqwest::get(format!("{base}/v1/assets/SYM{s}/volatility"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.push((v["report"].clone(), v["forecast"].clone()));
    }
    out
}

#[tokio::test]
async fn distributed_refit_is_served_and_identical_to_sequential() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("distributed_refit_is_served_and_identical_to_sequential")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let _workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("rest{i}")))
        .collect();
    wait_for_workers(&nats.url(), 2).await;
    let dir = tempfile::tempdir().unwrap();
    let base = spawn_service(write_prices(dir.path(), 5, 600), Some(nats.url()), 30.0).await;

    let r = refit(&base, "distributed").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["mode"], "distributed");
    let statuses = v["symbols"].as_array().unwrap();
    assert_eq!(statuses.len(), 5);
    assert!(statuses.iter().all(|s| s["ok"] == true));
    let distributed = served(&base, 5).await;

    assert_eq!(refit(&base, "sequential").await.status(), 200);
    let sequential = served(&base, 5).await;
    // serde_json with float_roundtrip: equal JSON numbers are equal f64 bits.
    assert_eq!(distributed, sequential);
}

#[tokio::test]
async fn distributed_universe_backtest_has_the_digests_of_the_local_modes() {
    let _serial = SERIAL.lock().await;
    let Some(bin) =
        nats_server_or_skip("distributed_universe_backtest_has_the_digests_of_the_local_modes")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let _workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("bt{i}")))
        .collect();
    wait_for_workers(&nats.url(), 2).await;
    let dir = tempfile::tempdir().unwrap();
    let base = spawn_service(write_prices(dir.path(), 4, 400), Some(nats.url()), 30.0).await;
    let run = |mode: &'static str| {
        let base = base.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/v1/backtests"))
                .json(
                    &json!({"mode": mode, "model": "gjr", "dist": "t", "window": 250,
                              "refit_every": 10, "block": 4}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{mode}");
            r.json::<Value>().await.unwrap()
        }
    };
    let distributed = run("distributed").await;
    let sequential = run("sequential").await;
    let parallel = run("parallel").await;
    assert_eq!(distributed["mode"], "distributed");
    let stats = &distributed["distributed"];
    assert!(stats["chunks"].as_u64().unwrap() >= 4, "{stats}");
    assert!(!stats["workers"].as_array().unwrap().is_empty());
    for assets in [&distributed["assets"], &parallel["assets"]] {
        assert_eq!(assets, &sequential["assets"]);
    }
    assert_eq!(distributed["digest"], sequential["digest"]);
    assert_eq!(distributed["refits"], 4 * 15);
}

#[tokio::test]
async fn no_workers_and_no_nats_answer_503_problems() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("no_workers_and_no_nats_answer_503_problems") else {
        return;
    };
    let nats = NatsServer::start(bin);
    let dir = tempfile::tempdir().unwrap();
    let data = write_prices(dir.path(), 2, 300);
    // NATS is up but no worker runs: 503 at the (2 s) deadline, not a hang.
    let base = spawn_service(data.clone(), Some(nats.url()), 2.0).await;
    let r = refit(&base, "distributed").await;
    assert_eq!(r.status(), 503);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["field"], "mode");
    assert!(p["type"].as_str().unwrap().ends_with("no-workers"), "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("no fit worker answered"),
        "{p}"
    );

    let without = spawn_service(data, None, 30.0).await;
    let r = refit(&without, "distributed").await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("--nats"));
}
