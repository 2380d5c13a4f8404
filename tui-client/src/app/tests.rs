//! Unit tests of the app's rules (keys, sorting, filtering, refetching, stale results, errors,
//! the refresh clock, the benchmark sequences, the Risk view's polling of 202 answers, health
//! tracking), and the fixtures the renderer
//! tests in [`crate::ui`] build their states from.

use std::time::{Duration, Instant};

use super::*;
use crate::client::{
    ApiError, BacktestReport, Call, Computed, DistributedStats, FitMode, FitsRun, History,
    ModelRanking, Pending, Readiness, SignalRow, SignalScreener, UniverseRun, VolRow, VolScreener,
};

pub(crate) fn vol_row(symbol: &str, vol: f64, persistence: f64) -> VolRow {
    VolRow {
        symbol: symbol.into(),
        annualized_forecast: Some(vol),
        long_run_annualized: Some(vol * 0.9),
        persistence: Some(persistence),
        half_life_days: Some(20.0),
        converged: true,
        error: None,
    }
}

pub(crate) fn sig_row(symbol: &str, rsi: f64, pb: f64, signal: &str) -> SignalRow {
    SignalRow {
        symbol: symbol.into(),
        close: Some(100.0),
        rsi: Some(rsi),
        percent_b: Some(pb),
        bandwidth: Some(0.05),
        signal: Some(signal.into()),
        reasons: vec![format!("{signal} reason")],
    }
}

pub(crate) fn ok<T>(service: Service, path: &str, value: T) -> Call<T> {
    Call {
        service,
        path: path.into(),
        latency: Duration::from_millis(7),
        result: Ok(value),
    }
}

pub(crate) fn err<T>(service: Service, path: &str, e: ApiError) -> Call<T> {
    Call {
        service,
        path: path.into(),
        latency: Duration::from_millis(3),
        result: Err(e),
    }
}

pub(crate) fn new_app() -> App {
    App::new(
        ServiceStatus::new(Ok("http://127.0.0.1:1".into()), "in-process"),
        ServiceStatus::new(
            Err("signals-svc not available in this build".into()),
            "in-process",
        ),
        Duration::from_secs(5),
    )
}

/// An app with both screeners loaded: AAA (vol 30, long), BBB (20, short), CCC (25, flat).
pub(crate) fn loaded_app() -> App {
    let mut app = new_app();
    let cmds = app.start(Instant::now());
    assert!(cmds.contains(&Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))));
    app.apply(ApiResult::VolScreener(
        (Model::Garch, Dist::Normal, 10),
        ok(
            Service::Market,
            "/v1/volatility",
            VolScreener {
                horizon: 10,
                rows: vec![
                    vol_row("BBB", 20.0, 0.95),
                    vol_row("AAA", 30.0, 0.99),
                    vol_row("CCC", 25.0, 0.90),
                ],
            },
        ),
    ));
    app.apply(ApiResult::SignalScreener(
        INTERVAL.into(),
        ok(
            Service::Signals,
            "/v1/signals",
            SignalScreener {
                interval: INTERVAL.into(),
                rows: vec![
                    sig_row("AAA", 25.0, -0.1, "long"),
                    sig_row("BBB", 75.0, 1.1, "short"),
                    sig_row("CCC", 50.0, 0.5, "flat"),
                ],
            },
        ),
    ));
    app
}

fn symbols(app: &App) -> Vec<String> {
    app.rows().into_iter().map(|r| r.symbol).collect()
}

#[test]
fn start_asks_for_health_and_both_screeners() {
    let mut app = new_app();
    let cmds = app.start(Instant::now());
    assert_eq!(
        cmds,
        vec![
            Command::CheckHealth(Service::Market),
            Command::CheckHealth(Service::Signals),
            Command::FetchVolScreener((Model::Garch, Dist::Normal, 10)),
            Command::FetchSignalScreener("5m".into()),
        ]
    );
    assert!(app.is_loading());
}

#[test]
fn rows_merge_both_services_by_symbol() {
    let app = loaded_app();
    let rows = app.rows();
    assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
    assert_eq!(rows[0].vol, Some(30.0));
    assert_eq!(rows[0].rsi, Some(25.0));
    assert_eq!(rows[0].signal, Some(Signal::Long));
    assert_eq!(rows[1].signal, Some(Signal::Short));
}

#[test]
fn merge_keeps_symbols_known_to_one_service_only() {
    let vol = VolScreener {
        horizon: 10,
        rows: vec![vol_row("AAA", 1.0, 0.9)],
    };
    let sig = SignalScreener {
        interval: "5m".into(),
        rows: vec![sig_row("ZZZ", 50.0, 0.5, "flat")],
    };
    let rows = merge_rows(Some(&vol), Some(&sig));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].rsi, None);
    assert_eq!(rows[1].vol, None);
    assert_eq!(rows[1].converged, None);
    assert!(merge_rows(Some(&vol), None)[0].signal.is_none());
}

#[test]
fn sort_cycles_columns_with_natural_direction_and_missing_last() {
    let mut app = loaded_app();
    app.handle_key(Key::Char('s'));
    assert_eq!(app.sort, SortColumn::Vol);
    assert!(app.descending);
    assert_eq!(symbols(&app), ["AAA", "CCC", "BBB"]);
    app.handle_key(Key::Char('S'));
    assert_eq!(symbols(&app), ["BBB", "CCC", "AAA"]);
    app.handle_key(Key::Char('s'));
    assert_eq!(app.sort, SortColumn::Persistence);
    assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
    app.handle_key(Key::Char('s'));
    assert_eq!(app.sort, SortColumn::Rsi);
    assert_eq!(symbols(&app), ["BBB", "CCC", "AAA"]);
    app.handle_key(Key::Char('h'));
    assert_eq!(app.sort, SortColumn::Persistence);
    for _ in 0..4 {
        app.handle_key(Key::Char('l'));
    }
    assert_eq!(app.sort, SortColumn::Symbol);

    let mut rows = vec![
        Row {
            symbol: "X".into(),
            vol: None,
            ..Row::default()
        },
        Row {
            symbol: "Y".into(),
            vol: Some(1.0),
            ..Row::default()
        },
    ];
    sort_rows(&mut rows, SortColumn::Vol, false);
    assert_eq!(rows[0].symbol, "Y");
    sort_rows(&mut rows, SortColumn::Vol, true);
    assert_eq!(rows[0].symbol, "Y");
}

#[test]
fn signal_sort_puts_longs_first() {
    let mut app = loaded_app();
    app.set_sort(SortColumn::Signal);
    assert_eq!(symbols(&app), ["AAA", "BBB", "CCC"]);
    app.handle_key(Key::Char('S'));
    assert_eq!(symbols(&app), ["CCC", "BBB", "AAA"]);
}

#[test]
fn filter_typing_backspace_enter_and_esc() {
    let mut app = loaded_app();
    app.handle_key(Key::Char('/'));
    assert!(app.editing_filter);
    // Keys that are commands elsewhere are text while typing.
    app.handle_key(Key::Char('b'));
    app.handle_key(Key::Char('q'));
    assert!(!app.should_quit);
    assert_eq!(app.filter, "bq");
    assert!(symbols(&app).is_empty());
    app.handle_key(Key::Backspace);
    assert_eq!(symbols(&app), ["BBB"]);
    app.handle_key(Key::Enter);
    assert!(!app.editing_filter);
    assert_eq!(symbols(&app), ["BBB"]);
    // Esc clears an active filter before it quits.
    app.handle_key(Key::Esc);
    assert!(app.filter.is_empty());
    assert!(!app.should_quit);
    assert_eq!(symbols(&app).len(), 3);
    // Filter by signal name.
    app.filter = "short".into();
    assert_eq!(symbols(&app), ["BBB"]);
    app.handle_key(Key::Esc);
    app.handle_key(Key::Esc);
    assert!(app.should_quit);
}

#[test]
fn selection_moves_and_clamps() {
    let mut app = loaded_app();
    app.handle_key(Key::Char('j'));
    app.handle_key(Key::Down);
    app.handle_key(Key::Down);
    assert_eq!(app.selected, 2);
    app.handle_key(Key::Char('k'));
    assert_eq!(app.selected_row().unwrap().symbol, "BBB");
    app.handle_key(Key::Char('g'));
    assert_eq!(app.selected, 0);
    app.handle_key(Key::End);
    assert_eq!(app.selected, 2);
    app.handle_key(Key::Up);
    app.handle_key(Key::PageUp);
    assert_eq!(app.selected, 0);
}

#[test]
fn tab_cycles_views_both_ways_and_digits_jump() {
    let mut app = new_app();
    assert_eq!(app.view, View::Screener);
    app.handle_key(Key::Tab);
    // No symbol yet: the detail view opens empty.
    assert_eq!(app.view, View::Detail);
    app.handle_key(Key::Tab);
    // No symbol yet: the risk view opens empty too.
    assert_eq!(app.view, View::Risk);
    app.handle_key(Key::Tab);
    assert_eq!(app.view, View::Benchmark);
    app.handle_key(Key::Tab);
    assert_eq!(app.view, View::Status);
    app.handle_key(Key::Tab);
    assert_eq!(app.view, View::Screener);
    app.handle_key(Key::BackTab);
    assert_eq!(app.view, View::Status);
    app.handle_key(Key::Char('4'));
    assert_eq!(app.view, View::Benchmark);
    app.handle_key(Key::Char('3'));
    assert_eq!(app.view, View::Risk);
}

#[test]
fn enter_opens_detail_and_fetches_its_three_parts() {
    let mut app = loaded_app();
    app.handle_key(Key::Down);
    let cmds = app.handle_key(Key::Enter);
    assert_eq!(app.view, View::Detail);
    assert_eq!(
        cmds,
        vec![
            Command::FetchDetail(("BBB".into(), Model::Garch, Dist::Normal, 10)),
            Command::FetchHistory(("BBB".into(), Model::Garch, Dist::Normal)),
            Command::FetchSymbolSignals("BBB".into()),
        ]
    );
    // Tab away and back: nothing refetched while in flight.
    app.handle_key(Key::Tab);
    assert!(app.handle_key(Key::BackTab).is_empty());
    // Next symbol with j.
    let cmds = app.handle_key(Key::Char('j'));
    assert_eq!(app.detail.as_ref().unwrap().symbol, "CCC");
    assert_eq!(cmds.len(), 3);
    // Wraps around.
    app.handle_key(Key::Char('l'));
    assert_eq!(app.detail.as_ref().unwrap().symbol, "AAA");
    app.handle_key(Key::Backspace);
    assert_eq!(app.view, View::Screener);
}

#[test]
fn model_dist_and_horizon_keys_refetch_with_the_new_key() {
    let mut app = loaded_app();
    let cmds = app.handle_key(Key::Char('m'));
    assert_eq!(app.model, Model::Gjr);
    assert_eq!(
        cmds,
        vec![Command::FetchVolScreener((Model::Gjr, Dist::Normal, 10))]
    );
    // Data for the old key is dropped, not shown under the new label.
    assert!(app.vol.data.is_none());
    assert!(app.vol.loading);
    app.handle_key(Key::Char('m'));
    assert_eq!(app.model, Model::Egarch);
    app.handle_key(Key::Char('m'));
    assert_eq!(app.model, Model::Garch);
    app.handle_key(Key::Char('d'));
    assert_eq!(app.dist, Dist::T);
    let cmds = app.handle_key(Key::Char('+'));
    assert_eq!(app.horizon, 21);
    assert_eq!(
        cmds,
        vec![Command::FetchVolScreener((Model::Garch, Dist::T, 21))]
    );
    app.handle_key(Key::Char('-'));
    // `d` cycles through every law and back.
    for expected in [Dist::SkewT, Dist::Ged, Dist::Normal, Dist::T] {
        app.handle_key(Key::Char('d'));
        assert_eq!(app.dist, expected);
    }
    app.handle_key(Key::Char('-'));
    app.handle_key(Key::Char('-'));
    assert_eq!(app.horizon, 1);
    assert!(app.handle_key(Key::Char('-')).is_empty());
    for _ in 0..10 {
        app.handle_key(Key::Char('+'));
    }
    assert_eq!(app.horizon, 252);
}

#[test]
fn horizon_change_in_detail_refetches_the_fit_but_not_the_history() {
    let mut app = loaded_app();
    app.open_detail("AAA");
    let d = app.detail.as_mut().unwrap();
    d.history.resolve(
        &("AAA".into(), Model::Garch, Dist::Normal),
        Ok(History {
            dates: vec![],
            conditional_volatility: vec![],
            realized_volatility: vec![],
        }),
    );
    let cmds = app.handle_key(Key::Char('+'));
    assert!(cmds.contains(&Command::FetchDetail((
        "AAA".into(),
        Model::Garch,
        Dist::Normal,
        21
    ))));
    assert!(!cmds.iter().any(|c| matches!(c, Command::FetchHistory(_))));
}

#[test]
fn stale_results_are_dropped_but_still_counted_in_status() {
    let mut app = new_app();
    app.start(Instant::now());
    app.handle_key(Key::Char('m')); // now GJR
    app.apply(ApiResult::VolScreener(
        (Model::Garch, Dist::Normal, 10),
        ok(
            Service::Market,
            "/v1/volatility",
            VolScreener {
                horizon: 10,
                rows: vec![vol_row("OLD", 1.0, 0.5)],
            },
        ),
    ));
    assert!(app.vol.data.is_none());
    assert!(app.vol.loading);
    assert_eq!(app.market_status.ok_calls, 1);
}

#[test]
fn errors_keep_old_data_and_are_recorded() {
    let mut app = loaded_app();
    app.handle_key(Key::Char('r'));
    app.apply(ApiResult::VolScreener(
        (Model::Garch, Dist::Normal, 10),
        err(
            Service::Market,
            "/v1/volatility",
            ApiError::Unreachable("connection failed".into()),
        ),
    ));
    assert!(app.vol.data.is_some());
    assert!(app.vol.error.is_some());
    assert!(!app.vol.loading);
    assert_eq!(app.market_status.failed_calls, 1);
    assert_eq!(
        app.market_status.last_error,
        Some((
            "/v1/volatility".into(),
            "unreachable: connection failed".into()
        ))
    );
}

#[test]
fn signals_down_leaves_the_market_columns_usable() {
    let mut app = new_app();
    app.start(Instant::now());
    app.apply(ApiResult::SignalScreener(
        INTERVAL.into(),
        Call::unavailable(
            Service::Signals,
            "/v1/signals",
            "signals-svc not available in this build",
        ),
    ));
    app.apply(ApiResult::VolScreener(
        (Model::Garch, Dist::Normal, 10),
        ok(
            Service::Market,
            "/v1/volatility",
            VolScreener {
                horizon: 10,
                rows: vec![vol_row("AAA", 1.0, 0.5)],
            },
        ),
    ));
    assert_eq!(symbols(&app), ["AAA"]);
    assert!(app.signals.error.is_some());
    assert!(!app.is_loading());
}

#[test]
fn tick_refreshes_only_when_due_and_retries_failures() {
    let t0 = Instant::now();
    let mut app = loaded_app();
    app.last_refresh = Some(t0);
    assert!(app.tick(t0 + Duration::from_secs(1)).is_empty());
    let cmds = app.tick(t0 + Duration::from_secs(6));
    assert!(cmds.contains(&Command::CheckHealth(Service::Market)));
    assert!(cmds.contains(&Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))));
    // In flight: the next due tick does not pile up another screener request.
    let cmds = app.tick(t0 + Duration::from_secs(12));
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::FetchVolScreener(_)))
    );

    // A failed detail part is retried on the next due tick.
    let mut app = loaded_app();
    app.last_refresh = Some(t0);
    app.open_detail("AAA");
    app.apply(ApiResult::SymbolSignals(
        "AAA".into(),
        Call::unavailable(Service::Signals, "/v1/assets/AAA/signals", "down"),
    ));
    let cmds = app.tick(t0 + Duration::from_secs(6));
    assert!(cmds.contains(&Command::FetchSymbolSignals("AAA".into())));
}

fn fits(total: f64) -> FitsRun {
    FitsRun {
        total_seconds: total,
        fits_per_second: 25.0 / total,
        symbols: vec![],
    }
}

#[test]
fn benchmark_runs_modes_in_turn_and_shows_501_as_unavailable() {
    let mut app = new_app();
    app.handle_key(Key::Char('4'));
    let cmds = app.handle_key(Key::Enter);
    assert_eq!(
        cmds,
        vec![Command::RunFits(
            FitMode::Sequential,
            Model::Garch,
            Dist::Normal
        )]
    );
    assert!(app.bench.running());
    // A second press while running does nothing.
    assert!(app.handle_key(Key::Char('b')).is_empty());
    let cmds = app.apply(ApiResult::Fits(
        FitMode::Sequential,
        ok(Service::Market, "/v1/fits", fits(4.0)),
    ));
    assert_eq!(
        cmds,
        vec![Command::RunFits(
            FitMode::Parallel,
            Model::Garch,
            Dist::Normal
        )]
    );
    let cmds = app.apply(ApiResult::Fits(
        FitMode::Parallel,
        ok(Service::Market, "/v1/fits", fits(1.0)),
    ));
    assert_eq!(
        cmds,
        vec![Command::RunFits(
            FitMode::Distributed,
            Model::Garch,
            Dist::Normal
        )]
    );
    let cmds = app.apply(ApiResult::Fits(
        FitMode::Distributed,
        err(
            Service::Market,
            "/v1/fits",
            ApiError::Status {
                status: 501,
                title: "Not Implemented".into(),
                detail: Some("no NATS".into()),
            },
        ),
    ));
    assert!(cmds.is_empty());
    assert!(!app.bench.running());
    assert_eq!(app.bench.speedup(), Some(4.0));
    assert_eq!(
        app.bench.state(FitMode::Distributed),
        &BenchState::Unavailable("no NATS".into())
    );
    // Results that arrive when nothing is running are ignored.
    assert!(
        app.apply(ApiResult::Fits(
            FitMode::Parallel,
            ok(Service::Market, "/v1/fits", fits(9.0)),
        ))
        .is_empty()
    );
    assert_eq!(app.bench.speedup(), Some(4.0));
}

#[test]
fn health_and_readiness_are_tracked_per_service() {
    let mut app = new_app();
    app.apply(ApiResult::Health(
        Service::Market,
        ok(Service::Market, "/health", ()),
    ));
    app.apply(ApiResult::Ready(
        Service::Market,
        ok(
            Service::Market,
            "/ready",
            Readiness::NotReady("data is loading".into()),
        ),
    ));
    assert!(app.market_status.is_up());
    assert_eq!(
        app.market_status.not_ready_reason(),
        Some("data is loading")
    );
    app.apply(ApiResult::Health(
        Service::Signals,
        Call::unavailable(Service::Signals, "/health", "not in this build"),
    ));
    assert!(!app.signals_status.is_up());
    assert_eq!(app.signals_status.calls.len(), 1);
    for _ in 0..20 {
        app.apply(ApiResult::Health(
            Service::Market,
            ok(Service::Market, "/health", ()),
        ));
    }
    assert_eq!(app.market_status.calls.len(), ServiceStatus::KEEP);
}

#[test]
fn becoming_ready_refetches_the_screener_once() {
    let mut app = loaded_app();
    let ready = |r| ApiResult::Ready(Service::Market, ok(Service::Market, "/ready", r));
    assert!(
        app.apply(ready(Readiness::NotReady("loading".into())))
            .is_empty()
    );
    assert_eq!(
        app.apply(ready(Readiness::Ready)),
        vec![Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))]
    );
    assert!(app.apply(ready(Readiness::Ready)).is_empty());
}

#[test]
fn help_overlay_and_quit_keys() {
    let mut app = new_app();
    app.handle_key(Key::Char('?'));
    assert!(app.show_help);
    app.handle_key(Key::Char('j'));
    assert!(!app.show_help);
    assert!(!app.should_quit);
    app.handle_key(Key::Char('?'));
    app.handle_key(Key::Char('q'));
    assert!(app.should_quit);
    let mut app = new_app();
    app.handle_key(Key::Char('q'));
    assert!(app.should_quit);
    let mut app = new_app();
    app.editing_filter = true;
    app.handle_key(Key::CtrlC);
    assert!(app.should_quit);
}

#[test]
fn a_pushed_change_refetches_the_screener_and_the_open_detail_of_that_symbol() {
    let mut app = loaded_app();
    // Market: the vol screener; signals: the signal screener.
    assert_eq!(
        app.apply(ApiResult::Pushed(Service::Market, "AAA".into())),
        vec![Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))]
    );
    assert_eq!(
        app.apply(ApiResult::Pushed(Service::Signals, "AAA".into())),
        vec![Command::FetchSignalScreener(INTERVAL.into())]
    );
    // In flight already: not doubled.
    assert!(
        app.apply(ApiResult::Pushed(Service::Market, "BBB".into()))
            .is_empty()
    );
    let mut app = loaded_app();
    app.open_detail("AAA");
    app.vol.loading = false;
    app.signals.loading = false;
    // The detail's first fetches have come back.
    let d = app.detail.as_mut().unwrap();
    (d.fit.loading, d.history.loading, d.signals.loading) = (false, false, false);
    let cmds = app.apply(ApiResult::Pushed(Service::Market, "aaa".into()));
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert!(cmds.contains(&Command::FetchVolScreener((Model::Garch, Dist::Normal, 10))));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::FetchDetail(k) if k.0 == "AAA"))
    );
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::FetchHistory(k) if k.0 == "AAA"))
    );
    let cmds = app.apply(ApiResult::Pushed(Service::Signals, "AAA".into()));
    assert_eq!(
        cmds,
        vec![
            Command::FetchSignalScreener(INTERVAL.into()),
            Command::FetchSymbolSignals("AAA".into())
        ]
    );
    app.signals.loading = false;
    // Another symbol's change leaves the detail alone.
    let cmds = app.apply(ApiResult::Pushed(Service::Signals, "CCC".into()));
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::FetchSymbolSignals(_))),
        "{cmds:?}"
    );
    app.apply(ApiResult::Streaming(Service::Signals, true));
    assert_eq!(app.signals_status.streaming, Some(true));
}

pub(crate) fn report(symbol: &str) -> BacktestReport {
    BacktestReport {
        symbol: symbol.into(),
        refit_count: 1520,
        days: 1520,
        path: Vec::new(),
        kupiec: Default::default(),
        christoffersen: Default::default(),
        traffic_light: None,
        qlike: Some(1.5),
        mse: Some(2.0),
        mincer_zarnowitz: None,
        realized_variance_days: 0,
    }
}

fn pending(retry_after: u64) -> Computed<BacktestReport> {
    Computed::Pending(Pending {
        detail: "the garch-normal backtest of AAA is being computed".into(),
        retry_after,
    })
}

fn backtest_cmds(cmds: &[Command]) -> Vec<&Command> {
    cmds.iter()
        .filter(|c| matches!(c, Command::FetchBacktest(_) | Command::FetchRanking(_)))
        .collect()
}

#[test]
fn risk_view_opens_on_the_detail_symbol_and_fetches_backtest_and_ranking() {
    let mut app = loaded_app();
    app.handle_key(Key::Down);
    app.handle_key(Key::Enter); // detail of BBB
    let cmds = app.handle_key(Key::Tab);
    assert_eq!(app.view, View::Risk);
    assert_eq!(
        cmds,
        vec![
            Command::FetchBacktest(("BBB".into(), Model::Garch, Dist::Normal)),
            Command::FetchRanking("BBB".into()),
        ]
    );
    assert!(app.is_loading());
    // The model key refetches the backtest, not the ranking (it covers every model).
    let cmds = app.handle_key(Key::Char('m'));
    assert_eq!(
        backtest_cmds(&cmds),
        vec![&Command::FetchBacktest((
            "BBB".into(),
            Model::Gjr,
            Dist::Normal
        ))]
    );
    // j steps to the next symbol in screener order, both parts.
    let cmds = app.handle_key(Key::Char('j'));
    assert_eq!(app.risk.as_ref().unwrap().symbol, "CCC");
    assert_eq!(
        cmds,
        vec![
            Command::FetchBacktest(("CCC".into(), Model::Gjr, Dist::Normal)),
            Command::FetchRanking("CCC".into()),
        ]
    );
    // Away from the Risk view, a spec change does not start a backtest.
    app.handle_key(Key::Char('1'));
    let cmds = app.handle_key(Key::Char('d'));
    assert!(backtest_cmds(&cmds).is_empty(), "{cmds:?}");
    app.handle_key(Key::Char('3'));
    assert_eq!(app.view, View::Risk);
    app.handle_key(Key::Backspace);
    assert_eq!(app.view, View::Screener);
}

#[test]
fn a_202_is_asked_again_after_retry_after_on_the_ticks_then_the_result_is_applied() {
    let t0 = Instant::now();
    let mut app = loaded_app();
    app.refresh_every = Duration::from_secs(3600);
    app.last_refresh = Some(t0);
    app.open_risk("AAA");
    let key: BacktestKey = ("AAA".into(), Model::Garch, Dist::Normal);
    assert!(
        app.apply(ApiResult::Backtest(
            key.clone(),
            ok(Service::Market, "/v1/assets/AAA/backtest", pending(5))
        ))
        .is_empty()
    );
    let r = app.risk.as_ref().unwrap();
    let c = r.backtest.computing.as_ref().unwrap();
    assert_eq!(c.polls, 1);
    assert_eq!(c.retry_after, Duration::from_secs(5));
    // Still loading (the spinner turns), not an error.
    assert!(r.backtest.res.loading && r.backtest.res.error.is_none());
    // The delay starts at the first tick after the answer, and nothing is sent before it ends.
    assert!(app.tick(t0).is_empty());
    assert!(app.tick(t0 + Duration::from_secs(4)).is_empty());
    assert_eq!(
        app.tick(t0 + Duration::from_secs(5)),
        vec![Command::FetchBacktest(key.clone())]
    );
    // Asked: not asked again while that request is in flight.
    assert!(app.tick(t0 + Duration::from_secs(60)).is_empty());
    // A second 202, then the result.
    app.apply(ApiResult::Backtest(
        key.clone(),
        ok(Service::Market, "/v1/assets/AAA/backtest", pending(2)),
    ));
    assert_eq!(
        app.risk
            .as_ref()
            .unwrap()
            .backtest
            .computing
            .as_ref()
            .unwrap()
            .polls,
        2
    );
    assert!(app.tick(t0 + Duration::from_secs(61)).is_empty());
    assert_eq!(
        app.tick(t0 + Duration::from_secs(63)),
        vec![Command::FetchBacktest(key.clone())]
    );
    app.apply(ApiResult::Backtest(
        key.clone(),
        ok(
            Service::Market,
            "/v1/assets/AAA/backtest",
            Computed::Ready(report("AAA")),
        ),
    ));
    let r = app.risk.as_ref().unwrap();
    assert!(r.backtest.computing.is_none());
    assert_eq!(r.backtest.res.data.as_ref().unwrap().days, 1520);
    assert!(!r.backtest.res.loading);
    assert!(app.tick(t0 + Duration::from_secs(99)).is_empty());
    // The ranking polls the same way, independently.
    app.apply(ApiResult::Ranking(
        "AAA".into(),
        ok(
            Service::Market,
            "/v1/assets/AAA/models",
            Computed::Pending(Pending {
                detail: "the model ranking of AAA".into(),
                retry_after: 1,
            }),
        ),
    ));
    app.tick(t0 + Duration::from_secs(100));
    assert_eq!(
        app.tick(t0 + Duration::from_secs(101)),
        vec![Command::FetchRanking("AAA".into())]
    );
    app.apply(ApiResult::Ranking(
        "AAA".into(),
        ok(
            Service::Market,
            "/v1/assets/AAA/models",
            Computed::Ready(ModelRanking {
                symbol: "AAA".into(),
                days: 1520,
                models: vec![],
                failed: vec![],
            }),
        ),
    ));
    assert!(!app.is_loading() || app.vol.loading || app.signals.loading);
    assert!(app.risk.as_ref().unwrap().ranking.res.data.is_some());
}

#[test]
fn a_202_for_an_old_key_is_dropped_and_errors_are_retried_by_the_refresh_clock() {
    let t0 = Instant::now();
    let mut app = loaded_app();
    app.last_refresh = Some(t0);
    app.open_risk("AAA");
    app.handle_key(Key::Char('m')); // now GJR: the GARCH answer is stale
    let old: BacktestKey = ("AAA".into(), Model::Garch, Dist::Normal);
    app.apply(ApiResult::Backtest(
        old,
        ok(Service::Market, "/v1/assets/AAA/backtest", pending(1)),
    ));
    assert!(app.risk.as_ref().unwrap().backtest.computing.is_none());
    assert_eq!(app.market_status.ok_calls, 2, "still counted");
    // 429 (busy) is an error, retried on the next due refresh.
    let key: BacktestKey = ("AAA".into(), Model::Gjr, Dist::Normal);
    app.apply(ApiResult::Backtest(
        key.clone(),
        err(
            Service::Market,
            "/v1/assets/AAA/backtest",
            ApiError::Status {
                status: 429,
                title: "Too Many Requests".into(),
                detail: Some("busy".into()),
            },
        ),
    ));
    assert!(app.risk.as_ref().unwrap().backtest.res.error.is_some());
    assert!(
        !app.tick(t0 + Duration::from_secs(1))
            .contains(&Command::FetchBacktest(key.clone()))
    );
    assert!(
        app.tick(t0 + Duration::from_secs(6))
            .contains(&Command::FetchBacktest(key))
    );
}

pub(crate) fn universe(total: f64, digest: &str, distributed: bool) -> UniverseRun {
    UniverseRun {
        total_seconds: total,
        refits: 7600,
        refits_per_second: 7600.0 / total,
        threads: (!distributed).then_some(2),
        digest: digest.into(),
        assets: vec![],
        distributed: distributed.then(|| DistributedStats {
            workers: vec!["w1".into(), "w2".into()],
            chunks: 50,
            redelivered_chunks: 1,
            duplicate_results: 0,
        }),
    }
}

#[test]
fn universe_backtest_runs_the_three_modes_in_turn_and_compares_digests() {
    let mut app = new_app();
    app.handle_key(Key::Char('d')); // Student-t
    let cmds = app.handle_key(Key::Char('B'));
    assert_eq!(app.view, View::Benchmark);
    assert_eq!(
        cmds,
        vec![Command::RunBacktests(
            FitMode::Sequential,
            Model::Garch,
            Dist::T
        )]
    );
    // One benchmark at a time: neither b nor B starts another.
    assert!(app.handle_key(Key::Char('b')).is_empty());
    assert!(app.handle_key(Key::Char('B')).is_empty());
    let path = "/v1/backtests";
    let cmds = app.apply(ApiResult::Backtests(
        FitMode::Sequential,
        ok(Service::Market, path, universe(8.0, "abc", false)),
    ));
    assert_eq!(
        cmds,
        vec![Command::RunBacktests(
            FitMode::Parallel,
            Model::Garch,
            Dist::T
        )]
    );
    assert_eq!(app.bench.bit_identical(), None);
    let cmds = app.apply(ApiResult::Backtests(
        FitMode::Parallel,
        ok(Service::Market, path, universe(4.0, "abc", false)),
    ));
    assert_eq!(
        cmds,
        vec![Command::RunBacktests(
            FitMode::Distributed,
            Model::Garch,
            Dist::T
        )]
    );
    let cmds = app.apply(ApiResult::Backtests(
        FitMode::Distributed,
        err(
            Service::Market,
            path,
            ApiError::Status {
                status: 503,
                title: "distributed-unavailable".into(),
                detail: Some("no NATS server configured".into()),
            },
        ),
    ));
    assert!(cmds.is_empty());
    assert!(!app.bench.running());
    assert_eq!(app.bench.backtest_speedup(FitMode::Parallel), Some(2.0));
    assert_eq!(app.bench.bit_identical(), Some(true));
    assert_eq!(
        app.bench.backtest(FitMode::Distributed),
        &BenchState::Unavailable("no NATS server configured".into())
    );
    // The refits' states are untouched, and a late answer is ignored.
    assert_eq!(app.bench.state(FitMode::Sequential), &BenchState::Idle);
    assert!(
        app.apply(ApiResult::Backtests(
            FitMode::Parallel,
            ok(Service::Market, path, universe(1.0, "zzz", false)),
        ))
        .is_empty()
    );
    // Again: a differing digest is noticed.
    app.handle_key(Key::Char('B'));
    app.apply(ApiResult::Backtests(
        FitMode::Sequential,
        ok(Service::Market, path, universe(8.0, "abc", false)),
    ));
    app.apply(ApiResult::Backtests(
        FitMode::Parallel,
        ok(Service::Market, path, universe(4.0, "abd", false)),
    ));
    assert_eq!(app.bench.bit_identical(), Some(false));
    assert_eq!(app.bench.backtest_runs, 2);
}

#[test]
fn a_pushed_market_change_refetches_the_risk_view_of_that_symbol_only() {
    let mut app = loaded_app();
    app.open_risk("AAA");
    let key: BacktestKey = ("AAA".into(), Model::Garch, Dist::Normal);
    // In flight (or still computing): nothing doubled.
    let cmds = app.apply(ApiResult::Pushed(Service::Market, "AAA".into()));
    assert!(backtest_cmds(&cmds).is_empty(), "{cmds:?}");
    app.apply(ApiResult::Backtest(
        key.clone(),
        ok(
            Service::Market,
            "/v1/assets/AAA/backtest",
            Computed::Ready(report("AAA")),
        ),
    ));
    app.apply(ApiResult::Ranking(
        "AAA".into(),
        ok(
            Service::Market,
            "/v1/assets/AAA/models",
            Computed::Ready(ModelRanking {
                symbol: "AAA".into(),
                days: 1,
                models: vec![],
                failed: vec![],
            }),
        ),
    ));
    let cmds = app.apply(ApiResult::Pushed(Service::Market, "BBB".into()));
    assert!(backtest_cmds(&cmds).is_empty(), "{cmds:?}");
    let cmds = app.apply(ApiResult::Pushed(Service::Market, "aaa".into()));
    assert_eq!(
        backtest_cmds(&cmds),
        vec![
            &Command::FetchBacktest(key),
            &Command::FetchRanking("AAA".into())
        ]
    );
    // The old numbers stay on screen meanwhile.
    assert!(app.risk.as_ref().unwrap().backtest.res.data.is_some());
}
