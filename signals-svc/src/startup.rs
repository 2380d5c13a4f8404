//! Building and running the application: open the store, bind, load bars (the file, then the
//! appended bars replayed from the store) in the background, serve.

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
    /// The store cannot be read.
    #[error(transparent)]
    Store(#[from] market_data::store::StoreError),
    /// A symbol's bars are refused by the indicator state (a non-finite close).
    #[error("{symbol}: {source}")]
    Indicators {
        /// The symbol.
        symbol: String,
        /// Why.
        source: indicators::IndicatorError,
    },
}

/// Loads the bar file (CSV, or Parquet with the `parquet` feature) and replays the bars
/// appended since, from the store, into books (blocking).
///
/// The file is the base: a stored bar at or before the file's last bar of its symbol (the file
/// was updated to include it) is skipped with a warning; a stored symbol the file no longer
/// has is reported, not served, and stays in the store.
pub fn load_books(state: &AppState) -> Result<BTreeMap<String, Book>, LoadError> {
    let data = load_bars(&state.bars_path)?;
    for w in data.warnings {
        tracing::warn!("{w}");
    }
    let mut stored = state.store.bars()?;
    let mut replayed = 0usize;
    let books = data
        .series
        .into_iter()
        .map(|s| {
            let mut bars: Vec<_> = s.bars().collect();
            if let Some(extra) = stored.remove(&s.symbol) {
                let last = bars.last().map_or(i64::MIN, |b| b.timestamp);
                let (old, new): (Vec<_>, Vec<_>) =
                    extra.into_iter().partition(|b| b.timestamp <= last);
                if !old.is_empty() {
                    tracing::warn!(
                        symbol = %s.symbol,
                        bars = old.len(),
                        "stored bars not after the bar file's last bar: the file wins"
                    );
                }
                replayed += new.len();
                bars.extend(new);
            }
            match Book::new(bars) {
                Ok(book) => Ok((s.symbol, book)),
                Err(source) => Err(LoadError::Indicators {
                    symbol: s.symbol,
                    source,
                }),
            }
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    for (symbol, bars) in &stored {
        tracing::warn!(
            %symbol,
            bars = bars.len(),
            store = %state.store.path().display(),
            "stored bars of a symbol the bar file does not have: not served, kept in the store"
        );
    }
    tracing::info!(replayed, store = %state.store.path().display(), "appended bars replayed");
    Ok(books)
}

/// Binds and starts loading the bars: `/health` answers at once, `/ready` when loaded.
pub async fn build(config: &ServeConfig) -> anyhow::Result<BoundServer> {
    // The store first: a file it cannot trust stops the start with one line naming it.
    let store = Arc::new(market_data::store::Store::open(&config.store_file())?);
    let listener = TcpListener::bind(config.addr).await?;
    let state = AppState::new(config.bars.clone(), config.token.clone(), store);
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
