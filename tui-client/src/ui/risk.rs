//! Risk: one symbol's out-of-sample backtest — the last days' returns against the 1 % and 5 %
//! VaR band with the exceedances marked, the coverage table coloured by pass/fail at 5 %, the
//! Basel traffic light, the forecast losses — and the ranking of the candidate models with the
//! model in use highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState, Wrap,
};

use super::widgets::{block, bounds, decimals_for, legend_title, num, placeholder, spinner};
use crate::app::{App, Polled, RANKING_SETTING, RISK_SETTING, Risk};
use crate::client::{BacktestReport, VAR_LEVELS, Zone, level_key};

/// Significance of the coverage tests and of the Diebold–Mariano test.
const ALPHA: f64 = 0.05;

/// Colour of the 5 % VaR line and of the days below it.
const VAR5: Color = Color::Yellow;
/// Colour of the 1 % VaR line and of the days below it.
const VAR1: Color = Color::Red;
/// Colour of the marks of the days below the 5 % VaR only.
const BREACH5: Color = Color::Magenta;
/// Colour of the marks of the days below the 1 % VaR.
const BREACH1: Color = Color::LightRed;

/// Renders the Risk view.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let Some(r) = app.risk.as_ref() else {
        frame.render_widget(
            Paragraph::new(vec![
                Line::styled("no symbol selected", super::widgets::warn_style()),
                Line::raw("choose one on the screener (Tab to it, j/k), then 3"),
            ])
            .block(block(" Risk ")),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [coverage, ranking] =
        Layout::vertical([Constraint::Length(8), Constraint::Min(4)]).areas(right);
    render_chart(frame, left, app, r);
    render_coverage(frame, coverage, app, r);
    render_ranking(frame, ranking, app, r);
}

/// Renders the placeholder of an on-demand value without data: "computing" while the service
/// answers 202, else the loading or error state. True if it rendered (nothing else to show).
fn polled_placeholder<K, T>(
    frame: &mut Frame,
    area: Rect,
    blk: Block<'static>,
    p: &Polled<K, T>,
    what: &str,
    app: &App,
) -> bool {
    if p.res.data.is_some() {
        return false;
    }
    let Some(c) = &p.computing else {
        return placeholder(frame, area, blk, &p.res, what, app);
    };
    let lines = vec![
        Line::styled(
            format!("{} computing {what}…", spinner(app)),
            super::widgets::warn_style(),
        ),
        Line::styled(c.detail.clone(), Style::new().fg(Color::DarkGray)),
        Line::styled(
            format!(
                "asking again every {}s (answer {} was 202)",
                c.retry_after.as_secs(),
                c.polls
            ),
            Style::new().fg(Color::DarkGray),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(blk),
        area,
    );
    true
}

/// Style of a p-value: green when the test passes at 5 %, red when it rejects.
fn p_style(p: Option<f64>) -> Style {
    match p {
        Some(p) if p.is_finite() && p >= ALPHA => Style::new().fg(Color::Green),
        Some(p) if p.is_finite() => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        _ => Style::new().fg(Color::DarkGray),
    }
}

/// Colour of a Basel zone.
fn zone_style(zone: Zone) -> Style {
    let color = match zone {
        Zone::Green => Color::Green,
        Zone::Yellow => Color::Yellow,
        Zone::Red => Color::Red,
        Zone::Other => Color::Gray,
    };
    Style::new().fg(color).add_modifier(Modifier::BOLD)
}

/// `0.01` → `1%`.
fn percent(level: f64) -> String {
    format!("{}%", level * 100.0)
}

fn render_chart(frame: &mut Frame, area: Rect, app: &App, r: &Risk) {
    let blk = block(legend_title(
        &format!("{} ret %", r.symbol),
        &[
            ("VaR 5%", VAR5),
            ("1%", VAR1),
            ("hit 5%", BREACH5),
            ("1%", BREACH1),
        ],
    ));
    if polled_placeholder(frame, area, blk.clone(), &r.backtest, "backtest", app) {
        return;
    }
    let Some(b) = &r.backtest.res.data else {
        return;
    };
    let [k1, k5] = VAR_LEVELS.map(level_key);
    let mut returns = Vec::new();
    let (mut var1, mut var5) = (Vec::new(), Vec::new());
    let (mut breach1, mut breach5) = (Vec::new(), Vec::new());
    for (i, d) in b.path.iter().enumerate() {
        let x = i as f64;
        if !d.ret.is_finite() {
            continue;
        }
        returns.push((x, d.ret));
        let var = |k: &str| d.var.get(k).copied().flatten().filter(|v| v.is_finite());
        if let Some(v) = var(&k1) {
            var1.push((x, v));
        }
        if let Some(v) = var(&k5) {
            var5.push((x, v));
        }
        let hit = |k: &str| d.exceedance.get(k).copied().unwrap_or(false);
        if hit(&k1) {
            breach1.push((x, d.ret));
        } else if hit(&k5) {
            breach5.push((x, d.ret));
        }
    }
    let ys = returns
        .iter()
        .chain(&var1)
        .chain(&var5)
        .map(|p| p.1)
        .collect::<Vec<_>>();
    let Some(yb) = bounds(ys.into_iter()) else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no out-of-sample days",
                Style::new().fg(Color::DarkGray),
            ))
            .block(blk),
            area,
        );
        return;
    };
    let xb = [0.0, (b.path.len().max(2) - 1) as f64];
    let datasets = vec![
        Dataset::default()
            .name("return")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(Style::new().fg(Color::Gray))
            .data(&returns),
        Dataset::default()
            .name("VaR 5%")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(VAR5))
            .data(&var5),
        Dataset::default()
            .name("VaR 1%")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(VAR1))
            .data(&var1),
        Dataset::default()
            .name("below 5%")
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(Style::new().fg(BREACH5))
            .data(&breach5),
        Dataset::default()
            .name("below 1%")
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(Style::new().fg(BREACH1))
            .data(&breach1),
    ];
    let label_style = Style::new().fg(Color::DarkGray);
    let prec = decimals_for(yb[1] - yb[0]).max(1);
    let y_labels: Vec<Span> = [yb[0], (yb[0] + yb[1]) / 2.0, yb[1]]
        .iter()
        .map(|v| Span::styled(format!("{v:.prec$}"), label_style))
        .collect();
    let date = |d: Option<&crate::client::BacktestDay>| d.map_or(String::new(), |d| d.date.clone());
    let x_labels = [
        Span::styled(date(b.path.first()), label_style),
        Span::styled(date(b.path.last()), label_style),
    ];
    frame.render_widget(
        Chart::new(datasets)
            .block(blk)
            .x_axis(
                Axis::default()
                    .bounds(xb)
                    .labels(x_labels)
                    .style(label_style),
            )
            .y_axis(
                Axis::default()
                    .bounds(yb)
                    .labels(y_labels)
                    .style(label_style),
            )
            .legend_position(None),
        area,
    );
}

fn render_coverage(frame: &mut Frame, area: Rect, app: &App, r: &Risk) {
    let (model, dist) = r
        .backtest
        .res
        .key
        .as_ref()
        .map_or((app.model, app.dist), |k| (k.1, k.2));
    let refits = if RISK_SETTING.refit_every == 1 {
        "daily refits".to_string()
    } else {
        format!("refit every {}", RISK_SETTING.refit_every)
    };
    let blk = block(format!(
        " {} {} · {refits}, w {} ",
        model.label(),
        dist.label(),
        RISK_SETTING.window
    ));
    if polled_placeholder(frame, area, blk.clone(), &r.backtest, "backtest", app) {
        return;
    }
    let Some(b) = &r.backtest.res.data else {
        return;
    };
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    let [table_area, text_area] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(inner);
    let header = Row::new(["VaR", "exc/exp", "Kupiec p", "CC p"])
        .style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    let rows: Vec<Row> = VAR_LEVELS
        .iter()
        .map(|&level| {
            let key = level_key(level);
            let k = b.kupiec.get(&key);
            let cc = b.christoffersen.get(&key).map(|c| &c.conditional_coverage);
            let kp = k.and_then(|k| k.p_value);
            let cp = cc.and_then(|c| c.p_value);
            Row::new([
                Cell::from(percent(level)),
                Cell::from(k.map_or("-".into(), |k| {
                    format!("{}/{}", k.exceedances, num(k.expected, 1))
                })),
                Cell::from(num(kp, 3)).style(p_style(kp)),
                Cell::from(num(cp, 3)).style(p_style(cp)),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(4),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Min(5),
            ],
        )
        .header(header),
        table_area,
    );
    frame.render_widget(
        Paragraph::new(summary_lines(b)).wrap(Wrap { trim: true }),
        text_area,
    );
}

/// The traffic light and the losses under the coverage table.
fn summary_lines(b: &BacktestReport) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let light = match &b.traffic_light {
        Some(t) => Line::from(vec![
            Span::raw("Basel 1% 250d: "),
            Span::styled(t.zone.as_str().to_uppercase(), zone_style(t.zone)),
            Span::raw(format!(" ({} exc.)", t.exceptions)),
        ]),
        None => Line::styled(
            format!("Basel: n/a (needs 250 days at 1%; {} days)", b.days),
            dim,
        ),
    };
    let mz = b.mincer_zarnowitz;
    vec![
        light,
        Line::from(vec![
            Span::raw(format!("QLIKE {}  MSE {}", num(b.qlike, 3), num(b.mse, 2))),
            Span::styled(format!("  {} days", b.days), dim),
        ]),
        Line::raw(format!(
            "MZ a {}  b {}  R² {}",
            num(mz.and_then(|m| m.a), 3),
            num(mz.and_then(|m| m.b), 3),
            num(mz.and_then(|m| m.r2), 3),
        )),
    ]
}

fn render_ranking(frame: &mut Frame, area: Rect, app: &App, r: &Risk) {
    let blk = block(format!(
        " Models (refit every {}, w {}) ",
        RANKING_SETTING.refit_every, RANKING_SETTING.window
    ));
    if polled_placeholder(frame, area, blk.clone(), &r.ranking, "model ranking", app) {
        return;
    }
    let Some(ranking) = &r.ranking.res.data else {
        return;
    };
    let header = Row::new(["#", "model", "law", "QLIKE", "DM p", "BIC"])
        .style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    let current = |model: &str, law: &str| model == app.model.as_str() && law == app.dist.as_str();
    let mut selected = None;
    let mut rows: Vec<Row> = ranking
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let model = m.spec.model_name();
            if current(&model, &m.spec.distribution) {
                selected = Some(i);
            }
            let dm = m.dm_vs_best.and_then(|d| d.p_value);
            let dm_cell = match m.dm_vs_best {
                None => Cell::from("best").style(Style::new().fg(Color::Green)),
                // Significantly worse than the best: flagged.
                Some(_) => Cell::from(num(dm, 3)).style(match dm {
                    Some(p) if p < ALPHA => Style::new().fg(Color::Red),
                    _ => Style::new(),
                }),
            };
            Row::new([
                Cell::from(m.rank.to_string()),
                Cell::from(model),
                Cell::from(m.spec.distribution.clone()),
                Cell::from(num(m.mean_qlike, 3)),
                dm_cell,
                Cell::from(num(m.bic, 0)),
            ])
        })
        .collect();
    for f in &ranking.failed {
        let model = f.spec.model_name();
        if current(&model, &f.spec.distribution) {
            selected = Some(rows.len());
        }
        rows.push(
            Row::new([
                Cell::from("-"),
                Cell::from(model),
                Cell::from(f.spec.distribution.clone()),
                Cell::from("failed"),
            ])
            .style(Style::new().fg(Color::DarkGray)),
        );
    }
    // Twelve candidates and a header need 15 rows with both borders; at 80×24 the panel has
    // 14, so where the rows would not fit the bottom border goes (the block's sides still
    // frame the table) instead of the last model.
    let blk = if usize::from(area.height) < rows.len() + 3 {
        blk.borders(Borders::TOP | Borders::LEFT | Borders::RIGHT)
    } else {
        blk
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Min(5),
        ],
    )
    .header(header)
    .column_spacing(1)
    .row_highlight_style(
        Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    )
    .block(blk);
    // The model in use is highlighted and kept in view.
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::app::tests::{loaded_app, ok, report};
    use crate::app::{ApiResult, App, Dist, Key, Model, Service};
    use crate::client::{
        BacktestDay, Christoffersen, Computed, CoverageTest, DieboldMariano, FailedModel,
        MincerZarnowitz, ModelRanking, Pending, RankedModel, TrafficLight, WireSpec,
        WireVolatility, Zone,
    };
    use crate::ui::tests::{assert_shows, render};

    fn spec(model: &str, law: &str) -> WireSpec {
        let (kind, o) = match model {
            "gjr" => ("garch", 1),
            "egarch" => ("egarch", 1),
            _ => ("garch", 0),
        };
        WireSpec {
            volatility: WireVolatility {
                kind: kind.into(),
                p: 1,
                o,
                q: 1,
            },
            distribution: law.into(),
        }
    }

    fn test(p: f64, exceedances: usize, expected: f64) -> CoverageTest {
        CoverageTest {
            p_value: Some(p),
            exceedances,
            expected: Some(expected),
        }
    }

    /// 250 days of a wiggly path: every 25th day below the 5 % VaR, every 50th below the 1 %.
    fn backtest() -> crate::client::BacktestReport {
        let path = (0..250)
            .map(|i| {
                let ret = if i % 50 == 0 {
                    -4.0
                } else if i % 25 == 0 {
                    -2.0
                } else {
                    ((i as f64) * 0.7).sin()
                };
                BacktestDay {
                    date: format!("2024-{:02}-{:02}", 1 + i / 28, 1 + i % 28),
                    ret,
                    variance: Some(1.0),
                    var: BTreeMap::from([("0.01".into(), Some(-2.5)), ("0.05".into(), Some(-1.7))]),
                    exceedance: BTreeMap::from([
                        ("0.01".into(), i % 50 == 0),
                        ("0.05".into(), i % 25 == 0),
                    ]),
                }
            })
            .collect();
        crate::client::BacktestReport {
            path,
            kupiec: BTreeMap::from([
                ("0.01".into(), test(0.0123, 31, 15.2)),
                ("0.05".into(), test(0.4567, 80, 76.0)),
            ]),
            christoffersen: BTreeMap::from([
                (
                    "0.01".into(),
                    Christoffersen {
                        conditional_coverage: test(0.0345, 31, 15.2),
                    },
                ),
                (
                    "0.05".into(),
                    Christoffersen {
                        conditional_coverage: test(0.6789, 80, 76.0),
                    },
                ),
            ]),
            traffic_light: Some(TrafficLight {
                zone: Zone::Yellow,
                exceptions: 6,
                days: 250,
            }),
            qlike: Some(1.2345),
            mse: Some(6.5),
            mincer_zarnowitz: Some(MincerZarnowitz {
                a: Some(0.111),
                b: Some(0.888),
                r2: Some(0.077),
            }),
            ..report("AAA")
        }
    }

    fn ranking() -> ModelRanking {
        let mut models = Vec::new();
        for (i, (m, d)) in ["egarch", "gjr", "garch"]
            .iter()
            .flat_map(|m| ["t", "skewt", "ged", "normal"].map(|d| (*m, d)))
            .take(11)
            .enumerate()
        {
            models.push(RankedModel {
                rank: i + 1,
                spec: spec(m, d),
                mean_qlike: Some(1.0 + i as f64 * 0.01),
                dm_vs_best: (i > 0).then_some(DieboldMariano {
                    p_value: Some(0.5 / i as f64),
                }),
                bic: Some(5000.0 + i as f64),
            });
        }
        ModelRanking {
            symbol: "AAA".into(),
            days: 1520,
            models,
            failed: vec![FailedModel {
                spec: spec("garch", "normal"),
                error: "a window could not be estimated".into(),
            }],
        }
    }

    fn opened() -> App {
        let mut app = loaded_app();
        app.handle_key(Key::Char('3'));
        assert_eq!(app.risk.as_ref().unwrap().symbol, "AAA");
        app
    }

    fn with_data(model: Model, dist: Dist) -> App {
        let mut app = opened();
        app.model = model;
        app.dist = dist;
        app.risk
            .as_mut()
            .unwrap()
            .backtest
            .request(("AAA".into(), model, dist));
        app.apply(ApiResult::Backtest(
            ("AAA".into(), model, dist),
            ok(
                Service::Market,
                "/v1/assets/AAA/backtest",
                Computed::Ready(backtest()),
            ),
        ));
        app.apply(ApiResult::Ranking(
            "AAA".into(),
            ok(
                Service::Market,
                "/v1/assets/AAA/models",
                Computed::Ready(ranking()),
            ),
        ));
        app
    }

    #[test]
    fn coverage_traffic_light_losses_and_ranking_render_in_80x24_and_120x40() {
        let app = with_data(Model::Gjr, Dist::T);
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "AAA ret %: VaR 5%, 1%, hit 5%, 1%");
            assert_shows(&screen, "GJR(1,1,1) Student-t · daily refits");
            assert_shows(&screen, "VaR  exc/exp   Kupiec p  CC p");
            assert_shows(&screen, "1%   31/15.2   0.012     0.035");
            assert_shows(&screen, "5%   80/76.0   0.457     0.679");
            assert_shows(&screen, "Basel 1% 250d: YELLOW (6 exc.)");
            assert_shows(&screen, "QLIKE 1.234  MSE 6.50");
            assert_shows(&screen, "MZ a 0.111  b 0.888  R² 0.077");
            assert_shows(&screen, "Models (refit every 20, w 1000)");
            assert_shows(&screen, "#  model  law    QLIKE  DM p  BIC");
            assert_shows(&screen, "1  egarch t      1.000  best  5000");
            assert_shows(&screen, "5  gjr    t      1.040  0.125 5004");
            // Every candidate, the last one too (at 80×24 without the panel's bottom border).
            assert_shows(&screen, "11 garch  ged    1.100  0.050 5010");
            assert_shows(&screen, "-  garch  normal failed");
            // Axis ends are the path's dates.
            assert_shows(&screen, "2024-01-01");
        }
    }

    #[test]
    fn pass_and_fail_are_coloured_and_the_spec_in_use_is_highlighted() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use ratatui::style::Color;
        let app = with_data(Model::Gjr, Dist::T);
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| crate::ui::draw(f, &app)).unwrap();
        let buf = terminal.backend().buffer().clone();
        let find = |needle: &str| {
            (0..40u16)
                .find_map(|y| {
                    let line: String = (0..120u16).map(|x| buf[(x, y)].symbol()).collect();
                    line.find(needle).map(|i| {
                        // Byte offset → column (the screen is ASCII up to the needle here).
                        let col = line[..i].chars().count() as u16;
                        (col, y)
                    })
                })
                .unwrap_or_else(|| panic!("{needle} not on screen"))
        };
        // Kupiec at 1 % rejects (red), at 5 % passes (green).
        assert_eq!(buf[find("0.012")].fg, Color::Red);
        assert_eq!(buf[find("0.457")].fg, Color::Green);
        assert_eq!(buf[find("YELLOW")].fg, Color::Yellow);
        // GJR-t, the spec in use, is the highlighted ranking row.
        let (x, y) = find("5  gjr    t");
        assert_eq!(buf[(x, y)].bg, Color::Cyan);
        let (x, y) = find("1  egarch t");
        assert_ne!(buf[(x, y)].bg, Color::Cyan);
        // Exceedances are marked: 1 % days in light red blocks.
        let blocks = (0..40u16)
            .flat_map(|y| (0..60u16).map(move |x| (x, y)))
            .filter(|p| buf[*p].symbol() == "█" && buf[*p].fg == Color::LightRed)
            .count();
        assert!(blocks >= 3, "{blocks} marks of 1% exceedances");
    }

    #[test]
    fn computing_then_error_states() {
        let mut app = opened();
        app.apply(ApiResult::Backtest(
            ("AAA".into(), Model::Garch, Dist::Normal),
            ok(
                Service::Market,
                "/v1/assets/AAA/backtest",
                Computed::Pending(Pending {
                    detail: "the garch backtest of AAA is being computed".into(),
                    retry_after: 5,
                }),
            ),
        ));
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "computing backtest…");
            assert_shows(&screen, "asking again every 5s");
            assert_shows(&screen, "loading model ranking...");
        }
        app.apply(ApiResult::Ranking(
            "AAA".into(),
            crate::app::tests::err(
                Service::Market,
                "/v1/assets/AAA/models",
                crate::client::ApiError::Status {
                    status: 429,
                    title: "Too Many Requests".into(),
                    detail: Some("backtests busy".into()),
                },
            ),
        ));
        let screen = render(&app, 120, 40);
        assert_shows(
            &screen,
            "model ranking: HTTP 429 Too Many Requests: backtests busy",
        );
    }

    #[test]
    fn no_symbol_yet() {
        let mut app = crate::app::tests::new_app();
        app.handle_key(Key::Char('3'));
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "no symbol selected");
    }
}
