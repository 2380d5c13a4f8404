//! Jobs through the coordinator and worker processes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use garch_core::{Distribution, FitOptions, MeanModel, ModelSpec, VolatilityModel};
use market_svc::distributed::{
    Coordinator, CoordinatorConfig, DistributedError, JobOutcome, JobRequest, Topology,
};

use crate::harness::{
    ACK_WAIT, NatsServer, SERIAL, WorkerProcess, coordinator, nats_server_or_skip, report_text,
    sequential_reports, universe, wait_for_chunks_in_flight, wait_for_workers,
};

fn job(series: &[(String, Vec<f64>)], deadline: Duration) -> JobRequest {
    job_with(ModelSpec::default(), series, deadline)
}

fn job_with(spec: ModelSpec, series: &[(String, Vec<f64>)], deadline: Duration) -> JobRequest {
    JobRequest {
        spec,
        options: FitOptions::default(),
        series: series.to_vec(),
        deadline,
    }
}

/// Every symbol exactly once, in order, each bit-identical to the sequential fit.
fn assert_matches_sequential(outcome: &JobOutcome, series: &[(String, Vec<f64>)]) {
    assert_matches_sequential_with(ModelSpec::default(), outcome, series);
}

fn assert_matches_sequential_with(
    spec: ModelSpec,
    outcome: &JobOutcome,
    series: &[(String, Vec<f64>)],
) {
    assert!(outcome.is_complete(), "missing: {:?}", outcome.missing);
    assert_eq!(outcome.symbols.len(), series.len());
    let unique: HashSet<&str> = outcome.symbols.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(unique.len(), series.len(), "a symbol appears twice");
    let expected = sequential_reports(series, spec);
    for ((got, (symbol, _)), want) in outcome.symbols.iter().zip(series).zip(&expected) {
        assert_eq!(&got.symbol, symbol);
        let report = got.outcome.as_ref().expect("fitted");
        assert_eq!(
            &report_text(report),
            want,
            "{symbol} differs from sequential"
        );
    }
}

#[tokio::test]
async fn several_workers_match_the_sequential_fit_bit_for_bit() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("several_workers_match_the_sequential_fit_bit_for_bit")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let workers: Vec<_> = (0..3)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("w{i}")))
        .collect();
    wait_for_workers(&nats.url(), workers.len()).await;
    let series = universe(36, 700, 1);
    let c = coordinator(&nats.url(), 4).await;
    let outcome = c
        .run(job(&series, Duration::from_secs(60)))
        .await
        .expect("job runs");
    assert_matches_sequential(&outcome, &series);
    assert_eq!(outcome.chunks, 9);
    assert!(
        outcome.workers.len() >= 2,
        "work was not shared: {:?}",
        outcome.workers
    );
}

#[tokio::test]
async fn a_killed_worker_chunk_is_redelivered_and_every_symbol_comes_back_once() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("a_killed_worker_chunk_is_redelivered") else {
        return;
    };
    let nats = NatsServer::start(bin);
    let mut workers: Vec<_> = (0..3)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("w{i}")))
        .collect();
    wait_for_workers(&nats.url(), workers.len()).await;
    // A worker is killed in the middle of a chunk, so chunks must outlast the few
    // milliseconds between "all three hold one" and the kill by a wide margin: EGARCH
    // (L-BFGS, ~10 ms a fit on 4,000 returns) in chunks of 8 takes ~0.1 s a chunk, where
    // GARCH(1,1) fits (~0.2 ms) would finish a chunk before the kill lands.
    let spec = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::egarch(),
        Distribution::Normal,
    );
    let series = universe(32, 4000, 100);
    let c = coordinator(&nats.url(), 8).await;
    let running = tokio::spawn({
        let c = c.clone();
        let j = job_with(spec, &series, Duration::from_secs(60));
        async move { c.run(j).await }
    });

    // Kill w0 as soon as all three workers hold a chunk.
    wait_for_chunks_in_flight(&nats.url(), 3).await;
    workers[0].kill9();

    let outcome = running.await.unwrap().expect("job completes");
    assert_matches_sequential_with(spec, &outcome, &series);
    assert!(
        outcome.redelivered_chunks >= 1,
        "the killed worker's chunk was not redelivered: {outcome:?}"
    );
    assert!(!outcome.workers.contains("w0") || outcome.workers.len() >= 2);
    // Redelivery waits for ack_wait, not for the deadline.
    assert!(outcome.elapsed < Duration::from_secs(30));
    // The survivors shut down gracefully on SIGTERM.
    for w in &mut workers[1..] {
        assert!(w.terminate().success(), "{} did not exit cleanly", w.id);
    }
}

#[tokio::test]
async fn workers_reconnect_after_a_nats_restart() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("workers_reconnect_after_a_nats_restart") else {
        return;
    };
    let mut nats = NatsServer::start(bin);
    let _workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("w{i}")))
        .collect();
    wait_for_workers(&nats.url(), 2).await;
    let series = universe(12, 600, 7);
    let c = coordinator(&nats.url(), 4).await;
    let first = c.run(job(&series, Duration::from_secs(30))).await.unwrap();
    assert_matches_sequential(&first, &series);

    nats.restart();
    assert!(nats.store().exists());
    // Both the coordinator's client and the workers reconnect on their own.
    wait_for_workers(&nats.url(), 1).await;
    let start = Instant::now();
    while !c.is_connected() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "coordinator never reconnected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = c
        .run(job(&series, Duration::from_secs(30)))
        .await
        .expect("a job after the restart succeeds");
    assert_matches_sequential(&second, &series);
}

#[tokio::test]
async fn without_workers_the_job_fails_clearly_at_the_deadline() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("without_workers_the_job_fails_clearly_at_the_deadline")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let c = coordinator(&nats.url(), 4).await;
    let series = universe(6, 300, 3);
    let start = Instant::now();
    let err = c
        .run(job(&series, Duration::from_secs(2)))
        .await
        .expect_err("no worker, no result");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
    assert!(matches!(err, DistributedError::NoResults { chunks: 2, .. }));
    let text = err.to_string();
    assert!(text.contains("no fit worker answered"), "{text}");
    assert!(text.contains("market-svc worker"), "{text}");

    // The abandoned chunks were purged: a worker started now finds nothing to do.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let (_, _, mut consumer) = Topology::with_ack_wait(ACK_WAIT).ensure(&js).await.unwrap();
    assert_eq!(consumer.info().await.unwrap().num_pending, 0);
}

#[tokio::test]
async fn a_token_protected_server_takes_the_token_in_the_url_and_no_message_shows_it() {
    let _serial = SERIAL.lock().await;
    let test = "a_token_protected_server_takes_the_token_in_the_url_and_no_message_shows_it";
    let Some(bin) = nats_server_or_skip(test) else {
        return;
    };
    let nats = NatsServer::start_with_token(bin, "s3cret-token");
    // Without the token, or with a wrong one: refused, naming the server, not the token.
    let wrong = format!("nats://wrong-token@127.0.0.1:{}", nats.0.port());
    for url in [nats.url(), wrong] {
        let err = Coordinator::connect(CoordinatorConfig::new(url.as_str()))
            .await
            .expect_err("an unauthenticated client is refused");
        let message = err.to_string();
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(!message.contains("wrong-token"), "{message}");
    }
    // With it: a worker process and the coordinator run a job as on an open server, and
    // the coordinator's debug form (which logs may show) hides the token.
    let worker = WorkerProcess::spawn(&nats.url_with_token(), "w-token");
    wait_for_workers(&nats.url_with_token(), 1).await;
    let series = universe(8, 500, 3);
    let c = coordinator(&nats.url_with_token(), 4).await;
    assert!(!format!("{c:?}").contains("s3cret-token"));
    let outcome = c
        .run(job(&series, Duration::from_secs(60)))
        .await
        .expect("job runs");
    assert_matches_sequential(&outcome, &series);
    assert_eq!(outcome.workers.len(), 1, "{:?}", outcome.workers);
    drop(worker);
}
