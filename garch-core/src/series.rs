//! Validated input series.
//!
//! Estimation code never re-checks its input: a [`Returns`] value is, by construction, long enough
//! to fit, finite everywhere and not constant. Prices are converted to returns here, so that every
//! caller (CLI, services, data generator) uses the same convention: percent log returns,
//! `100·Δln(price)`, the scale Python `arch` is designed for (its `DataScaleWarning` fires outside
//! a variance of [0.1, 10000)).

use serde::{Deserialize, Serialize};

/// Fewest returns a model may be fitted to.
///
/// Below this a GARCH likelihood is too flat for the estimates (and their standard errors) to
/// mean anything; `arch` itself has no hard minimum, but 100 is a common practical floor.
pub const MIN_OBSERVATIONS: usize = 100;

/// Why a series was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    /// Too few observations to fit a model.
    #[error("series has {got} observations; at least {needed} are required")]
    TooShort {
        /// Observations supplied.
        got: usize,
        /// Observations required.
        needed: usize,
    },
    /// A value is NaN or infinite.
    #[error("value at index {index} is not finite ({value})")]
    NonFinite {
        /// Zero-based position in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A price is zero or negative, so its logarithm is undefined.
    #[error("price at index {index} is not positive ({value})")]
    NonPositivePrice {
        /// Zero-based position in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Every return is the same: there is no volatility to model.
    #[error("series has zero variance (all {len} values equal); there is no volatility to model")]
    ZeroVariance {
        /// Length of the series.
        len: usize,
    },
}

/// How prices are turned into returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnScale {
    /// `100·ln(p_t / p_{t−1})`: the scale `arch` expects (default).
    #[default]
    PercentLog,
    /// `ln(p_t / p_{t−1})`.
    Log,
}

impl ReturnScale {
    fn factor(self) -> f64 {
        match self {
            ReturnScale::PercentLog => 100.0,
            ReturnScale::Log => 1.0,
        }
    }
}

/// A price series: at least two observations, every one finite and strictly positive.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(Vec<f64>);

impl Prices {
    /// Validates `values` as prices.
    pub fn new(values: Vec<f64>) -> Result<Self, SeriesError> {
        if values.len() < 2 {
            return Err(SeriesError::TooShort {
                got: values.len(),
                needed: 2,
            });
        }
        for (index, &value) in values.iter().enumerate() {
            if !value.is_finite() {
                return Err(SeriesError::NonFinite { index, value });
            }
            if value <= 0.0 {
                return Err(SeriesError::NonPositivePrice { index, value });
            }
        }
        Ok(Self(values))
    }

    /// The prices.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Log returns at the given scale, one fewer than the prices. Not yet validated as a
    /// [`Returns`] (a short or constant price series yields returns that cannot be fitted).
    pub fn log_returns(&self, scale: ReturnScale) -> Vec<f64> {
        let k = scale.factor();
        self.0.windows(2).map(|w| k * (w[1] / w[0]).ln()).collect()
    }

    /// Percent log returns, validated for fitting.
    pub fn to_returns(&self) -> Result<Returns, SeriesError> {
        Returns::new(self.log_returns(ReturnScale::PercentLog))
    }
}

/// A return series that can be fitted: at least [`MIN_OBSERVATIONS`] values, all finite, not all
/// equal.
#[derive(Debug, Clone, PartialEq)]
pub struct Returns(Vec<f64>);

impl Returns {
    /// Validates `values` as returns.
    pub fn new(values: Vec<f64>) -> Result<Self, SeriesError> {
        // A branch-free scan first (it vectorises; rolling refits validate every window), the
        // position only when there is something to report.
        let all_finite = values.iter().fold(true, |ok, v| ok & v.is_finite());
        if !all_finite
            && let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(SeriesError::NonFinite { index, value });
        }
        if values.len() < MIN_OBSERVATIONS {
            return Err(SeriesError::TooShort {
                got: values.len(),
                needed: MIN_OBSERVATIONS,
            });
        }
        let first = values[0];
        if values.iter().all(|&v| v == first) {
            return Err(SeriesError::ZeroVariance { len: values.len() });
        }
        Ok(Self(values))
    }

    /// Validates prices and converts them to percent log returns.
    pub fn from_prices(prices: Vec<f64>) -> Result<Self, SeriesError> {
        Prices::new(prices)?.to_returns()
    }

    /// The returns.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a validated series is never empty (kept for API symmetry with slices).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Consumes the series, returning its values.
    pub fn into_vec(self) -> Vec<f64> {
        self.0
    }
}

impl AsRef<[f64]> for Returns {
    fn as_ref(&self) -> &[f64] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiggle(n: usize) -> Vec<f64> {
        (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect()
    }

    #[test]
    fn rejects_short_series() {
        assert_eq!(
            Returns::new(wiggle(99)),
            Err(SeriesError::TooShort {
                got: 99,
                needed: 100
            })
        );
        assert!(Returns::new(wiggle(100)).is_ok());
    }

    #[test]
    fn rejects_non_finite_with_index() {
        let mut v = wiggle(200);
        v[57] = f64::NAN;
        assert!(matches!(
            Returns::new(v),
            Err(SeriesError::NonFinite { index: 57, .. })
        ));
        let mut v = wiggle(200);
        v[3] = f64::INFINITY;
        assert!(matches!(
            Returns::new(v),
            Err(SeriesError::NonFinite { index: 3, .. })
        ));
    }

    #[test]
    fn rejects_constant_series() {
        assert_eq!(
            Returns::new(vec![0.5; 300]),
            Err(SeriesError::ZeroVariance { len: 300 })
        );
    }

    #[test]
    fn rejects_non_positive_prices() {
        assert!(matches!(
            Prices::new(vec![1.0, 2.0, 0.0]),
            Err(SeriesError::NonPositivePrice { index: 2, .. })
        ));
        assert!(matches!(
            Prices::new(vec![1.0, -2.0]),
            Err(SeriesError::NonPositivePrice { index: 1, .. })
        ));
        assert!(matches!(
            Prices::new(vec![1.0, f64::NAN]),
            Err(SeriesError::NonFinite { index: 1, .. })
        ));
    }

    #[test]
    fn percent_log_returns() {
        let p = Prices::new(vec![100.0, 110.0, 99.0]).unwrap();
        let r = p.log_returns(ReturnScale::PercentLog);
        assert!((r[0] - 100.0 * (1.1f64).ln()).abs() < 1e-12);
        assert!((r[1] - 100.0 * (0.9f64).ln()).abs() < 1e-12);
        assert_eq!(p.log_returns(ReturnScale::Log).len(), 2);
    }
}
