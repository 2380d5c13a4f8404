//! Tests of the client: decoding with extra and null fields, a bad body, how errors read,
//! path encoding, a closed port, a service that is not available, and which token goes where.

use std::time::Duration;

use super::*;

#[test]
fn decodes_only_needed_fields_and_tolerates_extra_ones() {
    let json = r#"{"spec":{"mean":"constant"},"horizon":10,"rows":[
            {"symbol":"AAA","annualized_forecast":20.5,"daily_forecast":1.2,
             "long_run_annualized":18.0,"persistence":0.97,"half_life_days":22.8,
             "converged":true,"error":null,"extra":"x"},
            {"symbol":"BBB","annualized_forecast":null,"converged":false,"error":"too short"}]}"#;
    let v: VolScreener = serde_json::from_str(json).unwrap();
    assert_eq!(v.rows.len(), 2);
    assert_eq!(v.rows[0].persistence, Some(0.97));
    assert_eq!(v.rows[1].error.as_deref(), Some("too short"));
}

#[test]
fn decodes_signals_with_warmup_nulls() {
    let json = r#"{"symbol":"AAA","interval":"5m",
          "latest":{"timestamp":"2024-01-02T15:55:00Z","close":101.0,"rsi":55.0,"bb_upper":103.0,
            "bb_middle":100.0,"bb_lower":97.0,"percent_b":0.66,"bandwidth":0.06,"signal":"flat",
            "reasons":[]},
          "points":{"timestamps":["a","b"],"close":[1.0,2.0],"rsi":[null,50.0],
            "bb_upper":[null,3.0],"bb_middle":[null,2.0],"bb_lower":[null,1.0]}}"#;
    let v: SymbolSignals = serde_json::from_str(json).unwrap();
    assert_eq!(v.points.rsi, vec![None, Some(50.0)]);
    assert_eq!(v.latest.signal.as_deref(), Some("flat"));
}

#[test]
fn bad_body_is_a_decode_error_not_a_panic() {
    let call = Call {
        service: Service::Market,
        path: "/v1/volatility".into(),
        latency: Duration::ZERO,
        result: Ok(b"<html>".to_vec()),
    };
    let out: Call<VolScreener> = decode(call);
    assert!(matches!(out.result, Err(ApiError::Decode(_))));
}

#[test]
fn errors_read_well() {
    let e = ApiError::Status {
        status: 501,
        title: "Distributed unavailable".into(),
        detail: Some("no workers".into()),
    };
    assert_eq!(
        e.to_string(),
        "HTTP 501 Distributed unavailable: no workers"
    );
    assert_eq!(e.status(), Some(501));
    assert_eq!(encode("BRK.B"), "BRK.B");
    assert_eq!(encode("^GSPC"), "%5EGSPC");
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    // Bind and drop to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = ApiClient::new(Endpoints {
        market: Ok(format!("http://127.0.0.1:{port}")),
        signals: Err("signals-svc not available in this build".into()),
    });
    let call = client.health(Service::Market).await;
    assert!(matches!(call.result, Err(ApiError::Unreachable(_))));
    let call = client.signal_screener("5m").await;
    assert_eq!(
        call.result,
        Err(ApiError::Unavailable(
            "signals-svc not available in this build".into()
        ))
    );
}

/// A one-request HTTP server on a free port (a plain thread): answers `200 {}` and hands back
/// the request head, lower-cased.
fn capture_one_request() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        let _ = tx.send(String::from_utf8_lossy(&head).to_lowercase());
    });
    (url, rx)
}

#[tokio::test]
async fn each_service_gets_its_own_token_and_none_is_sent_without_one() {
    let (market_url, market_head) = capture_one_request();
    let (signals_url, signals_head) = capture_one_request();
    let client = ApiClient::new(Endpoints {
        market: Ok(market_url),
        signals: Ok(signals_url),
    })
    .with_tokens(Tokens {
        market: Some("m-secret".into()),
        signals: Some(String::new()),
    });
    assert_eq!(client.health(Service::Market).await.result, Ok(()));
    assert_eq!(client.health(Service::Signals).await.result, Ok(()));
    let market_head = market_head.recv().unwrap();
    let signals_head = signals_head.recv().unwrap();
    assert!(
        market_head.contains("authorization: bearer m-secret"),
        "{market_head}"
    );
    assert!(!signals_head.contains("authorization"), "{signals_head}");
    assert!(!format!("{client:?}").contains("m-secret"));
}
