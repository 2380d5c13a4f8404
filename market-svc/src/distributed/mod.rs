//! Distributed fitting and backtesting on NATS JetStream.
//!
//! When a universe outgrows one machine, the work of a job is spread over worker processes
//! (`market-svc worker`) on any number of hosts. The transport is NATS JetStream, an existing,
//! well-understood engine: no protocol of our own beyond two message types
//! ([`protocol`]), each with two kinds: **fit** jobs ([`Coordinator::run`]: one fit per
//! series) and **backtest** jobs ([`Coordinator::run_backtest`]: a universe backtest cut into
//! blocks of windows).
//!
//! # Design
//!
//! ```text
//!  coordinator                      NATS JetStream                        workers
//!  (serve / bench)      ┌──────────────────────────────────┐
//!   split job into ───► │ GARCH_TASKS  (WorkQueue, file)   │ ──pull──► worker 1 ─┐ fit_batch-style
//!   chunks, publish     │  garch.tasks.<job>               │ ──pull──► worker 2  │ rayon over the
//!   (Nats-Msg-Id        │  durable pull consumer           │ ──pull──► worker N  │ chunk, then
//!    = job.chunk)       │  "garch-fit-workers" (shared)    │                     │ publish result,
//!                       ├──────────────────────────────────┤                     │ then ack task
//!   collect, dedupe ◄── │ GARCH_RESULTS (Limits, file)     │ ◄──publish──────────┘
//!   by (job, symbol)    │  garch.results.<job>             │
//!                       └──────────────────────────────────┘
//! ```
//!
//! * A job is split into chunks of tens of symbols (bounded also by the server's
//!   `max_payload`), one message each on `garch.tasks.<job>` in the `GARCH_TASKS` stream. The
//!   stream has **work-queue retention**: a message is removed once a worker acks it.
//! * All workers share **one durable pull consumer** with explicit acks, a bounded `ack_wait`,
//!   `max_deliver` and `max_ack_pending` ([`Topology`]). A worker pulls one chunk per free
//!   slot (`--concurrency`, default 2: one computing while the other's result is published
//!   and the next pulled), and starts every chunk it holds on its rayon pool at once;
//!   JetStream hands each chunk to exactly one worker at a time. Load balancing is therefore
//!   dynamic: fast workers simply pull more.
//! * A worker fits the chunk's series in parallel on its rayon pool, publishes one
//!   [`ChunkResult`](protocol::ChunkResult) to `garch.results.<job>` in the `GARCH_RESULTS`
//!   stream, waits for JetStream's publish ack, and **only then acks the task**. While a long
//!   chunk is being fitted it sends "in progress" acks, so `ack_wait` can stay short.
//! * The coordinator reads `garch.results.<job>` through an ordered consumer from the start of
//!   the stream (so results published before it subscribed are not lost), keeps the first
//!   result per (job id, symbol) and drops the rest, and stops when every symbol is back or
//!   at its deadline. It then purges the job's subjects from both streams.
//!
//! # Backtest jobs
//!
//! * The unit of work is a **block**: consecutive estimation windows of one asset, cut by
//!   [`backtest::universe::blocks`] with the job's block length, exactly as
//!   [`backtest::run_universe`] cuts them on rayon. Each block starts cold from `arch`'s grid
//!   and warm-starts the rest, so a block's result depends only on its asset, model, setting
//!   and window range: the same block length gives the same bits in every mode.
//! * A block task carries the asset's returns from its first window's start to the end of
//!   the series, with that offset (not the whole series, and not less: each window's
//!   forecast path takes its variance bounds from the whole rest of the series, as `arch`);
//!   the worker runs [`backtest::universe::forecast_block_tail`], which maps the windows onto
//!   the tail and the indices back, and sends the refits and the days' forecasts; the
//!   coordinator attaches each day's return, mean, VaR, ES and exceedances from the series
//!   ([`backtest::BlockForecasts::attach`], what a local run computes, so bit for bit).
//!   Daily refits on 2,520 returns are 27 KB per task at most.
//!   Assets whose series or setting is unusable get their error at once, as in
//!   `run_universe`, and send nothing.
//! * Chunks hold `blocks_per_chunk` blocks (default 1: a block of 500 daily refits is tens of
//!   milliseconds of work, and small chunks balance best), longest blocks first so the
//!   short last block of each asset fills the end of the job. A worker answers **one result
//!   message per block** (500 GARCH refits with their day forecasts are a 0.11 MB message;
//!   several would not fit `max_payload`), a MessagePack message carrying the block as compact
//!   MessagePack bytes ([`protocol::PackedBlock`]): bit-exact for every `f64`, including
//!   the infinite unconditional variance an EGARCH window with β → 1 reports, which JSON
//!   cannot carry. A block result that still exceeds `max_payload` comes back as that
//!   block's error ("use smaller blocks").
//! * The coordinator keeps the first result per (job, asset, block), drops duplicates, and
//!   joins each asset's blocks in window order with [`backtest::Backtest::from_blocks`]. An
//!   asset with a failed block gets the first failing block's error (as `run_universe`); one
//!   with a block missing at the deadline is reported in `missing`. Failure semantics are
//!   those of fit jobs below, per block instead of per symbol: a killed worker's chunk is
//!   redelivered after `ack_wait`, and every window appears exactly once in the outcome.
//!
//! # Failure semantics
//!
//! * **Worker dies mid-chunk** (crash, `kill -9`, host lost): its chunk is never acked, so
//!   after `ack_wait` JetStream redelivers it to another worker. The job completes; every
//!   symbol appears exactly once in the outcome.
//! * **Worker dies after publishing, before acking**: the chunk is redelivered and fitted
//!   twice; the coordinator drops the duplicate (delivery is at-least-once, collection is
//!   idempotent). Fits are deterministic, so either copy is the same.
//! * **A chunk that kills every worker** (poison): delivered at most `max_deliver` times, then
//!   left alone; its symbols are reported missing at the deadline.
//! * **NATS restarts**: streams and the consumer are file-backed and survive; clients
//!   reconnect on their own (unlimited attempts, back-off capped at 4 s); a worker whose pull
//!   fails retries with back-off and re-declares the topology. Jobs in flight during the
//!   outage may miss their deadline; the next job succeeds.
//! * **No workers**: nothing comes back; at the deadline the coordinator fails with
//!   [`DistributedError::NoResults`], whose message says no worker answered and shows the
//!   consumer's state. It never hangs.
//! * **Stale chunks**: each task carries its deadline; a worker that pulls a chunk nobody
//!   waits for any more acks it without fitting. The coordinator also purges leftovers.
//! * **Bitwise identity**: a worker runs `garch_core::fit` with the options in the task on
//!   the exact `f64`s sent (bit-exact encoding) and returns the report, whose numbers
//!   travel exactly (MessagePack, non-finite ones included); the coordinator rebuilds the
//!   model with `FittedModel::from_report`. The result equals a local sequential fit bit for bit. A
//!   backtest equals `run_universe` (sequential or rayon) with the same block length bit for
//!   bit: same blocks, same `f64`s in, MessagePack out.
//!
//! Security: the NATS URL may carry credentials (`nats://user:pass@host`); TLS and auth
//! are the deployment's concern (async-nats supports both; only the `ring` crypto backend is
//! compiled in).

pub mod coordinator;
pub mod local_server;
pub mod protocol;
pub mod worker;

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

pub use coordinator::{
    AssetBacktestOutcome, BacktestJobOutcome, BacktestJobRequest, Coordinator, CoordinatorConfig,
    DistributedError, JobOutcome, JobRequest, SymbolOutcome,
};
pub use worker::{WorkerArgs, WorkerConfig, run_worker};

/// Names and limits of the JetStream objects. Coordinators and workers must agree on these;
/// whoever starts first creates them and the others reuse them (declaration is idempotent).
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Subject prefix: tasks on `<prefix>.tasks.<job>`, results on `<prefix>.results.<job>`.
    pub prefix: String,
    /// Name of the work-queue stream of tasks.
    pub tasks_stream: String,
    /// Name of the stream of results.
    pub results_stream: String,
    /// Durable name of the pull consumer shared by all workers.
    pub consumer: String,
    /// How long a delivered, un-acked chunk stays with its worker before redelivery. Workers
    /// extend it with progress acks while fitting, so it bounds failure detection, not work.
    pub ack_wait: Duration,
    /// Deliveries of one chunk before JetStream gives up on it.
    pub max_deliver: i64,
    /// Chunks in flight (delivered, not acked) across all workers.
    pub max_ack_pending: i64,
    /// Age after which unconsumed tasks and uncollected results are discarded.
    pub max_age: Duration,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            prefix: "garch".into(),
            tasks_stream: "GARCH_TASKS".into(),
            results_stream: "GARCH_RESULTS".into(),
            consumer: "garch-fit-workers".into(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_ack_pending: 1024,
            max_age: Duration::from_secs(3600),
        }
    }
}

impl Topology {
    /// Defaults with another `ack_wait`.
    pub fn with_ack_wait(ack_wait: Duration) -> Self {
        Self {
            ack_wait,
            ..Self::default()
        }
    }

    /// Subject of a job's tasks.
    pub fn task_subject(&self, job_id: &str) -> String {
        format!("{}.tasks.{job_id}", self.prefix)
    }

    /// Subject of a job's results.
    pub fn result_subject(&self, job_id: &str) -> String {
        format!("{}.results.{job_id}", self.prefix)
    }

    /// Declares both streams and the shared consumer if they do not exist (idempotent) and
    /// returns the tasks stream, the results stream and the consumer. An existing consumer
    /// with other limits is kept as it is (and a warning logged): changing limits under
    /// running workers is an operator's decision, not a side effect of starting a process.
    pub async fn ensure(
        &self,
        js: &jetstream::Context,
    ) -> Result<(stream::Stream, stream::Stream, consumer::PullConsumer), async_nats::Error> {
        let tasks = js
            .get_or_create_stream(stream::Config {
                name: self.tasks_stream.clone(),
                subjects: vec![format!("{}.tasks.>", self.prefix)],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                max_age: self.max_age,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await?;
        let results = js
            .get_or_create_stream(stream::Config {
                name: self.results_stream.clone(),
                subjects: vec![format!("{}.results.>", self.prefix)],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                max_age: self.max_age,
                ..Default::default()
            })
            .await?;
        let wanted = consumer::pull::Config {
            durable_name: Some(self.consumer.clone()),
            description: Some("GARCH fit workers (shared work queue)".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: self.max_ack_pending,
            filter_subject: format!("{}.tasks.>", self.prefix),
            ..Default::default()
        };
        let mut consumer: consumer::PullConsumer = tasks
            .get_or_create_consumer(&self.consumer, wanted.clone())
            .await?;
        let have = &consumer.info().await?.config;
        if have.ack_wait != wanted.ack_wait
            || have.max_deliver != wanted.max_deliver
            || have.max_ack_pending != wanted.max_ack_pending
        {
            tracing::warn!(
                consumer = %self.consumer,
                ack_wait = ?have.ack_wait,
                max_deliver = have.max_deliver,
                max_ack_pending = have.max_ack_pending,
                "the shared consumer exists with other limits than this process's; keeping them"
            );
        }
        Ok((tasks, results, consumer))
    }
}

/// Connects to NATS, with the token or user and password the URL carries (see
/// [`redact_credentials`] for showing it). With `wait_for_server`, the call returns at once and the client keeps
/// trying in the background (a worker or service may start before NATS does); otherwise it
/// fails if the server cannot be reached now. Either way a lost connection is re-established
/// forever, with a back-off capped at 4 s, and connection events are logged.
pub async fn connect(
    url: &str,
    name: &str,
    wait_for_server: bool,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let mut options = async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(3))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("NATS connected"),
                async_nats::Event::Disconnected => tracing::warn!("NATS disconnected"),
                other => tracing::info!(event = %other, "NATS event"),
            }
        });
    if wait_for_server {
        options = options.retry_on_initial_connect();
    }
    // async-nats ignores credentials in the URL; the NATS convention (nats.go, the `nats`
    // CLI) is a token as `nats://TOKEN@host` and a user as `nats://user:password@host`.
    let (servers, credentials) = split_credentials(url);
    options = match credentials {
        Some(Credentials::Token(token)) => options.token(token),
        Some(Credentials::UserPassword(user, password)) => {
            options.user_and_password(user, password)
        }
        None => options,
    };
    options.connect(servers.as_str()).await
}

/// Credentials taken from a NATS URL's user-info part.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credentials {
    /// `nats://TOKEN@host`.
    Token(String),
    /// `nats://user:password@host`.
    UserPassword(String, String),
}

/// One server of a NATS URL as (`scheme://` or empty, its user info if any, the rest).
fn server_parts(server: &str) -> (&str, Option<&str>, &str) {
    let (scheme, rest) = server.split_at(server.find("://").map_or(0, |i| i + 3));
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rfind('@') {
        Some(at) => (scheme, Some(&rest[..at]), &rest[at + 1..]),
        None => (scheme, None, rest),
    }
}

/// The comma-separated server list without user-info parts, and the credentials of the
/// first server that has some (the servers of one cluster share them).
fn split_credentials(url: &str) -> (String, Option<Credentials>) {
    let mut credentials = None;
    let servers = url
        .split(',')
        .map(|server| {
            let (scheme, userinfo, rest) = server_parts(server);
            if let Some(userinfo) = userinfo {
                credentials.get_or_insert_with(|| match userinfo.split_once(':') {
                    Some((user, password)) => {
                        Credentials::UserPassword(user.to_string(), password.to_string())
                    }
                    None => Credentials::Token(userinfo.to_string()),
                });
            }
            format!("{scheme}{rest}")
        })
        .collect::<Vec<_>>()
        .join(",");
    (servers, credentials)
}

/// `url` for logs and messages: a NATS URL carries its credentials (`nats://TOKEN@host`,
/// `nats://user:password@host`), so any user-info part of each comma-separated server is
/// replaced by `***`.
pub fn redact_credentials(url: &str) -> String {
    url.split(',')
        .map(|server| match server_parts(server) {
            (scheme, Some(_), rest) => format!("{scheme}***@{rest}"),
            (_, None, _) => server.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A worker or job id part: `host-pid`, with only subject-safe characters.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".into());
    format!("{}-{}", subject_token(host.trim()), std::process::id())
}

/// Keeps `[A-Za-z0-9_-]`, replacing anything else (dots and wildcards are special in subjects).
pub fn subject_token(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if t.is_empty() { "x".into() } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_tokens() {
        let t = Topology::default();
        assert_eq!(t.task_subject("j1"), "garch.tasks.j1");
        assert_eq!(t.result_subject("j1"), "garch.results.j1");
        assert_eq!(subject_token("a.b*c>d e"), "a-b-c-d-e");
        assert_eq!(subject_token(""), "x");
        assert!(!default_worker_id().contains('.'));
    }

    #[test]
    fn credentials_are_redacted_from_urls() {
        let cases = [
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
            ("nats://s3cret@10.0.0.5:4222", "nats://***@10.0.0.5:4222"),
            ("nats://user:p@ss@head:4222/x", "nats://***@head:4222/x"),
            (
                "tls://a:b@h1:4222,nats://h2:4222",
                "tls://***@h1:4222,nats://h2:4222",
            ),
            ("tok@localhost", "***@localhost"),
            ("nats://host:4222/path@x", "nats://host:4222/path@x"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_credentials(url), shown, "{url}");
        }
    }

    #[test]
    fn credentials_come_out_of_the_url() {
        assert_eq!(
            split_credentials("nats://127.0.0.1:4222"),
            ("nats://127.0.0.1:4222".into(), None)
        );
        assert_eq!(
            split_credentials("nats://s3cret@h1:4222,nats://s3cret@h2:4222"),
            (
                "nats://h1:4222,nats://h2:4222".into(),
                Some(Credentials::Token("s3cret".into()))
            )
        );
        assert_eq!(
            split_credentials("tls://me:p@ss@head:4222"),
            (
                "tls://head:4222".into(),
                Some(Credentials::UserPassword("me".into(), "p@ss".into()))
            )
        );
    }
}
