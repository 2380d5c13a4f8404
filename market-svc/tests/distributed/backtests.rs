//! Universe backtests through the coordinator and worker processes: bit-identical to
//! `backtest::run_universe` (sequential and on rayon, same block size), and complete with
//! every window exactly once when a worker is killed in the middle of the job.

use std::path::Path;
use std::time::Duration;

use backtest::{Backtest, BacktestConfig, Execution, Scheme, run_universe};
use garch_core::{Distribution, FitOptions, MeanModel, ModelSpec, VolatilityModel};
use market_svc::distributed::{BacktestJobOutcome, BacktestJobRequest};
use market_svc::universe::Universe;

use crate::harness::{
    NatsServer, SERIAL, WorkerProcess, coordinator, nats_server_or_skip, wait_for_chunks_in_flight,
    wait_for_workers,
};

/// The first `n` bundled symbols' returns.
fn bundled(n: usize) -> Vec<(String, Vec<f64>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/simulated_daily_data.csv");
    let u = Universe::load(&path, None, 1).expect("bundled data load");
    u.assets
        .into_iter()
        .take(n)
        .map(|a| (a.symbol.clone(), a.returns.as_slice().to_vec()))
        .collect()
}

/// Window 250, refits every `k` days, two levels, two horizons.
fn config(k: usize) -> BacktestConfig {
    BacktestConfig::new(Scheme::Rolling, 250, k, &[0.01, 0.05], &[1, 5]).expect("valid")
}

fn request(
    spec: ModelSpec,
    k: usize,
    series: &[(String, Vec<f64>)],
    block: usize,
) -> BacktestJobRequest {
    BacktestJobRequest {
        spec,
        config: config(k),
        options: FitOptions::default(),
        block,
        series: series.to_vec(),
        deadline: Duration::from_secs(120),
    }
}

/// `run_universe` of the same work, each asset's backtest as JSON text.
fn local(
    spec: ModelSpec,
    k: usize,
    series: &[(String, Vec<f64>)],
    block: usize,
    execution: Execution,
) -> Vec<String> {
    let assets: Vec<&[f64]> = series.iter().map(|(_, y)| y.as_slice()).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    pool.install(|| {
        run_universe(
            &assets,
            spec,
            &config(k),
            &FitOptions::default(),
            block,
            execution,
        )
    })
    .into_iter()
    .map(|r| text(&r.expect("backtests locally")))
    .collect()
}

/// JSON text: equal text ⇔ equal bits of every number (`float_roundtrip`).
fn text(b: &Backtest) -> String {
    serde_json::to_string(b).expect("serialises")
}

/// Every asset complete, each window exactly once and in order, every day exactly once, and
/// the whole equal bit for bit to `expected`.
fn assert_complete_and_equal(
    k: usize,
    outcome: &BacktestJobOutcome,
    series: &[(String, Vec<f64>)],
    expected: &[String],
) {
    assert!(outcome.is_complete(), "missing: {:?}", outcome.missing);
    assert_eq!(outcome.assets.len(), series.len());
    for ((got, (symbol, y)), want) in outcome.assets.iter().zip(series).zip(expected) {
        assert_eq!(&got.symbol, symbol);
        let bt = match &got.outcome {
            Ok(bt) => bt,
            Err(e) => panic!("{symbol}: {e}"),
        };
        let windows = config(k).windows(y.len());
        assert_eq!(bt.refits.len(), windows.len(), "{symbol}: refit count");
        for (r, w) in bt.refits.iter().zip(&windows) {
            assert_eq!(r.window, *w, "{symbol}: refits out of order or repeated");
        }
        let days: Vec<usize> = bt.path.iter().map(|d| d.index).collect();
        assert_eq!(days, (250..y.len()).collect::<Vec<_>>(), "{symbol}: days");
        assert!(
            bt.path
                .iter()
                .all(|d| windows[d.refit].end <= d.index && d.index < windows[d.refit].forecast_end),
            "{symbol}: a day forecast by the wrong refit"
        );
        assert_eq!(&text(bt), want, "{symbol} differs from run_universe");
        assert!(got.seconds > 0.0 && !got.workers.is_empty());
    }
}

#[tokio::test]
async fn a_distributed_backtest_matches_run_universe_bit_for_bit() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("a_distributed_backtest_matches_run_universe_bit_for_bit")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("w{i}")))
        .collect();
    wait_for_workers(&nats.url(), workers.len()).await;
    let series = bundled(4);
    let block = 40;
    let spec = ModelSpec::default();
    let sequential = local(spec, 5, &series, block, Execution::Sequential);
    assert_eq!(
        sequential,
        local(spec, 5, &series, block, Execution::Parallel)
    );
    let c = coordinator(&nats.url(), 4).await;
    let outcome = c
        .run_backtest(request(spec, 5, &series, block))
        .await
        .expect("job runs");
    assert_complete_and_equal(5, &outcome, &series, &sequential);
    let blocks: usize = series
        .iter()
        .map(|(_, y)| {
            backtest::universe::blocks(&config(5), y.len(), block)
                .unwrap()
                .len()
        })
        .sum();
    assert!(blocks >= 4 * 10, "{blocks}");
    assert_eq!(outcome.blocks, blocks);
    assert_eq!(outcome.chunks, blocks, "one block per chunk by default");
    assert_eq!(outcome.duplicate_results, 0);
    assert_eq!(
        outcome.workers.len(),
        2,
        "work was not shared: {:?}",
        outcome.workers
    );

    // A setting an asset cannot take is that asset's error, as in run_universe; the others
    // still run.
    let mut short = series[..2].to_vec();
    short[1].1.truncate(200);
    let outcome = c
        .run_backtest(request(spec, 5, &short, block))
        .await
        .expect("job runs");
    assert_eq!(
        &text(outcome.assets[0].outcome.as_ref().unwrap()),
        &sequential[0]
    );
    let err = outcome.assets[1].outcome.as_ref().unwrap_err();
    assert!(err.starts_with("window:"), "{err}");
    assert!(outcome.is_complete());
}

#[tokio::test]
async fn a_worker_killed_mid_backtest_costs_time_not_windows() {
    let _serial = SERIAL.lock().await;
    let Some(bin) = nats_server_or_skip("a_worker_killed_mid_backtest_costs_time_not_windows")
    else {
        return;
    };
    let nats = NatsServer::start(bin);
    let mut workers: Vec<_> = (0..3)
        .map(|i| WorkerProcess::spawn(&nats.url(), &format!("w{i}")))
        .collect();
    wait_for_workers(&nats.url(), workers.len()).await;
    // Blocks must outlast the few milliseconds between "all three hold one" and the kill:
    // EGARCH refits on 250 bundled returns (L-BFGS, tens of ms each) in blocks of 8 take
    // ~0.3 s. EGARCH windows of this data can push β to 1 and report an infinite
    // unconditional variance, which the blocks carry exactly (MessagePack).
    let spec = ModelSpec::new(
        MeanModel::Constant,
        VolatilityModel::egarch(),
        Distribution::Normal,
    );
    let series = bundled(2);
    let (k, block) = (20, 8);
    let expected = local(spec, k, &series, block, Execution::Parallel);
    let c = coordinator(&nats.url(), 4).await;
    let running = tokio::spawn({
        let c = c.clone();
        let job = request(spec, k, &series, block);
        async move { c.run_backtest(job).await }
    });

    wait_for_chunks_in_flight(&nats.url(), 3).await;
    workers[0].kill9();

    let outcome = running.await.unwrap().expect("job completes");
    assert_complete_and_equal(k, &outcome, &series, &expected);
    assert!(
        outcome.redelivered_chunks >= 1,
        "the killed worker's chunk was not redelivered: {outcome:?}"
    );
    assert!(outcome.elapsed < Duration::from_secs(60));
    for w in &mut workers[1..] {
        assert!(w.terminate().success(), "{} did not exit cleanly", w.id);
    }
}
