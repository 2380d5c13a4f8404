//! The screener: one row per symbol with the volatility forecast and the latest signal.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

use super::widgets::{block, error_style, num, signal_style, spinner, warn_style};
use crate::app::{App, INTERVAL, Row, Service, SortColumn};

/// Lines about services that are down, not ready or failing; empty when all is well.
pub fn notices(app: &App) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let market = app.status(Service::Market);
    if let Some(e) = &app.vol.error {
        out.push(Line::styled(
            format!(
                "market-svc: {e} - retrying every {}s",
                app.refresh_every.as_secs()
            ),
            error_style(),
        ));
    } else if let Some(why) = market.not_ready_reason() {
        out.push(Line::styled(
            format!("market-svc not ready: {why}"),
            warn_style(),
        ));
    }
    if let Some(e) = &app.signals.error {
        out.push(Line::styled(
            format!("signals-svc: {e} (no RSI/%B/signal)"),
            error_style(),
        ));
    }
    out
}

fn header_cell(app: &App, label: &str, column: Option<SortColumn>) -> Cell<'static> {
    let mut text = label.to_string();
    let mut style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    if column == Some(app.sort) {
        text.push(if app.descending { 'v' } else { '^' });
        style = style.add_modifier(Modifier::UNDERLINED);
    }
    Cell::from(text).style(style)
}

fn vol_cell(row: &Row) -> Cell<'static> {
    if row.fit_error.is_some() {
        return Cell::from("error").style(error_style());
    }
    match row.converged {
        Some(false) => Cell::from(format!("{}*", num(row.vol, 1))).style(warn_style()),
        _ => Cell::from(num(row.vol, 1)),
    }
}

/// Renders the screener.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let rows = app.rows();
    let notices = notices(app);
    let [table_area, notice_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(notices.len().min(3) as u16),
    ])
    .areas(area);
    let total = crate::app::merge_rows(app.vol.data.as_ref(), app.signals.data.as_ref()).len();
    let mut title = format!(
        " Screener {}/{} | {} bars | sort {} ",
        rows.len(),
        total,
        INTERVAL,
        app.sort.label()
    );
    if !app.filter.is_empty() || app.editing_filter {
        title.push_str(&format!("| filter '{}' ", app.filter));
    }
    if app.vol.loading || app.signals.loading {
        title.push_str(&format!("{} ", spinner(app)));
    }
    let blk = block(title);

    if rows.is_empty() {
        let mut lines = Vec::new();
        if total > 0 {
            lines.push(Line::styled(
                format!(
                    "no symbol matches the filter '{}' (Esc clears it)",
                    app.filter
                ),
                warn_style(),
            ));
        } else if app.vol.loading || app.signals.loading {
            lines.push(Line::styled(
                format!(
                    "{} loading {} {} forecasts and {} signals...",
                    spinner(app),
                    app.model.label(),
                    app.dist.label(),
                    INTERVAL
                ),
                warn_style(),
            ));
        } else if notices.is_empty() {
            lines.push(Line::styled(
                "no symbols: the services have no data",
                warn_style(),
            ));
        }
        lines.extend(notices.iter().cloned());
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(blk),
            area,
        );
        return;
    }

    let wide = area.width >= 110;
    let mut header = vec![
        header_cell(app, "Symbol", Some(SortColumn::Symbol)),
        header_cell(app, "Vol%", Some(SortColumn::Vol)),
    ];
    let mut widths = vec![Constraint::Length(9), Constraint::Length(7)];
    if wide {
        header.push(header_cell(app, "LongRun", None));
        header.push(header_cell(app, "HalfLife", None));
        widths.extend([Constraint::Length(8), Constraint::Length(9)]);
    }
    header.push(header_cell(app, "Persist", Some(SortColumn::Persistence)));
    widths.push(Constraint::Length(8));
    if wide {
        header.push(header_cell(app, "Close", None));
        widths.push(Constraint::Length(10));
    }
    header.push(header_cell(app, "RSI", Some(SortColumn::Rsi)));
    header.push(header_cell(app, "%B", Some(SortColumn::PercentB)));
    widths.extend([Constraint::Length(6), Constraint::Length(6)]);
    if wide {
        header.push(header_cell(app, "BandW", None));
        widths.push(Constraint::Length(7));
    }
    header.push(header_cell(app, "Signal", Some(SortColumn::Signal)));
    header.push(header_cell(app, "Reasons", None));
    widths.extend([Constraint::Length(7), Constraint::Min(6)]);

    let body: Vec<TableRow> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                Cell::from(r.symbol.clone()).style(Style::new().add_modifier(Modifier::BOLD)),
                vol_cell(r),
            ];
            if wide {
                cells.push(Cell::from(num(r.long_run, 1)));
                cells.push(Cell::from(
                    r.half_life
                        .map_or("-".into(), |h| format!("{}d", num(Some(h), 1))),
                ));
            }
            cells.push(Cell::from(num(r.persistence, 4)));
            if wide {
                cells.push(Cell::from(num(r.close, 2)));
            }
            let rsi_style = match r.rsi {
                Some(x) if x >= 70.0 => Style::new().fg(Color::Red),
                Some(x) if x <= 30.0 => Style::new().fg(Color::Green),
                _ => Style::new(),
            };
            cells.push(Cell::from(num(r.rsi, 1)).style(rsi_style));
            cells.push(Cell::from(num(r.percent_b, 2)));
            if wide {
                cells.push(Cell::from(num(r.bandwidth, 3)));
            }
            cells.push(
                Cell::from(r.signal.map_or("-", |s| s.as_str())).style(signal_style(r.signal)),
            );
            cells.push(
                Cell::from(r.fit_error.clone().unwrap_or_else(|| r.reasons.join("; ")))
                    .style(Style::new().fg(Color::DarkGray)),
            );
            TableRow::new(cells)
        })
        .collect();
    let table = Table::new(body, widths)
        .header(TableRow::new(header))
        .block(blk)
        .row_highlight_style(
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        )
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(Some(app.selected.min(rows.len() - 1)));
    frame.render_stateful_widget(table, table_area, &mut state);
    frame.render_widget(Paragraph::new(notices), notice_area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::{loaded_app, new_app};
    use crate::app::{ApiResult, Dist, Key, Model};
    use crate::client::{ApiError, Call};
    use crate::ui::tests::{assert_shows, render};

    #[test]
    fn shows_rows_with_vol_rsi_and_signal_in_80x24() {
        let app = loaded_app();
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "Screener 3/3 | 5m bars | sort symbol");
        assert_shows(&screen, "Symbol^");
        assert_shows(&screen, "Persist");
        let aaa = screen.iter().find(|l| l.contains("AAA")).unwrap();
        assert!(aaa.starts_with("│> AAA"), "{aaa}");
        assert!(aaa.contains("30.0"));
        assert!(aaa.contains("0.9900"));
        assert!(aaa.contains("25.0"));
        assert!(aaa.contains("long"));
        assert!(
            screen
                .iter()
                .any(|l| l.contains("BBB") && l.contains("short"))
        );
    }

    #[test]
    fn signal_colours() {
        let app = loaded_app();
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| crate::ui::draw(f, &app)).unwrap();
        let buf = terminal.backend().buffer();
        let find = |word: &str| {
            for y in 0..24 {
                let line: String = (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect();
                if let Some(x) = line.find(&format!(" {word} ")) {
                    let x = line[..x + 1].chars().count() as u16;
                    return buf[(x, y)].fg;
                }
            }
            panic!("{word} not on screen");
        };
        assert_eq!(find("long"), Color::Green);
        assert_eq!(find("short"), Color::Red);
    }

    #[test]
    fn wide_terminal_shows_more_columns() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('s'));
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "LongRun");
        assert_shows(&screen, "HalfLife");
        assert_shows(&screen, "BandW");
        assert_shows(&screen, "Vol%v");
        assert_shows(&screen, "sort vol");
        assert_shows(&screen, "long reason");
    }

    #[test]
    fn filter_shows_in_title_and_footer() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('/'));
        app.handle_key(Key::Char('a'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "Screener 1/3");
        assert_shows(&screen, "filter 'a'");
        assert_shows(&screen, "filter: a_");
        app.handle_key(Key::Char('x'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "no symbol matches the filter 'ax'");
    }

    #[test]
    fn loading_state() {
        let mut app = new_app();
        app.start(std::time::Instant::now());
        let screen = render(&app, 80, 24);
        assert_shows(
            &screen,
            "loading GARCH(1,1) normal forecasts and 5m signals...",
        );
    }

    #[test]
    fn error_state_when_both_services_fail() {
        let mut app = new_app();
        app.start(std::time::Instant::now());
        app.apply(ApiResult::VolScreener(
            (Model::Garch, Dist::Normal, 10),
            Call {
                service: Service::Market,
                path: "/v1/volatility".into(),
                latency: std::time::Duration::ZERO,
                result: Err(ApiError::Unreachable("connection failed".into())),
            },
        ));
        app.apply(ApiResult::SignalScreener(
            "5m".into(),
            Call::unavailable(
                Service::Signals,
                "/v1/signals",
                "signals-svc not available in this build",
            ),
        ));
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(
                &screen,
                "market-svc: unreachable: connection failed - retrying every 5s",
            );
            assert_shows(
                &screen,
                "signals-svc: signals-svc not available in this build",
            );
        }
    }

    #[test]
    fn signals_down_shows_market_rows_and_a_notice() {
        let mut app = loaded_app();
        app.handle_key(Key::Char('r'));
        app.apply(ApiResult::SignalScreener(
            "5m".into(),
            Call::unavailable(Service::Signals, "/v1/signals", "signals-svc down"),
        ));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "AAA");
        assert_shows(&screen, "signals-svc: signals-svc down (no RSI/%B/signal)");
    }

    #[test]
    fn not_ready_market_is_explained() {
        let mut app = new_app();
        app.apply(ApiResult::Ready(
            Service::Market,
            Call {
                service: Service::Market,
                path: "/ready".into(),
                latency: std::time::Duration::ZERO,
                result: Ok(crate::client::Readiness::NotReady(
                    "data is loading and the first fits are running".into(),
                )),
            },
        ));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "market-svc not ready: data is loading");
    }
}
