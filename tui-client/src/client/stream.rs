//! Following a service's Server-Sent Events stream (`GET /v1/stream`: signals-svc's `signal`
//! events, market-svc's `forecast` events), so that an append shows on the dashboard without
//! a key press. Each event naming a symbol becomes an [`ApiResult::Pushed`]; the app refetches
//! what that symbol's change affects. A dropped stream is reopened after a pause; the periodic
//! refresh still covers anything missed meanwhile.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::app::{ApiResult, Service};

/// Pause before reopening a stream that failed or ended.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// The symbols named by the complete events at the front of `buffer` (removed from it); a
/// partial event stays for the next chunk. Comments (keep-alives) and events without a
/// symbol are skipped.
pub fn drain_events(buffer: &mut String) -> Vec<String> {
    let mut symbols = Vec::new();
    // The services end events with a blank line ("\n\n").
    while let Some(end) = buffer.find("\n\n") {
        let frame: String = buffer.drain(..end + 2).collect();
        let data: String = frame
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect::<Vec<_>>()
            .join("\n");
        if data.is_empty() {
            continue;
        }
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&data)
            && let Some(symbol) = value.get("symbol").and_then(|s| s.as_str())
        {
            symbols.push(symbol.to_string());
        }
    }
    symbols
}

/// Follows `base`'s stream until `tx` is closed (the dashboard ended), reconnecting as needed.
pub async fn follow(base: String, service: Service, tx: UnboundedSender<ApiResult>) {
    // No request timeout: the stream is meant to stay open.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let url = format!("{}/v1/stream", base.trim_end_matches('/'));
    loop {
        if let Ok(resp) = http.get(&url).send().await
            && resp.status().is_success()
        {
            // The headers come after the service subscribed this stream: from here on no event
            // is missed.
            if tx.send(ApiResult::Streaming(service, true)).is_err() {
                return;
            }
            let mut body = resp.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                for symbol in drain_events(&mut buffer) {
                    if tx.send(ApiResult::Pushed(service, symbol)).is_err() {
                        return;
                    }
                }
            }
        }
        if tx.send(ApiResult::Streaming(service, false)).is_err() {
            return;
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_taken_whole_and_keep_alives_skipped() {
        let mut buffer = String::from(
            ": keep-alive\n\nevent: forecast\ndata: {\"symbol\":\"AAA\",\"reason\":\"append\"}\n\n\
             event: signal\ndata: {\"symbol\":\"BB",
        );
        assert_eq!(drain_events(&mut buffer), ["AAA"]);
        // The partial event waits for the rest.
        assert!(buffer.starts_with("event: signal"));
        buffer.push_str("B\"}\n\nevent: x\ndata: not json\n\n");
        assert_eq!(drain_events(&mut buffer), ["BBB"]);
        assert!(buffer.is_empty());
    }
}
