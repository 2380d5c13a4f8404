//! Test harness: a `nats-server` child process, worker processes, simulated universes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use garch_core::{Execution, FitOptions, FitReport, ModelSpec, Returns, fit_batch, simulate};
use market_svc::distributed::local_server::{LocalNatsServer, find_nats_server};
use market_svc::distributed::{Coordinator, CoordinatorConfig, Topology};

/// Serialises the tests of this binary (they time redeliveries on a small machine).
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `ack_wait` used by the tests: short, so redelivery after a kill takes ~2 s.
pub const ACK_WAIT: Duration = Duration::from_secs(2);

/// The `nats-server` binary, or `None` (after saying so) when the test must be skipped.
/// Panics when `CI=true` and it is missing: CI must not silently skip these tests.
pub fn nats_server_or_skip(test: &str) -> Option<PathBuf> {
    match find_nats_server() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: nats-server is not installed, and CI=true requires it (see .ci/run)")
        }
        None => {
            eprintln!(
                "SKIPPED {test}: nats-server not found (apt-get install nats-server); \
                 set CI=true to make this a failure"
            );
            None
        }
    }
}

/// A `nats-server -js` on loopback, killed on drop (the one the benchmark uses too).
pub struct NatsServer(pub LocalNatsServer);

impl NatsServer {
    /// Starts a server with JetStream on a free port and a temporary store.
    pub fn start(bin: PathBuf) -> Self {
        Self(LocalNatsServer::start(bin, None).expect("nats-server starts"))
    }

    /// As [`NatsServer::start`], accepting only clients that present `token`.
    pub fn start_with_token(bin: PathBuf, token: &str) -> Self {
        Self(LocalNatsServer::start(bin, Some(token)).expect("nats-server starts"))
    }

    /// `nats://127.0.0.1:PORT` (without the token).
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// `nats://TOKEN@127.0.0.1:PORT`: the URL form that carries the token.
    pub fn url_with_token(&self) -> String {
        self.0.url_with_token().expect("a token-protected server")
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.0.restart().expect("nats-server restarts");
    }

    /// Store directory.
    pub fn store(&self) -> &Path {
        self.0.store()
    }
}

/// A `market-svc worker` process (one rayon thread), killed on drop.
pub struct WorkerProcess {
    child: Child,
    /// Its worker id.
    pub id: String,
}

impl WorkerProcess {
    /// Spawns the real binary against `url`.
    pub fn spawn(url: &str, id: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_market-svc"))
            .args(["worker", "--nats", url, "--worker-id", id, "--threads", "1"])
            .args(["--ack-wait", &ACK_WAIT.as_secs_f64().to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("market-svc worker starts");
        Self {
            child,
            id: id.to_string(),
        }
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit (graceful shutdown).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("worker exits")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A coordinator with the tests' topology and chunk size.
pub async fn coordinator(url: &str, chunk_size: usize) -> Coordinator {
    let mut c = CoordinatorConfig::new(url);
    c.topology = Topology::with_ack_wait(ACK_WAIT);
    c.chunk_size = chunk_size;
    Coordinator::connect(c).await.expect("coordinator connects")
}

/// Waits until `n` workers have outstanding pull requests on the shared consumer.
pub async fn wait_for_workers(url: &str, n: usize) {
    let client = market_svc::distributed::connect(url, "test", false)
        .await
        .expect("connect");
    let js = async_nats::jetstream::new(client);
    let topology = Topology::with_ack_wait(ACK_WAIT);
    let start = Instant::now();
    loop {
        if let Ok((_, _, mut c)) = topology.ensure(&js).await
            && let Ok(info) = c.info().await
            && info.num_waiting >= n
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{n} workers never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `n` chunks are delivered and not yet acked (workers are busy on them): the
/// moment to kill one mid-chunk.
pub async fn wait_for_chunks_in_flight(url: &str, n: usize) {
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let (_, _, mut consumer) = Topology::with_ack_wait(ACK_WAIT).ensure(&js).await.unwrap();
    let start = Instant::now();
    loop {
        let info = consumer.info().await.unwrap();
        if info.num_ack_pending >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "workers never busy"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `n` simulated GARCH series of `t` returns, named `S000`….
pub fn universe(n: usize, t: usize, seed: u64) -> Vec<(String, Vec<f64>)> {
    (0..n)
        .map(|i| {
            let sim = simulate(
                ModelSpec::default(),
                &[0.05, 0.02 + 0.01 * (i % 5) as f64, 0.08, 0.88],
                t,
                seed + i as u64,
            )
            .expect("simulates");
            (format!("S{i:03}"), sim.returns)
        })
        .collect()
}

/// The local sequential fit of every series, as JSON text (bit-exact comparison).
pub fn sequential_reports(series: &[(String, Vec<f64>)], spec: ModelSpec) -> Vec<String> {
    let returns: Vec<Returns> = series
        .iter()
        .map(|(_, r)| Returns::new(r.clone()).expect("valid"))
        .collect();
    fit_batch(
        &returns,
        spec,
        &FitOptions::default(),
        Execution::Sequential,
    )
    .expect("runs")
    .into_iter()
    .map(|r| report_text(&r.expect("fits").report().clone()))
    .collect()
}

/// A report as JSON: equal text ⇔ equal bits for every number (`float_roundtrip`).
pub fn report_text(r: &FitReport) -> String {
    serde_json::to_string(r).expect("serialises")
}
