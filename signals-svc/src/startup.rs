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

/// Why the bars could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is unreadable or invalid (names the file, row and column).
    #[error(transparent)]
    Data(#[from] market_data::DataError),
    /// A symbol's bars are refused by the indicator state (a non-finite close).
    #[error("{symbol}: {source}")]
    Indicators {
        /// The symbol.
        symbol: String,
        /// Why.
        source: indicators::IndicatorError,
    },
}

/// Loads the bar file (CSV, or Parquet with the `parquet` feature) into books (blocking).
pub fn load_books(state: &AppState) -> Result<BTreeMap<String, Book>, LoadError> {
    let data = load_bars(&state.bars_path)?;
    for w in data.warnings {
        tracing::warn!("{w}");
    }
    data.series
        .into_iter()
        .map(|s| match Book::new(s.bars().collect()) {
            Ok(book) => Ok((s.symbol, book)),
            Err(source) => Err(LoadError::Indicators {
                symbol: s.symbol,
                source,
            }),
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
    svc_kit::server::load_in_background(state, "bars", load_books, |st, books| {
        tracing::info!(symbols = books.len(), "bars loaded");
        *st.write() = books;
    });
    Ok(BoundServer::new("signals-svc", listener, router))
}
