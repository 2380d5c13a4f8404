//! Symbol detail: price with Bollinger bands, RSI with its 30/70 lines, conditional volatility
//! with realized volatility overlaid, the forecast path, and the fit table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, Wrap};

use super::widgets::{
    Series, block, compact, error_style, legend_title, line_chart, num, placeholder,
    short_timestamp, signal_style, warn_style,
};
use crate::app::{App, Detail, INTERVAL, Signal};

/// √252: daily percent volatility → annualised percent.
const ANNUALISE: f64 = 15.874_507_866_387_544;

/// Renders the detail view.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let Some(d) = app.detail.as_ref() else {
        frame.render_widget(
            Paragraph::new(vec![
                Line::styled("no symbol selected", warn_style()),
                Line::raw("choose one on the screener (Tab to it, j/k, Enter)"),
            ])
            .block(block(" Detail ")),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let [price, rsi, vol] = Layout::vertical([
        Constraint::Percentage(36),
        Constraint::Percentage(30),
        Constraint::Percentage(34),
    ])
    .areas(left);
    let [summary, forecast, fit] = Layout::vertical([
        Constraint::Length(if right.height >= 30 { 5 } else { 4 }),
        Constraint::Percentage(30),
        Constraint::Min(6),
    ])
    .areas(right);
    render_summary(frame, summary, app, d);
    render_price(frame, price, app, d);
    render_rsi(frame, rsi, app, d);
    render_vol(frame, vol, app, d);
    render_forecast(frame, forecast, app, d);
    render_fit(frame, fit, app, d);
}

fn render_summary(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let mut title = vec![Span::styled(
        d.symbol.clone(),
        Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
    )];
    let mut lines = Vec::new();
    if let Some(f) = &d.fit.data {
        let h = f.forecast.steps.last();
        lines.push(Line::raw(format!(
            "{}d vol {}%  long-run {}%",
            h.map_or(app.horizon, |s| s.horizon),
            num(h.map(|s| s.annualized_volatility), 1),
            num(f.report.annualized_volatility, 1),
        )));
    }
    if let Some(s) = &d.signals.data {
        let sig = s.latest.signal.as_deref().and_then(Signal::parse);
        title.push(Span::raw(format!(" {} ", num(s.latest.close, 2))));
        title.push(Span::styled(
            sig.map_or("-", |s| s.as_str()).to_string(),
            signal_style(sig),
        ));
        lines.push(Line::raw(format!(
            "RSI {}  %B {}  at {}",
            num(s.latest.rsi, 1),
            num(s.latest.percent_b, 2),
            short_timestamp(&s.latest.timestamp)
        )));
        if !s.latest.reasons.is_empty() {
            lines.push(Line::styled(
                s.latest.reasons.join("; "),
                Style::new().fg(Color::DarkGray),
            ));
        }
    }
    if let Some(through) = d.fit.data.as_ref().and_then(|f| f.data_through.as_ref()) {
        lines.push(Line::styled(
            format!("daily data to {through}"),
            Style::new().fg(Color::DarkGray),
        ));
    }
    if lines.is_empty() {
        lines.push(Line::styled("loading...", warn_style()));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(Line::from(title))),
        area,
    );
}

fn render_price(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let blk = block(legend_title(
        &format!("Price {INTERVAL}"),
        &[
            ("close", Color::White),
            ("BB(20,2)", Color::DarkGray),
            ("mid", Color::Yellow),
        ],
    ));
    if placeholder(frame, area, blk.clone(), &d.signals, "signals-svc", app) {
        return;
    }
    let Some(s) = &d.signals.data else { return };
    let p = &s.points;
    let series = [
        Series::indexed("upper", &p.bb_upper, Color::DarkGray),
        Series::indexed("lower", &p.bb_lower, Color::DarkGray),
        Series::indexed("mid", &p.bb_middle, Color::Yellow),
        Series::indexed("close", &p.close, Color::White),
    ];
    line_chart(
        frame,
        area,
        blk,
        &series,
        ends(&p.timestamps, true),
        None,
        2,
    );
}

fn render_rsi(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let blk = block(legend_title(
        "RSI(14)",
        &[
            ("RSI", Color::Magenta),
            ("70", Color::Red),
            ("30", Color::Green),
        ],
    ));
    if placeholder(frame, area, blk.clone(), &d.signals, "signals-svc", app) {
        return;
    }
    let Some(s) = &d.signals.data else { return };
    let rsi = Series::indexed("RSI", &s.points.rsi, Color::Magenta);
    let n = s.points.rsi.len().max(1) as f64 - 1.0;
    let line = |name: &str, y: f64, color| Series {
        name: name.into(),
        points: vec![(0.0, y), (n, y)],
        color,
    };
    let series = [
        line("70", 70.0, Color::Red),
        line("30", 30.0, Color::Green),
        rsi,
    ];
    line_chart(
        frame,
        area,
        blk,
        &series,
        // Same time axis as the price chart above: no labels, one more row for the line.
        [String::new(), String::new()],
        Some([0.0, 100.0]),
        0,
    );
}

fn render_vol(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let blk = block(legend_title(
        "Vol % ann.",
        &[("conditional", Color::Cyan), ("realized", Color::Yellow)],
    ));
    if placeholder(
        frame,
        area,
        blk.clone(),
        &d.history,
        "volatility history",
        app,
    ) {
        return;
    }
    let Some(h) = &d.history.data else { return };
    let cond: Vec<Option<f64>> = h
        .conditional_volatility
        .iter()
        .map(|v| Some(v * ANNUALISE))
        .collect();
    let realized: Vec<Option<f64>> = h
        .realized_volatility
        .iter()
        .map(|v| v.map(|x| x * ANNUALISE))
        .collect();
    let series = [
        Series::indexed("realized", &realized, Color::Yellow),
        Series::indexed("conditional", &cond, Color::Cyan),
    ];
    line_chart(frame, area, blk, &series, ends(&h.dates, false), None, 1);
}

fn render_forecast(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    // Daily percent: the volatility path σ_h and, when the service sent them, the 5 %–95 %
    // return quantiles as a band around the mean.
    let blk = block(legend_title(
        &format!("Forecast {}d", app.horizon),
        &[
            ("σ", Color::Cyan),
            ("long-run", Color::DarkGray),
            ("5-95%", Color::Magenta),
        ],
    ));
    if placeholder(frame, area, blk.clone(), &d.fit, "fit", app) {
        return;
    }
    let Some(f) = &d.fit.data else { return };
    let daily = |annual: f64| annual / 252f64.sqrt();
    let path = Series {
        name: "σ".into(),
        points: f
            .forecast
            .steps
            .iter()
            .map(|s| (s.horizon as f64, daily(s.annualized_volatility)))
            .collect(),
        color: Color::Cyan,
    };
    let mut series = vec![path];
    if let Some(lr) = f.report.annualized_volatility.filter(|v| v.is_finite()) {
        let last = f.forecast.steps.last().map_or(1.0, |s| s.horizon as f64);
        series.insert(
            0,
            Series {
                name: "long-run".into(),
                points: vec![(1.0, daily(lr)), (last.max(1.0), daily(lr))],
                color: Color::DarkGray,
            },
        );
    }
    if let Some(iv) = &f.intervals {
        for (i, name) in ["5%", "95%"].into_iter().enumerate() {
            let points: Vec<(f64, f64)> = iv
                .steps
                .iter()
                .filter_map(|s| s.quantiles.get(i).map(|q| (s.horizon as f64, q.value)))
                .filter(|p| p.1.is_finite())
                .collect();
            if !points.is_empty() {
                series.push(Series {
                    name: name.into(),
                    points,
                    color: Color::Magenta,
                });
            }
        }
    }
    let last = f.forecast.steps.last().map_or(1, |s| s.horizon);
    line_chart(
        frame,
        area,
        blk,
        &series,
        ["1d".into(), format!("{last}d")],
        None,
        2,
    );
}

fn render_fit(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let title = format!(" Fit: {} {} ", app.model.label(), app.dist.label());
    let blk = block(title);
    if placeholder(frame, area, blk.clone(), &d.fit, "fit", app) {
        return;
    }
    let Some(f) = &d.fit.data else { return };
    let r = &f.report;
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    let conv = if r.converged {
        Span::styled(
            format!("converged ({} it)", r.iterations),
            Style::new().fg(Color::Green),
        )
    } else {
        Span::styled(format!("NOT converged: {}", r.status), error_style())
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw(format!("LL {:.2}  ", r.log_likelihood)),
            conv,
        ]),
        Line::raw(format!(
            "persist {}  half-life {}d",
            num(r.persistence, 4),
            num(r.half_life_days, 1),
        )),
    ];
    if inner.height >= 12 {
        lines.push(Line::raw(format!(
            "AIC {}  BIC {}  n={}",
            num(r.aic, 1),
            num(r.bic, 1),
            r.nobs
        )));
    }
    if !r.at_bounds.is_empty() {
        lines.push(Line::styled(
            format!("at bounds: {}", r.at_bounds.join(", ")),
            warn_style(),
        ));
    }
    let [text, table] =
        Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    let header = TableRow::new(["param", "value", "± s.e.", "p"])
        .style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    let rows: Vec<TableRow> = r
        .params
        .iter()
        .map(|p| {
            let signif = p.p_value.is_some_and(|v| v < 0.05);
            TableRow::new([
                Cell::from(p.name.clone()),
                Cell::from(compact(p.value)),
                Cell::from(p.std_err.map_or("-".into(), compact)),
                Cell::from(num(p.p_value, 3)).style(if signif {
                    Style::new()
                } else {
                    warn_style()
                }),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Min(5),
            ],
        )
        .header(header),
        table,
    );
}

/// First and last label of an axis (timestamps shortened).
fn ends(labels: &[String], timestamps: bool) -> [String; 2] {
    let f = |s: Option<&String>| {
        s.map_or(String::new(), |s| {
            if timestamps {
                short_timestamp(s)
            } else {
                s.clone()
            }
        })
    };
    [f(labels.first()), f(labels.last())]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::tests::{loaded_app, ok};
    use crate::app::{ApiResult, Dist, Key, Model, Service, View};
    use crate::client::{
        Call, ForecastPath, ForecastStep, History, IntervalStep, Intervals, LatestSignal, Param,
        Quantile, Report, SignalPoints, SymbolSignals, VolDetail,
    };
    use crate::ui::tests::{assert_shows, render};

    fn detail() -> VolDetail {
        VolDetail {
            symbol: Some("AAA".into()),
            data_through: Some("2024-12-31".into()),
            fit_seconds: Some(0.012),
            report: Report {
                params: vec![
                    Param {
                        name: "mu".into(),
                        value: 0.05,
                        std_err: Some(0.01),
                        p_value: Some(0.0001),
                    },
                    Param {
                        name: "omega".into(),
                        value: 0.00002,
                        std_err: Some(0.00001),
                        p_value: Some(0.04),
                    },
                    Param {
                        name: "alpha".into(),
                        value: 0.08,
                        std_err: Some(0.02),
                        p_value: Some(0.0),
                    },
                    Param {
                        name: "gamma".into(),
                        value: 0.01,
                        std_err: Some(0.02),
                        p_value: Some(0.6),
                    },
                    Param {
                        name: "beta".into(),
                        value: 0.9,
                        std_err: Some(0.03),
                        p_value: Some(0.0),
                    },
                    Param {
                        name: "nu".into(),
                        value: 7.25,
                        std_err: Some(1.5),
                        p_value: Some(0.0),
                    },
                ],
                log_likelihood: -1234.5678,
                aic: Some(2477.1),
                bic: Some(2500.2),
                nobs: 2519,
                converged: true,
                iterations: 17,
                status: "converged".into(),
                at_bounds: vec![],
                persistence: Some(0.98),
                half_life_days: Some(34.3),
                annualized_volatility: Some(18.2),
            },
            forecast: ForecastPath {
                steps: (1..=10)
                    .map(|h| ForecastStep {
                        horizon: h,
                        annualized_volatility: 25.0 - h as f64 * 0.5,
                    })
                    .collect(),
            },
            intervals: Some(Intervals {
                steps: (1..=10)
                    .map(|h| IntervalStep {
                        horizon: h,
                        quantiles: vec![
                            Quantile {
                                level: 0.05,
                                value: -2.0 - 0.1 * h as f64,
                            },
                            Quantile {
                                level: 0.95,
                                value: 2.0 + 0.1 * h as f64,
                            },
                        ],
                    })
                    .collect(),
            }),
        }
    }

    fn history() -> History {
        History {
            dates: (0..50)
                .map(|i| format!("2024-10-{:02}", i % 28 + 1))
                .collect(),
            conditional_volatility: (0..50)
                .map(|i| 1.0 + (i as f64 / 10.0).sin() * 0.2)
                .collect(),
            realized_volatility: (0..50)
                .map(|i| (i % 3 != 0).then_some(1.1 + (i as f64 / 7.0).cos() * 0.3))
                .collect(),
        }
    }

    fn signals() -> SymbolSignals {
        let n = 60;
        let close: Vec<Option<f64>> = (0..n)
            .map(|i| Some(100.0 + (i as f64 / 5.0).sin() * 2.0))
            .collect();
        let band = |k: f64| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| (i >= 19).then_some(100.0 + k * 2.5))
                .collect()
        };
        SymbolSignals {
            latest: LatestSignal {
                timestamp: "2024-12-31T15:55:00Z".into(),
                close: Some(101.25),
                rsi: Some(28.4),
                percent_b: Some(-0.05),
                signal: Some("long".into()),
                reasons: vec!["close below lower band".into(), "RSI < 30".into()],
            },
            points: SignalPoints {
                timestamps: (0..n)
                    .map(|i| format!("2024-12-31T{:02}:00:00Z", i % 24))
                    .collect(),
                close,
                rsi: (0..n)
                    .map(|i| (i >= 14).then_some(50.0 + (i as f64 / 4.0).sin() * 25.0))
                    .collect(),
                bb_upper: band(1.0),
                bb_middle: band(0.0),
                bb_lower: band(-1.0),
            },
        }
    }

    fn opened() -> App {
        let mut app = loaded_app();
        app.handle_key(Key::Enter);
        assert_eq!(app.view, View::Detail);
        app
    }

    fn with_data() -> App {
        let mut app = opened();
        app.apply(ApiResult::Detail(
            ("AAA".into(), Model::Garch, Dist::Normal, 10),
            ok(Service::Market, "/v1/assets/AAA/volatility", detail()),
        ));
        app.apply(ApiResult::History(
            ("AAA".into(), Model::Garch, Dist::Normal),
            ok(Service::Market, "/v1/assets/AAA/history", history()),
        ));
        app.apply(ApiResult::SymbolSignals(
            "AAA".into(),
            ok(Service::Signals, "/v1/assets/AAA/signals", signals()),
        ));
        app
    }

    #[test]
    fn all_panes_render_in_80x24_and_120x40() {
        let app = with_data();
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "AAA 101.25 long");
            assert_shows(&screen, "Price 5m: close, BB(20,2), mid");
            assert_shows(&screen, "RSI(14): RSI, 70, 30");
            assert_shows(&screen, "Vol % ann.: conditional, realized");
            assert_shows(&screen, "Forecast 10d: σ, long-run, 5-95%");
            assert_shows(&screen, "Fit: GARCH(1,1) normal");
            assert_shows(&screen, "LL -1234.57");
            assert_shows(&screen, "converged (17 it)");
            assert_shows(&screen, "omega");
            assert_shows(&screen, "2.00e-5");
            assert_shows(&screen, "beta");
            assert_shows(&screen, "0.9000");
            // The last of six parameters (GJR-t) still fits at 80x24.
            assert_shows(&screen, "nu     7.2500    1.5000");
            assert_shows(&screen, "10d vol 20.0%  long-run 18.2%");
            assert_shows(&screen, "RSI 28.4  %B -0.05");
            // Chart axes carry the data's ends.
            assert_shows(&screen, "1d");
            assert_shows(&screen, "10d");
        }
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "AIC 2477.1");
        assert_shows(&screen, "close below lower band; RSI < 30");
    }

    #[test]
    fn loading_state_per_pane() {
        let app = opened();
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "loading signals-svc...");
        assert_shows(&screen, "loading fit...");
    }

    #[test]
    fn signals_error_state_leaves_the_market_panes() {
        let mut app = with_data();
        // A refresh of the signals fails: no stale data is kept for a never-loaded pane.
        app.detail.as_mut().unwrap().signals = Default::default();
        let d = app.detail.as_mut().unwrap();
        d.signals.request("AAA".into());
        d.signals.resolve(
            &"AAA".to_string(),
            Err(crate::client::ApiError::Unavailable(
                "signals-svc not available in this build".into(),
            )),
        );
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render(&app, w, h);
            assert_shows(&screen, "signals-svc: signals-svc not");
            assert_shows(&screen, "retrying every 5s");
            assert_shows(&screen, "converged (17 it)");
        }
    }

    #[test]
    fn market_error_state() {
        let mut app = opened();
        app.apply(ApiResult::Detail(
            ("AAA".into(), Model::Garch, Dist::Normal, 10),
            Call {
                service: Service::Market,
                path: "/v1/assets/AAA/volatility".into(),
                latency: Duration::ZERO,
                result: Err(crate::client::ApiError::Status {
                    status: 404,
                    title: "Not Found".into(),
                    detail: Some("unknown symbol 'AAA'".into()),
                }),
            },
        ));
        let screen = render(&app, 120, 40);
        assert_shows(&screen, "fit: HTTP 404 Not Found: unknown symbol 'AAA'");
    }

    #[test]
    fn no_symbol_yet() {
        let mut app = crate::app::tests::new_app();
        app.handle_key(Key::Tab);
        let screen = render(&app, 80, 24);
        assert_shows(&screen, "no symbol selected");
    }
}
