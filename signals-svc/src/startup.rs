//! Building and running the application: bind, load bars in the background, serve.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use svc_kit::server::BoundServer;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::routes;
use crate::state::{AppState, Book};
use market_data::load_bars;

/// Loads the bar file (CSV or Parquet) into books (blocking).
pub fn load_books(state: &AppState) -> Result<BTreeMap<String, Book>, String> {
    let data = load_bars(&state.bars_path).map_err(|e| e.to_string())?;
    for w in data.warnings {
        tracing::warn!("{w}");
    }
    data.series
        .into_iter()
        .map(|s| {
            Book::new(s.bars().collect())
                .map(|b| (s.symbol.clone(), b))
                .map_err(|e| format!("{}: {e}", s.symbol))
        })
        .collect()
}

/// Binds and starts loading the bars: `/health` answers at once, `/ready` when loaded.
pub async fn build(config: &ServeConfig) -> anyhow::Result<BoundServer> {
    let listener = TcpListener::bind(config.addr).await?;
    let state = AppState::new(config.bars.clone(), config.token.clone());
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
    Ok(BoundServer::new("signals-svc", listener, router))
}
