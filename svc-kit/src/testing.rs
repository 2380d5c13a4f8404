//! The one set of HTTP test helpers both services' tests use (cargo feature `testing`, for
//! dev-dependencies only): start the real app on a random loopback port, talk to it with a
//! real HTTP client, and check problem+json errors the same way everywhere.

use std::time::{Duration, Instant};

use crate::server::BoundServer;

/// A service running in the test's runtime, and a client for it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client with no default headers.
    pub client: reqwest::Client,
}

impl TestServer {
    /// Serves `server` in the background (until the test's runtime ends) without waiting.
    pub fn start(server: BoundServer) -> Self {
        let base = format!("http://127.0.0.1:{}", server.port());
        tokio::spawn(server.run_until(std::future::pending()));
        Self {
            base,
            client: reqwest::Client::new(),
        }
    }

    /// Serves `server` and waits until `/ready` answers 200 (panics after 30 s).
    pub async fn start_ready(server: BoundServer) -> Self {
        let app = Self::start(server);
        app.wait_ready(Duration::from_secs(30)).await;
        app
    }

    /// Waits until `/ready` answers 200; panics after `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(r) = self.client.get(self.url("/ready")).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{} never became ready within {timeout:?}", self.base);
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.post(path, body, None).await
    }

    /// `POST path` with a JSON body and, if given, a bearer token.
    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send().await.unwrap()
    }
}

/// Asserts an `application/problem+json` response of `status` whose body has every member
/// of RFC 9457 the services promise (`type` under `/problems/`, `title`, `status`, `detail`)
/// and, if given, names `field`. Returns the body.
pub async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    field: Option<&str>,
) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "type: {body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "title: {body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "detail: {body}"
    );
    if let Some(f) = field {
        assert_eq!(body["field"], f, "field named: {body}");
    }
    body
}

/// A service binary running as a child process (for tests that must kill it like a crash
/// would: `kill -9`, no shutdown hook, no flush). Killed when dropped.
pub struct ChildService {
    /// The process.
    pub child: std::process::Child,
    /// A client for it (`server.base` is its URL).
    pub server: TestServer,
}

impl ChildService {
    /// Starts `binary serve --addr 127.0.0.1:PORT args…` on a free port and waits until
    /// `/ready` answers 200 (panics after 60 s, or if the process exits first).
    pub async fn spawn_ready(binary: &str, args: &[&str]) -> Self {
        // A free port: bind, read it, release it (another process could take it in between;
        // on a test machine that does not happen in practice).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let addr = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(binary);
        command
            .arg("serve")
            .arg("--addr")
            .arg(&addr)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = command.spawn().expect("spawn the service binary");
        let mut service = Self {
            child,
            server: TestServer {
                base: format!("http://{addr}"),
                client: reqwest::Client::new(),
            },
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!("{binary} exited before it was ready: {status}");
            }
            if let Ok(r) = service
                .server
                .client
                .get(service.server.url("/ready"))
                .send()
                .await
                && r.status() == 200
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{binary} never became ready");
    }

    /// SIGKILL (`kill -9`): no graceful shutdown, nothing flushed by the process.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap the child");
    }
}

impl Drop for ChildService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for ChildService {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// Runs `binary serve args…` expecting it to refuse to start: returns its exit status and
/// its standard error (waits at most 60 s).
pub fn refused_start(binary: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = std::process::Command::new(binary)
        .arg("serve")
        .arg("--addr")
        .arg("127.0.0.1:0")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the service binary");
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                out.status,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{binary} did not refuse to start: still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
