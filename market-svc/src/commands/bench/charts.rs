//! Benchmark charts with plotters, as SVG and PNG: time vs threads, speedup vs ideal,
//! distributed scaling.
//!
//! Text is rendered with ab_glyph from a TrueType font read at run time (`--font`, else
//! DejaVu Sans or Liberation Sans from the usual system paths), which keeps the build free
//! of fontconfig/freetype. Without a font no chart can carry text, so charts are skipped
//! with a note.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::report::ModeRow;

const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
];

/// Why the charts were not drawn (the bench then notes it and goes on).
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// No font file was found, so text cannot be drawn.
    #[error("no TrueType font found (pass --font FILE.ttf); charts skipped")]
    NoFont,
    /// The font file could not be used.
    #[error("{0} is not a usable font")]
    UnusableFont(PathBuf),
    /// Drawing or writing a chart file failed.
    #[error("{file}: {message}")]
    Draw {
        /// The chart file.
        file: PathBuf,
        /// What plotters reported.
        message: String,
    },
}

/// Registers a font for the charts' text. Returns the file used, or why none could be.
pub fn register_font(explicit: Option<&Path>) -> Result<PathBuf, ChartError> {
    let candidates: Vec<PathBuf> = explicit
        .map(|p| vec![p.to_path_buf()])
        .unwrap_or_else(|| FONT_CANDIDATES.iter().map(PathBuf::from).collect());
    for path in candidates {
        if let Ok(bytes) = std::fs::read(&path) {
            // plotters keeps fonts for the whole process; the bench registers one, once.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            for style in [FontStyle::Normal, FontStyle::Bold] {
                plotters::style::register_font("sans-serif", style, bytes)
                    .map_err(|_| ChartError::UnusableFont(path.clone()))?;
            }
            return Ok(path);
        }
    }
    Err(ChartError::NoFont)
}

type DynErr = Box<dyn std::error::Error>;

struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64, f64, f64)>, // x, y, y_min, y_max
    dashed: bool,
}

fn line_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.3));
    let x_max = xs.fold(1.0f64, f64::max);
    let y_max = ys.fold(0.0f64, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5f64..x_max + 0.5, 0f64..y_max.max(1e-9))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels((x_max as usize + 1).min(16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 14))
        .draw()?;
    for s in series {
        let color = s.color;
        let style = ShapeStyle::from(color).stroke_width(2);
        let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, p.1)).collect();
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(line, 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(line, style))?
        };
        drawn.label(&s.label).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
        });
        chart.draw_series(
            s.points
                .iter()
                .map(|&(x, y, _, _)| Circle::new((x, y), 4, color.filled())),
        )?;
        chart.draw_series(
            s.points
                .iter()
                .filter(|p| p.3 > p.2)
                .map(|&(x, _, lo, hi)| {
                    ErrorBar::new_vertical(x, lo, (lo + hi) / 2.0, hi, color.stroke_width(1), 8)
                }),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// [`register_font`] (`font`, else the system's) and [`draw_all`]: the files written; what
/// failed goes into `notes` (a bench without charts is still a bench).
pub fn draw_noting(
    font: Option<&Path>,
    dir: &Path,
    rows: &[ModeRow],
    title: &str,
    notes: &mut Vec<String>,
) -> Vec<PathBuf> {
    match register_font(font).map(|_| draw_all(dir, rows, title)) {
        Ok(Ok(files)) => files,
        Ok(Err(e)) => {
            notes.push(format!("charts failed: {e}"));
            Vec::new()
        }
        Err(e) => {
            notes.push(e.to_string());
            Vec::new()
        }
    }
}

/// Draws every chart into `dir` as `<name>.svg` and `<name>.png`; returns the files written.
pub fn draw_all(dir: &Path, rows: &[ModeRow], workload: &str) -> Result<Vec<PathBuf>, ChartError> {
    let seq = rows.iter().find(|r| r.mode == "sequential");
    let par: Vec<&ModeRow> = rows.iter().filter(|r| r.mode == "parallel").collect();
    let dist: Vec<&ModeRow> = rows.iter().filter(|r| r.mode == "distributed").collect();
    let pts = |rs: &[&ModeRow]| -> Vec<(f64, f64, f64, f64)> {
        rs.iter()
            .map(|r| {
                (
                    r.resources as f64,
                    r.timing.median,
                    r.timing.min,
                    r.timing.max,
                )
            })
            .collect()
    };
    let max_res = rows.iter().map(|r| r.resources).max().unwrap_or(1).max(1) as f64;
    let mut charts: Vec<(&str, String, &str, &str, Vec<Series>)> = Vec::new();

    let mut time_series = Vec::new();
    if let Some(s) = seq {
        time_series.push(Series {
            label: "sequential".into(),
            color: BLACK,
            points: vec![
                (1.0, s.timing.median, s.timing.median, s.timing.median),
                (max_res, s.timing.median, s.timing.median, s.timing.median),
            ],
            dashed: true,
        });
    }
    if !par.is_empty() {
        time_series.push(Series {
            label: "parallel (rayon threads)".into(),
            color: BLUE,
            points: pts(&par),
            dashed: false,
        });
    }
    charts.push((
        "time_vs_threads",
        format!("Fit time vs threads — {workload}"),
        "threads",
        "median wall time (s), bars = min..max",
        time_series,
    ));

    let speed = |rs: &[&ModeRow]| -> Vec<(f64, f64, f64, f64)> {
        rs.iter()
            .map(|r| (r.resources as f64, r.speedup, r.speedup, r.speedup))
            .collect()
    };
    let mut speed_series = vec![Series {
        label: "ideal".into(),
        color: RGBColor(150, 150, 150),
        points: vec![(1.0, 1.0, 1.0, 1.0), (max_res, max_res, max_res, max_res)],
        dashed: true,
    }];
    if !par.is_empty() {
        speed_series.push(Series {
            label: "parallel (threads)".into(),
            color: BLUE,
            points: speed(&par),
            dashed: false,
        });
    }
    if !dist.is_empty() {
        speed_series.push(Series {
            label: "distributed (workers)".into(),
            color: RED,
            points: speed(&dist),
            dashed: false,
        });
    }
    charts.push((
        "speedup",
        format!("Speedup vs sequential — {workload}"),
        "threads / workers",
        "speedup (sequential median / median)",
        speed_series,
    ));

    if !dist.is_empty() {
        let mut s = vec![Series {
            label: "distributed (1-thread workers)".into(),
            color: RED,
            points: pts(&dist),
            dashed: false,
        }];
        if !par.is_empty() {
            s.push(Series {
                label: "parallel (same number of threads)".into(),
                color: BLUE,
                points: pts(&par),
                dashed: false,
            });
        }
        if let Some(q) = seq {
            s.push(Series {
                label: "sequential".into(),
                color: BLACK,
                points: vec![
                    (1.0, q.timing.median, q.timing.median, q.timing.median),
                    (max_res, q.timing.median, q.timing.median, q.timing.median),
                ],
                dashed: true,
            });
        }
        charts.push((
            "distributed_scaling",
            format!("Distributed scaling over NATS — {workload}"),
            "worker processes",
            "median wall time (s), bars = min..max",
            s,
        ));
    }

    let mut written = Vec::new();
    for (stem, title, xl, yl, series) in &charts {
        let svg = dir.join(format!("{stem}.svg"));
        line_chart(
            SVGBackend::new(&svg, (900, 560)).into_drawing_area(),
            title,
            xl,
            yl,
            series,
        )
        .map_err(|e| ChartError::Draw {
            file: svg.clone(),
            message: e.to_string(),
        })?;
        written.push(svg);
        let png = dir.join(format!("{stem}.png"));
        line_chart(
            BitMapBackend::new(&png, (900, 560)).into_drawing_area(),
            title,
            xl,
            yl,
            series,
        )
        .map_err(|e| ChartError::Draw {
            file: png.clone(),
            message: e.to_string(),
        })?;
        written.push(png);
    }
    Ok(written)
}
