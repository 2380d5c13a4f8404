//! `market-svc fit`: fit one series from a CSV file and print the report and forecast.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use garch_core::{
    Distribution, FitOptions, FitReport, Forecast, ForecastIntervals, ForecastOptions, MeanModel,
    ModelSpec, VolatilityModel, fit,
};
use serde::Serialize;

use market_data::load_daily;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// JSON (the same shape the service returns).
    Json,
}

/// Arguments of `market-svc fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// CSV file (Parquet with the `parquet` feature): `date,close` (or `adj_close`), or long
    /// format with a `symbol` column.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Symbol to fit when the file holds several.
    #[arg(long, short)]
    pub symbol: Option<String>,
    /// Volatility model: garch, gjr or egarch.
    #[arg(long, default_value = "garch")]
    pub model: VolatilityModel,
    /// Error distribution: normal, t, skewt (Hansen's skewed t) or ged.
    #[arg(long, default_value = "normal")]
    pub dist: Distribution,
    /// Mean: constant, zero or ar (an AR(p) mean as arch's ARX; give --lags).
    #[arg(long, default_value = "constant", value_parser = ["constant", "zero", "ar"], ignore_case = true)]
    pub mean: String,
    /// AR order p of `--mean ar`, 1–10 (only with `--mean ar`).
    #[arg(long)]
    pub lags: Option<usize>,
    /// Forecast horizon in days (1–1000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub horizon: u16,
    /// Forecast intervals: quantile levels of the returns, each in (0, 1), comma-separated
    /// (e.g. `0.05,0.95`); at most 16. Exact at one day, simulated beyond.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub intervals: Vec<f64>,
    /// Seed of the interval simulation.
    #[arg(long, default_value_t = ForecastOptions::default().seed)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What `fit` prints as JSON.
#[derive(Debug, Serialize)]
pub struct FitOutput {
    /// Symbol (the file name for a single-series file).
    pub symbol: String,
    /// First date of the price series.
    pub first_date: String,
    /// Last date used: the forecast starts the day after.
    pub data_through: String,
    /// The fit.
    pub report: FitReport,
    /// Variance forecast.
    pub forecast: Forecast,
    /// Return quantiles per horizon, when `--intervals` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intervals: Option<ForecastIntervals>,
}

/// Runs the command, writing to `out`.
pub fn run(args: &FitArgs, out: &mut impl Write) -> anyhow::Result<()> {
    // The mean first: a bad --lags stops before any file is read.
    let mean = MeanModel::from_name_and_lags(&args.mean, args.lags)
        .map_err(|e| anyhow::anyhow!("--lags: {e}"))?;
    let data = load_daily(&args.input)?;
    for warning in &data.warnings {
        eprintln!("market-svc: note: {warning}");
    }
    let file = args.input.display();
    let symbols = || {
        let names: Vec<&str> = data.symbols().take(8).collect();
        let more = data.series.len().saturating_sub(names.len());
        if more > 0 {
            format!("{}, … {more} more", names.join(", "))
        } else {
            names.join(", ")
        }
    };
    let series = match (&args.symbol, data.series.len()) {
        (Some(want), _) => data
            .get(want)
            .ok_or_else(|| anyhow::anyhow!("{file}: symbol '{want}' not found ({})", symbols()))?,
        (None, 1) => &data.series[0],
        (None, n) => anyhow::bail!(
            "{file}: {n} symbols in the file; choose one with --symbol ({})",
            symbols()
        ),
    };
    let returns = series
        .returns()
        .with_context(|| format!("{file}: cannot fit {}", series.symbol))?;
    let spec = ModelSpec::new(mean, args.model, args.dist);
    let model =
        fit(&returns, spec, &FitOptions::default()).with_context(|| format!("fitting {spec}"))?;
    let forecast = model.forecast(usize::from(args.horizon), &ForecastOptions::default())?;
    let intervals = (!args.intervals.is_empty())
        .then(|| {
            let options = ForecastOptions {
                seed: args.seed,
                ..ForecastOptions::default()
            };
            model.forecast_intervals(usize::from(args.horizon), &args.intervals, &options)
        })
        .transpose()
        .context("--intervals")?;
    let output = FitOutput {
        symbol: series.symbol.clone(),
        first_date: series
            .dates
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        data_through: series
            .dates
            .last()
            .map(ToString::to_string)
            .unwrap_or_default(),
        report: model.report().clone(),
        forecast,
        intervals,
    };
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &output)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&output, out)?,
    }
    Ok(())
}

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.prec$}"))
}

fn write_table(o: &FitOutput, out: &mut impl Write) -> std::io::Result<()> {
    let r = &o.report;
    writeln!(
        out,
        "{}  {}  {} .. {}  ({} returns)",
        o.symbol, r.spec, o.first_date, o.data_through, r.nobs
    )?;
    writeln!(
        out,
        "converged: {}  iterations: {}  {}",
        r.converged, r.iterations, r.status
    )?;
    if !r.at_bounds.is_empty() {
        writeln!(out, "at bounds: {}", r.at_bounds.join("; "))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<10} {:>14} {:>12} {:>9} {:>8}",
        "param", "value", "std err", "t", "p"
    )?;
    for p in &r.params {
        writeln!(
            out,
            "{:<10} {:>14.6} {:>12} {:>9} {:>8}",
            p.name,
            p.value,
            opt(p.std_err, 6),
            opt(p.t_stat, 2),
            opt(p.p_value, 4)
        )?;
    }
    writeln!(out, "({:?} standard errors)", r.covariance_type)?;
    writeln!(out)?;
    writeln!(
        out,
        "log-likelihood {:.4}   AIC {:.4}   BIC {:.4}",
        r.log_likelihood, r.aic, r.bic
    )?;
    writeln!(
        out,
        "persistence {:.6}   half-life {} days   long-run vol {}% a year",
        r.persistence,
        opt(r.half_life_days, 1),
        opt(r.annualized_volatility, 2)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>4} {:>12} {:>10} {:>12}   forecast ({:?})",
        "h", "variance", "daily vol", "annual vol", o.forecast.method
    )?;
    for s in &o.forecast.steps {
        writeln!(
            out,
            "{:>4} {:>12.6} {:>9.4}% {:>11.2}%",
            s.horizon, s.variance, s.volatility, s.annualized_volatility
        )?;
    }
    if let Some(iv) = &o.intervals {
        writeln!(out)?;
        write!(out, "{:>4}", "h")?;
        for q in iv.steps.first().map_or(&[][..], |s| &s.quantiles[..]) {
            write!(out, " {:>10}", format!("q{}", q.level))?;
        }
        writeln!(
            out,
            "   return quantiles, % ({:?}, {} paths)",
            iv.method, iv.simulations
        )?;
        for s in &iv.steps {
            write!(out, "{:>4}", s.horizon)?;
            for q in &s.quantiles {
                write!(out, " {:>10.4}", q.value)?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
