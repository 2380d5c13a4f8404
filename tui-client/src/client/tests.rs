//! Tests of the client: decoding with extra and null fields, a bad body, how errors read,
//! path encoding, a closed port and a service that is not available.

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
