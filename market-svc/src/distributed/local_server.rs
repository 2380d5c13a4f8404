//! A `nats-server -js` child process on a free loopback port with a temporary store: what
//! the benchmark's distributed mode starts when no `--nats URL` is given, and what the
//! distributed tests run against. Killed (and its store deleted) on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a local `nats-server` could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LocalServerError {
    /// No `nats-server` binary on `PATH`, in /usr/sbin or in /usr/local/bin.
    #[error("nats-server not found (apt-get install nats-server)")]
    NotInstalled,
    /// Spawning it, or finding a port or a store folder, failed.
    #[error("cannot start nats-server: {0}")]
    Io(#[from] std::io::Error),
    /// It did not listen within the start timeout.
    #[error("nats-server did not listen on port {0} within 10 s")]
    NotListening(u16),
}

/// The `nats-server` binary: on `PATH`, else where Debian and a manual install put it.
pub fn find_nats_server() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

/// A running `nats-server -js` on 127.0.0.1.
pub struct LocalNatsServer {
    bin: PathBuf,
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
    token: Option<String>,
}

impl LocalNatsServer {
    /// Starts `bin` with JetStream on a free port and a temporary store, accepting only
    /// clients that present `token` when one is given.
    pub fn start(bin: PathBuf, token: Option<&str>) -> Result<Self, LocalServerError> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self {
            bin,
            child: None,
            port,
            store: tempfile::tempdir()?,
            token: token.map(str::to_string),
        };
        server.spawn()?;
        Ok(server)
    }

    /// Starts the `nats-server` found by [`find_nats_server`], without a token.
    pub fn start_installed() -> Result<Self, LocalServerError> {
        Self::start(
            find_nats_server().ok_or(LocalServerError::NotInstalled)?,
            None,
        )
    }

    fn spawn(&mut self) -> Result<(), LocalServerError> {
        let child = Command::new(&self.bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .args(self.token.iter().flat_map(|t| ["--auth", t.as_str()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err(LocalServerError::NotListening(self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `nats://127.0.0.1:PORT` (without the token).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `nats://TOKEN@127.0.0.1:PORT`, the URL form that carries the token; `None` for a
    /// server without one.
    pub fn url_with_token(&self) -> Option<String> {
        let token = self.token.as_deref()?;
        Some(format!("nats://{token}@127.0.0.1:{}", self.port))
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and store.
    pub fn restart(&mut self) -> Result<(), LocalServerError> {
        self.kill();
        std::thread::sleep(Duration::from_millis(300));
        self.spawn()
    }

    /// The JetStream store folder.
    pub fn store(&self) -> &Path {
        self.store.path()
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for LocalNatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
