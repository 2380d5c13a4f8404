//! The messages exchanged through JetStream: chunk tasks (coordinator → workers) and chunk
//! results (workers → coordinator). One protocol, two kinds of work ([`TaskWork`]): fits of
//! whole series, and blocks of backtest windows.
//!
//! Tasks are MessagePack with named fields ([`Message`]); the return series, the
//! only bulky part of a task, travel as the raw little-endian bytes of their `f64`s
//! ([`f64_base64`]; base64 wherever a task is shown as JSON): exact by construction (no
//! decimal conversion at all), 3–4× smaller than decimal text, and nothing to encode or
//! decode. Size matters twice: a NATS message is limited by the server's `max_payload` (1 MiB
//! by default; 25 symbols × 2,500 daily returns are 0.5 MB this way, ~1.7 MB as JSON
//! numbers), and every byte of a job is stored by JetStream and read back, on the CPUs the
//! workers need (a fit job of 10,000 series × 2,000 returns is 160 MB of tasks).
//!
//! Results are MessagePack too, for exactness as much as for size:
//! fit reports do carry non-finite numbers in practice (an EGARCH fit whose β reaches 1
//! reports an infinite unconditional variance), which JSON cannot carry and MessagePack keeps
//! bit for bit, as it keeps every other `f64` (8 raw bytes, no decimal conversion). (Fit
//! results were JSON once, and a worker turned such a report into an error: a symbol that
//! fitted locally failed distributed.) Each backtest [`Block`] in a result is itself compact
//! MessagePack (struct fields by position, as the protocol version fixes them) carried as raw
//! bytes ([`PackedBlock`]; base64 where a result is shown as JSON), and each refit's report
//! travels as its [`ReportEssentials`] (estimates, standard errors, log-likelihood, how the
//! optimiser ended), from which the coordinator rebuilds the rest bit for bit, and each day as
//! its forecasts ([`DayForecast`]: the variance forecasts and which refit made them), to which
//! the coordinator attaches the return, mean, VaR, ES and exceedances from the series it holds
//! (the function the worker would have run, so bit for bit): a block of 500 daily refits is
//! 107 KB (136 KB with whole days, 225 KB with whole reports), a small fraction of JSON
//! text's bytes and of its encoding and parsing time, which matters for a job whose results
//! are megabytes (every byte is stored by JetStream, and the CPU that costs is taken from the
//! workers on a shared machine). That every part of a report or block survives this encoding
//! bit for bit is this module's test, not a check per message. Readers also accept JSON
//! (first byte `{`), which the types still serialise to for people and logs.
//!
//! **Backtest blocks.** A block of windows `first..last` of an asset reads the returns from
//! its first window's start to the end of the series (each window's forecast path takes its
//! variance bounds from the whole rest of the series, as `arch` does), and nothing before. So
//! a [`BlockTask`] carries exactly that tail, `y[offset..]` with `offset` the first window's
//! start, and the worker runs [`backtest::universe::forecast_block_tail`], which shifts the
//! windows onto the tail and the results back: bit-identical to the block run on the whole
//! series once the coordinator has attached the risk measures. For a rolling window of 1,000
//! on 2,520 returns a block's tail is at most 2,520 values (27 KB), against the whole
//! universe's 0.67 MB. Results go back one message per
//! block, so a chunk of several blocks never has to fit one message.

use std::ops::Range;

use backtest::{BacktestConfig, Block, BlockForecasts, DayForecast, Refit, Start, Window};
use garch_core::{FitOptions, FitReport, ModelSpec, ReportEssentials};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Version of the message format; a worker rejects (terminates) tasks of another version.
/// 2: tasks and results carry a kind (fit or backtest).
/// 3: tasks and results as MessagePack messages, return series and backtest blocks (compact,
/// fields by position) as raw bytes; fit reports with non-finite values travel exactly.
/// 4: a backtest block's reports as their essentials ([`ReportEssentials`]).
/// 5: a backtest block's days as their forecasts ([`DayForecast`]); the coordinator attaches
/// returns, means, VaR, ES and exceedances from the series it holds.
pub const PROTOCOL_VERSION: u32 = 5;

/// One message of the task stream: a chunk of work of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkTask {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u32,
    /// The job this chunk belongs to (a subject token: `[0-9a-z-]`).
    pub job_id: String,
    /// Index of the chunk within its job.
    pub chunk_id: u32,
    /// Unix time in milliseconds after which nobody waits for this chunk any more; a worker
    /// that receives it later drops it without working on it.
    pub deadline_unix_ms: u64,
    /// What to do.
    pub work: TaskWork,
}

/// The kinds of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskWork {
    /// Fit whole series.
    Fit(FitWork),
    /// Run blocks of backtest windows.
    Backtest(BacktestWork),
}

/// A chunk of series to fit under one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitWork {
    /// Model to fit.
    pub spec: ModelSpec,
    /// Estimation settings (sent so every worker fits exactly as the coordinator would).
    pub options: FitOptions,
    /// The series.
    pub series: Vec<SeriesTask>,
}

/// One symbol of a fit chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesTask {
    /// Ticker, unique within the job.
    pub symbol: String,
    /// Percent log returns.
    #[serde(with = "f64_base64")]
    pub returns: Vec<f64>,
}

/// A chunk of backtest blocks under one model and setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestWork {
    /// Model backtested.
    pub spec: ModelSpec,
    /// The backtest setting (validated again when the worker parses it).
    pub config: BacktestConfig,
    /// Estimation settings of every refit.
    pub options: FitOptions,
    /// The blocks.
    pub blocks: Vec<BlockTask>,
}

/// One block: consecutive windows of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockTask {
    /// Ticker, unique within the job.
    pub symbol: String,
    /// Index of the block among the asset's blocks.
    pub block: u32,
    /// Window indices (into `config.windows(offset + returns.len())`).
    pub windows: Range<usize>,
    /// Index in the asset's series of `returns[0]`: the first window's start.
    pub offset: usize,
    /// The asset's percent returns from `offset` to the end of the series.
    #[serde(with = "f64_base64")]
    pub returns: Vec<f64>,
}

/// The answer to (part of) one [`ChunkTask`], published on the job's result subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkResult {
    /// [`PROTOCOL_VERSION`] of the worker.
    pub version: u32,
    /// Job id of the task.
    pub job_id: String,
    /// Chunk id of the task.
    pub chunk_id: u32,
    /// Which worker did it.
    pub worker_id: String,
    /// How many times JetStream had delivered the task when this worker got it (1 = first).
    pub delivery: u64,
    /// Wall time the worker spent on the chunk (on this message's part of it for
    /// backtests), in seconds.
    pub chunk_seconds: f64,
    /// The results, of the task's kind.
    pub results: ChunkResults,
}

/// Results of a chunk, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkResults {
    /// One entry per symbol of a fit task, in task order.
    Fit(Vec<SymbolResult>),
    /// Blocks of a backtest task (one per message).
    Backtest(Vec<BlockResult>),
}

/// One symbol's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolResult {
    /// Ticker.
    pub symbol: String,
    /// Wall time of this fit on the worker, in seconds.
    pub seconds: f64,
    /// The fit report, or why the fit failed.
    pub outcome: Result<FitReport, String>,
}

impl SymbolResult {
    /// Wraps a fit outcome.
    pub fn new(symbol: String, seconds: f64, outcome: Result<FitReport, String>) -> Self {
        Self {
            symbol,
            seconds,
            outcome,
        }
    }
}

/// One block's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockResult {
    /// Ticker.
    pub symbol: String,
    /// Index of the block among the asset's blocks.
    pub block: u32,
    /// Wall time of the block on the worker, in seconds.
    pub seconds: f64,
    /// The block (refits and days, indices of the whole series), or why it failed.
    pub outcome: Result<PackedBlock, String>,
}

impl BlockResult {
    /// Wraps a block outcome, packing the block (every `f64` of its reports and forecasts,
    /// finite or not, comes back bit for bit: the tests below).
    pub fn new(
        symbol: String,
        block: u32,
        seconds: f64,
        outcome: Result<BlockForecasts, String>,
    ) -> Self {
        Self {
            symbol,
            block,
            seconds,
            outcome: outcome.and_then(|b| PackedBlock::pack(&b)),
        }
    }

    /// The block, unpacked against its context (or the worker's error).
    pub fn into_block(self, context: &BlockContext<'_>) -> Result<Block, String> {
        self.outcome.and_then(|p| p.unpack(context))
    }
}

/// A [`Block`] as compact MessagePack (fields by position): raw bytes in a MessagePack
/// message, base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackedBlock(#[serde(with = "bytes_base64")] Vec<u8>);

/// How tasks and results travel: MessagePack with named fields (every `f64` exact, non-finite
/// ones included; return series and backtest blocks as raw bytes). Readers also take the JSON
/// form the types serialise to for people and logs (first byte `{`).
pub trait Message: Serialize + DeserializeOwned {
    /// The message's bytes.
    fn encode(&self) -> Result<Vec<u8>, String> {
        rmp_serde::to_vec_named(self).map_err(|e| e.to_string())
    }

    /// Reads a message written by [`Self::encode`], or its JSON form.
    fn decode(payload: &[u8]) -> Result<Self, String> {
        if payload.first() == Some(&b'{') {
            serde_json::from_slice(payload).map_err(|e| e.to_string())
        } else {
            rmp_serde::from_slice(payload).map_err(|e| e.to_string())
        }
    }
}

impl Message for ChunkTask {}
impl Message for ChunkResult {}

/// A [`Block`] as it travels: each refit's report reduced to its essentials (the model is the
/// task's).
#[derive(Serialize, Deserialize)]
struct WireBlock {
    refits: Vec<WireRefit>,
    path: Vec<DayForecast>,
}

/// What a packed block is unpacked against: the task's model and risk levels, the asset's
/// whole series and the index of the block's first refit among the asset's.
#[derive(Debug, Clone, Copy)]
pub struct BlockContext<'a> {
    /// The model backtested.
    pub spec: ModelSpec,
    /// The setting's VaR/ES levels.
    pub levels: &'a [f64],
    /// The asset's whole return series.
    pub series: &'a [f64],
    /// Index of the block's first refit (its first window) among the asset's.
    pub refit_offset: usize,
}

#[derive(Serialize, Deserialize)]
struct WireRefit {
    window: Window,
    start: Start,
    report: ReportEssentials,
}

impl PackedBlock {
    /// Packs `block`.
    pub fn pack(block: &BlockForecasts) -> Result<Self, String> {
        let wire = WireBlock {
            refits: block
                .refits
                .iter()
                .map(|r| WireRefit {
                    window: r.window,
                    start: r.start,
                    report: r.report.essentials(),
                })
                .collect(),
            path: block.days.clone(),
        };
        rmp_serde::to_vec(&wire)
            .map(Self)
            .map_err(|e| format!("the backtest block cannot be encoded: {e}"))
    }

    /// The block: its reports rebuilt from their essentials, its days from their forecasts and
    /// the series (bit for bit the worker's block).
    pub fn unpack(&self, context: &BlockContext<'_>) -> Result<Block, String> {
        let spec = context.spec;
        let wire: WireBlock =
            rmp_serde::from_slice(&self.0).map_err(|e| format!("unreadable block: {e}"))?;
        let refits = wire
            .refits
            .into_iter()
            .map(|r| {
                let report = FitReport::from_essentials(spec, r.report)
                    .map_err(|e| format!("a refit's report does not fit the model: {e}"))?;
                Ok(Refit {
                    window: r.window,
                    start: r.start,
                    report,
                })
            })
            .collect::<Result<_, String>>()?;
        BlockForecasts {
            refits,
            days: wire.path,
        }
        .attach(context.series, &spec, context.levels, context.refit_offset)
        .map_err(|e| format!("a block's days do not fit its series: {e}"))
    }

    /// Encoded size in bytes (before base64).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty (never, for a packed block).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Serde adapter: bytes as standard base64 in human-readable formats (JSON), as raw bytes in
/// binary ones (MessagePack).
mod bytes_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(bytes))
        } else {
            s.serialize_bytes(bytes)
        }
    }

    struct Bytes;

    impl serde::de::Visitor<'_> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)
        } else {
            d.deserialize_byte_buf(Bytes)
        }
    }
}

/// Serde adapter: `Vec<f64>` as its little-endian bytes (bit-exact, compact): raw in binary
/// formats (MessagePack), base64 in human-readable ones (JSON).
pub mod f64_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Encodes `values`.
    pub fn encode(values: &[f64]) -> String {
        let mut bytes = Vec::with_capacity(values.len() * 8);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        STANDARD.encode(bytes)
    }

    /// Decodes what [`encode`] produced.
    pub fn decode(text: &str) -> Result<Vec<f64>, String> {
        let bytes = STANDARD.decode(text).map_err(|e| e.to_string())?;
        if bytes.len() % 8 != 0 {
            return Err(format!(
                "{} bytes is not a whole number of f64 values",
                bytes.len()
            ));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
            .collect())
    }

    /// Serde `serialize_with`.
    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&encode(values))
        } else {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            s.serialize_bytes(&bytes)
        }
    }

    /// Serde `deserialize_with`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        if !d.is_human_readable() {
            let bytes = super::bytes_base64::deserialize(d)?;
            if bytes.len() % 8 != 0 {
                return Err(D::Error::custom(format!(
                    "{} bytes is not a whole number of f64 values",
                    bytes.len()
                )));
            }
            return Ok(bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
                .collect());
        }
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_round_trip_bit_for_bit() {
        let values = vec![
            0.1,
            -0.0,
            f64::MIN_POSITIVE,
            1e-310,
            f64::MAX,
            -1.234_567_890_123_456_7,
            f64::NAN,
            f64::INFINITY,
        ];
        let back = f64_base64::decode(&f64_base64::encode(&values)).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
        assert!(f64_base64::decode("AAAA").is_err());
    }

    #[test]
    fn task_round_trips_through_json() {
        let task = ChunkTask {
            version: PROTOCOL_VERSION,
            job_id: "j1".into(),
            chunk_id: 3,
            deadline_unix_ms: 1,
            work: TaskWork::Fit(FitWork {
                spec: ModelSpec::default(),
                options: FitOptions::default(),
                series: vec![SeriesTask {
                    symbol: "AAA".into(),
                    returns: vec![0.5, -1.25, 0.1 + 0.2],
                }],
            }),
        };
        let text = serde_json::to_vec(&task).unwrap();
        assert_eq!(serde_json::from_slice::<ChunkTask>(&text).unwrap(), task);
        let bytes = task.encode().unwrap();
        assert_ne!(bytes[0], b'{');
        assert_eq!(ChunkTask::decode(&bytes).unwrap(), task);
        assert_eq!(ChunkTask::decode(&text).unwrap(), task);
        let task = ChunkTask {
            work: TaskWork::Backtest(BacktestWork {
                spec: ModelSpec::default(),
                config: BacktestConfig::new(backtest::Scheme::Rolling, 250, 5, &[0.01], &[5])
                    .unwrap(),
                options: FitOptions::default(),
                blocks: vec![BlockTask {
                    symbol: "AAA".into(),
                    block: 2,
                    windows: 20..30,
                    offset: 100,
                    returns: vec![0.5, -0.0, 1e-300],
                }],
            }),
            ..task
        };
        let text = serde_json::to_vec(&task).unwrap();
        assert_eq!(serde_json::from_slice::<ChunkTask>(&text).unwrap(), task);
        let bytes = task.encode().unwrap();
        assert_eq!(ChunkTask::decode(&bytes).unwrap(), task);
        // The returns travel raw: bit for bit, non-finite values and −0 included (a task
        // never carries them, the encoding would), 8 bytes each plus framing.
        let odd = vec![-0.0, f64::NAN, f64::INFINITY, 1e-310, f64::MAX, 0.1 + 0.2];
        let series = SeriesTask {
            symbol: "S".into(),
            returns: odd.clone(),
        };
        let packed = rmp_serde::to_vec_named(&series).unwrap();
        assert!(packed.len() < odd.len() * 8 + 40);
        let back: SeriesTask = rmp_serde::from_slice(&packed).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.returns), bits(&odd));
        assert!(ChunkTask::decode(b"\x81\xa1x\x01").is_err());
    }

    /// A fit result travels exactly, errors and non-finite report values included (an EGARCH
    /// fit with β → 1 reports an infinite unconditional variance), through the message a
    /// worker sends and through its JSON form for the finite parts.
    #[test]
    fn fit_results_round_trip_bit_for_bit_non_finite_values_included() {
        let y = garch_core::simulate(ModelSpec::default(), &[0.05, 0.05, 0.08, 0.9], 600, 4)
            .unwrap()
            .returns;
        let returns = garch_core::Returns::new(y).unwrap();
        let fitted = garch_core::fit(&returns, ModelSpec::default(), &FitOptions::default())
            .unwrap()
            .report()
            .clone();
        let mut odd = fitted.clone();
        odd.unconditional_variance = Some(f64::INFINITY);
        odd.half_life_days = Some(f64::NAN);
        odd.params[1].std_err = Some(-0.0);
        let message = ChunkResult {
            version: PROTOCOL_VERSION,
            job_id: "j".into(),
            chunk_id: 0,
            worker_id: "w".into(),
            delivery: 2,
            chunk_seconds: 0.25,
            results: ChunkResults::Fit(vec![
                SymbolResult::new("A".into(), 0.1, Ok(fitted.clone())),
                SymbolResult::new("B".into(), 0.1, Ok(odd.clone())),
                SymbolResult::new("C".into(), 0.1, Err("boom".into())),
            ]),
        };
        let bytes = message.encode().unwrap();
        assert_ne!(bytes[0], b'{');
        let back = ChunkResult::decode(&bytes).unwrap();
        let ChunkResults::Fit(symbols) = &back.results else {
            panic!("a fit result");
        };
        // Debug text shows every f64 exactly (NaN, −0 included), unlike `==` with NaN.
        assert_eq!(format!("{back:?}"), format!("{message:?}"));
        assert_eq!(symbols[0].outcome, Ok(fitted.clone()));
        let b = symbols[1].outcome.as_ref().unwrap();
        assert_eq!(b.unconditional_variance, Some(f64::INFINITY));
        assert!(b.half_life_days.unwrap().is_nan());
        assert!(b.params[1].std_err.unwrap().is_sign_negative());
        assert_eq!(symbols[2].outcome, Err("boom".into()));
        // The JSON form (for people and logs) is still read, finite reports exactly.
        let finite = ChunkResult {
            results: ChunkResults::Fit(vec![SymbolResult::new("A".into(), 0.1, Ok(fitted))]),
            ..message
        };
        let text = serde_json::to_vec(&finite).unwrap();
        assert_eq!(ChunkResult::decode(&text).unwrap(), finite);
        assert!(ChunkResult::decode(b"\x93garbage").is_err());
    }

    /// A real block (GARCH refits with standard errors, days with h-step forecasts) parses
    /// back bit for bit, non-finite values, negative zeros and absent standard errors
    /// included, in well under half the bytes of named fields.
    #[test]
    fn blocks_round_trip_bit_for_bit_non_finite_values_included() {
        let sim = garch_core::simulate(ModelSpec::default(), &[0.05, 0.05, 0.08, 0.88], 400, 9)
            .unwrap()
            .returns;
        let config =
            BacktestConfig::new(backtest::Scheme::Rolling, 300, 10, &[0.01, 0.05], &[1, 5])
                .unwrap();
        let spec = ModelSpec::default();
        let windows = config.windows(sim.len());
        let block =
            backtest::universe::run_block(&sim, spec, &config, &FitOptions::default(), &windows, 0)
                .unwrap();
        let r = BlockResult::new("X".into(), 0, 0.1, Ok(block.forecasts()));
        let named = rmp_serde::to_vec_named(&block).unwrap().len();
        let packed = r.outcome.as_ref().unwrap().len();
        assert!(
            packed * 2 < named,
            "compact {packed} bytes against {named} named"
        );
        let text = serde_json::to_string(&r).unwrap();
        let back: BlockResult = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        // The message a worker sends: MessagePack with the block's bytes raw, a third smaller
        // than the JSON form; a fit result stays JSON.
        let message = ChunkResult {
            version: PROTOCOL_VERSION,
            job_id: "j".into(),
            chunk_id: 1,
            worker_id: "w".into(),
            delivery: 1,
            chunk_seconds: 0.5,
            results: ChunkResults::Backtest(vec![r.clone()]),
        };
        let bytes = message.encode().unwrap();
        assert!(bytes.len() < packed + 200 && bytes[0] != b'{');
        assert_eq!(ChunkResult::decode(&bytes).unwrap(), message);
        let context = BlockContext {
            spec,
            levels: config.levels(),
            series: &sim,
            refit_offset: 0,
        };
        let back = back.into_block(&context);
        let bits = |b: &Block| -> Vec<u64> {
            b.path
                .iter()
                .flat_map(|d| {
                    [d.ret, d.mean, d.variance]
                        .into_iter()
                        .chain(d.var.iter().copied())
                        .chain(d.es.iter().copied())
                        .chain(d.horizons.iter().flatten().copied())
                })
                .chain(b.refits.iter().flat_map(|r| {
                    r.report
                        .params
                        .iter()
                        .flat_map(|p| [Some(p.value), p.std_err, p.t_stat, p.p_value])
                        .flatten()
                        .chain([r.report.log_likelihood, r.report.aic, r.report.bic])
                }))
                .map(f64::to_bits)
                .collect()
        };
        assert_eq!(bits(back.as_ref().unwrap()), bits(&block));
        assert_eq!(back.unwrap(), block);
        // Non-finite values, a negative zero, an absent standard error, a report whose
        // persistence is 1 (no unconditional variance): all kept exactly. A report is
        // rebuilt from its essentials and a day from its forecasts, so odd values enter
        // through them.
        let mut odd = block;
        let rebuilt = |report: &FitReport, edit: &dyn Fn(&mut ReportEssentials)| {
            let mut e = report.essentials();
            edit(&mut e);
            FitReport::from_essentials(spec, e).unwrap()
        };
        odd.refits[0].report = rebuilt(&odd.refits[0].report, &|e| {
            e.std_errs[1] = Some(f64::INFINITY);
            e.std_errs[2] = None;
            e.log_likelihood = f64::NEG_INFINITY;
        });
        odd.refits[1].report = rebuilt(&odd.refits[1].report, &|e| {
            e.values[2] = 0.1;
            e.values[3] = 0.9;
        });
        assert_eq!(odd.refits[1].report.unconditional_variance, None);
        let mut forecasts = odd.forecasts();
        forecasts.days[3].variance = f64::NAN;
        forecasts.days[4].variance = f64::INFINITY;
        forecasts.days[5].horizons = Some(vec![-0.0, f64::NEG_INFINITY]);
        let odd = forecasts
            .clone()
            .attach(&sim, &spec, config.levels(), 0)
            .unwrap();
        assert!(odd.path[3].var[1].is_nan());
        let r = BlockResult::new("X".into(), 0, 0.1, Ok(forecasts));
        let back: BlockResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        let back = back.into_block(&context).unwrap();
        assert_eq!(bits(&back), bits(&odd));
        assert_eq!(format!("{back:?}"), format!("{odd:?}"));
        assert_eq!(back.refits[0].report.params[2].std_err, None);
    }
}
