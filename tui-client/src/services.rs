//! Starting the services inside the dashboard's process, on free local ports, so that
//! `cargo run -p tui-client` shows the whole system with nothing else to start. The dashboard
//! still talks to them over HTTP only, exactly as it would to remote ones. Where `nats-server`
//! is installed, a JetStream server and two fit workers come up beside market-svc
//! ([`LocalCluster`]), so that its distributed mode runs too.

use std::path::Path;
use std::time::Duration;

use market_svc::config::DistributedConfig;
use market_svc::distributed::local_server::{LocalNatsServer, LocalServerError};
use market_svc::distributed::{Topology, WorkerConfig, run_worker};
use tokio::sync::oneshot;

/// The daily price file market-svc loads, inside the data directory.
pub const DAILY_FILE: &str = "simulated_daily_data.csv";
/// The 5-minute bar file signals-svc loads, inside the data directory.
pub const BARS_FILE: &str = "simulated_5min_data.csv";

/// A service running in this process. Dropping it (or [`InProcess::stop`]) shuts it down.
#[derive(Debug)]
pub struct InProcess {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl InProcess {
    /// Asks the server to stop accepting connections.
    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn shutdown_pair() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

/// The market-svc configuration used in-process: loopback, a free port, the daily file of
/// `data_dir`, no reload token, generous timeouts for the benchmark's sequential refit.
pub fn market_config(data_dir: &Path) -> market_svc::config::ServeConfig {
    market_svc::config::ServeConfig {
        addr: ([127, 0, 0, 1], 0).into(),
        data: data_dir.join(DAILY_FILE),
        bars: data_dir.join(BARS_FILE),
        store: None,
        refit_every: 20,
        token: None,
        log_format: svc_kit::telemetry::LogFormat::Text,
        request_timeout_secs: 600,
        body_limit: 4 * 1024 * 1024,
        distributed: market_svc::config::DistributedConfig::default(),
        budget: market_svc::config::BudgetConfig::default(),
    }
}

/// Starts market-svc on `127.0.0.1:0`, its distributed mode on the NATS server at `nats` (if
/// any; without one `mode=distributed` answers 503). It answers `/health` at once and turns
/// ready when the data is loaded and fitted; if the data file is missing it stays not ready
/// (the dashboard shows that) rather than failing here.
pub async fn start_market(data_dir: &Path, nats: Option<String>) -> anyhow::Result<InProcess> {
    let mut config = market_config(data_dir);
    config.distributed.nats = nats;
    Ok(spawn(market_svc::startup::build(&config).await?))
}

/// Fit workers the dashboard runs beside its in-process market-svc (as the bench's
/// distributed arm: two workers on a two-core machine).
pub const LOCAL_WORKERS: usize = 2;

/// A NATS JetStream server and fit workers for the in-process market-svc: the installed
/// `nats-server` as a child process on a free loopback port with a temporary store, and
/// workers in this process running `market-svc worker`'s loop ([`run_worker`]) against it.
/// The work still travels through JetStream, as it would to workers on other hosts. Dropping
/// it stops the workers, then the server.
pub struct LocalCluster {
    /// One per worker: dropping it stops the worker.
    workers: Vec<oneshot::Sender<()>>,
    server: LocalNatsServer,
}

impl LocalCluster {
    /// The server's URL, for market-svc.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Workers running.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }
}

/// Starts `nats-server` and `workers` workers ([`LocalCluster`]); the error says why not (no
/// `nats-server` installed, or it did not start), and the dashboard then runs without the
/// distributed mode. Starting the server waits (briefly, blocking) until it listens.
pub fn start_cluster(workers: usize) -> Result<LocalCluster, LocalServerError> {
    let server = LocalNatsServer::start_installed()?;
    // The consumer settings market-svc declares with its default configuration, so that
    // whichever side declares first, the other finds the same.
    let topology = Topology::with_ack_wait(Duration::from_secs_f64(
        DistributedConfig::default().ack_wait,
    ));
    let workers = (1..=workers)
        .map(|i| {
            let (tx, shutdown) = shutdown_pair();
            let config = WorkerConfig {
                url: server.url(),
                concurrency: 2,
                worker_id: format!("dashboard-{i}"),
                topology: topology.clone(),
            };
            // A worker that cannot reach the server ends; market-svc's distributed mode then
            // reports that no worker answered, which the Benchmark view shows.
            tokio::spawn(async move {
                let _ = run_worker(config, shutdown).await;
            });
            tx
        })
        .collect();
    Ok(LocalCluster { workers, server })
}

/// Runs a bound service in the background until its [`InProcess`] handle stops it.
pub(crate) fn spawn(server: svc_kit::server::BoundServer) -> InProcess {
    let url = format!("http://127.0.0.1:{}", server.port());
    let (tx, shutdown) = shutdown_pair();
    tokio::spawn(server.run_until(shutdown));
    InProcess {
        url,
        shutdown: Some(tx),
    }
}

/// The signals-svc configuration used in-process: loopback, a free port, the 5-minute bars of
/// `data_dir`, no append token.
pub fn signals_config(data_dir: &Path) -> signals_svc::config::ServeConfig {
    signals_svc::config::ServeConfig {
        addr: ([127, 0, 0, 1], 0).into(),
        bars: data_dir.join(BARS_FILE),
        store: None,
        token: None,
        log_format: svc_kit::telemetry::LogFormat::Text,
        request_timeout_secs: 60,
        body_limit: 4 * 1024 * 1024,
    }
}

/// Starts signals-svc on `127.0.0.1:0` with the 5-minute bars of `data_dir`. Like market-svc it
/// answers `/health` at once and turns ready when the bars are loaded.
pub async fn start_signals(data_dir: &Path) -> anyhow::Result<InProcess> {
    Ok(spawn(
        signals_svc::startup::build(&signals_config(data_dir)).await?,
    ))
}

/// Notes for the user about the data directory (shown on the status view).
pub fn data_notes(data_dir: &Path, market_in_process: bool) -> Vec<String> {
    let mut notes = Vec::new();
    let daily = data_dir.join(DAILY_FILE);
    if market_in_process && !daily.is_file() {
        notes.push(format!(
            "{} not found: in-process market-svc will not become ready (run from the \
             repository root, pass --data-dir, or --market-url for a running service)",
            daily.display()
        ));
    }
    notes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[tokio::test]
    async fn market_starts_on_a_free_port_and_answers_health_even_without_data() {
        let dir = std::env::temp_dir().join(format!("tui-client-nodata-{}", std::process::id()));
        let svc = start_market(&dir, None).await.unwrap();
        assert!(svc.url.starts_with("http://127.0.0.1:"));
        let client = crate::client::ApiClient::new(crate::client::Endpoints {
            market: Ok(svc.url.clone()),
            signals: Err("n/a".into()),
        });
        let call = client.health(crate::app::Service::Market).await;
        assert_eq!(call.result, Ok(()));
        let call = client.ready(crate::app::Service::Market).await;
        assert!(matches!(
            call.result,
            Ok(crate::client::Readiness::NotReady(_))
        ));
        svc.stop();
    }

    #[tokio::test]
    async fn signals_starts_on_a_free_port_and_answers_health_even_without_data() {
        let dir = std::env::temp_dir().join(format!("tui-client-nobars-{}", std::process::id()));
        let svc = start_signals(&dir).await.unwrap();
        let client = crate::client::ApiClient::new(crate::client::Endpoints {
            market: Err("n/a".into()),
            signals: Ok(svc.url.clone()),
        });
        let call = client.health(crate::app::Service::Signals).await;
        assert_eq!(call.result, Ok(()));
        let call = client.ready(crate::app::Service::Signals).await;
        assert!(matches!(
            call.result,
            Ok(crate::client::Readiness::NotReady(_))
        ));
        svc.stop();
    }

    /// A client of the market-svc at `url` (no signals-svc), once that service is ready.
    pub(crate) async fn ready_market_client(url: &str) -> crate::client::ApiClient {
        use crate::app::Service;
        use crate::client::{ApiClient, Endpoints, Readiness};
        let client = ApiClient::new(Endpoints {
            market: Ok(url.to_string()),
            signals: Err("n/a".into()),
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while client.ready(Service::Market).await.result != Ok(Readiness::Ready) {
            assert!(std::time::Instant::now() < deadline, "never ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_in_process_cluster_runs_the_distributed_mode() {
        use crate::app::{Dist, Model};
        use crate::client::FitMode;
        if market_svc::distributed::local_server::find_nats_server().is_none() {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "nats-server is not installed, and CI=true requires it (see .ci/run)"
            );
            eprintln!("skipped: nats-server is not installed; CI=true makes this a failure");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        write_data(dir.path());
        let cluster = start_cluster(LOCAL_WORKERS).unwrap();
        assert_eq!(cluster.workers(), 2);
        assert!(cluster.url().starts_with("nats://127.0.0.1:"));
        let with = start_market(dir.path(), Some(cluster.url())).await.unwrap();
        let without = start_market(dir.path(), None).await.unwrap();
        // Through JetStream to the in-process workers and back.
        let run = ready_market_client(&with.url)
            .await
            .run_fits(FitMode::Distributed, Model::Garch, Dist::Normal)
            .await
            .result
            .expect("distributed fits with the cluster");
        assert_eq!(run.symbols.len(), 1);
        assert!(run.symbols.iter().all(|s| s.ok), "{run:?}");
        // Without it the mode is unavailable, as the Benchmark view says.
        let err = ready_market_client(&without.url)
            .await
            .run_fits(FitMode::Distributed, Model::Garch, Dist::Normal)
            .await
            .result
            .expect_err("no NATS configured");
        assert!(err.to_string().contains("NATS"), "{err}");
        with.stop();
        without.stop();
        drop(cluster);
    }

    /// A daily file (AAA, 400 days of a deterministic wiggly path) and a bar file (AAA, two
    /// sessions of 78 five-minute bars) in `dir`.
    pub(crate) fn write_data(dir: &Path) {
        let mut x = 7u64;
        let mut noise = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut daily = String::from("date,symbol,open,high,low,close,volume\n");
        let mut price = 50.0f64;
        for i in 0..400 {
            // 28-day months: every date valid, strictly increasing.
            let (year, month, day) = (2019 + i / 336, (i % 336) / 28 + 1, i % 28 + 1);
            price *= 1.0 + 0.03 * noise();
            daily.push_str(&format!(
                "{year}-{month:02}-{day:02},AAA,{price},{price},{price},{price},1000\n"
            ));
        }
        std::fs::write(dir.join(DAILY_FILE), daily).unwrap();
        let mut bars = String::from("timestamp,symbol,open,high,low,close,volume\n");
        let mut close = 100.0f64;
        for i in 0..156i64 {
            close *= 1.0 + 0.002 * noise();
            let ts = 1_704_205_800 + (i / 78) * 86_400 + (i % 78) * 300;
            let t = humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts as u64),
            );
            bars.push_str(&format!(
                "{t},AAA,{close},{},{},{close},100\n",
                close * 1.001,
                close * 0.999
            ));
        }
        std::fs::write(dir.join(BARS_FILE), bars).unwrap();
    }

    /// Runs `cmds` and applies what comes back (and what that asks for) until nothing is in
    /// flight; stream events arriving meanwhile are applied too and returned.
    async fn settle(
        app: &mut crate::app::App,
        client: &crate::client::ApiClient,
        cmds: Vec<crate::app::Command>,
        tx: &tokio::sync::mpsc::UnboundedSender<crate::app::ApiResult>,
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<crate::app::ApiResult>,
        until: impl Fn(&crate::app::App, &[crate::app::ApiResult]) -> bool,
    ) -> Vec<crate::app::ApiResult> {
        let mut pushed = Vec::new();
        for cmd in cmds {
            crate::event::spawn_command(cmd, client.clone(), tx.clone());
        }
        while !until(app, &pushed) {
            let Ok(Some(result)) =
                tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await
            else {
                panic!(
                    "the dashboard heard nothing more within a minute; pushed {pushed:?}, \
                     streaming {:?}/{:?}, loading {}",
                    app.market_status.streaming,
                    app.signals_status.streaming,
                    app.is_loading()
                );
            };
            if matches!(result, crate::app::ApiResult::Pushed(..)) {
                pushed.push(result.clone());
            }
            for cmd in app.apply(result) {
                crate::event::spawn_command(cmd, client.clone(), tx.clone());
            }
        }
        pushed
    }

    #[tokio::test]
    async fn an_append_reaches_the_dashboard_through_both_streams_without_a_key() {
        use crate::app::{ApiResult, App, Service, ServiceStatus};
        use crate::client::{ApiClient, Endpoints};

        let dir = tempfile::tempdir().unwrap();
        write_data(dir.path());
        let market = start_market(dir.path(), None).await.unwrap();
        let mut config = signals_config(dir.path());
        config.token = Some("t".into());
        let signals = spawn(signals_svc::startup::build(&config).await.unwrap());
        let client = ApiClient::new(Endpoints {
            market: Ok(market.url.clone()),
            signals: Ok(signals.url.clone()),
        });
        // Both loaded first: this test is about pushes, not the retry clock.
        for service in [Service::Market, Service::Signals] {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while client.ready(service).await.result != Ok(crate::client::Readiness::Ready) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{service:?} never ready"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        let mut app = App::new(
            ServiceStatus::new(Ok(market.url.clone()), "in-process"),
            ServiceStatus::new(Ok(signals.url.clone()), "in-process"),
            std::time::Duration::from_secs(3600),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let loaded = |app: &App, _: &[ApiResult]| {
            !app.is_loading()
                && app.vol.data.as_ref().is_some_and(|d| !d.rows.is_empty())
                && app
                    .signals
                    .data
                    .as_ref()
                    .is_some_and(|d| !d.rows.is_empty())
        };
        let start = app.start(std::time::Instant::now());
        settle(&mut app, &client, start, &tx, &mut rx, loaded).await;
        let vol_before = app.vol.data.as_ref().unwrap().rows[0].annualized_forecast;
        let signal_before = app.signals.data.as_ref().unwrap().rows[0].signal.clone();

        // The dashboard follows both streams; then a desk appends to each service.
        let followers: Vec<_> = [Service::Market, Service::Signals]
            .into_iter()
            .map(|s| {
                let base = client.base_url(s).unwrap();
                tokio::spawn(crate::client::stream::follow(base, s, tx.clone()))
            })
            .collect();
        let subscribed = |app: &App, _: &[ApiResult]| {
            app.market_status.streaming == Some(true) && app.signals_status.streaming == Some(true)
        };
        settle(&mut app, &client, Vec::new(), &tx, &mut rx, subscribed).await;
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/v1/assets/AAA/prices", market.url))
            .json(&serde_json::json!({"prices": [
                {"date": "2021-01-01", "close": 40.0}, {"date": "2021-01-02", "close": 47.0}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let last = app.signals.data.as_ref().unwrap().rows[0].close.unwrap();
        // A rally: RSI above 70 and the close over the upper band, whatever the path's end.
        let rally: Vec<_> = (0..15i64)
            .map(|i| {
                let c = last * 1.015f64.powi(i as i32 + 1);
                serde_json::json!({"timestamp": (1_704_205_800 + 2 * 86_400 + 300 * i).to_string(),
                    "open": c, "high": c * 1.001, "low": c * 0.999, "close": c, "volume": 10})
            })
            .collect();
        let r = http
            .post(format!("{}/v1/assets/AAA/bars", signals.url))
            .bearer_auth("t")
            .json(&serde_json::json!({ "bars": rally }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        // No key, no tick: only the streams make the dashboard refetch.
        let both_heard = |app: &App, pushed: &[ApiResult]| {
            let heard = |s: Service| {
                pushed
                    .iter()
                    .any(|p| matches!(p, ApiResult::Pushed(x, sym) if *x == s && sym == "AAA"))
            };
            heard(Service::Market) && heard(Service::Signals) && !app.is_loading()
        };
        settle(&mut app, &client, Vec::new(), &tx, &mut rx, both_heard).await;
        let vol_after = app.vol.data.as_ref().unwrap().rows[0].annualized_forecast;
        let signal_after = app.signals.data.as_ref().unwrap().rows[0].signal.clone();
        assert_ne!(vol_after, vol_before, "the market column moved");
        assert_ne!(signal_after, signal_before, "the signal column moved");
        assert_eq!(signal_after.as_deref(), Some("short"));
        for f in followers {
            f.abort();
        }
        market.stop();
        signals.stop();
    }

    #[test]
    fn missing_data_is_noted_only_for_in_process_market() {
        let dir = Path::new("/nonexistent-tui-client-data");
        assert_eq!(data_notes(dir, true).len(), 1);
        assert!(data_notes(dir, false).is_empty());
    }
}
