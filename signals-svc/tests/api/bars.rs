use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{OPEN, assert_problem, spawn_app, spawn_with};

pub fn bar(ts: i64, close: f64) -> serde_json::Value {
    let t =
        humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(ts as u64))
            .to_string();
    json!({"timestamp": t, "open": close, "high": close * 1.001, "low": close * 0.999, "close": close, "volume": 10})
}

#[tokio::test]
async fn appends_update_incrementally_and_stream_signal_changes() {
    let app = spawn_app().await;
    // Subscribe first.
    let resp = app
        .client
        .get(format!("{}/v1/stream", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut events = resp.bytes_stream();

    let before: serde_json::Value = app
        .get("/v1/assets/AAA/signals")
        .await
        .json()
        .await
        .unwrap();
    let last_close = before["latest"]["close"].as_f64().unwrap();
    assert_eq!(before["latest"]["signal"], "flat", "the fixture ends flat");
    // A crash: ten bars each 1.5% lower drive RSI below 30 and the close under the lower band.
    let day3 = OPEN + 2 * 86_400;
    let bars: Vec<_> = (0..10)
        .map(|i| bar(day3 + 300 * i, last_close * 0.985f64.powi(i as i32 + 1)))
        .collect();
    let r = app
        .post("/v1/assets/AAA/bars", json!({"bars": bars}), Some("tok"))
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["appended"], 10);
    assert_eq!(v["bars"], 166);
    assert_eq!(v["latest"]["signal"], "long");

    // The stream announces the change.
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: signal"), "{text}");
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let ev: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(ev["symbol"], "AAA");
    assert_eq!(ev["previous"], "flat");
    assert_eq!(ev["signal"], "long");

    // Incremental state equals a recomputation over all bars.
    let after: serde_json::Value = app
        .get("/v1/assets/AAA/signals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["latest"]["rsi"], v["latest"]["rsi"]);
    assert_eq!(after["latest"]["bb_lower"], v["latest"]["bb_lower"]);
}

#[tokio::test]
async fn bad_appends_change_nothing() {
    let app = spawn_app().await;
    let url = "/v1/assets/BBB/bars";
    let ok_bar = |i: i64| bar(OPEN + 2 * 86_400 + 300 * i, 100.0);
    let r = app.post(url, json!({"bars": [ok_bar(0)]}), None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_problem(r, 401, Some("authorization")).await;
    assert_problem(
        app.post(url, json!({"bars": [ok_bar(0)]}), Some("nope"))
            .await,
        401,
        Some("authorization"),
    )
    .await;
    assert_problem(
        app.post(
            "/v1/assets/ZZZ/bars",
            json!({"bars": [ok_bar(0)]}),
            Some("tok"),
        )
        .await,
        404,
        Some("symbol"),
    )
    .await;
    // Second bar out of order: 409, and the first (valid) bar is not applied either.
    assert_problem(
        app.post(url, json!({"bars": [ok_bar(1), ok_bar(0)]}), Some("tok"))
            .await,
        409,
        Some("bars[1].timestamp"),
    )
    .await;
    // Duplicate of the last existing bar.
    assert_problem(
        app.post(
            url,
            json!({"bars": [bar(OPEN + 86_400 + 77 * 300, 100.0)]}),
            Some("tok"),
        )
        .await,
        409,
        Some("bars[0].timestamp"),
    )
    .await;
    let mut bad = ok_bar(0);
    bad["close"] = json!(-1.0);
    assert_problem(
        app.post(url, json!({"bars": [bad]}), Some("tok")).await,
        422,
        Some("bars[0].close"),
    )
    .await;
    let mut bad = ok_bar(0);
    bad["timestamp"] = json!("yesterday");
    assert_problem(
        app.post(url, json!({"bars": [bad]}), Some("tok")).await,
        422,
        Some("bars[0].timestamp"),
    )
    .await;
    assert_problem(
        app.post(url, json!({"bars": []}), Some("tok")).await,
        422,
        Some("bars"),
    )
    .await;
    let a: serde_json::Value = app.get("/v1/assets").await.json().await.unwrap();
    assert_eq!(a[1]["bars"], 156, "nothing was half-applied");

    let closed = spawn_with(None).await;
    assert_problem(
        closed
            .post(url, json!({"bars": [ok_bar(0)]}), Some("tok"))
            .await,
        403,
        None,
    )
    .await;
}
