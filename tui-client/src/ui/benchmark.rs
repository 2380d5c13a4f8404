//! Benchmark: `POST /v1/fits` (key `b`) and the universe backtest `POST /v1/backtests` (key
//! `B`) in sequential, parallel and distributed mode: times, throughput, speedups, whether the
//! modes' results are bit-identical, the distributed run's workers, and the refit wall times
//! as a bar chart.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Cell, Paragraph, Row, Table, Wrap};

use super::widgets::{block, error_style, spinner, warn_style};
use crate::app::{App, BenchState, UNIVERSE_SETTING};
use crate::client::{FitMode, UniverseRun};

fn mode_color(mode: FitMode) -> Color {
    match mode {
        FitMode::Sequential => Color::Yellow,
        FitMode::Parallel => Color::Green,
        FitMode::Distributed => Color::Magenta,
    }
}

/// Renders the benchmark view.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let b = &app.bench;
    let [intro, table_area, backtest_area, bottom] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Min(3),
    ])
    .areas(area);
    let [chart_area, notes_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    render_backtests(frame, backtest_area, app);
    render_notes(frame, notes_area, app);

    let mut lines = vec![Line::raw(
        "b: refits (POST /v1/fits); B: universe backtest (POST /v1/backtests).",
    )];
    if b.runs == 0 && b.backtest_runs == 0 {
        lines.push(Line::styled(
            format!(
                "Press b or Enter to run ({} {}); B runs the universe backtest.",
                app.model.label(),
                app.dist.label()
            ),
            warn_style(),
        ));
    } else if b.backtests.contains(&BenchState::Running) {
        let (model, dist) = b.backtest_spec;
        lines.push(Line::styled(
            format!(
                "{} backtesting {} {} (run {})...",
                spinner(app),
                model.label(),
                dist.label(),
                b.backtest_runs
            ),
            warn_style(),
        ));
    } else if b.runs == 0 {
        lines.push(Line::styled(
            "Universe backtest done; b runs the refits, B again.",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ));
    } else if b.running() {
        lines.push(Line::styled(
            format!(
                "{} running {} {} (run {})...",
                spinner(app),
                b.model.label(),
                b.dist.label(),
                b.runs
            ),
            warn_style(),
        ));
    } else {
        let speed = b.speedup().map_or_else(
            || "speedup: -".to_string(),
            |s| format!("parallel speedup: {s:.2}x"),
        );
        lines.push(Line::styled(
            format!(
                "{} {} (run {}): {speed}. b runs again.",
                b.model.label(),
                b.dist.label(),
                b.runs
            ),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(" Benchmark ")),
        intro,
    );

    let rows: Vec<Row> = FitMode::ALL
        .iter()
        .map(|&mode| {
            let (status, total, rate, ok) = match b.state(mode) {
                BenchState::Idle => (Cell::from("-"), "-".into(), "-".into(), "-".into()),
                BenchState::Running => (
                    Cell::from(format!("{} running", spinner(app))).style(warn_style()),
                    "...".into(),
                    "...".into(),
                    "...".into(),
                ),
                BenchState::Done(run) => (
                    Cell::from("done").style(Style::new().fg(Color::Green)),
                    format!("{:.3} s", run.total_seconds),
                    format!("{:.1}", run.fits_per_second),
                    format!(
                        "{}/{}",
                        run.symbols.iter().filter(|s| s.ok).count(),
                        run.symbols.len()
                    ),
                ),
                BenchState::Unavailable(why) => (
                    Cell::from(format!("unavailable: {why}")).style(warn_style()),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ),
                BenchState::Failed(e) => (
                    Cell::from(format!("failed: {e}")).style(error_style()),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ),
            };
            Row::new(vec![
                Cell::from(mode.as_str()).style(Style::new().fg(mode_color(mode))),
                Cell::from(total),
                Cell::from(rate),
                Cell::from(ok),
                status,
            ])
        })
        .collect();
    let header = Row::new(["mode", "total", "fits/s", "ok", "status"])
        .style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Min(10),
            ],
        )
        .header(header)
        .block(block(" Refits: POST /v1/fits ")),
        table_area,
    );

    let bars: Vec<Bar> = FitMode::ALL
        .iter()
        .map(|&mode| {
            let (value, text) = match b.state(mode) {
                BenchState::Done(run) => (
                    (run.total_seconds * 1000.0).round().max(1.0) as u64,
                    format!("{:.3} s", run.total_seconds),
                ),
                BenchState::Unavailable(_) => (0, "unavailable".into()),
                BenchState::Failed(_) => (0, "failed".into()),
                BenchState::Running => (0, "running".into()),
                BenchState::Idle => (0, "-".into()),
            };
            Bar::default()
                .label(Line::from(mode.as_str()))
                .value(value)
                .text_value(text)
                .style(Style::new().fg(mode_color(mode)))
                .value_style(Style::new().fg(Color::Black).bg(mode_color(mode)))
        })
        .collect();
    let title = match b.speedup() {
        Some(s) => format!(" Refit wall time (ms), parallel speedup {s:.2}x "),
        None => " Refit wall time (ms) ".to_string(),
    };
    frame.render_widget(
        BarChart::default()
            .block(block(title))
            .direction(Direction::Horizontal)
            .bar_width(1)
            .bar_gap(1)
            .data(BarGroup::default().bars(&bars)),
        chart_area,
    );
}

/// Style and text of a mode that did not complete.
fn not_done<T>(state: &BenchState<T>, app: &App) -> Option<Cell<'static>> {
    Some(match state {
        BenchState::Idle => Cell::from("-"),
        BenchState::Running => Cell::from(format!("{} running", spinner(app))).style(warn_style()),
        BenchState::Unavailable(why) => {
            Cell::from(format!("unavailable: {why}")).style(warn_style())
        }
        BenchState::Failed(e) => Cell::from(format!("failed: {e}")).style(error_style()),
        BenchState::Done(_) => return None,
    })
}

/// The universe backtest's table: per mode wall time, refits/s, speedup over sequential, the
/// digest and the distributed run's workers; the title says whether the modes agree.
fn render_backtests(frame: &mut Frame, area: Rect, app: &App) {
    let b = &app.bench;
    let rows: Vec<Row> = FitMode::ALL
        .iter()
        .map(|&mode| {
            let state = b.backtest(mode);
            let cells: Vec<Cell> = match state {
                BenchState::Done(run) => {
                    let speedup = b
                        .backtest_speedup(mode)
                        .map_or("-".into(), |s| format!("{s:.2}x"));
                    vec![
                        Cell::from(format!("{:.2} s", run.total_seconds)),
                        Cell::from(format!("{:.0}", run.refits_per_second)),
                        Cell::from(speedup),
                        Cell::from(short_digest(run)),
                        Cell::from(execution(run)),
                    ]
                }
                other => {
                    let status = not_done(other, app).unwrap_or_default();
                    vec![
                        Cell::from("-"),
                        Cell::from("-"),
                        Cell::from("-"),
                        Cell::from("-"),
                        status,
                    ]
                }
            };
            let mut row = vec![Cell::from(mode.as_str()).style(Style::new().fg(mode_color(mode)))];
            row.extend(cells);
            Row::new(row)
        })
        .collect();
    let header = Row::new(["mode", "total", "refits/s", "speedup", "digest", "run"])
        .style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    let (model, dist) = b.backtest_spec;
    let spec = if b.backtest_runs == 0 {
        format!("{} {}", app.model.label(), app.dist.label())
    } else {
        format!("{} {}", model.label(), dist.label())
    };
    let mut title = vec![Span::raw(format!(
        " Backtests {spec}, w {} refit every {}",
        UNIVERSE_SETTING.window, UNIVERSE_SETTING.refit_every
    ))];
    match b.bit_identical() {
        Some(true) => title.push(Span::styled(
            ": bit-identical ✓",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )),
        Some(false) => title.push(Span::styled(
            ": digests differ ✗",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
        None => {}
    }
    title.push(Span::raw(" "));
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Min(10),
            ],
        )
        .header(header)
        .block(block(Line::from(title))),
        area,
    );
}

/// The first 8 hex digits of a run's digest.
fn short_digest(run: &UniverseRun) -> String {
    run.digest.chars().take(8).collect()
}

/// How a run executed: threads, or the distributed workers and redeliveries.
fn execution(run: &UniverseRun) -> String {
    match (&run.distributed, run.threads) {
        (Some(d), _) => format!(
            "{} workers, {}/{} chunks redelivered",
            d.workers.len(),
            d.redelivered_chunks,
            d.chunks
        ),
        (None, Some(t)) => format!("{t} thread{}", if t == 1 { "" } else { "s" }),
        (None, None) => String::new(),
    }
}

/// Notes under the tables: the universe backtest's verdict and what a mode that did not run
/// said, in full (the table cuts it).
fn render_notes(frame: &mut Frame, area: Rect, app: &App) {
    let b = &app.bench;
    // What a mode said when it did not run first: the table cuts it.
    let mut lines: Vec<Line> = FitMode::ALL
        .iter()
        .filter_map(|&mode| match b.backtest(mode) {
            BenchState::Unavailable(why) | BenchState::Failed(why) => Some(Line::styled(
                format!("{}: {why}", mode.as_str()),
                warn_style(),
            )),
            _ => None,
        })
        .collect();
    match b.bit_identical() {
        Some(true) => lines.push(Line::styled(
            "bit-identical ✓ (equal digests across modes)",
            Style::new().fg(Color::Green),
        )),
        Some(false) => lines.push(Line::styled("digests differ ✗ across modes", error_style())),
        None => {}
    }
    if let BenchState::Done(seq) = b.backtest(FitMode::Sequential) {
        let failed = seq.assets.iter().filter(|a| a.error.is_some()).count();
        lines.push(Line::raw(format!(
            "{} refits over {} symbols{}",
            seq.refits,
            seq.assets.len(),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        )));
    }
    for mode in FitMode::ALL {
        if let BenchState::Done(UniverseRun {
            distributed: Some(d),
            ..
        }) = b.backtest(mode)
        {
            lines.push(Line::raw(format!(
                "workers: {}; redelivered {}, duplicates {}",
                d.workers.join(", "),
                d.redelivered_chunks,
                d.duplicate_results
            )));
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled(
            "B backtests every symbol in the three modes.",
            Style::new().fg(Color::DarkGray),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(" Universe backtest ")),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crate::app::tests::{err, new_app, ok};
    use crate::app::{ApiResult, Key, Service};
    use crate::client::{ApiError, FitMode, FitsRun, FitsSymbol};
    use crate::ui::tests::{assert_shows, render};

    fn run(total: f64) -> FitsRun {
        FitsRun {
            total_seconds: total,
            fits_per_second: 25.0 / total,
            symbols: vec![FitsSymbol { ok: true }; 25],
        }
    }

    #[test]
    fn idle_then_running_then_done_with_unavailable_distributed() {
        let mut app = new_app();
        app.handle_key(Key::Char('4'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "Press b or Enter to run (GARCH(1,1) normal);");

        app.handle_key(Key::Char('b'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "running GARCH(1,1) normal (run 1)...");

        app.apply(ApiResult::Fits(
            FitMode::Sequential,
            ok(Service::Market, "/v1/fits", run(2.0)),
        ));
        app.apply(ApiResult::Fits(
            FitMode::Parallel,
            ok(Service::Market, "/v1/fits", run(0.5)),
        ));
        app.apply(ApiResult::Fits(
            FitMode::Distributed,
            err(
                Service::Market,
                "/v1/fits",
                ApiError::Status {
                    status: 501,
                    title: "Not Implemented".into(),
                    detail: Some("no NATS workers".into()),
                },
            ),
        ));
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "parallel speedup: 4.00x");
            assert_shows(&screen, "sequential");
            assert_shows(&screen, "2.000 s");
            assert_shows(&screen, "0.500 s");
            assert_shows(&screen, "25/25");
            assert_shows(&screen, "unavailable: no NATS workers");
            assert_shows(&screen, "unavailable");
        }
    }

    #[test]
    fn error_state() {
        let mut app = new_app();
        app.handle_key(Key::Char('b'));
        app.apply(ApiResult::Fits(
            FitMode::Sequential,
            err(
                Service::Market,
                "/v1/fits",
                ApiError::Unreachable("connection failed".into()),
            ),
        ));
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "failed: unreachable: connection failed");
    }

    #[test]
    fn universe_backtest_rows_speedup_identity_and_unavailable_distributed() {
        use crate::app::tests::universe;
        let mut app = new_app();
        app.handle_key(Key::Char('4'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "B runs the universe backtest.");
        app.handle_key(Key::Char('B'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "backtesting GARCH(1,1) normal (run 1)...");
        let path = "/v1/backtests";
        // One mode's universe backtest answered: `seconds` long, distributed or not.
        let answer = |app: &mut crate::app::App, mode: FitMode, seconds: f64, distributed: bool| {
            let run = universe(seconds, "0123456789abcdef", distributed);
            app.apply(ApiResult::Backtests(mode, ok(Service::Market, path, run)));
        };
        answer(&mut app, FitMode::Sequential, 8.0, false);
        answer(&mut app, FitMode::Parallel, 4.0, false);
        app.apply(ApiResult::Backtests(
            FitMode::Distributed,
            err(
                Service::Market,
                path,
                ApiError::Status {
                    status: 503,
                    title: "distributed-unavailable".into(),
                    detail: Some("mode=distributed runs on NATS JetStream workers".into()),
                },
            ),
        ));
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "w 1000 refit every 5: bit-identical ✓");
            assert_shows(&screen, "mode         total     refits/s speedup  digest");
            assert_shows(&screen, "sequential   8.00 s    950      1.00x    01234567");
            assert_shows(&screen, "parallel     4.00 s    1900     2.00x    01234567");
            assert_shows(&screen, "unavailable: mode=distrib");
            assert_shows(&screen, "distributed: mode=distributed runs on");
        }
        // A distributed run that worked shows its workers and redeliveries.
        app.handle_key(Key::Char('B'));
        answer(&mut app, FitMode::Sequential, 8.0, false);
        answer(&mut app, FitMode::Parallel, 4.0, false);
        answer(&mut app, FitMode::Distributed, 5.0, true);
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "2 workers, 1/50 chunks redelivered");
        assert_shows(&screen, "workers: w1, w2; redelivered 1, duplicates 0");
        assert_shows(&screen, "bit-identical ✓ (equal digests across modes)");
    }
}
