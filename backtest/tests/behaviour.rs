//! Warm starts against cold fits window by window, universe determinism, the expanding scheme,
//! evaluation and ranking on the NASDAQ series of the fixture.

mod common;

use backtest::rolling::RECHECK_EVERY;
use backtest::universe::{self, blocks, run_block};
use backtest::{
    BacktestConfig, BacktestError, Execution, Proxy, Scheme, Start, rank_models, run, run_universe,
};
use common::nasdaq;
use garch_core::{Distribution, FitOptions, MeanModel, ModelSpec, Returns, VolatilityModel, fit};

fn spec(vol: VolatilityModel, dist: Distribution) -> ModelSpec {
    ModelSpec::new(MeanModel::Constant, vol, dist)
}

/// Daily refits over 600 consecutive windows of a real series (1,600 returns of NASDAQ from the
/// 2000–2002 crash on), GARCH-normal and GJR-t: every warm-started window reaches the
/// cold grid fit's log-likelihood to within 1e-6.
#[test]
fn warm_starts_reach_the_cold_optimum_on_every_window() {
    let y = &nasdaq()[..1600];
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 1, &[0.01], &[]).unwrap();
    let options = FitOptions::default();
    for s in [
        spec(VolatilityModel::garch(), Distribution::Normal),
        spec(VolatilityModel::gjr(), Distribution::StudentT),
    ] {
        let bt = run(y, s, &config, &options).unwrap();
        assert_eq!(bt.refits.len(), 600);
        assert_eq!(bt.refits[0].start, Start::Cold);
        let mut worst = f64::NEG_INFINITY;
        let mut fell_back = 0;
        for r in &bt.refits {
            let w = r.window;
            let cold = fit(
                &Returns::new(y[w.start..w.end].to_vec()).unwrap(),
                s,
                &options,
            )
            .unwrap();
            let gap = cold.report().log_likelihood - r.report.log_likelihood;
            worst = worst.max(gap);
            assert!(
                gap <= 1e-6,
                "{s} window {}..{}: warm {} < cold {} ({:?}: {})",
                w.start,
                w.end,
                r.report.log_likelihood,
                cold.report().log_likelihood,
                r.start,
                r.report.status
            );
            fell_back += usize::from(r.start == Start::WarmFellBack);
        }
        eprintln!("{s}: worst cold − warm log-likelihood {worst:.1e}; {fell_back} cold fallbacks");
    }
}

#[test]
fn sequential_and_parallel_universes_are_bit_identical() {
    let y = nasdaq();
    let assets: Vec<&[f64]> = vec![&y[..1400], &y[1000..2500], &y[3000..4300], &y[..50]];
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 5, &[0.01, 0.05], &[1, 5]).unwrap();
    let s = spec(VolatilityModel::gjr(), Distribution::StudentT);
    let options = FitOptions::default();
    let seq = run_universe(&assets, s, &config, &options, 20, Execution::Sequential);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let par = pool.install(|| run_universe(&assets, s, &config, &options, 20, Execution::Parallel));
    assert_eq!(format!("{seq:?}"), format!("{par:?}"));
    assert!(matches!(seq[3], Err(BacktestError::Config(_))));
    // Blocks restart cold; a block run by itself equals its part of the whole.
    let bt = seq[1].as_ref().unwrap();
    let ranges = blocks(&config, 1500, 20).unwrap();
    assert_eq!(ranges.len(), 5);
    let r = &ranges[3];
    let windows = config.windows(1500);
    let alone = run_block(
        assets[1],
        s,
        &config,
        &options,
        &windows[r.clone()],
        r.start,
    )
    .unwrap();
    assert_eq!(
        format!("{:?}", alone.refits),
        format!("{:?}", &bt.refits[r.clone()])
    );
    assert_eq!(bt.refits[r.start].start, Start::Cold);
    assert_eq!(bt.path.len(), 500);
    assert!(bt.path.iter().enumerate().all(|(i, d)| d.index == 1000 + i));
    // h-step forecasts of GJR: the first is the one-step forecast, later ones move towards the
    // unconditional variance.
    let d = &bt.path[0];
    let h = d.horizons.as_ref().unwrap();
    assert_eq!(h[0], d.variance);
    assert_ne!(h[1], d.variance);

    // A stopped run skips the tasks after the stop: the assets done before it are the same
    // bits, the others fail with Stopped (here: stop after the first asset's 5 blocks).
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let stop = || calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 5;
    let stopped = backtest::run_universe_until(
        &assets,
        s,
        &config,
        &options,
        20,
        Execution::Sequential,
        &stop,
    );
    assert_eq!(format!("{:?}", stopped[0]), format!("{:?}", seq[0]));
    assert!(matches!(stopped[1], Err(BacktestError::Stopped)));
    assert!(matches!(stopped[2], Err(BacktestError::Stopped)));
}

#[test]
fn expanding_windows_grow_and_var_is_ordered() {
    let y = &nasdaq()[..1300];
    let config = BacktestConfig::new(Scheme::Expanding, 1000, 100, &[0.05, 0.01], &[]).unwrap();
    let bt = run(
        y,
        spec(VolatilityModel::egarch(), Distribution::Normal),
        &config,
        &FitOptions::default(),
    )
    .unwrap();
    assert_eq!(bt.refits.len(), 3);
    assert!(bt.refits.iter().all(|r| r.window.start == 0));
    assert_eq!(bt.refits[2].report.nobs, 1200);
    assert_eq!(bt.levels, [0.01, 0.05]);
    for d in &bt.path {
        // The 1 % VaR is further out than the 5 %, ES beyond VaR, exceedances nested.
        assert!(d.var[0] < d.var[1] && d.es[0] < d.var[0] && d.es[1] < d.var[1]);
        assert!(!d.exceedance[0] || d.exceedance[1]);
        assert_eq!(d.exceedance[0], d.ret < d.var[0]);
        assert!(d.horizons.is_none());
    }
}

#[test]
fn evaluation_uses_realized_variance_where_given_and_ranks_models() {
    let y = &nasdaq()[..1400];
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 50, &[0.01, 0.05], &[]).unwrap();
    let options = FitOptions::default();
    let bt = run(
        y,
        spec(VolatilityModel::garch(), Distribution::Normal),
        &config,
        &options,
    )
    .unwrap();
    // A proxy on every other day (as if intraday bars existed only then).
    let rv: Vec<Option<f64>> = (0..y.len()).map(|i| (i % 2 == 0).then_some(1.5)).collect();
    let ev = bt.evaluate(Some(&rv)).unwrap();
    assert_eq!(ev.summary.days, 400);
    assert_eq!(ev.summary.realized_variance_days, 200);
    assert_eq!(ev.proxy_kind[0], Proxy::RealizedVariance);
    assert_eq!(ev.proxy[1], bt.path[1].ret * bt.path[1].ret);
    assert_eq!(ev.summary.kupiec.len(), 2);
    assert!(ev.summary.traffic_light.is_some());
    assert!(matches!(
        bt.evaluate(Some(&rv[..10])),
        Err(BacktestError::ProxyLength { .. })
    ));

    let specs = [
        spec(VolatilityModel::garch(), Distribution::Normal),
        spec(VolatilityModel::gjr(), Distribution::StudentT),
    ];
    let ranking = rank_models(y, &specs, &config, &options, None).unwrap();
    assert!(ranking.failed.is_empty());
    let ranked = ranking.ranked;
    assert_eq!(ranked.len(), 2);
    assert_eq!(ranked[0].rank, 1);
    assert!(ranked[0].dm_vs_best.is_none() && ranked[1].dm_vs_best.is_some());
    assert!(ranked[0].mean_qlike.unwrap() <= ranked[1].mean_qlike.unwrap());
    assert!(ranked.iter().all(|r| r.bic.is_some()));
}

/// What a distributed worker runs: a block from the tail of the series that starts at the
/// block's first window equals the block run on the whole series, indices included.
#[test]
fn a_block_run_on_its_tail_equals_the_block_on_the_whole_series() {
    let y = &nasdaq()[..1500];
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 5, &[0.01, 0.05], &[1, 5]).unwrap();
    let s = spec(VolatilityModel::garch(), Distribution::Normal);
    let options = FitOptions::default();
    let windows = config.windows(y.len());
    for r in blocks(&config, y.len(), 30).unwrap() {
        let whole = run_block(y, s, &config, &options, &windows[r.clone()], r.start).unwrap();
        let offset = windows[r.start].start;
        let tail = universe::run_block_tail(&y[offset..], offset, s, &config, &options, r.clone())
            .unwrap();
        assert_eq!(format!("{whole:?}"), format!("{tail:?}"), "block {r:?}");
        // What a worker sends back, attached on the whole series by the coordinator.
        let forecasts =
            universe::forecast_block_tail(&y[offset..], offset, s, &config, &options, r.clone())
                .unwrap();
        assert_eq!(forecasts, whole.forecasts(), "block {r:?}");
        let attached = forecasts.attach(y, &s, config.levels(), r.start).unwrap();
        assert_eq!(format!("{whole:?}"), format!("{attached:?}"), "block {r:?}");
    }
    // Forecasts that do not fit the series or the refits are refused.
    let r = blocks(&config, y.len(), 30).unwrap()[0].clone();
    let whole = run_block(y, s, &config, &options, &windows[r.clone()], r.start).unwrap();
    for (series, first_refit) in [(&y[..1100], r.start), (y, r.start + 1)] {
        assert!(matches!(
            whole
                .forecasts()
                .attach(series, &s, config.levels(), first_refit),
            Err(BacktestError::Block(_))
        ));
    }
    // A tail that starts after the block's first window is refused, not silently wrong.
    let r = blocks(&config, y.len(), 30).unwrap()[2].clone();
    let late = windows[r.start].start + 1;
    assert!(matches!(
        universe::run_block_tail(&y[late..], late, s, &config, &options, r),
        Err(BacktestError::Block(_))
    ));
    assert!(matches!(
        universe::run_block_tail(y, 0, s, &config, &options, 99..200),
        Err(BacktestError::Block(_))
    ));
}

#[test]
fn a_setting_round_trips_through_json_and_is_validated_on_the_way_in() {
    let c = BacktestConfig::new(Scheme::Expanding, 250, 5, &[0.05, 0.01], &[10, 1]).unwrap();
    let text = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<BacktestConfig>(&text).unwrap(), c);
    let bad = text.replace("\"refit_every\":5", "\"refit_every\":0");
    let err = serde_json::from_str::<BacktestConfig>(&bad).unwrap_err();
    assert!(err.to_string().contains("refit_every"), "{err}");
}

/// Percent log returns of one symbol of the bundled data set.
fn bundled(symbol: &str) -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/simulated_daily_data.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let closes: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == symbol).then(|| f[5].parse().unwrap())
        })
        .collect();
    closes
        .windows(2)
        .map(|c| 100.0 * (c[1] / c[0]).ln())
        .collect()
}

/// PIKE's windows sit on the persistence face (α + β = 1) for long stretches. Warm optima on
/// the previous window's verified face are accepted with a cold check every RECHECK_EVERY
/// windows, not a cold fit with restarts on each, and every window still reaches the cold
/// optimum.
#[test]
fn windows_on_a_constraint_reach_the_cold_optimum_without_a_cold_fit_each() {
    let y = bundled("PIKE");
    let s = ModelSpec::default();
    let options = FitOptions::default();
    let config = BacktestConfig::new(Scheme::Rolling, 1000, 1, &[0.01], &[]).unwrap();
    let windows = &config.windows(y.len())[..150];
    let block = run_block(&y, s, &config, &options, windows, 0).unwrap();
    let on_face = block
        .refits
        .iter()
        .filter(|r| !r.report.at_bounds.is_empty())
        .count();
    let checked = block
        .refits
        .iter()
        .filter(|r| r.start == Start::WarmFellBack)
        .count();
    assert!(on_face >= 100, "{on_face} windows on a constraint");
    // Warm starts on the face go straight to the active-set method (no Newton run that cannot
    // move along the face, no L-BFGS that reaches it only in a limit).
    let direct = block
        .refits
        .iter()
        .filter(|r| {
            r.report
                .status
                .contains("from a warm start on a constraint")
        })
        .count();
    assert!(direct >= 90, "{direct} warm refits started on the face");
    assert!(
        checked <= 150 / RECHECK_EVERY + 3,
        "{checked} cold checks for {on_face} windows on a constraint"
    );
    for r in &block.refits {
        let returns = Returns::new(y[r.window.start..r.window.end].to_vec()).unwrap();
        let cold = fit(&returns, s, &options).unwrap();
        assert!(
            r.report.log_likelihood >= cold.report().log_likelihood - 1e-6,
            "window {:?}: {} < cold {}",
            r.window,
            r.report.log_likelihood,
            cold.report().log_likelihood
        );
    }
}
