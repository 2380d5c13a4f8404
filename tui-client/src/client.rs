//! Typed HTTP client for market-svc and signals-svc.
//!
//! Only the fields the dashboard shows are deserialized, into this module's own structs, so the
//! services can add fields freely. Every failure — connection refused, timeout, a non-2xx status
//! (with its `application/problem+json` body when there is one), a body that does not parse — is
//! an [`ApiError`]; nothing here panics on what a server sends.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::app::{Dist, Model, Service};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No connection (refused, DNS, reset) or the request timed out.
    Unreachable(String),
    /// The service answered with an error status.
    Status {
        /// HTTP status code.
        status: u16,
        /// Problem title (or the status text).
        title: String,
        /// Problem detail, if the body was a problem.
        detail: Option<String>,
    },
    /// The body could not be read or parsed.
    Decode(String),
    /// The service is not available at all in this build or configuration.
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status, if the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(e) => write!(f, "unreachable: {e}"),
            Self::Status {
                status,
                title,
                detail,
            } => {
                write!(f, "HTTP {status} {title}")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            Self::Decode(e) => write!(f, "bad response: {e}"),
            Self::Unavailable(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// `application/problem+json` body (the fields we show).
#[derive(Debug, Deserialize)]
struct ProblemBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// `GET /v1/volatility` — the market screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolScreener {
    /// Horizon of the forecasts.
    #[serde(default)]
    pub horizon: usize,
    /// One row per symbol.
    #[serde(default)]
    pub rows: Vec<VolRow>,
}

/// One row of the market screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolRow {
    /// Ticker.
    pub symbol: String,
    /// Annualised volatility forecast at the horizon, percent.
    #[serde(default)]
    pub annualized_forecast: Option<f64>,
    /// Long-run annualised volatility, percent.
    #[serde(default)]
    pub long_run_annualized: Option<f64>,
    /// Persistence of variance shocks.
    #[serde(default)]
    pub persistence: Option<f64>,
    /// Half-life of shocks in days.
    #[serde(default)]
    pub half_life_days: Option<f64>,
    /// Whether the fit converged.
    #[serde(default)]
    pub converged: bool,
    /// Why the symbol could not be fitted.
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /v1/signals` — the signals screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignalScreener {
    /// Bar interval.
    #[serde(default)]
    pub interval: String,
    /// One row per symbol.
    #[serde(default)]
    pub rows: Vec<SignalRow>,
}

/// One row of the signals screener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignalRow {
    /// Ticker.
    pub symbol: String,
    /// Latest close.
    #[serde(default)]
    pub close: Option<f64>,
    /// Latest RSI.
    #[serde(default)]
    pub rsi: Option<f64>,
    /// Latest %B.
    #[serde(default)]
    pub percent_b: Option<f64>,
    /// Latest bandwidth.
    #[serde(default)]
    pub bandwidth: Option<f64>,
    /// `long`, `short` or `flat`.
    #[serde(default)]
    pub signal: Option<String>,
    /// Why the signal fired.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// A named model parameter with its standard error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Param {
    /// `mu`, `omega`, `alpha`, …
    pub name: String,
    /// Estimate.
    pub value: f64,
    /// Standard error.
    #[serde(default)]
    pub std_err: Option<f64>,
    /// p-value.
    #[serde(default)]
    pub p_value: Option<f64>,
}

/// The fit report fields shown in the detail view.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Report {
    /// Parameters.
    #[serde(default)]
    pub params: Vec<Param>,
    /// Log-likelihood.
    pub log_likelihood: f64,
    /// Akaike information criterion.
    #[serde(default)]
    pub aic: Option<f64>,
    /// Bayesian information criterion.
    #[serde(default)]
    pub bic: Option<f64>,
    /// Observations.
    #[serde(default)]
    pub nobs: usize,
    /// Whether the optimiser converged.
    #[serde(default)]
    pub converged: bool,
    /// Iterations used.
    #[serde(default)]
    pub iterations: u64,
    /// Optimiser status text.
    #[serde(default)]
    pub status: String,
    /// Parameters at a bound.
    #[serde(default)]
    pub at_bounds: Vec<String>,
    /// Persistence.
    #[serde(default)]
    pub persistence: Option<f64>,
    /// Half-life in days.
    #[serde(default)]
    pub half_life_days: Option<f64>,
    /// Long-run annualised volatility, percent.
    #[serde(default)]
    pub annualized_volatility: Option<f64>,
}

/// One forecast step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ForecastStep {
    /// Days ahead.
    pub horizon: usize,
    /// Annualised volatility, percent.
    pub annualized_volatility: f64,
}

/// A forecast path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ForecastPath {
    /// Steps `1..=horizon`.
    #[serde(default)]
    pub steps: Vec<ForecastStep>,
}

/// `GET /v1/assets/{symbol}/volatility`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VolDetail {
    /// Ticker.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Last date of the data.
    #[serde(default)]
    pub data_through: Option<String>,
    /// Seconds the fit took.
    #[serde(default)]
    pub fit_seconds: Option<f64>,
    /// The fit.
    pub report: Report,
    /// The forecast path.
    pub forecast: ForecastPath,
}

/// `GET /v1/assets/{symbol}/history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct History {
    /// Dates.
    #[serde(default)]
    pub dates: Vec<String>,
    /// Conditional volatility, percent per day.
    #[serde(default)]
    pub conditional_volatility: Vec<f64>,
    /// Realized volatility, percent per day (null where no intraday data).
    #[serde(default)]
    pub realized_volatility: Vec<Option<f64>>,
}

/// Latest indicator values of one symbol.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LatestSignal {
    /// Bar time.
    #[serde(default)]
    pub timestamp: String,
    /// Close.
    #[serde(default)]
    pub close: Option<f64>,
    /// RSI.
    #[serde(default)]
    pub rsi: Option<f64>,
    /// %B.
    #[serde(default)]
    pub percent_b: Option<f64>,
    /// `long`, `short` or `flat`.
    #[serde(default)]
    pub signal: Option<String>,
    /// Why.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Chart series of one symbol (null during warm-up).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SignalPoints {
    /// Bar times.
    #[serde(default)]
    pub timestamps: Vec<String>,
    /// Closes.
    #[serde(default)]
    pub close: Vec<Option<f64>>,
    /// RSI.
    #[serde(default)]
    pub rsi: Vec<Option<f64>>,
    /// Upper band.
    #[serde(default)]
    pub bb_upper: Vec<Option<f64>>,
    /// Middle band.
    #[serde(default)]
    pub bb_middle: Vec<Option<f64>>,
    /// Lower band.
    #[serde(default)]
    pub bb_lower: Vec<Option<f64>>,
}

/// `GET /v1/assets/{symbol}/signals`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SymbolSignals {
    /// Latest values.
    pub latest: LatestSignal,
    /// Chart series.
    #[serde(default)]
    pub points: SignalPoints,
}

/// `POST /v1/fits`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FitsRun {
    /// Wall time in seconds.
    pub total_seconds: f64,
    /// Throughput.
    #[serde(default)]
    pub fits_per_second: f64,
    /// Per-symbol outcomes.
    #[serde(default)]
    pub symbols: Vec<FitsSymbol>,
}

/// One symbol of a refit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FitsSymbol {
    /// Whether it was fitted.
    #[serde(default)]
    pub ok: bool,
}

/// `GET /ready` when ready, or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// 200.
    Ready,
    /// 503 with the problem detail.
    NotReady(String),
}

/// Refit modes of `POST /v1/fits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitMode {
    /// One thread.
    Sequential,
    /// Rayon pool.
    Parallel,
    /// NATS workers (501 until available).
    Distributed,
}

impl FitMode {
    /// All modes, in the order the benchmark runs them.
    pub const ALL: [FitMode; 3] = [Self::Sequential, Self::Parallel, Self::Distributed];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::Parallel => "parallel",
            Self::Distributed => "distributed",
        }
    }
}

/// What a call did: which service and path, how long it took, and its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Call<T> {
    /// Service called.
    pub service: Service,
    /// Path (without the query).
    pub path: String,
    /// Round-trip time.
    pub latency: Duration,
    /// Outcome.
    pub result: Result<T, ApiError>,
}

impl<T> Call<T> {
    /// A call that never left this process (the service is not available).
    pub fn unavailable(service: Service, path: &str, why: &str) -> Self {
        Self {
            service,
            path: path.split('?').next().unwrap_or(path).to_string(),
            latency: Duration::ZERO,
            result: Err(ApiError::Unavailable(why.to_string())),
        }
    }

    /// Same call, another result type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Call<U> {
        Call {
            service: self.service,
            path: self.path,
            latency: self.latency,
            result: self.result.map(f),
        }
    }
}

/// Base URLs of the services (`Err`: why that service is not available).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// market-svc, e.g. `http://127.0.0.1:8001`.
    pub market: Result<String, String>,
    /// signals-svc.
    pub signals: Result<String, String>,
}

/// The HTTP client of both services. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    endpoints: Endpoints,
}

/// Timeout of ordinary calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of a whole refit (the sequential one fits every symbol on one thread).
const FITS_TIMEOUT: Duration = Duration::from_secs(600);

impl ApiClient {
    /// A client of the services at `endpoints`.
    pub fn new(endpoints: Endpoints) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { http, endpoints }
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn base(&self, service: Service) -> Result<&str, &str> {
        let endpoint = match service {
            Service::Market => &self.endpoints.market,
            Service::Signals => &self.endpoints.signals,
        };
        endpoint.as_deref().map_err(String::as_str)
    }

    async fn send(
        &self,
        service: Service,
        path: &str,
        build: impl FnOnce(&reqwest::Client, String) -> reqwest::RequestBuilder,
    ) -> Call<Vec<u8>> {
        let base = match self.base(service) {
            Ok(b) => b.trim_end_matches('/').to_string(),
            Err(why) => return Call::unavailable(service, path, why),
        };
        let start = Instant::now();
        let result = async {
            let resp = build(&self.http, format!("{base}{path}"))
                .send()
                .await
                .map_err(|e| ApiError::Unreachable(describe(&e)))?;
            let status = resp.status();
            let body = resp
                .bytes()
                .await
                .map_err(|e| ApiError::Unreachable(describe(&e)))?;
            if status.is_success() {
                Ok(body.to_vec())
            } else {
                let problem: Option<ProblemBody> = serde_json::from_slice(&body).ok();
                let reason = status.canonical_reason().unwrap_or("error").to_string();
                Err(ApiError::Status {
                    status: status.as_u16(),
                    title: problem
                        .as_ref()
                        .and_then(|p| p.title.clone())
                        .unwrap_or(reason),
                    detail: problem.and_then(|p| p.detail),
                })
            }
        }
        .await;
        Call {
            service,
            path: path.split('?').next().unwrap_or(path).to_string(),
            latency: start.elapsed(),
            result,
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, service: Service, path: &str) -> Call<T> {
        let call = self
            .send(service, path, |c, url| c.get(url).timeout(CALL_TIMEOUT))
            .await;
        decode(call)
    }

    /// `GET /health`: `Ok(())` when it answers 2xx.
    pub async fn health(&self, service: Service) -> Call<()> {
        self.send(service, "/health", |c, url| {
            c.get(url).timeout(CALL_TIMEOUT)
        })
        .await
        .map(|_| ())
    }

    /// `GET /ready`: 503 is a normal answer here (not ready, with the reason).
    pub async fn ready(&self, service: Service) -> Call<Readiness> {
        let call = self
            .send(service, "/ready", |c, url| c.get(url).timeout(CALL_TIMEOUT))
            .await;
        let result = match call.result {
            Ok(_) => Ok(Readiness::Ready),
            Err(ApiError::Status {
                status: 503,
                title,
                detail,
            }) => Ok(Readiness::NotReady(detail.unwrap_or(title))),
            Err(e) => Err(e),
        };
        Call {
            service: call.service,
            path: call.path,
            latency: call.latency,
            result,
        }
    }

    /// `GET /v1/volatility`.
    pub async fn vol_screener(
        &self,
        model: Model,
        dist: Dist,
        horizon: usize,
    ) -> Call<VolScreener> {
        let path = format!(
            "/v1/volatility?model={}&dist={}&horizon={horizon}",
            model.as_str(),
            dist.as_str()
        );
        self.get_json(Service::Market, &path).await
    }

    /// `GET /v1/assets/{symbol}/volatility`.
    pub async fn vol_detail(
        &self,
        symbol: &str,
        model: Model,
        dist: Dist,
        horizon: usize,
    ) -> Call<VolDetail> {
        let path = format!(
            "/v1/assets/{}/volatility?model={}&dist={}&horizon={horizon}",
            encode(symbol),
            model.as_str(),
            dist.as_str()
        );
        self.get_json(Service::Market, &path).await
    }

    /// `GET /v1/assets/{symbol}/history`.
    pub async fn history(
        &self,
        symbol: &str,
        model: Model,
        dist: Dist,
        limit: usize,
    ) -> Call<History> {
        let path = format!(
            "/v1/assets/{}/history?model={}&dist={}&limit={limit}",
            encode(symbol),
            model.as_str(),
            dist.as_str()
        );
        self.get_json(Service::Market, &path).await
    }

    /// `GET /v1/signals`.
    pub async fn signal_screener(&self, interval: &str) -> Call<SignalScreener> {
        let path = format!("/v1/signals?interval={interval}");
        self.get_json(Service::Signals, &path).await
    }

    /// `GET /v1/assets/{symbol}/signals`.
    pub async fn symbol_signals(
        &self,
        symbol: &str,
        interval: &str,
        limit: usize,
    ) -> Call<SymbolSignals> {
        let path = format!(
            "/v1/assets/{}/signals?interval={interval}&limit={limit}",
            encode(symbol)
        );
        self.get_json(Service::Signals, &path).await
    }

    /// `POST /v1/fits` in `mode`.
    pub async fn run_fits(&self, mode: FitMode, model: Model, dist: Dist) -> Call<FitsRun> {
        let body = serde_json::json!({
            "mode": mode.as_str(),
            "model": model.as_str(),
            "dist": dist.as_str(),
        });
        let call = self
            .send(Service::Market, "/v1/fits", |c, url| {
                c.post(url).json(&body).timeout(FITS_TIMEOUT)
            })
            .await;
        decode(call)
    }
}

fn decode<T: DeserializeOwned>(call: Call<Vec<u8>>) -> Call<T> {
    let Call {
        service,
        path,
        latency,
        result,
    } = call;
    let result = result
        .and_then(|b| serde_json::from_slice::<T>(&b).map_err(|e| ApiError::Decode(e.to_string())));
    Call {
        service,
        path,
        latency,
        result,
    }
}

/// A short description of a transport error (reqwest's Display hides the cause).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() && !text.contains(&last) {
        text.push_str(" (");
        text.push_str(&last);
        text.push(')');
    }
    text
}

/// Percent-encodes a path segment (tickers are usually plain, but `BRK.B` or `^GSPC` exist).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_only_needed_fields_and_tolerates_extra_ones() {
        let json = r#"{"spec":{"mean":"constant"},"horizon":10,"rows":[
            {"symbol":"AAA","annualized_forecast":20.5,"daily_forecast":1.2,
             "long_run_annualized":18.0,"persistence":0.97,"half_life_days":22.8,
             "converged":true,"error":null,"extra":"x"},
            {"symbol":"BBB","annualized_forecast":null,"converged":false,"error":"too short"}]}"#;
        let v: VolScreener = serde_json::from_str(json).unwrap();
        assert_eq!(v.rows.len(), 2);
        assert_eq!(v.rows[0].persistence, Some(0.97));
        assert_eq!(v.rows[1].error.as_deref(), Some("too short"));
    }

    #[test]
    fn decodes_signals_with_warmup_nulls() {
        let json = r#"{"symbol":"AAA","interval":"5m",
          "latest":{"timestamp":"2024-01-02T15:55:00Z","close":101.0,"rsi":55.0,"bb_upper":103.0,
            "bb_middle":100.0,"bb_lower":97.0,"percent_b":0.66,"bandwidth":0.06,"signal":"flat",
            "reasons":[]},
          "points":{"timestamps":["a","b"],"close":[1.0,2.0],"rsi":[null,50.0],
            "bb_upper":[null,3.0],"bb_middle":[null,2.0],"bb_lower":[null,1.0]}}"#;
        let v: SymbolSignals = serde_json::from_str(json).unwrap();
        assert_eq!(v.points.rsi, vec![None, Some(50.0)]);
        assert_eq!(v.latest.signal.as_deref(), Some("flat"));
    }

    #[test]
    fn bad_body_is_a_decode_error_not_a_panic() {
        let call = Call {
            service: Service::Market,
            path: "/v1/volatility".into(),
            latency: Duration::ZERO,
            result: Ok(b"<html>".to_vec()),
        };
        let out: Call<VolScreener> = decode(call);
        assert!(matches!(out.result, Err(ApiError::Decode(_))));
    }

    #[test]
    fn errors_read_well() {
        let e = ApiError::Status {
            status: 501,
            title: "Distributed unavailable".into(),
            detail: Some("no workers".into()),
        };
        assert_eq!(
            e.to_string(),
            "HTTP 501 Distributed unavailable: no workers"
        );
        assert_eq!(e.status(), Some(501));
        assert_eq!(encode("BRK.B"), "BRK.B");
        assert_eq!(encode("^GSPC"), "%5EGSPC");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        // Bind and drop to get a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = ApiClient::new(Endpoints {
            market: Ok(format!("http://127.0.0.1:{port}")),
            signals: Err("signals-svc not available in this build".into()),
        });
        let call = client.health(Service::Market).await;
        assert!(matches!(call.result, Err(ApiError::Unreachable(_))));
        let call = client.signal_screener("5m").await;
        assert_eq!(
            call.result,
            Err(ApiError::Unavailable(
                "signals-svc not available in this build".into()
            ))
        );
    }
}
