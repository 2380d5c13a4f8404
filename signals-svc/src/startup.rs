//! Building and running the application: bind, load bars in the background, serve.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::routes;
use crate::state::{AppState, Book};
use garch_core::data::load_bars;
use garch_core::indicators::Bar;

/// A bound, not yet running, application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: Arc<AppState>,
}

/// Loads the bar file (CSV or Parquet) into books (blocking).
pub fn load_books(state: &AppState) -> Result<BTreeMap<String, Book>, String> {
    let data = load_bars(&state.bars_path).map_err(|e| e.to_string())?;
    for w in data.warnings {
        tracing::warn!("{w}");
    }
    data.series
        .into_iter()
        .map(|s| {
            let bars = (0..s.len())
                .map(|i| Bar {
                    timestamp: s.timestamps[i],
                    open: s.open[i],
                    high: s.high[i],
                    low: s.low[i],
                    close: s.close[i],
                    volume: s.volume[i],
                })
                .collect();
            Book::new(bars)
                .map(|b| (s.symbol.clone(), b))
                .map_err(|e| format!("{}: {e}", s.symbol))
        })
        .collect()
}

impl Application {
    /// Binds and starts loading the bars: `/health` answers at once, `/ready` when loaded.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr).await?;
        let state = AppState::new(
            config.bars.clone(),
            // An empty token (e.g. SIGNALS_SVC_TOKEN="") must not open the endpoint.
            config.token.clone().filter(|t| !t.is_empty()),
        );
        let (api, stream) = routes::router(Arc::clone(&state), config.body_limit);
        let router = svc_kit::server::with_standard_layers(
            api,
            Duration::from_secs(config.request_timeout_secs),
        )
        .merge(stream);
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            let worker = Arc::clone(&st);
            match tokio::task::spawn_blocking(move || load_books(&worker)).await {
                Ok(Ok(books)) => {
                    tracing::info!(symbols = books.len(), "bars loaded");
                    *st.write() = books;
                    st.set_ready();
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot load bars; not ready");
                    st.set_load_error(Some(e));
                }
                Err(e) => tracing::error!(error = %e, "bar loading aborted"),
            }
        });
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Shared state (for tests).
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "signals-svc listening");
        svc_kit::server::serve(self.listener, self.router, shutdown).await
    }
}
