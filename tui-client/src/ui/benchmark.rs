//! Benchmark: `POST /v1/fits` in sequential, parallel and distributed mode, with times,
//! throughput and the speedup as a bar chart.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Cell, Paragraph, Row, Table, Wrap};

use super::widgets::{block, error_style, spinner, warn_style};
use crate::app::{App, BenchState};
use crate::client::FitMode;

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
    let [intro, table_area, chart_area] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Min(3),
    ])
    .areas(area);

    let mut lines = vec![Line::raw(
        "Refits every symbol through POST /v1/fits, one mode after the other.",
    )];
    if b.runs == 0 {
        lines.push(Line::styled(
            format!(
                "Press b or Enter to run ({} {}).",
                app.model.label(),
                app.dist.label()
            ),
            warn_style(),
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
            .block(block(" Benchmark: POST /v1/fits ")),
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
        .block(block(" Runs ")),
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
        Some(s) => format!(" Wall time (ms), parallel speedup {s:.2}x "),
        None => " Wall time (ms) ".to_string(),
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
        app.handle_key(Key::Char('3'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "Press b or Enter to run (GARCH(1,1) normal).");

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
}
