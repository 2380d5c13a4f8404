//! Typed HTTP client for market-svc and signals-svc.
//!
//! Only the fields the dashboard shows are deserialized, into this module's own structs, so the
//! services can add fields freely. Every failure — connection refused, timeout, a non-2xx status
//! (with its `application/problem+json` body when there is one), a body that does not parse — is
//! an [`ApiError`]; nothing here panics on what a server sends.
//!
//! Split as a client's parts: this module holds [`ApiClient`] (one method per endpoint) and
//! [`Call`], the record of one request; `wire` has the response structs, as far as the
//! dashboard reads them; `error` has [`ApiError`]. Everything is re-exported here.

mod error;
pub mod stream;
#[cfg(test)]
mod tests;
mod wire;

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::app::{Dist, Model, Service};
use error::ProblemBody;

pub use error::ApiError;
pub use wire::{
    BacktestDay, BacktestReport, Christoffersen, Computed, CoverageTest, DieboldMariano,
    DistributedStats, FailedModel, FitMode, FitsRun, FitsSymbol, ForecastPath, ForecastStep,
    History, IntervalStep, Intervals, LatestSignal, MincerZarnowitz, ModelRanking, Param, Pending,
    Quantile, RankedModel, Readiness, Report, SignalPoints, SignalRow, SignalScreener,
    SymbolSignals, TrafficLight, UniverseAsset, UniverseRun, VolDetail, VolRow, VolScreener,
    WireSpec, WireVolatility, Zone,
};

/// Levels of the forecast band the detail view draws: the 5 % and 95 % return quantiles.
pub const BAND_LEVELS: [f64; 2] = [0.05, 0.95];

/// VaR levels of every backtest the dashboard asks for: 1 % and 5 % (the JSON keys `0.01`,
/// `0.05`).
pub const VAR_LEVELS: [f64; 2] = [0.01, 0.05];

/// The JSON key of a VaR level, as market-svc writes it (`0.01`).
pub fn level_key(level: f64) -> String {
    format!("{level}")
}

/// The setting of a backtest request: estimation window and returns between refits (rolling
/// windows, levels [`VAR_LEVELS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setting {
    /// Estimation window in returns.
    pub window: usize,
    /// Returns between refits.
    pub refit_every: usize,
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

/// Bearer tokens of the services, for their protected routes (refits, appends). A service with a
/// token gets it on every request: its open routes ignore it.
#[derive(Clone, Default)]
pub struct Tokens {
    /// market-svc's token (`MARKET_SVC_TOKEN`).
    pub market: Option<String>,
    /// signals-svc's token (`SIGNALS_SVC_TOKEN`).
    pub signals: Option<String>,
}

impl std::fmt::Debug for Tokens {
    // Never print a token: say only which services have one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("market", &self.market.as_ref().map(|_| "***"))
            .field("signals", &self.signals.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The HTTP client of both services. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: Tokens,
}

/// Timeout of ordinary calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of a whole refit or universe backtest (the sequential one runs on one thread).
const FITS_TIMEOUT: Duration = Duration::from_secs(600);

impl ApiClient {
    /// A client of the services at `endpoints`.
    pub fn new(endpoints: Endpoints) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            endpoints,
            tokens: Tokens::default(),
        }
    }

    /// The same client, sending `tokens` to their services. Empty tokens are dropped (the
    /// services treat an empty configured token as none, too).
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        let keep = |t: Option<String>| t.filter(|t| !t.is_empty());
        self.tokens = Tokens {
            market: keep(tokens.market),
            signals: keep(tokens.signals),
        };
        self
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The base URL of `service`, if it has one.
    pub fn base_url(&self, service: Service) -> Option<String> {
        self.base(service).ok().map(str::to_string)
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
        self.send_full(service, path, build)
            .await
            .map(|answer| answer.body)
    }

    /// As [`Self::send`], keeping the success status and its `Retry-After` (202 answers).
    async fn send_full(
        &self,
        service: Service,
        path: &str,
        build: impl FnOnce(&reqwest::Client, String) -> reqwest::RequestBuilder,
    ) -> Call<Answer> {
        let base = match self.base(service) {
            Ok(b) => b.trim_end_matches('/').to_string(),
            Err(why) => return Call::unavailable(service, path, why),
        };
        let token = match service {
            Service::Market => self.tokens.market.as_deref(),
            Service::Signals => self.tokens.signals.as_deref(),
        };
        let start = Instant::now();
        let result = async {
            let mut request = build(&self.http, format!("{base}{path}"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let resp = request
                .send()
                .await
                .map_err(|e| ApiError::Unreachable(describe(&e)))?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = resp
                .bytes()
                .await
                .map_err(|e| ApiError::Unreachable(describe(&e)))?;
            if status.is_success() {
                Ok(Answer {
                    status: status.as_u16(),
                    retry_after,
                    body: body.to_vec(),
                })
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

    /// `GET /v1/assets/{symbol}/volatility`, with the return quantiles at [`BAND_LEVELS`].
    pub async fn vol_detail(
        &self,
        symbol: &str,
        model: Model,
        dist: Dist,
        horizon: usize,
    ) -> Call<VolDetail> {
        let path = format!(
            "/v1/assets/{}/volatility?model={}&dist={}&horizon={horizon}&levels={},{}",
            encode(symbol),
            model.as_str(),
            dist.as_str(),
            BAND_LEVELS[0],
            BAND_LEVELS[1]
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

    /// `GET /v1/assets/{symbol}/backtest` at [`VAR_LEVELS`], the last `limit` days of the path;
    /// 202 (still computing) is [`Computed::Pending`].
    pub async fn backtest(
        &self,
        symbol: &str,
        model: Model,
        dist: Dist,
        setting: Setting,
        limit: usize,
    ) -> Call<Computed<BacktestReport>> {
        let path = format!(
            "/v1/assets/{}/backtest?model={}&dist={}&window={}&refit_every={}&levels={}&limit={limit}",
            encode(symbol),
            model.as_str(),
            dist.as_str(),
            setting.window,
            setting.refit_every,
            levels_query(),
        );
        let call = self
            .send_full(Service::Market, &path, |c, url| {
                c.get(url).timeout(CALL_TIMEOUT)
            })
            .await;
        decode_computed(call)
    }

    /// `GET /v1/assets/{symbol}/models`: the candidate models ranked by mean QLIKE; 202 (still
    /// computing) is [`Computed::Pending`].
    pub async fn models(&self, symbol: &str, setting: Setting) -> Call<Computed<ModelRanking>> {
        let path = format!(
            "/v1/assets/{}/models?window={}&refit_every={}&levels={}",
            encode(symbol),
            setting.window,
            setting.refit_every,
            levels_query(),
        );
        let call = self
            .send_full(Service::Market, &path, |c, url| {
                c.get(url).timeout(CALL_TIMEOUT)
            })
            .await;
        decode_computed(call)
    }

    /// `POST /v1/backtests` in `mode`: every symbol backtested, with timings and digests.
    pub async fn run_backtests(
        &self,
        mode: FitMode,
        model: Model,
        dist: Dist,
        setting: Setting,
    ) -> Call<UniverseRun> {
        let body = serde_json::json!({
            "mode": mode.as_str(),
            "model": model.as_str(),
            "dist": dist.as_str(),
            "window": setting.window,
            "refit_every": setting.refit_every,
            "levels": levels_query(),
        });
        let call = self
            .send(Service::Market, "/v1/backtests", |c, url| {
                c.post(url).json(&body).timeout(FITS_TIMEOUT)
            })
            .await;
        decode(call)
    }
}

/// `0.01,0.05`.
fn levels_query() -> String {
    VAR_LEVELS.map(level_key).join(",")
}

/// A successful answer: status, `Retry-After` seconds and body.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Vec<u8>,
}

/// Decodes an answer of an on-demand route: 202 is [`Computed::Pending`] (its body, or the
/// `Retry-After` header when the body says nothing), any other success the result.
fn decode_computed<T: DeserializeOwned>(call: Call<Answer>) -> Call<Computed<T>> {
    let Call {
        service,
        path,
        latency,
        result,
    } = call;
    let result = result.and_then(|a| {
        if a.status == 202 {
            let pending = serde_json::from_slice::<Pending>(&a.body).unwrap_or(Pending {
                detail: "being computed".into(),
                retry_after: a.retry_after.unwrap_or(5),
            });
            Ok(Computed::Pending(pending))
        } else {
            serde_json::from_slice::<T>(&a.body)
                .map(Computed::Ready)
                .map_err(|e| ApiError::Decode(e.to_string()))
        }
    });
    Call {
        service,
        path,
        latency,
        result,
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
