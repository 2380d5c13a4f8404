//! Small building blocks shared by the views: number formatting, state messages (loading,
//! error), a line chart with computed bounds, and the help overlay.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph, Wrap};

use crate::app::{App, Resource, Signal};

/// Spinner frames.
const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// The spinner character for the app's frame.
pub fn spinner(app: &App) -> &'static str {
    SPINNER[app.frame % SPINNER.len()]
}

/// Formats an optional number with `prec` decimals (`-` when missing or not finite).
pub fn num(v: Option<f64>, prec: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.prec$}"),
        _ => "-".to_string(),
    }
}

/// A number in a compact form that fits parameter tables (`1.23e-5` for tiny values).
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}

/// Colour of a signal: green long, red short.
pub fn signal_style(signal: Option<Signal>) -> Style {
    match signal {
        Some(Signal::Long) => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        Some(Signal::Short) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        _ => Style::new().fg(Color::DarkGray),
    }
}

/// A bordered block with a title.
pub fn block(title: impl Into<Line<'static>>) -> Block<'static> {
    Block::bordered()
        .title(title)
        .border_style(Style::new().fg(Color::DarkGray))
        .title_style(Style::new().fg(Color::White).add_modifier(Modifier::BOLD))
}

/// Style of error text.
pub fn error_style() -> Style {
    Style::new().fg(Color::Red)
}

/// Style of warnings (not ready, stale data).
pub fn warn_style() -> Style {
    Style::new().fg(Color::Yellow)
}

/// Renders a resource's placeholder inside `block` when it has no data: the loading state or
/// the error with the retry note. Returns true if it rendered something (no data to show).
pub fn placeholder<K, T>(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    res: &Resource<K, T>,
    what: &str,
    app: &App,
) -> bool {
    if res.data.is_some() {
        return false;
    }
    let lines = if let Some(e) = &res.error {
        vec![
            Line::styled(format!("{what}: {e}"), error_style()),
            Line::styled(
                format!(
                    "retrying every {}s (r to retry now)",
                    app.refresh_every.as_secs()
                ),
                Style::new().fg(Color::DarkGray),
            ),
        ]
    } else if res.loading {
        vec![Line::styled(
            format!("{} loading {what}...", spinner(app)),
            warn_style(),
        )]
    } else {
        vec![Line::styled(
            format!("no {what} yet"),
            Style::new().fg(Color::DarkGray),
        )]
    };
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
    true
}

/// A series for [`line_chart`].
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: Color,
}

impl Series {
    /// A series from optional values indexed by position (gaps skipped).
    pub fn indexed(name: &str, values: &[Option<f64>], color: Color) -> Self {
        Self {
            name: name.to_string(),
            points: values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.filter(|x| x.is_finite()).map(|y| (i as f64, y)))
                .collect(),
            color,
        }
    }
}

/// Computes `[lo, hi]` of the values, padded by 5% and never empty.
pub fn bounds(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some([lo - pad, hi + pad])
}

/// Renders a line chart with explicit bounds (ratatui's `Chart` needs them): x from the data,
/// y from the data unless `y_bounds` is given; `x_labels` label the ends of the x axis (none
/// when both are empty).
pub fn line_chart(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    series: &[Series],
    x_labels: [String; 2],
    y_bounds: Option<[f64; 2]>,
    y_prec: usize,
) {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let Some(mut xb) = bounds(xs) else {
        frame.render_widget(
            Paragraph::new(Line::styled("no data", Style::new().fg(Color::DarkGray))).block(block),
            area,
        );
        return;
    };
    // The x axis runs exactly over the data when there is a range.
    let (xmin, xmax) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if xmax > xmin {
        xb = [xmin, xmax];
    }
    let yb = y_bounds
        .or_else(|| bounds(series.iter().flat_map(|s| s.points.iter().map(|p| p.1))))
        .unwrap_or([0.0, 1.0]);
    let datasets: Vec<Dataset> = series
        .iter()
        .map(|s| {
            Dataset::default()
                .name(s.name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(s.color))
                .data(&s.points)
        })
        .collect();
    let label_style = Style::new().fg(Color::DarkGray);
    let mid = (yb[0] + yb[1]) / 2.0;
    // Enough decimals that the three labels differ on a narrow range.
    let y_prec = y_prec.max(decimals_for(yb[1] - yb[0]));
    let y_labels: Vec<Span> = [yb[0], mid, yb[1]]
        .iter()
        .map(|v| Span::styled(format!("{v:.y_prec$}"), label_style))
        .collect();
    let [x0, x1] = x_labels;
    let mut x_axis = Axis::default().bounds(xb).style(label_style);
    if !(x0.is_empty() && x1.is_empty()) {
        x_axis = x_axis.labels([Span::styled(x0, label_style), Span::styled(x1, label_style)]);
    }
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(x_axis)
        .y_axis(
            Axis::default()
                .bounds(yb)
                .labels(y_labels)
                .style(label_style),
        )
        // The legend would cover the lines in small panes; titles name the series instead.
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// Decimals needed to tell apart values `range / 2` apart (0 to 4).
pub fn decimals_for(range: f64) -> usize {
    if !(range.is_finite() && range > 0.0) {
        return 0;
    }
    (-(range / 2.0).log10()).ceil().clamp(0.0, 4.0) as usize
}

/// A chart title naming its series in their colours: ` title: a, b `.
pub fn legend_title(title: &str, series: &[(&str, Color)]) -> Line<'static> {
    let mut spans = vec![Span::raw(format!(" {title}: "))];
    for (i, (name, color)) in series.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(", "));
        }
        spans.push(Span::styled(name.to_string(), Style::new().fg(*color)));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// `2024-01-02T15:55:00Z` → `01-02 15:55`; other text is returned shortened.
pub fn short_timestamp(ts: &str) -> String {
    if ts.len() >= 16 && ts.as_bytes().get(10) == Some(&b'T') {
        format!("{} {}", &ts[5..10], &ts[11..16])
    } else {
        ts.chars().take(16).collect()
    }
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The key help, as (keys, what) pairs.
pub const HELP: [(&str, &str); 16] = [
    ("Tab / Shift-Tab, 1-5", "next / previous view, jump to view"),
    ("Up/Down, j/k", "move (screener rows, detail/risk symbol)"),
    (
        "Left/Right, h/l",
        "sort column (screener), symbol (detail/risk)",
    ),
    ("PgUp/PgDn, g/G", "page, first / last row"),
    ("Enter", "open detail (screener), run (benchmark)"),
    ("Backspace", "back to the screener (detail, risk)"),
    ("s / S", "cycle sort column / reverse order"),
    ("/", "filter symbols (Enter keep, Esc clear)"),
    ("m", "model: GARCH, GJR, EGARCH (also the risk backtest)"),
    ("d", "distribution: normal, Student-t, skew-t, GED"),
    ("+ / -", "forecast horizon 1,5,10,21,63,126,252 d"),
    ("b", "run the refit benchmark"),
    ("B", "run the universe backtest benchmark (3 modes)"),
    ("r", "refresh now (and retry)"),
    ("?", "this help (any key closes)"),
    ("q / Esc / Ctrl-C", "quit (Esc first clears a filter)"),
];

/// Renders the help overlay over `area`.
pub fn help_overlay(frame: &mut Frame, area: Rect) {
    let rect = centered(area, 74, HELP.len() as u16 + 4);
    let key_style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<22}"), key_style),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::styled(
        "Data refreshes periodically; a down service is retried.",
        Style::new().fg(Color::DarkGray),
    ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(" Help - keys ").title_alignment(Alignment::Center))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// Splits `area` into a fixed-height top part and the rest.
pub fn split_top(area: Rect, top: u16) -> (Rect, Rect) {
    let [a, b] = Layout::vertical([Constraint::Length(top), Constraint::Min(0)]).areas(area);
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(num(Some(1.2345), 2), "1.23");
        assert_eq!(num(None, 2), "-");
        assert_eq!(num(Some(f64::NAN), 2), "-");
        assert_eq!(compact(0.00001234), "1.23e-5");
        assert_eq!(compact(0.9), "0.9000");
        assert_eq!(short_timestamp("2024-01-02T15:55:00Z"), "01-02 15:55");
        assert_eq!(short_timestamp("2024-01-02"), "2024-01-02");
    }

    #[test]
    fn bounds_pad_and_handle_flat_or_empty_data() {
        assert_eq!(bounds([1.0, 3.0].into_iter()), Some([0.9, 3.1]));
        let b = bounds([2.0, 2.0].into_iter()).unwrap();
        assert!(b[0] < 2.0 && b[1] > 2.0);
        assert_eq!(bounds(std::iter::empty()), None);
        assert_eq!(bounds([f64::NAN].into_iter()), None);
    }

    #[test]
    fn axis_decimals_follow_the_range() {
        assert_eq!(decimals_for(50.0), 0);
        assert_eq!(decimals_for(1.0), 1);
        assert_eq!(decimals_for(0.1), 2);
        assert_eq!(decimals_for(0.0), 0);
        assert_eq!(decimals_for(1e-9), 4);
    }

    #[test]
    fn centered_fits_inside() {
        let r = centered(Rect::new(0, 0, 80, 24), 100, 10);
        assert_eq!(r, Rect::new(0, 7, 80, 10));
    }
}
