//! Tests of the client: decoding with extra and null fields, a bad body, how errors read,
//! path encoding, a closed port, a service that is not available, which token goes where, and
//! the backtest routes of a real market-svc (202 then the result, the ranking, universe runs).

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

/// Asks `ask` until it is no longer 202 (a minute at most).
async fn until_ready<T, F, Fut>(mut ask: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Call<Computed<T>>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match ask().await.result {
            Ok(Computed::Ready(v)) => return v,
            Ok(Computed::Pending(p)) => assert!(p.retry_after >= 1, "{p:?}"),
            Err(e) => panic!("{e}"),
        }
        assert!(std::time::Instant::now() < deadline, "still computing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn backtest_ranking_and_universe_runs_parse_from_a_real_market_svc() {
    use crate::app::{Dist, Model};
    let dir = tempfile::tempdir().unwrap();
    crate::services::tests::write_data(dir.path());
    let mut config = crate::services::market_config(dir.path());
    // No wait at all: the first answer of an on-demand route is 202.
    config.budget.backtest_wait = 0.0;
    let svc = crate::services::spawn(market_svc::startup::build(&config).await.unwrap());
    let client = crate::services::tests::ready_market_client(&svc.url).await;

    // 400 days of AAA: windows of 100 leave 299 out-of-sample days (the Basel light needs 250).
    let setting = Setting {
        window: 100,
        refit_every: 20,
    };
    let first = client
        .backtest("AAA", Model::Gjr, Dist::T, setting, 50)
        .await;
    assert_eq!(first.path, "/v1/assets/AAA/backtest");
    match first.result {
        Ok(Computed::Pending(p)) => {
            assert_eq!(p.retry_after, 5);
            assert!(p.detail.contains("AAA"), "{p:?}");
        }
        other => panic!("expected 202, got {other:?}"),
    }
    let report = until_ready(|| client.backtest("AAA", Model::Gjr, Dist::T, setting, 50)).await;
    assert_eq!(report.symbol, "AAA");
    assert_eq!(report.path.len(), 50);
    assert_eq!(report.days, 299);
    assert_eq!(report.refit_count, 15);
    for key in ["0.01", "0.05"] {
        let k = &report.kupiec[key];
        assert!(k.p_value.is_some() && k.expected.is_some(), "{key}: {k:?}");
        assert!(
            report.christoffersen[key]
                .conditional_coverage
                .p_value
                .is_some()
        );
        let day = &report.path[0];
        assert!(day.var[key].is_some() && day.exceedance.contains_key(key));
    }
    let light = report.traffic_light.expect("299 days have a traffic light");
    assert_ne!(light.zone, Zone::Other);
    assert_eq!(light.days, 250);
    assert!(report.qlike.is_some() && report.mse.is_some());
    assert!(report.mincer_zarnowitz.is_some_and(|m| m.r2.is_some()));

    let ranking = until_ready(|| {
        client.models(
            "AAA",
            Setting {
                window: 100,
                refit_every: 50,
            },
        )
    })
    .await;
    assert_eq!(ranking.symbol, "AAA");
    assert_eq!(ranking.models.len() + ranking.failed.len(), 12);
    assert!(!ranking.models.is_empty());
    for (i, m) in ranking.models.iter().enumerate() {
        assert_eq!(m.rank, i + 1);
        assert_eq!(m.dm_vs_best.is_none(), i == 0);
        assert!(["garch", "gjr", "egarch"].contains(&m.spec.model_name().as_str()));
        assert!(["normal", "t", "skewt", "ged"].contains(&m.spec.distribution.as_str()));
    }
    let names: Vec<(String, String)> = ranking
        .models
        .iter()
        .map(|m| (m.spec.model_name(), m.spec.distribution.clone()))
        .chain(
            ranking
                .failed
                .iter()
                .map(|f| (f.spec.model_name(), f.spec.distribution.clone())),
        )
        .collect();
    // Every model/law the dashboard can ask for is among the candidates.
    for model in [Model::Garch, Model::Gjr, Model::Egarch] {
        for dist in [Dist::Normal, Dist::T, Dist::SkewT, Dist::Ged] {
            let pair = (model.as_str().to_string(), dist.as_str().to_string());
            assert!(names.contains(&pair), "{pair:?} not in {names:?}");
        }
    }

    let universe = Setting {
        window: 100,
        refit_every: 50,
    };
    let seq = client
        .run_backtests(FitMode::Sequential, Model::Garch, Dist::Normal, universe)
        .await
        .result
        .unwrap();
    let par = client
        .run_backtests(FitMode::Parallel, Model::Garch, Dist::Normal, universe)
        .await
        .result
        .unwrap();
    assert_eq!(seq.threads, Some(1));
    assert!(seq.refits > 0 && seq.total_seconds > 0.0 && seq.refits_per_second > 0.0);
    assert_eq!(seq.digest.len(), 16);
    assert_eq!(seq.digest, par.digest);
    assert_eq!(seq.assets.len(), 1);
    assert_eq!(seq.assets[0].symbol, "AAA");
    assert!(seq.assets[0].error.is_none() && seq.assets[0].digest.is_some());
    assert!(seq.distributed.is_none());
    // No NATS in-process: distributed is a 503 problem with a detail to show.
    let dist = client
        .run_backtests(FitMode::Distributed, Model::Garch, Dist::Normal, universe)
        .await;
    match dist.result {
        Err(ApiError::Status {
            status: 503,
            detail: Some(d),
            ..
        }) => assert!(d.contains("NATS"), "{d}"),
        other => panic!("expected 503, got {other:?}"),
    }
    svc.stop();
}
