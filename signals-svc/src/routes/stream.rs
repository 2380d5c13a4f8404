//! `GET /v1/stream`: Server-Sent Events, one `signal` event whenever a symbol's position
//! (default parameters, 5-minute bars) changes after an append.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::state::AppState;

/// Signal changes as they happen.
#[utoipa::path(get, path = "/v1/stream", tag = "signals",
    responses((status = 200, description = "text/event-stream of `signal` events (SignalEvent JSON)")))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(|msg| {
        // A lagging client skips what it missed rather than failing the stream.
        let event = msg.ok()?;
        Event::default()
            .event("signal")
            .json_data(&event)
            .ok()
            .map(Ok)
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
