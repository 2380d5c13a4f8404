//! The coordinator: turns a job (many series, one model) into chunk tasks, publishes them,
//! and collects the results until every symbol is back or the deadline passes.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use garch_core::{FitOptions, FitReport, ModelSpec};
use tokio_stream::StreamExt;

use super::Topology;
use super::protocol::{ChunkResult, ChunkTask, PROTOCOL_VERSION, SeriesTask, SymbolResult};

/// Settings of a [`Coordinator`].
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// NATS server URL(s), comma-separated.
    pub url: String,
    /// JetStream names and limits (must match the workers').
    pub topology: Topology,
    /// Most symbols in one chunk. Tens of symbols amortise the per-message cost (a daily fit
    /// takes milliseconds) while leaving enough chunks to balance the load.
    pub chunk_size: usize,
    /// Wait for the server in the background instead of failing when it is down at start.
    pub wait_for_server: bool,
}

impl CoordinatorConfig {
    /// Defaults for `url`: chunks of 25, the default topology, fail fast at start.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            topology: Topology::default(),
            chunk_size: 25,
            wait_for_server: false,
        }
    }
}

/// What to fit.
#[derive(Debug, Clone)]
pub struct JobRequest {
    /// Model.
    pub spec: ModelSpec,
    /// Estimation settings.
    pub options: FitOptions,
    /// `(symbol, percent returns)`; symbols must be unique.
    pub series: Vec<(String, Vec<f64>)>,
    /// How long to wait for results in total.
    pub deadline: Duration,
}

/// One symbol's outcome in a [`JobOutcome`].
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolOutcome {
    /// Ticker.
    pub symbol: String,
    /// The report, or why there is none (the fit failed on the worker, or no result came
    /// back before the deadline).
    pub outcome: Result<FitReport, String>,
    /// Fit wall time on the worker (0 when missing).
    pub seconds: f64,
    /// Worker that fitted it (`None` when missing).
    pub worker_id: Option<String>,
}

/// The result of a job.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// The job id (also in the subjects).
    pub job_id: String,
    /// One entry per requested symbol, in request order.
    pub symbols: Vec<SymbolOutcome>,
    /// Symbols with no result at the deadline.
    pub missing: Vec<String>,
    /// Chunks the job was split into.
    pub chunks: usize,
    /// Result messages dropped because their symbols were already in (redeliveries).
    pub duplicate_results: usize,
    /// Chunk results that came from a redelivery (delivery > 1): evidence of failover.
    pub redelivered_chunks: usize,
    /// Workers that contributed.
    pub workers: BTreeSet<String>,
    /// Wall time from publishing to the last result.
    pub elapsed: Duration,
}

impl JobOutcome {
    /// Whether every symbol came back (successfully fitted or not).
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Why a job could not run or produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// The request itself is unusable.
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// NATS or JetStream failed (server down, stream missing, publish not acknowledged).
    #[error("NATS JetStream is unavailable: {0}")]
    Nats(String),
    /// Not a single result came back before the deadline.
    #[error(
        "no fit worker answered within {waited:?}: 0 of {symbols} symbols came back \
         ({chunks} chunks published, {pending} still queued, {in_flight} in flight, \
         {waiting} pull requests waiting); is a `market-svc worker --nats …` running \
         against this NATS server?"
    )]
    NoResults {
        /// How long the coordinator waited.
        waited: Duration,
        /// Symbols requested.
        symbols: usize,
        /// Chunks published.
        chunks: usize,
        /// Chunks still in the queue, as the consumer reported them at the deadline.
        pending: u64,
        /// Chunks delivered to a worker and not yet acked.
        in_flight: usize,
        /// Outstanding pull requests (0 means no worker is asking for work).
        waiting: usize,
    },
}

fn nats_err(context: &str, e: impl std::fmt::Display) -> DistributedError {
    DistributedError::Nats(format!("{context}: {e}"))
}

/// Publishes jobs and collects their results. Cheap to clone; one per process is enough.
#[derive(Clone)]
pub struct Coordinator {
    client: async_nats::Client,
    js: jetstream::Context,
    config: CoordinatorConfig,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("url", &super::redact_credentials(&self.config.url))
            .field("state", &self.client.connection_state())
            .finish()
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A fresh job id: time, process and a counter (unique without coordination).
fn new_job_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}-{:x}-{}",
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Splits series into chunks of at most `chunk_size` symbols and about `max_bytes` of
/// encoded payload. A series too large for one message on its own is returned separately.
fn plan_chunks(
    series: &[(String, Vec<f64>)],
    chunk_size: usize,
    max_bytes: usize,
) -> (Vec<Vec<usize>>, Vec<usize>) {
    // Encoded size of one series: base64 of 8 bytes per value, plus the symbol and framing.
    let cost = |(s, r): &(String, Vec<f64>)| (r.len() * 8).div_ceil(3) * 4 + s.len() + 64;
    let mut chunks = Vec::new();
    let mut too_big = Vec::new();
    let (mut current, mut bytes) = (Vec::new(), 0usize);
    for (i, item) in series.iter().enumerate() {
        let c = cost(item);
        if c > max_bytes {
            too_big.push(i);
            continue;
        }
        if !current.is_empty() && (current.len() >= chunk_size.max(1) || bytes + c > max_bytes) {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(i);
        bytes += c;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    (chunks, too_big)
}

impl Coordinator {
    /// Connects (see [`super::connect`]). Streams and consumer are declared at each job, so a
    /// NATS server that lost its storage is repaired by the next job.
    pub async fn connect(config: CoordinatorConfig) -> Result<Self, DistributedError> {
        let client = super::connect(&config.url, "garch-coordinator", config.wait_for_server)
            .await
            .map_err(|e| {
                let url = super::redact_credentials(&config.url);
                nats_err(&format!("cannot connect to {url}"), e)
            })?;
        let js = jetstream::new(client.clone());
        Ok(Self { client, js, config })
    }

    /// The NATS URL as configured (with any credentials; see
    /// [`super::redact_credentials`] before showing it).
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Whether the client is connected right now.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Runs a job: publishes its chunks, then collects results until every symbol is back or
    /// `job.deadline` passes. Returns the outcome (symbols that failed or are missing carry
    /// the reason), or an error if nothing came back at all or NATS is unavailable.
    pub async fn run(&self, job: JobRequest) -> Result<JobOutcome, DistributedError> {
        let start = Instant::now();
        let deadline_at = SystemTime::now() + job.deadline;
        let n = job.series.len();
        if n == 0 {
            return Err(DistributedError::InvalidJob("no series to fit".into()));
        }
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, (s, _)) in job.series.iter().enumerate() {
            if index.insert(s.as_str(), i).is_some() {
                return Err(DistributedError::InvalidJob(format!(
                    "symbol '{s}' appears twice"
                )));
            }
        }
        let topo = &self.config.topology;
        let (tasks_stream, results_stream, mut consumer) = topo
            .ensure(&self.js)
            .await
            .map_err(|e| nats_err("cannot declare the JetStream streams", e))?;
        let job_id = new_job_id();
        let task_subject = topo.task_subject(&job_id);
        let result_subject = topo.result_subject(&job_id);

        // Subscribe before publishing (the ordered consumer replays from the start anyway).
        let mut results = results_stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: result_subject.clone(),
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| nats_err("cannot subscribe to results", e))?
            .messages()
            .await
            .map_err(|e| nats_err("cannot subscribe to results", e))?;

        // 3/4 of max_payload leaves room for JSON framing and headers.
        let max_bytes = (self.client.server_info().max_payload.max(64 * 1024)) * 3 / 4;
        let (chunks, too_big) = plan_chunks(&job.series, self.config.chunk_size, max_bytes);
        let mut outcomes: Vec<Option<SymbolOutcome>> = vec![None; n];
        for i in too_big {
            outcomes[i] = Some(SymbolOutcome {
                symbol: job.series[i].0.clone(),
                outcome: Err(format!(
                    "series of {} returns is too large for one NATS message \
                     (server max_payload {} bytes)",
                    job.series[i].1.len(),
                    self.client.server_info().max_payload
                )),
                seconds: 0.0,
                worker_id: None,
            });
        }
        let mut acks = Vec::with_capacity(chunks.len());
        for (chunk_id, members) in chunks.iter().enumerate() {
            let task = ChunkTask {
                version: PROTOCOL_VERSION,
                job_id: job_id.clone(),
                chunk_id: chunk_id as u32,
                spec: job.spec,
                options: job.options,
                deadline_unix_ms: unix_ms(deadline_at),
                series: members
                    .iter()
                    .map(|&i| SeriesTask {
                        symbol: job.series[i].0.clone(),
                        returns: job.series[i].1.clone(),
                    })
                    .collect(),
            };
            let payload = serde_json::to_vec(&task).map_err(|e| nats_err("encoding", e))?;
            let ack = self
                .js
                .send_publish(
                    task_subject.clone(),
                    PublishMessage::build()
                        .payload(payload.into())
                        .message_id(format!("{job_id}.{chunk_id}")),
                )
                .await
                .map_err(|e| nats_err("cannot publish a chunk", e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| nats_err("JetStream did not store a chunk", e))?;
        }
        tracing::info!(job = %job_id, symbols = n, chunks = chunks.len(), "job published");

        let mut outstanding = outcomes.iter().filter(|o| o.is_none()).count();
        let (mut duplicates, mut redelivered) = (0usize, 0usize);
        let mut workers = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + job.deadline;
        while outstanding > 0 {
            let next = match tokio::time::timeout_at(deadline, results.next()).await {
                Err(_) => break, // deadline
                Ok(None) => return Err(nats_err("result subscription", "closed")),
                Ok(Some(Err(e))) => {
                    // The ordered consumer recreates itself after most errors; keep going.
                    tracing::warn!(job = %job_id, error = %e, "result stream error");
                    continue;
                }
                Ok(Some(Ok(m))) => m,
            };
            let result: ChunkResult = match serde_json::from_slice(&next.payload) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(job = %job_id, error = %e, "unreadable result ignored");
                    continue;
                }
            };
            if result.job_id != job_id {
                continue;
            }
            if result.delivery > 1 {
                redelivered += 1;
            }
            let mut fresh = false;
            for SymbolResult {
                symbol,
                seconds,
                outcome,
            } in result.results
            {
                let Some(&i) = index.get(symbol.as_str()) else {
                    continue;
                };
                if outcomes[i].is_some() {
                    duplicates += 1;
                    continue;
                }
                fresh = true;
                outstanding -= 1;
                outcomes[i] = Some(SymbolOutcome {
                    symbol,
                    outcome,
                    seconds,
                    worker_id: Some(result.worker_id.clone()),
                });
            }
            if fresh {
                workers.insert(result.worker_id);
            }
        }
        let elapsed = start.elapsed();

        // Leftovers: queued chunks of this job nobody needs any more, and its results.
        let info = if outstanding > 0 {
            consumer.info().await.ok().cloned()
        } else {
            None
        };
        for (stream, subject) in [
            (&tasks_stream, &task_subject),
            (&results_stream, &result_subject),
        ] {
            if let Err(e) = stream.purge().filter(subject.as_str()).await {
                tracing::warn!(job = %job_id, error = %e, "cannot purge the job's messages");
            }
        }
        let received = n - outstanding;
        if received == 0 {
            let (pending, in_flight, waiting) = info
                .map(|i| (i.num_pending, i.num_ack_pending, i.num_waiting))
                .unwrap_or_default();
            return Err(DistributedError::NoResults {
                waited: job.deadline,
                symbols: n,
                chunks: chunks.len(),
                pending,
                in_flight,
                waiting,
            });
        }
        let mut missing = Vec::new();
        let symbols = outcomes
            .into_iter()
            .zip(&job.series)
            .map(|(o, (symbol, _))| {
                o.unwrap_or_else(|| {
                    missing.push(symbol.clone());
                    SymbolOutcome {
                        symbol: symbol.clone(),
                        outcome: Err(format!(
                            "no result from the workers within {:?} (job {job_id})",
                            job.deadline
                        )),
                        seconds: 0.0,
                        worker_id: None,
                    }
                })
            })
            .collect();
        tracing::info!(
            job = %job_id, symbols = n, missing = missing.len(), duplicates, redelivered,
            workers = workers.len(), elapsed = ?elapsed, "job finished"
        );
        Ok(JobOutcome {
            job_id,
            symbols,
            missing,
            chunks: chunks.len(),
            duplicate_results: duplicates,
            redelivered_chunks: redelivered,
            workers,
            elapsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_count_and_bytes() {
        let series: Vec<(String, Vec<f64>)> =
            (0..10).map(|i| (format!("S{i}"), vec![0.0; 300])).collect();
        let (chunks, big) = plan_chunks(&series, 4, 1 << 20);
        assert!(big.is_empty());
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        // ~3.3 KB per series: a 7 KB budget holds two.
        let (chunks, _) = plan_chunks(&series, 25, 7_000);
        assert!(chunks.iter().all(|c| c.len() == 2));
        let (chunks, big) = plan_chunks(&series, 25, 1_000);
        assert!(chunks.is_empty());
        assert_eq!(big.len(), 10);
    }

    #[test]
    fn job_ids_are_unique_subject_tokens() {
        let a = new_job_id();
        let b = new_job_id();
        assert_ne!(a, b);
        assert_eq!(super::super::subject_token(&a), a);
    }
}
