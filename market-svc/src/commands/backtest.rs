//! `market-svc backtest`: rolling (or expanding) re-estimation backtest of one series: VaR/ES
//! path, coverage tests and forecast losses, as a table, JSON or CSV.
//!
//! The variance proxy is the realized variance from 5-minute bars (`--bars`) on the days that
//! have them, plus the squared overnight return where there is one (the intraday sum misses
//! the overnight move; adding it keeps the proxy unbiased for the close-to-close variance the
//! model forecasts), and the squared daily return on other days. Each day's JSON/CSV record
//! says which proxy it used.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use backtest::{BacktestConfig, Proxy, Scheme, run_with_progress};
use clap::{Args, ValueEnum};
use garch_core::{Distribution, FitOptions, MeanModel, ModelSpec, VolatilityModel};
use market_data::{Session, load_bars, load_daily, realized_variance};

use crate::backtest_report::{BacktestReport, level_key};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The summary as a readable table.
    Table,
    /// Everything as JSON: refits, path, summary.
    Json,
    /// The path, one row per out-of-sample day.
    Csv,
}

/// Arguments of `market-svc backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Daily prices: CSV (Parquet with the `parquet` feature), as for `fit`.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Symbol to backtest when the file holds several.
    #[arg(long, short)]
    pub symbol: Option<String>,
    /// 5-minute bars for the realized-variance proxy (optional; squared returns otherwise).
    #[arg(long)]
    pub bars: Option<PathBuf>,
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
    /// Estimation window in returns (the initial window with --expanding).
    #[arg(long, default_value_t = 1000)]
    pub window: usize,
    /// Expanding instead of rolling windows.
    #[arg(long)]
    pub expanding: bool,
    /// Returns between refits (1 = daily).
    #[arg(long, default_value_t = 1)]
    pub refit_every: usize,
    /// VaR levels, comma-separated, each in (0, 0.5).
    #[arg(long, default_value = "0.01,0.05")]
    pub levels: String,
    /// Extra variance-forecast horizons reported each day, comma-separated (GARCH/GJR).
    #[arg(long, default_value = "")]
    pub horizons: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// A comma-separated list; an unparsable item is an error naming the flag.
fn parse_list<T: std::str::FromStr>(text: &str, flag: &str) -> anyhow::Result<Vec<T>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| anyhow::anyhow!("{flag}: '{s}' is not a valid number"))
        })
        .collect()
}

/// Runs the command, writing to `out`.
pub fn run(args: &BacktestArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let scheme = if args.expanding {
        Scheme::Expanding
    } else {
        Scheme::Rolling
    };
    // Settings first: a bad flag fails before any file is read.
    let mean = MeanModel::from_name_and_lags(&args.mean, args.lags)
        .map_err(|e| anyhow::anyhow!("--lags: {e}"))?;
    let levels: Vec<f64> = parse_list(&args.levels, "levels")?;
    let horizons: Vec<usize> = parse_list(&args.horizons, "horizons")?;
    let config = BacktestConfig::new(scheme, args.window, args.refit_every, &levels, &horizons)?;
    let data = load_daily(&args.input)?;
    for warning in &data.warnings {
        eprintln!("market-svc: note: {warning}");
    }
    let file = args.input.display();
    let series = match (&args.symbol, data.series.len()) {
        (Some(want), _) => data.get(want).ok_or_else(|| {
            let names: Vec<&str> = data.symbols().take(8).collect();
            anyhow::anyhow!("{file}: symbol '{want}' not found ({})", names.join(", "))
        })?,
        (None, 1) => &data.series[0],
        (None, n) => anyhow::bail!("{file}: {n} symbols in the file; choose one with --symbol"),
    };
    let returns = series
        .returns()
        .with_context(|| format!("{file}: cannot backtest {}", series.symbol))?;
    let y = returns.as_slice();
    let dates: Vec<String> = series
        .return_dates()
        .iter()
        .map(ToString::to_string)
        .collect();
    config.check_len(y.len())?;
    let realized = match &args.bars {
        Some(path) => Some(realized_proxy(path, &series.symbol, &dates)?),
        None => None,
    };

    let spec = ModelSpec::new(mean, args.model, args.dist);
    let refits = config.windows(y.len()).len() as u64;
    let progress = Progress::new(refits);
    let bt = run_with_progress(y, spec, &config, &FitOptions::default(), &|| progress.inc())
        .with_context(|| format!("backtesting {spec} on {}", series.symbol))?;
    progress.finish();
    let ev = bt.evaluate(realized.as_deref())?;
    let levels = config.levels();
    let output = BacktestReport::new(&series.symbol, &dates, &bt, &ev, &config);
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &output)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&output, levels, out)?,
        Format::Table => write_table(&output, &bt, out)?,
    }
    Ok(())
}

/// Realized variance (intraday plus squared overnight return) of `symbol` by return date.
fn realized_proxy(path: &Path, symbol: &str, dates: &[String]) -> anyhow::Result<Vec<Option<f64>>> {
    let bars = load_bars(path)?;
    let Some(series) = bars.get(symbol) else {
        eprintln!(
            "market-svc: note: {}: no bars for {symbol}; squared returns are the proxy",
            path.display()
        );
        return Ok(vec![None; dates.len()]);
    };
    let by_date: HashMap<String, f64> = realized_variance(series, &Session::us_equities())
        .into_iter()
        .filter_map(|d| Some((d.date.to_string(), d.close_to_close_variance()?)))
        .collect();
    Ok(dates.iter().map(|d| by_date.get(d).copied()).collect())
}

/// A progress bar on a terminal (with the `bench` feature, which brings indicatif), nothing
/// otherwise.
struct Progress {
    #[cfg(feature = "bench")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(len: u64) -> Self {
        #[cfg(feature = "bench")]
        {
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new(len);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} refits {pos}/{len} [{bar:40}] {per_sec} eta {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
            Self { bar }
        }
        #[cfg(not(feature = "bench"))]
        {
            let _ = (len, std::io::stderr().is_terminal());
            Self {}
        }
    }
    fn inc(&self) {
        #[cfg(feature = "bench")]
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn finish(&self) {
        #[cfg(feature = "bench")]
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn write_csv(o: &BacktestReport, levels: &[f64], out: &mut impl Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["date".to_string(), "return".into(), "variance".into()];
    for a in levels {
        header.push(format!("var_{a}"));
        header.push(format!("es_{a}"));
        header.push(format!("exceedance_{a}"));
    }
    header.push("proxy".into());
    header.push("proxy_kind".into());
    w.write_record(&header)?;
    for d in &o.path {
        let mut row = vec![d.date.clone(), d.ret.to_string(), d.variance.to_string()];
        for a in levels {
            let k = level_key(*a);
            row.push(d.var[&k].to_string());
            row.push(d.es[&k].to_string());
            row.push(d.exceedance[&k].to_string());
        }
        row.push(d.proxy.to_string());
        row.push(
            match d.proxy_kind {
                Proxy::RealizedVariance => "realized_variance",
                Proxy::SquaredReturn => "squared_return",
            }
            .into(),
        );
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(
    o: &BacktestReport,
    bt: &backtest::Backtest,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let (first, last) = (
        o.path.first().map_or("", |d| d.date.as_str()),
        o.path.last().map_or("", |d| d.date.as_str()),
    );
    writeln!(
        out,
        "{}  {}  {:?} window {}, refit every {}  ({} refits, {} out-of-sample days {first} .. {last})",
        o.symbol,
        o.spec,
        o.config.scheme(),
        o.config.window(),
        o.config.refit_every(),
        o.refits.len(),
        o.path.len()
    )?;
    let fell_back = bt
        .refits
        .iter()
        .filter(|r| r.start == backtest::Start::WarmFellBack)
        .count();
    let unconverged = bt.refits.iter().filter(|r| !r.report.converged).count();
    writeln!(
        out,
        "refits: {fell_back} warm starts checked against a cold fit, {unconverged} not converged"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>6} {:>6} {:>8} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8}",
        "level", "exc", "expected", "Kupiec LR", "p", "ind LR", "p", "cc LR", "p"
    )?;
    for (k, c) in o.kupiec.iter().zip(o.christoffersen.values()) {
        writeln!(
            out,
            "{:>6} {:>6} {:>8.1} {:>9.3} {:>8.4} {:>9.3} {:>8.4} {:>9.3} {:>8.4}",
            k.0,
            k.1.exceedances,
            k.1.expected,
            k.1.lr.unwrap_or(f64::NAN),
            k.1.p_value.unwrap_or(f64::NAN),
            c.independence.lr.unwrap_or(f64::NAN),
            c.independence.p_value.unwrap_or(f64::NAN),
            c.conditional_coverage.lr.unwrap_or(f64::NAN),
            c.conditional_coverage.p_value.unwrap_or(f64::NAN)
        )?;
    }
    match &o.traffic_light {
        Some(t) => writeln!(
            out,
            "Basel traffic light (last {} days, 1 % VaR): {:?} ({} exceptions)",
            t.days, t.zone, t.exceptions
        )?,
        None => writeln!(
            out,
            "Basel traffic light: n/a (needs level 0.01 and 250 days)"
        )?,
    }
    writeln!(out)?;
    let opt = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |x| format!("{x:.6}"));
    writeln!(
        out,
        "QLIKE {}   MSE {}   proxy: {} days realized variance, {} days squared return",
        opt(o.qlike),
        opt(o.mse),
        o.realized_variance_days,
        o.squared_return_days
    )?;
    match &o.mincer_zarnowitz {
        Some(mz) => writeln!(
            out,
            "Mincer–Zarnowitz: a {:.4}  b {:.4}  R² {:.4}",
            mz.a, mz.b, mz.r2
        )?,
        None => writeln!(out, "Mincer–Zarnowitz: n/a")?,
    }
    Ok(())
}
