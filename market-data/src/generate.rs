//! The deterministic generator of the bundled data sets (`data/` at the repository root).
//!
//! For each symbol of a [`GeneratorConfig`]:
//!
//! 1. Daily close-to-close percent log returns `r_t` and their conditional variances `σ²_t` are
//!    simulated with [`garch_core::simulate_with_rng`] from the symbol's [`ModelSpec`] and parameters
//!    (GARCH or GJR, normal or Student-t errors). These are the series the documented parameters
//!    describe.
//! 2. Each day is split into 79 pieces — the overnight gap and 78 five-minute bars from 09:30 to
//!    16:00 New York time — with variance shares `w_0 = OVERNIGHT_VARIANCE_SHARE` and
//!    `w_1..w_78` following a U-shaped intraday profile ([`intraday_variance_profile`]). The
//!    pieces are Gaussian with variance `w_i σ²_t` and are tied to the day's return by a Brownian
//!    bridge, `x_i = e_i + w_i (r_t − Σ_j e_j)`, so they sum to `r_t` exactly: the last bar closes
//!    at the daily close and the realized variance of the bars is on average
//!    `(1 − w_0) σ²_t` (less a negligible `O(w_i²)` term).
//! 3. Within-bar highs and lows extend the bar's open/close range by half-normal amounts scaled
//!    by the bar's standard deviation; the daily open, high and low are the first bar's open and
//!    the extremes of the bars, so daily OHLC is consistent (`low ≤ open, close ≤ high`).
//! 4. Volume: a daily level `base_volume · (σ²_t/σ̄²)^0.35 · lognormal(0.25)` shared among the
//!    bars by a U-shaped profile with lognormal noise; the daily volume is the sum of the bars'.
//!
//! Prices are rounded to 4 decimals (returns computed from the files therefore differ from the
//! simulated ones by at most ~1e-4 percent for the price levels generated). Each symbol draws
//! from its own ChaCha8 stream (`seed`, stream = symbol index + 1), so the output is the same on
//! every platform and a symbol's data does not depend on the others.

use std::fmt::Write as _;
#[cfg(feature = "parquet")]
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};
#[cfg(feature = "parquet")]
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};

use crate::loader::BarSeries;
use crate::session::Session;
use garch_core::simulate_with_rng;
use garch_core::spec::{Distribution, MeanModel, ModelSpec, VolatilityModel};
use garch_core::{FitError, check_params};

/// Five-minute bars per regular US session (09:30–16:00).
pub const BARS_PER_DAY: usize = 78;
/// Bar length in seconds.
pub const BAR_SECONDS: i64 = 300;
/// Share of a day's return variance that falls overnight (close to next open).
pub const OVERNIGHT_VARIANCE_SHARE: f64 = 0.2;
/// Decimals prices are rounded to.
pub const PRICE_DECIMALS: i32 = 4;

/// One simulated symbol: what it is and the true parameters of its daily returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolParams {
    /// Ticker (fictional).
    pub symbol: String,
    /// A one-line description (fictional company).
    pub description: String,
    /// The model of the daily percent log returns.
    pub spec: ModelSpec,
    /// True parameters in `arch` order (`mu, omega, alpha, [gamma,] beta, [nu]`).
    pub params: Vec<f64>,
    /// Price before the first day.
    pub start_price: f64,
    /// Typical daily volume (shares).
    pub base_volume: f64,
}

impl SymbolParams {
    /// A constant-mean GARCH(1,1) (`gamma = 0`) or GJR-GARCH(1,1,1) (`gamma > 0`) symbol with
    /// normal (`nu = None`) or Student-t errors whose unconditional annualised volatility is
    /// `annual_vol_pct` (percent, √252 convention): `ω = σ²(1 − α − γ/2 − β)`,
    /// `σ² = annual_vol_pct² / 252`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        symbol: &str,
        description: &str,
        annual_vol_pct: f64,
        mu: f64,
        alpha: f64,
        gamma: f64,
        beta: f64,
        nu: Option<f64>,
        start_price: f64,
        base_volume: f64,
    ) -> Self {
        let volatility = if gamma > 0.0 {
            VolatilityModel::gjr()
        } else {
            VolatilityModel::garch()
        };
        let distribution = if nu.is_some() {
            Distribution::StudentT
        } else {
            Distribution::Normal
        };
        let variance = annual_vol_pct * annual_vol_pct / 252.0;
        let omega = variance * (1.0 - alpha - gamma / 2.0 - beta);
        let mut params = vec![mu, omega, alpha];
        if gamma > 0.0 {
            params.push(gamma);
        }
        params.push(beta);
        params.extend(nu);
        Self {
            symbol: symbol.to_string(),
            description: description.to_string(),
            spec: ModelSpec::new(MeanModel::Constant, volatility, distribution),
            params,
            start_price,
            base_volume,
        }
    }

    /// The value of the parameter `name` (`mu`, `omega`, `alpha`, `gamma`, `beta`, `nu`).
    pub fn param(&self, name: &str) -> Option<f64> {
        self.spec
            .param_names()
            .iter()
            .position(|n| n == name)
            .map(|i| self.params[i])
    }

    /// Persistence `α + γ/2 + β`.
    pub fn persistence(&self) -> f64 {
        self.param("alpha").unwrap_or(0.0)
            + self.param("gamma").unwrap_or(0.0) / 2.0
            + self.param("beta").unwrap_or(0.0)
    }

    /// Unconditional daily variance `ω/(1 − persistence)` (percent²).
    pub fn unconditional_variance(&self) -> f64 {
        self.param("omega").unwrap_or(0.0) / (1.0 - self.persistence())
    }

    /// Unconditional annualised volatility in percent (√252 convention).
    pub fn annualized_volatility(&self) -> f64 {
        (252.0 * self.unconditional_variance()).sqrt()
    }
}

/// The 25 symbols of the bundled data: a mix of GARCH and GJR, normal and Student-t errors,
/// annualised volatility from 12% (staples, utilities) to 70% (biotech).
pub fn bundled_universe() -> Vec<SymbolParams> {
    type Row = (
        &'static str,
        &'static str,
        f64,
        f64,
        f64,
        f64,
        f64,
        Option<f64>,
        f64,
        f64,
    );
    // symbol, description, annual vol %, mu %/day, alpha, gamma, beta, nu, start price, volume
    #[rustfmt::skip]
    const ROWS: [Row; 25] = [
        ("ACME", "Acme Industrial Holdings", 22.0, 0.040, 0.08, 0.0, 0.90, None, 84.0, 3.2e6),
        ("BLUE", "Bluewater Utilities", 13.0, 0.020, 0.05, 0.0, 0.93, None, 52.0, 1.8e6),
        ("CRDL", "Cardinal Staples", 12.0, 0.025, 0.04, 0.0, 0.94, None, 61.0, 2.1e6),
        ("DYNX", "Dynex Semiconductors", 48.0, 0.060, 0.03, 0.10, 0.90, Some(6.0), 145.0, 9.5e6),
        ("ELMR", "Elmore Regional Bank", 28.0, 0.030, 0.02, 0.12, 0.90, None, 38.0, 4.1e6),
        ("FRST", "Firstlight Solar", 65.0, 0.070, 0.10, 0.0, 0.86, Some(5.0), 24.0, 7.7e6),
        ("GLDN", "Golden Mills Foods", 16.0, 0.030, 0.06, 0.0, 0.91, None, 47.0, 1.5e6),
        ("HRZN", "Horizon Airlines", 45.0, 0.040, 0.04, 0.12, 0.87, Some(7.0), 33.0, 6.3e6),
        ("IRON", "Ironclad Steel", 38.0, 0.040, 0.09, 0.0, 0.88, Some(8.0), 29.0, 5.2e6),
        ("JOVI", "Jovian Biotech", 70.0, 0.080, 0.12, 0.0, 0.83, Some(4.5), 18.0, 8.8e6),
        ("KELP", "Kelp Ocean Farms", 30.0, 0.040, 0.07, 0.0, 0.91, None, 41.0, 1.2e6),
        ("LUMN", "Luminar Software", 35.0, 0.060, 0.03, 0.09, 0.91, None, 210.0, 6.9e6),
        ("MNTR", "Monterey Insurance", 20.0, 0.030, 0.02, 0.08, 0.93, Some(9.0), 96.0, 1.1e6),
        ("NOVA", "Nova Telecom", 18.0, 0.020, 0.05, 0.0, 0.94, None, 27.0, 12.5e6),
        ("OPAL", "Opal Retail Group", 32.0, 0.030, 0.04, 0.10, 0.88, None, 58.0, 3.6e6),
        ("PIKE", "Pike Energy Partners", 42.0, 0.040, 0.08, 0.0, 0.90, Some(6.0), 44.0, 4.4e6),
        ("QRTZ", "Quartz Instruments", 26.0, 0.040, 0.03, 0.07, 0.92, Some(10.0), 132.0, 1.9e6),
        ("RVRS", "Riverside REIT", 19.0, 0.025, 0.06, 0.0, 0.92, None, 36.0, 2.4e6),
        ("SLTE", "Slate Construction", 33.0, 0.040, 0.05, 0.08, 0.88, None, 71.0, 2.2e6),
        ("TNDR", "Tundra Mining", 58.0, 0.060, 0.09, 0.0, 0.89, Some(5.0), 22.0, 10.3e6),
        ("UMBR", "Umbra Security", 40.0, 0.050, 0.10, 0.0, 0.85, None, 63.0, 3.0e6),
        ("VRDN", "Viridian Pharma", 30.0, 0.040, 0.02, 0.10, 0.92, Some(7.0), 112.0, 2.7e6),
        ("WNDL", "Windle Logistics", 24.0, 0.040, 0.07, 0.0, 0.90, None, 89.0, 1.6e6),
        ("XENO", "Xeno Robotics", 62.0, 0.080, 0.05, 0.12, 0.86, Some(5.0), 48.0, 11.2e6),
        ("YRLD", "Yieldwell Consumer", 15.0, 0.025, 0.04, 0.0, 0.95, Some(8.0), 74.0, 1.4e6),
    ];
    ROWS.iter()
        .map(|&(s, d, vol, mu, a, g, b, nu, p0, v)| {
            SymbolParams::new(s, d, vol, mu, a, g, b, nu, p0, v)
        })
        .collect()
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Master seed of the ChaCha8 streams.
    pub seed: u64,
    /// First trading day (weekends are skipped; there are no holidays).
    pub start: NaiveDate,
    /// Number of trading days of daily data.
    pub trading_days: usize,
    /// Number of final trading days that also get 5-minute bars.
    pub intraday_days: usize,
    /// The symbols.
    pub symbols: Vec<SymbolParams>,
}

impl GeneratorConfig {
    /// The configuration of the bundled files: seed 20240601, 2,520 business days from
    /// 2015-01-02, 5-minute bars for the last 20, the [`bundled_universe`].
    pub fn bundled() -> Self {
        Self {
            seed: 20_240_601,
            start: NaiveDate::from_ymd_opt(2015, 1, 2).unwrap_or_default(),
            trading_days: 2_520,
            intraday_days: 20,
            symbols: bundled_universe(),
        }
    }
}

/// One generated symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSeries {
    /// The symbol's definition.
    pub params: SymbolParams,
    /// Daily opens (rounded to [`PRICE_DECIMALS`]).
    pub open: Vec<f64>,
    /// Daily highs.
    pub high: Vec<f64>,
    /// Daily lows.
    pub low: Vec<f64>,
    /// Daily closes.
    pub close: Vec<f64>,
    /// Daily volumes (the sum of the day's bar volumes).
    pub volume: Vec<u64>,
    /// True conditional variance of each day's return (percent²).
    pub conditional_variance: Vec<f64>,
    /// 5-minute bars of the last [`GeneratorConfig::intraday_days`] days (timestamps are bar
    /// starts in Unix seconds).
    pub bars: BarSeries,
}

/// Generated data for every symbol of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedData {
    /// Trading dates.
    pub dates: Vec<NaiveDate>,
    /// One entry per symbol, in configuration order.
    pub series: Vec<GeneratedSeries>,
}

/// Relative variance of each 5-minute bar of a 09:30–16:00 session (78 values summing to 1):
/// high at the open, low at midday, rising into the close, `u(x) = 0.6 + 1.6(2x − 1)² +
/// 2.5e^{−x/0.04} + 0.6e^{−(1−x)/0.04}` at bar midpoints `x ∈ (0, 1)`.
pub fn intraday_variance_profile() -> Vec<f64> {
    let u: Vec<f64> = (0..BARS_PER_DAY)
        .map(|i| {
            let x = (i as f64 + 0.5) / BARS_PER_DAY as f64;
            0.6 + 1.6 * (2.0 * x - 1.0).powi(2)
                + 2.5 * (-x / 0.04).exp()
                + 0.6 * (-(1.0 - x) / 0.04).exp()
        })
        .collect();
    let total: f64 = u.iter().sum();
    u.into_iter().map(|v| v / total).collect()
}

/// Relative volume of each bar (sums to 1): U-shaped, heaviest into the close.
fn intraday_volume_profile() -> Vec<f64> {
    let u: Vec<f64> = (0..BARS_PER_DAY)
        .map(|i| {
            let x = (i as f64 + 0.5) / BARS_PER_DAY as f64;
            0.7 + 1.2 * (2.0 * x - 1.0).powi(2)
                + 1.5 * (-x / 0.05).exp()
                + 2.5 * (-(1.0 - x) / 0.03).exp()
        })
        .collect();
    let total: f64 = u.iter().sum();
    u.into_iter().map(|v| v / total).collect()
}

/// `n` business days (Monday–Friday) from `start` (inclusive if it is one).
pub fn business_days(start: NaiveDate, n: usize) -> Vec<NaiveDate> {
    start
        .iter_days()
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .take(n)
        .collect()
}

fn round_price(x: f64) -> f64 {
    let k = 10f64.powi(PRICE_DECIMALS);
    (x * k).round() / k
}

fn normal<R: Rng>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// Generates the data of `config`. Fails if a symbol's parameters are invalid (e.g. not
/// stationary).
pub fn generate(config: &GeneratorConfig) -> Result<GeneratedData, FitError> {
    let dates = business_days(config.start, config.trading_days);
    let session = Session::us_equities();
    let first_intraday = config.trading_days.saturating_sub(config.intraday_days);
    let bar_starts: Vec<Vec<i64>> = dates[first_intraday..]
        .iter()
        .map(|d| {
            let open = session.open();
            (0..BARS_PER_DAY)
                .map(|i| {
                    let start =
                        d.and_time(open) + chrono::Duration::seconds(BAR_SECONDS * i as i64);
                    session.unix_seconds(start).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let var_w = intraday_variance_profile();
    let vol_w = intraday_volume_profile();
    let mut weights = Vec::with_capacity(BARS_PER_DAY + 1);
    weights.push(OVERNIGHT_VARIANCE_SHARE);
    weights.extend(var_w.iter().map(|w| w * (1.0 - OVERNIGHT_VARIANCE_SHARE)));

    let mut series = Vec::with_capacity(config.symbols.len());
    for (index, sym) in config.symbols.iter().enumerate() {
        check_params(&sym.spec, &sym.params)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(index as u64 + 1);
        let sim = simulate_with_rng(sym.spec, &sym.params, config.trading_days, &mut rng);
        let mean_var = sym.unconditional_variance();
        let n = config.trading_days;
        let mut out = GeneratedSeries {
            params: sym.clone(),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
            conditional_variance: sim.conditional_variance.clone(),
            bars: BarSeries {
                symbol: sym.symbol.clone(),
                ..Default::default()
            },
        };
        let mut log_close = sym.start_price.ln();
        let mut e = vec![0.0; BARS_PER_DAY + 1];
        for t in 0..n {
            let r = sim.returns[t];
            let sigma = sim.conditional_variance[t].sqrt();
            // Brownian bridge: pieces with variance w_i σ² that sum to r exactly.
            for (ei, w) in e.iter_mut().zip(&weights) {
                *ei = sigma * w.sqrt() * normal(&mut rng);
            }
            let gap = r - e.iter().sum::<f64>();
            let day_level = sym.base_volume
                * (sim.conditional_variance[t] / mean_var).powf(0.35)
                * (0.25 * normal(&mut rng) - 0.03125).exp();
            let mut lp = log_close + (e[0] + weights[0] * gap) / 100.0;
            let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
            let day_open = round_price(lp.exp());
            let mut bar_open = day_open;
            let mut day_volume = 0u64;
            let intraday = t >= first_intraday;
            let final_close = log_close + r / 100.0;
            for i in 1..=BARS_PER_DAY {
                lp += (e[i] + weights[i] * gap) / 100.0;
                if i == BARS_PER_DAY {
                    lp = final_close;
                }
                let bar_sd = sigma * weights[i].sqrt() / 100.0;
                let c = round_price(lp.exp());
                let up = 0.5 * bar_sd * normal(&mut rng).abs();
                let down = 0.5 * bar_sd * normal(&mut rng).abs();
                let h = round_price(bar_open.max(c) * up.exp());
                let l = round_price(bar_open.min(c) * (-down).exp());
                let v = (day_level * vol_w[i - 1] * (0.3 * normal(&mut rng) - 0.045).exp())
                    .round()
                    .max(0.0) as u64;
                hi = hi.max(h);
                lo = lo.min(l);
                day_volume += v;
                if intraday {
                    let b = &mut out.bars;
                    b.timestamps.push(bar_starts[t - first_intraday][i - 1]);
                    b.open.push(bar_open);
                    b.high.push(h);
                    b.low.push(l);
                    b.close.push(c);
                    b.volume.push(v as f64);
                }
                bar_open = c;
            }
            out.open.push(day_open);
            out.high.push(hi);
            out.low.push(lo);
            out.close.push(bar_open);
            out.volume.push(day_volume);
            log_close = final_close;
        }
        series.push(out);
    }
    Ok(GeneratedData { dates, series })
}

fn utc_iso(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

impl GeneratedData {
    /// The daily file: header `date,symbol,open,high,low,close,volume`, rows by date then in
    /// configuration order of the symbols, prices with 4 decimals.
    pub fn daily_csv(&self) -> String {
        let mut s = String::with_capacity(self.dates.len() * self.series.len() * 56 + 64);
        s.push_str("date,symbol,open,high,low,close,volume\n");
        for (t, date) in self.dates.iter().enumerate() {
            for g in &self.series {
                let _ = writeln!(
                    s,
                    "{date},{},{:.4},{:.4},{:.4},{:.4},{}",
                    g.params.symbol, g.open[t], g.high[t], g.low[t], g.close[t], g.volume[t]
                );
            }
        }
        s
    }

    /// The 5-minute file: header `timestamp,symbol,open,high,low,close,volume`, timestamps the
    /// bar starts in UTC (`2024-08-05T13:30:00Z`), rows by time then symbol order.
    pub fn bars_csv(&self) -> String {
        let bars = self.series.first().map_or(0, |g| g.bars.len());
        let mut s = String::with_capacity(bars * self.series.len() * 72 + 64);
        s.push_str("timestamp,symbol,open,high,low,close,volume\n");
        for k in 0..bars {
            for g in &self.series {
                let b = &g.bars;
                let _ = writeln!(
                    s,
                    "{},{},{:.4},{:.4},{:.4},{:.4},{}",
                    utc_iso(b.timestamps[k]),
                    b.symbol,
                    b.open[k],
                    b.high[k],
                    b.low[k],
                    b.close[k],
                    b.volume[k]
                );
            }
        }
        s
    }

    /// The daily data as a polars frame in the CSV's row order: `date` (`Date`), `symbol`,
    /// `open`, `high`, `low`, `close` (`Float64`), `volume` (`Int64`).
    #[cfg(feature = "parquet")]
    pub fn daily_frame(&self) -> PolarsResult<DataFrame> {
        let n = self.dates.len() * self.series.len();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let (mut date, mut symbol) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut cols: [Vec<f64>; 4] = Default::default();
        let mut volume = Vec::with_capacity(n);
        for (t, d) in self.dates.iter().enumerate() {
            for g in &self.series {
                date.push((*d - epoch).num_days() as i32);
                symbol.push(g.params.symbol.as_str());
                cols[0].push(g.open[t]);
                cols[1].push(g.high[t]);
                cols[2].push(g.low[t]);
                cols[3].push(g.close[t]);
                volume.push(g.volume[t] as i64);
            }
        }
        let [open, high, low, close] = cols;
        DataFrame::new_infer_height(vec![
            Column::new("date".into(), date).cast(&DataType::Date)?,
            Column::new("symbol".into(), symbol),
            Column::new("open".into(), open),
            Column::new("high".into(), high),
            Column::new("low".into(), low),
            Column::new("close".into(), close),
            Column::new("volume".into(), volume),
        ])
    }

    /// The 5-minute data as a polars frame in the CSV's row order: `timestamp`
    /// (`Datetime[ms, UTC]`), `symbol`, `open`, `high`, `low`, `close` (`Float64`), `volume`
    /// (`Int64`).
    #[cfg(feature = "parquet")]
    pub fn bars_frame(&self) -> PolarsResult<DataFrame> {
        let bars = self.series.first().map_or(0, |g| g.bars.len());
        let n = bars * self.series.len();
        let (mut ts, mut symbol) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut cols: [Vec<f64>; 4] = Default::default();
        let mut volume = Vec::with_capacity(n);
        for k in 0..bars {
            for g in &self.series {
                let b = &g.bars;
                ts.push(b.timestamps[k] * 1_000);
                symbol.push(b.symbol.as_str());
                cols[0].push(b.open[k]);
                cols[1].push(b.high[k]);
                cols[2].push(b.low[k]);
                cols[3].push(b.close[k]);
                volume.push(b.volume[k] as i64);
            }
        }
        let [open, high, low, close] = cols;
        DataFrame::new_infer_height(vec![
            // Built directly: without polars' `timezones` feature a cast would drop the zone.
            Series::new("timestamp".into(), ts)
                .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
                .into_column(),
            Column::new("symbol".into(), symbol),
            Column::new("open".into(), open),
            Column::new("high".into(), high),
            Column::new("low".into(), low),
            Column::new("close".into(), close),
            Column::new("volume".into(), volume),
        ])
    }
}

/// Writes `df` to `path` as Parquet (zstd, one thread, so the bytes are reproducible).
#[cfg(feature = "parquet")]
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> PolarsResult<()> {
    let file = std::fs::File::create(path)?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .set_parallel(false)
        .finish(df)?;
    Ok(())
}

/// The table of true parameters as Markdown (for `data/README.md`).
pub fn parameters_markdown(config: &GeneratorConfig) -> String {
    let mut s = String::new();
    s.push_str(
        "| symbol | company (fictional) | model | errors | ann. vol % | mu | omega | alpha | gamma | beta | nu | persistence | start price | avg volume |\n",
    );
    s.push_str("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for p in &config.symbols {
        let opt = |name: &str, digits: usize| {
            p.param(name)
                .map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {:.3} | {:.2} | {:.1}M |",
            p.symbol,
            p.description,
            match p.spec.volatility.orders().1 {
                0 => "GARCH(1,1)",
                _ => "GJR(1,1,1)",
            },
            match p.spec.distribution {
                Distribution::Normal => "normal",
                Distribution::StudentT => "Student-t",
                Distribution::SkewT => "skewed t",
                Distribution::Ged => "GED",
            },
            p.annualized_volatility(),
            opt("mu", 3),
            opt("omega", 6),
            opt("alpha", 2),
            opt("gamma", 2),
            opt("beta", 2),
            opt("nu", 1),
            p.persistence(),
            p.start_price,
            p.base_volume / 1e6,
        );
    }
    s
}
