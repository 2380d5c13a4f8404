//! The messages exchanged through JetStream: chunk tasks (coordinator → workers) and chunk
//! results (workers → coordinator).
//!
//! Both are JSON. The return series, the only bulky part, travel as the raw little-endian
//! bytes of their `f64`s in base64 ([`f64_base64`]): exact by construction (no decimal
//! conversion at all), 2.5–3× smaller than decimal text, and cheap to decode. Size matters
//! because a NATS message is limited by the server's `max_payload` (1 MiB by default): 25
//! symbols × 2,500 daily returns are ~0.67 MB this way and would be ~1.7 MB as JSON numbers.
//! Everything else (ids, the model, the [`FitReport`]) is ordinary JSON, readable with the
//! `nats` CLI; `serde_json` is built with `float_roundtrip`, so the report's `f64`s parse back
//! to the very same bits (the worker checks this before sending, see
//! [`SymbolResult::new`]).

use garch_core::{FitOptions, FitReport, ModelSpec};
use serde::{Deserialize, Serialize};

/// Version of the message format; a worker rejects (terminates) tasks of another version.
pub const PROTOCOL_VERSION: u32 = 1;

/// One message of the task stream: a chunk of series to fit under one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkTask {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u32,
    /// The job this chunk belongs to (a subject token: `[0-9a-z-]`).
    pub job_id: String,
    /// Index of the chunk within its job.
    pub chunk_id: u32,
    /// Model to fit.
    pub spec: ModelSpec,
    /// Estimation settings (sent so every worker fits exactly as the coordinator would).
    pub options: FitOptions,
    /// Unix time in milliseconds after which nobody waits for this chunk any more; a worker
    /// that receives it later drops it without fitting.
    pub deadline_unix_ms: u64,
    /// The series.
    pub series: Vec<SeriesTask>,
}

/// One symbol of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesTask {
    /// Ticker, unique within the job.
    pub symbol: String,
    /// Percent log returns.
    #[serde(with = "f64_base64")]
    pub returns: Vec<f64>,
}

/// The answer to one [`ChunkTask`], published on the job's result subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkResult {
    /// [`PROTOCOL_VERSION`] of the worker.
    pub version: u32,
    /// Job id of the task.
    pub job_id: String,
    /// Chunk id of the task.
    pub chunk_id: u32,
    /// Which worker fitted it.
    pub worker_id: String,
    /// How many times JetStream had delivered the task when this worker got it (1 = first).
    pub delivery: u64,
    /// Wall time the worker spent fitting the chunk, in seconds.
    pub chunk_seconds: f64,
    /// One entry per symbol of the task, in task order.
    pub results: Vec<SymbolResult>,
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
    /// Wraps a fit outcome, turning a report that would not survive the JSON round trip
    /// bit for bit (a non-finite number, which JSON cannot carry) into an error, so the
    /// coordinator never receives a silently altered report.
    pub fn new(symbol: String, seconds: f64, outcome: Result<FitReport, String>) -> Self {
        let outcome = outcome.and_then(|report| {
            let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
            let back: FitReport = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if serde_json::to_string(&back).ok().as_deref() == Some(text.as_str()) && back == report
            {
                Ok(report)
            } else {
                Err("the fit report has non-finite values and cannot be transported exactly".into())
            }
        });
        Self {
            symbol,
            seconds,
            outcome,
        }
    }
}

/// Serde adapter: `Vec<f64>` as base64 of its little-endian bytes (bit-exact, compact).
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
        s.serialize_str(&encode(values))
    }

    /// Serde `deserialize_with`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
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
            spec: ModelSpec::default(),
            options: FitOptions::default(),
            deadline_unix_ms: 1,
            series: vec![SeriesTask {
                symbol: "AAA".into(),
                returns: vec![0.5, -1.25, 0.1 + 0.2],
            }],
        };
        let text = serde_json::to_vec(&task).unwrap();
        assert_eq!(serde_json::from_slice::<ChunkTask>(&text).unwrap(), task);
    }

    #[test]
    fn errors_survive_and_reports_are_checked() {
        let r = SymbolResult::new("X".into(), 0.1, Err("boom".into()));
        assert_eq!(r.outcome, Err("boom".into()));
    }
}
