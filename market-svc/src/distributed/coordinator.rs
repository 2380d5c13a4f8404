//! The coordinator: turns a job (many series, one model; or a universe backtest) into chunk
//! tasks, publishes them, and collects the results until everything is back or the deadline
//! passes.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use backtest::{Backtest, BacktestConfig, BacktestError};
use garch_core::{FitOptions, FitReport, ModelSpec, Returns};
use tokio_stream::StreamExt;

use super::Topology;
use super::protocol::{
    BacktestWork, BlockContext, BlockResult, BlockTask, ChunkResult, ChunkResults, ChunkTask,
    FitWork, Message, PROTOCOL_VERSION, SeriesTask, SymbolResult, TaskWork,
};

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
    /// Most backtest blocks in one chunk. A block of a few hundred daily refits is already
    /// tens of milliseconds of work, and a worker holds at most `--concurrency` chunks, so
    /// one block per chunk balances best; results come back one message per block anyway.
    pub blocks_per_chunk: usize,
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
            blocks_per_chunk: 1,
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

/// A universe backtest: one model and setting over many assets, cut into blocks of `block`
/// windows exactly as [`backtest::run_universe`] cuts them (the block length is part of the
/// setting: each block starts cold, so the same `block` gives the same bits).
#[derive(Debug, Clone)]
pub struct BacktestJobRequest {
    /// Model.
    pub spec: ModelSpec,
    /// Scheme, window, refit cadence, levels, horizons.
    pub config: BacktestConfig,
    /// Estimation settings of every refit.
    pub options: FitOptions,
    /// Windows per block (≥ 1).
    pub block: usize,
    /// `(symbol, percent returns)`; symbols must be unique.
    pub series: Vec<(String, Vec<f64>)>,
    /// How long to wait for results in total.
    pub deadline: Duration,
}

/// One asset's backtest in a [`BacktestJobOutcome`].
#[derive(Debug, Clone, PartialEq)]
pub struct AssetBacktestOutcome {
    /// Ticker.
    pub symbol: String,
    /// The backtest (blocks joined in window order), or why there is none: the asset's
    /// series or the setting is unusable for it, a block failed on its worker (the first
    /// failing block's error, as `run_universe`), or blocks were missing at the deadline.
    pub outcome: Result<Backtest, String>,
    /// Worker time summed over the asset's blocks, in seconds.
    pub seconds: f64,
    /// Workers that ran its blocks.
    pub workers: BTreeSet<String>,
}

/// The result of a universe backtest job.
#[derive(Debug, Clone)]
pub struct BacktestJobOutcome {
    /// The job id (also in the subjects).
    pub job_id: String,
    /// One entry per requested asset, in request order.
    pub assets: Vec<AssetBacktestOutcome>,
    /// Assets with at least one block missing at the deadline.
    pub missing: Vec<String>,
    /// Chunks the job was split into.
    pub chunks: usize,
    /// Blocks (tasks of (asset, window range)) in the job.
    pub blocks: usize,
    /// Block results dropped because the block was already in (redeliveries).
    pub duplicate_results: usize,
    /// Chunks with results from a redelivery (delivery > 1): evidence of failover.
    pub redelivered_chunks: usize,
    /// Workers that contributed.
    pub workers: BTreeSet<String>,
    /// Wall time from publishing to the last result.
    pub elapsed: Duration,
}

impl BacktestJobOutcome {
    /// Whether every block came back (successfully run or not).
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

/// Budgeted size of `n` returns in a task: base64 of 8 bytes each, more than the raw bytes a
/// task carries, so a chunk also fits where it is shown as JSON.
fn encoded_len(n: usize) -> usize {
    (n * 8).div_ceil(3) * 4
}

/// Splits series into chunks of at most `chunk_size` symbols and about `max_bytes` of
/// encoded payload. A series too large for one message on its own is returned separately.
fn plan_chunks(
    series: &[(String, Vec<f64>)],
    chunk_size: usize,
    max_bytes: usize,
) -> (Vec<Vec<usize>>, Vec<usize>) {
    // Encoded size of one series: base64 of 8 bytes per value, plus the symbol and framing.
    let cost = |(s, r): &(String, Vec<f64>)| encoded_len(r.len()) + s.len() + 64;
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

/// One block of a backtest job before it is sent.
struct PlannedBlock {
    asset: usize,
    block: usize,
    windows: Range<usize>,
    offset: usize,
}

/// A job's subjects, streams and result subscription while it runs.
struct Dispatch {
    job_id: String,
    task_subject: String,
    result_subject: String,
    tasks_stream: jetstream::stream::Stream,
    results_stream: jetstream::stream::Stream,
    consumer: consumer::PullConsumer,
    results: consumer::pull::Ordered,
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

    /// Payload budget of one task: 3/4 of max_payload leaves room for JSON framing and
    /// headers.
    fn max_task_bytes(&self) -> usize {
        (self.client.server_info().max_payload.max(64 * 1024)) * 3 / 4
    }

    /// Declares the topology, picks a job id and subscribes to its results (before
    /// publishing; the ordered consumer replays from the start anyway).
    async fn open(&self) -> Result<Dispatch, DistributedError> {
        let topo = &self.config.topology;
        let (tasks_stream, results_stream, consumer) = topo
            .ensure(&self.js)
            .await
            .map_err(|e| nats_err("cannot declare the JetStream streams", e))?;
        let job_id = new_job_id();
        let task_subject = topo.task_subject(&job_id);
        let result_subject = topo.result_subject(&job_id);
        let results = results_stream
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
        Ok(Dispatch {
            job_id,
            task_subject,
            result_subject,
            tasks_stream,
            results_stream,
            consumer,
            results,
        })
    }

    /// Publishes one task per `work` (chunk ids in order) and waits until JetStream has
    /// stored them all.
    /// (Takes the job id and subject, not the [`Dispatch`]: that holds the result stream,
    /// which is not `Sync`, and the future must stay `Send`.)
    async fn publish(
        &self,
        job_id: &str,
        task_subject: &str,
        works: Vec<TaskWork>,
        deadline_at: SystemTime,
    ) -> Result<(), DistributedError> {
        let mut acks = Vec::with_capacity(works.len());
        for (chunk_id, work) in works.into_iter().enumerate() {
            let task = ChunkTask {
                version: PROTOCOL_VERSION,
                job_id: job_id.to_string(),
                chunk_id: chunk_id as u32,
                deadline_unix_ms: unix_ms(deadline_at),
                work,
            };
            let payload = task.encode().map_err(|e| nats_err("encoding", e))?;
            let ack = self
                .js
                .send_publish(
                    task_subject.to_string(),
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
        Ok(())
    }

    /// Reads results of the job until `outstanding` reaches 0 or the deadline passes;
    /// `accept` takes each result of this job and returns how many outstanding items it
    /// completed. Returns what is still outstanding and the chunk ids seen redelivered.
    async fn collect(
        d: &mut Dispatch,
        deadline: tokio::time::Instant,
        mut outstanding: usize,
        mut accept: impl FnMut(ChunkResult) -> usize,
    ) -> Result<(usize, BTreeSet<u32>), DistributedError> {
        let mut redelivered = BTreeSet::new();
        while outstanding > 0 {
            let next = match tokio::time::timeout_at(deadline, d.results.next()).await {
                Err(_) => break, // deadline
                Ok(None) => return Err(nats_err("result subscription", "closed")),
                Ok(Some(Err(e))) => {
                    // The ordered consumer recreates itself after most errors; keep going.
                    tracing::warn!(job = %d.job_id, error = %e, "result stream error");
                    continue;
                }
                Ok(Some(Ok(m))) => m,
            };
            let result = match ChunkResult::decode(&next.payload) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(job = %d.job_id, error = %e, "unreadable result ignored");
                    continue;
                }
            };
            if result.job_id != d.job_id {
                continue;
            }
            if result.delivery > 1 {
                redelivered.insert(result.chunk_id);
            }
            outstanding -= accept(result).min(outstanding);
        }
        Ok((outstanding, redelivered))
    }

    /// Purges the job's leftovers (queued chunks nobody needs any more, and its results);
    /// returns the consumer's state when something was still outstanding.
    async fn close(d: &mut Dispatch, outstanding: usize) -> Option<consumer::Info> {
        let info = if outstanding > 0 {
            d.consumer.info().await.ok().cloned()
        } else {
            None
        };
        for (stream, subject) in [
            (&d.tasks_stream, &d.task_subject),
            (&d.results_stream, &d.result_subject),
        ] {
            if let Err(e) = stream.purge().filter(subject.as_str()).await {
                tracing::warn!(job = %d.job_id, error = %e, "cannot purge the job's messages");
            }
        }
        info
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
        let index = symbol_index(&job.series)?;
        let mut d = self.open().await?;
        let job_id = d.job_id.clone();

        let max_bytes = self.max_task_bytes();
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
        let works = chunks
            .iter()
            .map(|members| {
                TaskWork::Fit(FitWork {
                    spec: job.spec,
                    options: job.options,
                    series: members
                        .iter()
                        .map(|&i| SeriesTask {
                            symbol: job.series[i].0.clone(),
                            returns: job.series[i].1.clone(),
                        })
                        .collect(),
                })
            })
            .collect();
        self.publish(&job_id, &d.task_subject.clone(), works, deadline_at)
            .await?;
        tracing::info!(job = %job_id, symbols = n, chunks = chunks.len(), "job published");

        let outstanding = outcomes.iter().filter(|o| o.is_none()).count();
        let mut duplicates = 0usize;
        let mut workers = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + job.deadline;
        let (outstanding, redelivered) = Self::collect(&mut d, deadline, outstanding, |result| {
            let ChunkResults::Fit(results) = result.results else {
                return 0;
            };
            let mut fresh = 0;
            for SymbolResult {
                symbol,
                seconds,
                outcome,
            } in results
            {
                let Some(&i) = index.get(symbol.as_str()) else {
                    continue;
                };
                if outcomes[i].is_some() {
                    duplicates += 1;
                    continue;
                }
                fresh += 1;
                outcomes[i] = Some(SymbolOutcome {
                    symbol,
                    outcome,
                    seconds,
                    worker_id: Some(result.worker_id.clone()),
                });
            }
            if fresh > 0 {
                workers.insert(result.worker_id);
            }
            fresh
        })
        .await?;
        let elapsed = start.elapsed();
        let info = Self::close(&mut d, outstanding).await;
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
            job = %job_id, symbols = n, missing = missing.len(), duplicates,
            redelivered = redelivered.len(), workers = workers.len(), elapsed = ?elapsed,
            "job finished"
        );
        Ok(JobOutcome {
            job_id,
            symbols,
            missing,
            chunks: chunks.len(),
            duplicate_results: duplicates,
            redelivered_chunks: redelivered.len(),
            workers,
            elapsed,
        })
    }

    /// Runs a universe backtest on the workers: each asset's windows are cut into blocks of
    /// `job.block` as [`backtest::universe::blocks`] cuts them, each block is a task of
    /// (asset, window range) carrying the returns from its first window's start on, and the
    /// first result of each (asset, block) is kept. Every asset's blocks are joined in window
    /// order ([`Backtest::from_blocks`]): the result equals [`backtest::run_universe`] with the
    /// same block size, bit for bit. Assets whose series or setting is unusable get their
    /// error at once, as in `run_universe`; the job fails only when NATS is unavailable or no
    /// block at all came back.
    pub async fn run_backtest(
        &self,
        job: BacktestJobRequest,
    ) -> Result<BacktestJobOutcome, DistributedError> {
        let start = Instant::now();
        let deadline_at = SystemTime::now() + job.deadline;
        let n = job.series.len();
        if n == 0 {
            return Err(DistributedError::InvalidJob("no series to backtest".into()));
        }
        if job.block == 0 {
            return Err(DistributedError::InvalidJob(
                backtest::ConfigError::BlockZero.to_string(),
            ));
        }
        let index = symbol_index(&job.series)?;
        let max_bytes = self.max_task_bytes();
        let max_payload = self.client.server_info().max_payload;

        // Validate as run_universe does, then plan the blocks of the valid assets.
        let mut errors: Vec<Option<String>> = vec![None; n];
        let mut n_blocks = vec![0usize; n];
        let mut planned = Vec::new();
        for (a, (_, y)) in job.series.iter().enumerate() {
            let plan = (|| -> Result<Vec<PlannedBlock>, BacktestError> {
                job.config.check_len(y.len())?;
                Returns::new(y.clone())?;
                let windows = job.config.windows(y.len());
                let ranges = backtest::universe::blocks(&job.config, y.len(), job.block)?;
                Ok(ranges
                    .into_iter()
                    .enumerate()
                    .map(|(b, r)| PlannedBlock {
                        asset: a,
                        block: b,
                        offset: windows[r.start].start,
                        windows: r,
                    })
                    .collect())
            })();
            match plan {
                Err(e) => errors[a] = Some(e.to_string()),
                Ok(blocks) => {
                    let too_big = blocks
                        .iter()
                        .find(|p| encoded_len(y.len() - p.offset) + 256 > max_bytes);
                    if let Some(p) = too_big {
                        errors[a] = Some(format!(
                            "a block needs {} returns, too many for one NATS message \
                             (server max_payload {max_payload} bytes)",
                            y.len() - p.offset
                        ));
                    } else {
                        n_blocks[a] = blocks.len();
                        planned.extend(blocks);
                    }
                }
            }
        }
        // Longest blocks first, so the short last blocks of each asset fill the end of the
        // job; otherwise in asset and window order (a stable sort).
        planned.sort_by_key(|p| std::cmp::Reverse(p.windows.len()));
        let mut chunks: Vec<Vec<&PlannedBlock>> = Vec::new();
        let mut bytes = 0usize;
        for p in &planned {
            let cost = encoded_len(job.series[p.asset].1.len() - p.offset)
                + job.series[p.asset].0.len()
                + 128;
            match chunks.last_mut() {
                Some(c)
                    if c.len() < self.config.blocks_per_chunk.max(1)
                        && bytes + cost <= max_bytes =>
                {
                    c.push(p);
                    bytes += cost;
                }
                _ => {
                    chunks.push(vec![p]);
                    bytes = cost;
                }
            }
        }
        let total_blocks = planned.len();
        // Each block's first window among its asset's: its days name refits from there.
        let mut first_window: Vec<Vec<usize>> = n_blocks.iter().map(|&k| vec![0; k]).collect();
        for p in &planned {
            first_window[p.asset][p.block] = p.windows.start;
        }
        let mut results: Vec<Vec<Option<Result<backtest::Block, String>>>> =
            n_blocks.iter().map(|&k| vec![None; k]).collect();
        let mut seconds = vec![0.0f64; n];
        let mut asset_workers = vec![BTreeSet::new(); n];
        let mut workers = BTreeSet::new();
        let (mut duplicates, mut redelivered_chunks) = (0usize, 0usize);
        let mut job_id = String::new();
        if total_blocks > 0 {
            let mut d = self.open().await?;
            job_id = d.job_id.clone();
            let works = chunks
                .iter()
                .map(|members| {
                    TaskWork::Backtest(BacktestWork {
                        spec: job.spec,
                        config: job.config.clone(),
                        options: job.options,
                        blocks: members
                            .iter()
                            .map(|p| BlockTask {
                                symbol: job.series[p.asset].0.clone(),
                                block: p.block as u32,
                                windows: p.windows.clone(),
                                offset: p.offset,
                                returns: job.series[p.asset].1[p.offset..].to_vec(),
                            })
                            .collect(),
                    })
                })
                .collect();
            self.publish(&job_id, &d.task_subject.clone(), works, deadline_at)
                .await?;
            tracing::info!(
                job = %job_id, assets = n, blocks = total_blocks, chunks = chunks.len(),
                "backtest job published"
            );
            let deadline = tokio::time::Instant::now() + job.deadline;
            let (left, redelivered) = Self::collect(&mut d, deadline, total_blocks, |result| {
                let ChunkResults::Backtest(blocks) = result.results else {
                    return 0;
                };
                let mut fresh = 0;
                for BlockResult {
                    symbol,
                    block,
                    seconds: s,
                    outcome,
                } in blocks
                {
                    let Some(slot) = index
                        .get(symbol.as_str())
                        .and_then(|&a| results[a].get_mut(block as usize).map(|slot| (a, slot)))
                    else {
                        continue;
                    };
                    let (a, slot) = slot;
                    if slot.is_some() {
                        duplicates += 1;
                        continue;
                    }
                    let context = BlockContext {
                        spec: job.spec,
                        levels: job.config.levels(),
                        series: &job.series[a].1,
                        refit_offset: first_window[a][block as usize],
                    };
                    *slot = Some(outcome.and_then(|p| p.unpack(&context)));
                    fresh += 1;
                    seconds[a] += s;
                    asset_workers[a].insert(result.worker_id.clone());
                }
                if fresh > 0 {
                    workers.insert(result.worker_id);
                }
                fresh
            })
            .await?;
            redelivered_chunks = redelivered.len();
            let info = Self::close(&mut d, left).await;
            if left == total_blocks {
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
        }
        let elapsed = start.elapsed();
        let mut missing = Vec::new();
        let assets = job
            .series
            .iter()
            .enumerate()
            .zip(results)
            .map(|((a, (symbol, _)), blocks)| {
                let outcome = if let Some(e) = errors[a].take() {
                    Err(e)
                } else if blocks.iter().any(Option::is_none) {
                    missing.push(symbol.clone());
                    let absent = blocks.iter().filter(|b| b.is_none()).count();
                    Err(format!(
                        "{absent} of {} blocks not back from the workers within {:?} (job {job_id})",
                        blocks.len(),
                        job.deadline
                    ))
                } else {
                    // The first failing block's error, as run_universe reports it.
                    blocks
                        .into_iter()
                        .map(|b| b.expect("checked above"))
                        .collect::<Result<Vec<_>, String>>()
                        .map(|blocks| Backtest::from_blocks(job.spec, &job.config, blocks))
                };
                AssetBacktestOutcome {
                    symbol: symbol.clone(),
                    outcome,
                    seconds: seconds[a],
                    workers: std::mem::take(&mut asset_workers[a]),
                }
            })
            .collect();
        tracing::info!(
            job = %job_id, assets = n, blocks = total_blocks, missing = missing.len(),
            duplicates, redelivered = redelivered_chunks, workers = workers.len(),
            elapsed = ?elapsed, "backtest job finished"
        );
        Ok(BacktestJobOutcome {
            job_id,
            assets,
            missing,
            chunks: chunks.len(),
            blocks: total_blocks,
            duplicate_results: duplicates,
            redelivered_chunks,
            workers,
            elapsed,
        })
    }
}

/// Symbol → position, refusing duplicates.
fn symbol_index(series: &[(String, Vec<f64>)]) -> Result<HashMap<&str, usize>, DistributedError> {
    let mut index = HashMap::with_capacity(series.len());
    for (i, (s, _)) in series.iter().enumerate() {
        if index.insert(s.as_str(), i).is_some() {
            return Err(DistributedError::InvalidJob(format!(
                "symbol '{s}' appears twice"
            )));
        }
    }
    Ok(index)
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
