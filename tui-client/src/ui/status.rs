//! Status: each service's URL, health, readiness, call counts, latency of the last calls and
//! the last error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::widgets::{block, error_style, warn_style};
use crate::app::{App, Service};
use crate::client::Readiness;

fn service_lines(app: &App, service: Service) -> Vec<Line<'static>> {
    let st = app.status(service);
    let dim = Style::new().fg(Color::DarkGray);
    let ok = Style::new().fg(Color::Green);
    let label = |s: &str| Span::styled(format!("{s:<8}"), Style::new().fg(Color::Cyan));
    let mut lines = Vec::new();
    match &st.url {
        Ok(url) => lines.push(Line::from(vec![
            label("url"),
            Span::raw(url.clone()),
            Span::styled(format!(" ({})", st.origin), dim),
        ])),
        Err(_) => {
            lines.push(Line::from(vec![
                label("url"),
                Span::styled("none (see health)", error_style()),
            ]));
        }
    }
    let health = match &st.health {
        None => Span::styled("not checked yet", dim),
        Some(Ok(())) => Span::styled("up", ok),
        Some(Err(e)) => Span::styled(format!("down: {e}"), error_style()),
    };
    lines.push(Line::from(vec![label("health"), health]));
    let ready = match &st.ready {
        None => Span::styled("not checked yet", dim),
        Some(Ok(Readiness::Ready)) => Span::styled("ready", ok),
        Some(Ok(Readiness::NotReady(why))) => {
            Span::styled(format!("not ready: {why}"), warn_style())
        }
        Some(Err(e)) => Span::styled(format!("unknown: {e}"), error_style()),
    };
    lines.push(Line::from(vec![label("ready"), ready]));
    let stream = match st.streaming {
        None => Span::styled("not opened yet", dim),
        Some(true) => Span::styled("following (updates show as they happen)", ok),
        Some(false) => Span::styled("closed, reopening", warn_style()),
    };
    lines.push(Line::from(vec![label("stream"), stream]));
    let avg = if st.calls.is_empty() {
        "-".to_string()
    } else {
        let total: f64 = st.calls.iter().map(|c| c.latency.as_secs_f64()).sum();
        format!("{:.1} ms", total * 1000.0 / st.calls.len() as f64)
    };
    lines.push(Line::from(vec![
        label("calls"),
        Span::raw(format!(
            "{} ok, {} failed, recent avg {avg}",
            st.ok_calls, st.failed_calls
        )),
    ]));
    lines.push(Line::from(vec![
        label("error"),
        match &st.last_error {
            Some((path, e)) => Span::styled(format!("{path}: {e}"), error_style()),
            None => Span::styled("none", dim),
        },
    ]));
    lines.push(Line::styled("recent calls (newest first):", dim));
    for c in &st.calls {
        let (mark, style) = match &c.error {
            None => ("ok".to_string(), ok),
            Some(_) => ("failed".to_string(), error_style()),
        };
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:>8.1} ms  {:<28} ",
                c.latency.as_secs_f64() * 1000.0,
                c.path
            )),
            Span::styled(mark, style),
        ]));
    }
    lines
}

/// Renders the status view.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let notes: Vec<Line> = app
        .notes
        .iter()
        .map(|n| Line::styled(n.clone(), warn_style()))
        .collect();
    let [notes_area, services] = Layout::vertical([
        Constraint::Length(if notes.is_empty() {
            0
        } else {
            notes.len() as u16 + 2
        }),
        Constraint::Min(0),
    ])
    .areas(area);
    if !notes.is_empty() {
        frame.render_widget(
            Paragraph::new(notes)
                .wrap(Wrap { trim: true })
                .block(block(" Start-up ")),
            notes_area,
        );
    }
    let [a, b] = if services.width >= 120 {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(services)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(services)
    };
    for (service, rect) in [(Service::Market, a), (Service::Signals, b)] {
        let title = format!(
            " {} - refresh every {}s ",
            service.name(),
            app.refresh_every.as_secs()
        );
        frame.render_widget(
            Paragraph::new(service_lines(app, service))
                .wrap(Wrap { trim: false })
                .block(block(title)),
            rect,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::app::tests::{err, new_app, ok};
    use crate::app::{ApiResult, Key, Service};
    use crate::client::{ApiError, Call, Readiness};
    use crate::ui::tests::{assert_shows, render};

    #[test]
    fn shows_health_readiness_latency_and_errors() {
        let mut app = new_app();
        app.notes
            .push("data/simulated_daily_data.csv not found: market-svc will not be ready".into());
        app.handle_key(Key::Char('5'));
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
        app.apply(ApiResult::Health(
            Service::Signals,
            Call::unavailable(
                Service::Signals,
                "/health",
                "signals-svc not available in this build",
            ),
        ));
        app.apply(ApiResult::VolScreener(
            (crate::app::Model::Garch, crate::app::Dist::Normal, 10),
            err(
                Service::Market,
                "/v1/volatility",
                ApiError::Status {
                    status: 500,
                    title: "Internal Server Error".into(),
                    detail: None,
                },
            ),
        ));
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "data/simulated_daily_data.csv not found");
            assert_shows(&screen, "market-svc - refresh every 5s");
            assert_shows(&screen, "http://127.0.0.1:1 (in-process)");
            assert_shows(&screen, "health  up");
            assert_shows(&screen, "ready   not ready: data is loading");
            assert_shows(&screen, "2 ok, 1 failed");
            assert_shows(&screen, "signals-svc - refresh every 5s");
            assert_shows(
                &screen,
                "health  down: signals-svc not available in this build",
            );
        }
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "/v1/volatility: HTTP 500 Internal Server Error");
        assert_shows(&screen, "7.0 ms  /health");
        assert_shows(&screen, "3.0 ms  /v1/volatility               failed");
    }
}
