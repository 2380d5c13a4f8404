//! `GET /v1/stream`: Server-Sent Events, one `forecast` event per cached model of a symbol
//! whenever its forecast moves: after an append (filtered) and after a refit (swapped in).
//! The same conventions as signals-svc's stream: named events, JSON data, keep-alive comments.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::state::AppState;

/// Forecast updates as they happen.
#[utoipa::path(get, path = "/v1/stream", tag = "volatility",
    responses((status = 200, description = "text/event-stream of `forecast` events \
        (ForecastEvent JSON), a keep-alive comment every 15 s",
        content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(|msg| {
        // A lagging client skips what it missed rather than failing the stream.
        let event = msg.ok()?;
        Event::default()
            .event("forecast")
            .json_data(&event)
            .ok()
            .map(Ok)
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
