//! Rendering: a header with the view tabs and the model in use, one module per view, a footer
//! with key hints and service lights, and the help overlay. Drawing reads the [`App`] only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use crate::app::{App, Service, View};

pub mod benchmark;
pub mod detail;
pub mod risk;
pub mod screener;
pub mod status;
pub mod widgets;

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(frame, header, app);
    match app.view {
        View::Screener => screener::render(frame, body, app),
        View::Detail => detail::render(frame, body, app),
        View::Risk => risk::render(frame, body, app),
        View::Benchmark => benchmark::render(frame, body, app),
        View::Status => status::render(frame, body, app),
    }
    render_footer(frame, footer, app);
    if app.show_help {
        widgets::help_overlay(frame, frame.area());
    }
}

fn render_header(frame: &mut Frame, area: Rect, app: &App) {
    let spec = format!(
        "{} {} h={}d {}",
        app.model.label(),
        app.dist.label(),
        app.horizon,
        if app.is_loading() {
            widgets::spinner(app)
        } else {
            " "
        }
    );
    let [tabs_area, spec_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(spec.chars().count() as u16 + 1),
    ])
    .areas(area);
    let titles: Vec<Line> = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, v.title())))
        .collect();
    let selected = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .style(Style::new().fg(Color::Gray))
            .highlight_style(
                Style::new()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            )
            // Five tabs and the spec fit in 80 columns.
            .divider(" | ")
            .padding("", ""),
        tabs_area,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(spec, Style::new().fg(Color::Cyan))).right_aligned(),
        spec_area,
    );
}

fn light(app: &App, service: Service) -> Span<'static> {
    let st = app.status(service);
    let (mark, color) = if st.url.is_err() {
        ("n/a", Color::Red)
    } else if st.health.is_none() {
        ("...", Color::DarkGray)
    } else if !st.is_up() {
        ("down", Color::Red)
    } else if st.not_ready_reason().is_some() {
        ("not ready", Color::Yellow)
    } else {
        ("up", Color::Green)
    };
    let name = match service {
        Service::Market => "market",
        Service::Signals => "signals",
    };
    Span::styled(format!(" {name} {mark}"), Style::new().fg(color))
}

fn render_footer(frame: &mut Frame, area: Rect, app: &App) {
    let lights = Line::from(vec![
        light(app, Service::Market),
        light(app, Service::Signals),
    ]);
    let [hint_area, light_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(lights.width() as u16),
    ])
    .areas(area);
    let hint = if app.editing_filter {
        Line::from(vec![
            Span::styled("filter: ", Style::new().fg(Color::Yellow)),
            Span::raw(format!("{}_", app.filter)),
            Span::styled("  Enter keep  Esc clear", Style::new().fg(Color::DarkGray)),
        ])
    } else {
        let text = match app.view {
            View::Screener => "Enter detail / filter s sort ? help q quit",
            View::Detail => "jk symbol m d +- model Bksp back ? help q quit",
            View::Risk => "jk symbol m d model r refresh Bksp back ? help q quit",
            View::Benchmark => "b/Enter refits B backtest m d model ? help q quit",
            View::Status => "r refresh  Tab view  ? help  q quit",
        };
        Line::styled(text, Style::new().fg(Color::DarkGray))
    };
    frame.render_widget(Paragraph::new(hint), hint_area);
    frame.render_widget(Paragraph::new(lights), light_area);
}

#[cfg(test)]
pub(crate) mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    /// Renders `app` at `w`×`h` and returns the screen as lines of text.
    pub(crate) fn render(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| draw(f, app)).unwrap();
        let buf = terminal.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }

    /// Asserts that the screen shows `needle` somewhere.
    pub(crate) fn assert_shows(screen: &[String], needle: &str) {
        assert!(
            screen.iter().any(|l| l.contains(needle)),
            "screen does not show {needle:?}:\n{}",
            screen.join("\n")
        );
    }

    #[test]
    fn header_and_footer_in_80x24() {
        let app = crate::app::tests::loaded_app();
        let screen = render(&app, 80, 24);
        assert!(screen[0].contains("1 Screener"));
        assert!(screen[0].contains("3 Risk"));
        assert!(screen[0].contains("5 Status"));
        assert!(screen[0].contains("GARCH(1,1) normal h=10d"));
        assert!(screen[23].contains("q quit"));
        assert!(screen[23].contains("signals n/a"));
    }

    #[test]
    fn help_overlay_lists_the_keys() {
        let mut app = crate::app::tests::loaded_app();
        app.show_help = true;
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "Help - keys");
            assert_shows(&screen, "forecast horizon");
            assert_shows(&screen, "quit (Esc first clears a filter)");
        }
    }

    #[test]
    fn tiny_terminals_do_not_panic() {
        let mut app = crate::app::tests::loaded_app();
        for view in View::ALL {
            app.view = view;
            for (w, h) in [(1, 1), (10, 3), (30, 8), (200, 60)] {
                render(&app, w, h);
            }
        }
        app.show_help = true;
        render(&app, 5, 5);
    }
}
