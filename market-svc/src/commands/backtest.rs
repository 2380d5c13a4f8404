//! `market-svc backtest`: rolling (or expanding) re-estimation backtest of one series: VaR/ES
//! path, coverage tests and forecast losses, as a table, JSON or CSV.
//!
//! The variance proxy is the realized variance from 5-minute bars (`--bars`) on the days that
//! have them, plus the squared overnight return where there is one (the intraday sum misses
//! the overnight move; adding it keeps the proxy unbiased for the close-to-close variance the
//! model forecasts), and the squared daily return on other days. Each day's JSON/CSV record
//! says which proxy it used.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use backtest::{BacktestConfig, Proxy, Scheme, run_with_progress};
use clap::{Args, ValueEnum};
use garch_core::{
    Distribution, FitOptions, MeanModel, ModelSpec, ParameterEstimate, VolatilityModel,
};
use market_data::{Session, load_bars, load_daily, realized_variance};
use serde::Serialize;

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
    /// Error distribution: normal or t.
    #[arg(long, default_value = "normal")]
    pub dist: Distribution,
    /// Mean: constant or zero.
    #[arg(long, default_value = "constant")]
    pub mean: MeanModel,
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

/// One estimation window in the JSON output.
#[derive(Debug, Serialize)]
pub struct RefitOut {
    /// Date of the first return of the window.
    pub first_date: String,
    /// Date of the last return of the window.
    pub last_date: String,
    /// Estimates, as `fit` reports them.
    pub params: Vec<ParameterEstimate>,
    /// Log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Whether the optimiser converged.
    pub converged: bool,
    /// `cold`, `warm` or `warm_fell_back`.
    pub start: backtest::Start,
}

/// One out-of-sample day in the JSON output.
#[derive(Debug, Serialize)]
pub struct DayOut {
    /// Date of the return.
    pub date: String,
    /// The return (percent).
    #[serde(rename = "return")]
    pub ret: f64,
    /// One-step variance forecast made the day before.
    pub variance: f64,
    /// Variance forecasts for the requested horizons (`h` → variance), when available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizons: Option<BTreeMap<usize, f64>>,
    /// VaR per level (a return quantile).
    pub var: BTreeMap<String, f64>,
    /// Expected shortfall per level.
    pub es: BTreeMap<String, f64>,
    /// Whether the return fell below the VaR, per level.
    pub exceedance: BTreeMap<String, bool>,
    /// The variance proxy of the day and which one it is.
    pub proxy: f64,
    /// `realized_variance` or `squared_return`.
    pub proxy_kind: Proxy,
}

/// A coverage test result in the JSON output.
#[derive(Debug, Serialize)]
pub struct TestOut {
    /// Likelihood ratio.
    pub lr: f64,
    /// Its p-value.
    pub p_value: f64,
    /// Exceedances observed.
    pub exceedances: usize,
    /// Exceedances expected.
    pub expected: f64,
}

/// Christoffersen's two tests in the JSON output.
#[derive(Debug, Serialize)]
pub struct ChristoffersenOut {
    /// Independence.
    pub independence: TestOut,
    /// Conditional coverage (strict form, χ²(2)).
    pub conditional_coverage: TestOut,
}

/// What `backtest` prints as JSON.
#[derive(Debug, Serialize)]
pub struct BacktestOutput {
    /// Symbol.
    pub symbol: String,
    /// The model.
    pub spec: ModelSpec,
    /// The setting.
    pub config: BacktestConfig,
    /// One per estimation window.
    pub refits: Vec<RefitOut>,
    /// One per out-of-sample day.
    pub path: Vec<DayOut>,
    /// Kupiec per level.
    pub kupiec: BTreeMap<String, TestOut>,
    /// Christoffersen per level.
    pub christoffersen: BTreeMap<String, ChristoffersenOut>,
    /// Basel zone of the last 250 days of the 1 % VaR.
    pub traffic_light: Option<backtest::TrafficLight>,
    /// Mean QLIKE.
    pub qlike: Option<f64>,
    /// Mean MSE.
    pub mse: f64,
    /// Mincer–Zarnowitz regression of the proxy on the forecast.
    pub mincer_zarnowitz: Option<backtest::MincerZarnowitz>,
    /// Days with a realized-variance proxy.
    pub realized_variance_days: usize,
    /// Days with a squared-return proxy.
    pub squared_return_days: usize,
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

/// A level as a JSON key: `0.01`.
fn key(level: f64) -> String {
    format!("{level}")
}

/// Runs the command, writing to `out`.
pub fn run(args: &BacktestArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let scheme = if args.expanding {
        Scheme::Expanding
    } else {
        Scheme::Rolling
    };
    // Settings first: a bad flag fails before any file is read.
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

    let spec = ModelSpec::new(args.mean, args.model, args.dist);
    let refits = config.windows(y.len()).len() as u64;
    let progress = Progress::new(refits);
    let bt = run_with_progress(y, spec, &config, &FitOptions::default(), &|| progress.inc())
        .with_context(|| format!("backtesting {spec} on {}", series.symbol))?;
    progress.finish();
    let ev = bt.evaluate(realized.as_deref())?;
    let s = &ev.summary;
    let levels = config.levels();
    let output = BacktestOutput {
        symbol: series.symbol.clone(),
        spec,
        config: config.clone(),
        refits: bt
            .refits
            .iter()
            .map(|r| RefitOut {
                first_date: dates[r.window.start].clone(),
                last_date: dates[r.window.end - 1].clone(),
                params: r.report.params.clone(),
                log_likelihood: r.report.log_likelihood,
                converged: r.report.converged,
                start: r.start,
            })
            .collect(),
        path: bt
            .path
            .iter()
            .enumerate()
            .map(|(i, d)| DayOut {
                date: dates[d.index].clone(),
                ret: d.ret,
                variance: d.variance,
                horizons: d.horizons.as_ref().map(|h| {
                    config
                        .horizons()
                        .iter()
                        .copied()
                        .zip(h.iter().copied())
                        .collect()
                }),
                var: levels
                    .iter()
                    .map(|a| key(*a))
                    .zip(d.var.iter().copied())
                    .collect(),
                es: levels
                    .iter()
                    .map(|a| key(*a))
                    .zip(d.es.iter().copied())
                    .collect(),
                exceedance: levels
                    .iter()
                    .map(|a| key(*a))
                    .zip(d.exceedance.iter().copied())
                    .collect(),
                proxy: ev.proxy[i],
                proxy_kind: ev.proxy_kind[i],
            })
            .collect(),
        kupiec: s
            .kupiec
            .iter()
            .map(|k| {
                (
                    key(k.level),
                    TestOut {
                        lr: k.lr,
                        p_value: k.p_value,
                        exceedances: k.exceedances,
                        expected: k.expected,
                    },
                )
            })
            .collect(),
        christoffersen: s
            .christoffersen
            .iter()
            .map(|c| {
                let test = |lr, p_value| TestOut {
                    lr,
                    p_value,
                    exceedances: c.exceedances,
                    expected: c.expected,
                };
                (
                    key(c.level),
                    ChristoffersenOut {
                        independence: test(c.lr_ind, c.p_value_ind),
                        conditional_coverage: test(c.lr_cc, c.p_value_cc),
                    },
                )
            })
            .collect(),
        traffic_light: s.traffic_light,
        qlike: s.qlike,
        mse: s.mse,
        mincer_zarnowitz: s.mincer_zarnowitz,
        realized_variance_days: s.realized_variance_days,
        squared_return_days: s.squared_return_days,
    };
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
        .filter_map(|d| {
            // Without the overnight return (first day of the bars) the day is incomplete.
            d.overnight_return
                .map(|o| (d.date.to_string(), d.realized_variance + o * o))
        })
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

fn write_csv(o: &BacktestOutput, levels: &[f64], out: &mut impl Write) -> anyhow::Result<()> {
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
            let k = key(*a);
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
    o: &BacktestOutput,
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
            k.1.lr,
            k.1.p_value,
            c.independence.lr,
            c.independence.p_value,
            c.conditional_coverage.lr,
            c.conditional_coverage.p_value
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
        "QLIKE {}   MSE {:.6}   proxy: {} days realized variance, {} days squared return",
        opt(o.qlike),
        o.mse,
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
