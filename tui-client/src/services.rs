//! Starting the services inside the dashboard's process, on free local ports, so that
//! `cargo run -p tui-client` shows the whole system with nothing else to start. The dashboard
//! still talks to them over HTTP only, exactly as it would to remote ones.

use std::path::Path;

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

/// Starts market-svc on `127.0.0.1:0`. It answers `/health` at once and turns ready when the
/// data is loaded and fitted; if the data file is missing it stays not ready (the dashboard
/// shows that) rather than failing here.
pub async fn start_market(data_dir: &Path) -> anyhow::Result<InProcess> {
    Ok(spawn(
        market_svc::startup::build(&market_config(data_dir)).await?,
    ))
}

/// Runs a bound service in the background until its [`InProcess`] handle stops it.
fn spawn(server: svc_kit::server::BoundServer) -> InProcess {
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
mod tests {
    use super::*;

    #[tokio::test]
    async fn market_starts_on_a_free_port_and_answers_health_even_without_data() {
        let dir = std::env::temp_dir().join(format!("tui-client-nodata-{}", std::process::id()));
        let svc = start_market(&dir).await.unwrap();
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

    #[test]
    fn missing_data_is_noted_only_for_in_process_market() {
        let dir = Path::new("/nonexistent-tui-client-data");
        assert_eq!(data_notes(dir, true).len(), 1);
        assert!(data_notes(dir, false).is_empty());
    }
}
