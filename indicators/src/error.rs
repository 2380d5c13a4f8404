//! The error type shared by every indicator function.

/// Why an indicator computation refused its input.
///
/// Every variant names the offending index or parameter so a service can report it
/// verbatim. Indicator functions never panic on bad input; they return one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IndicatorError {
    /// An input value is NaN or ±∞ (TA-Lib does not support NaN: one NaN silently
    /// poisons every later output, so it is rejected up front).
    #[error("non-finite {field} value {value} at index {index}")]
    NonFinite {
        /// Which input holds the value (`"close"`, `"high"`, …).
        field: &'static str,
        /// Position of the value in the input (for streaming state: the bar number, from 0).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A period parameter is outside its allowed range.
    #[error("invalid {name} = {value}: must be in {min}..={max}")]
    InvalidPeriod {
        /// Parameter name, e.g. `"rsi_period"`.
        name: &'static str,
        /// The value given.
        value: usize,
        /// Smallest allowed value.
        min: usize,
        /// Largest allowed value.
        max: usize,
    },
    /// A real-valued parameter (band multiplier, RSI threshold) is invalid.
    #[error("invalid {name} = {value}: {expected}")]
    InvalidParameter {
        /// Parameter name, e.g. `"k_up"` or `"oversold"`.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A caller-provided output buffer does not have the length of the input.
    #[error("output buffer `{name}` has length {actual}, expected {expected}")]
    LengthMismatch {
        /// Name of the buffer.
        name: &'static str,
        /// Required length (the input length).
        expected: usize,
        /// Length given.
        actual: usize,
    },
}
