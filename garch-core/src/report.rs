//! The structured result of a fit: what a risk desk reads and what the services serialise.

use serde::{Deserialize, Serialize};

use crate::spec::ModelSpec;

/// Trading days per year used to annualise daily volatility (`√252`).
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// How standard errors were computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CovarianceType {
    /// Bollerslev–Wooldridge (1992) sandwich `H⁻¹ B H⁻¹ / T`, robust to non-normal errors
    /// (default, as in `arch`).
    #[default]
    Robust,
    /// Inverse Hessian `H⁻¹ / T`.
    Classic,
}

/// One estimated parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParameterEstimate {
    /// `mu`, `omega`, `alpha`, `gamma`, `beta`, `nu` (indexed as `alpha[2]` beyond order one).
    pub name: String,
    /// Point estimate.
    pub value: f64,
    /// Standard error; `None` when the covariance could not be computed (singular Hessian) or
    /// for fixed parameters.
    pub std_err: Option<f64>,
    /// `value / std_err`.
    pub t_stat: Option<f64>,
    /// Two-sided p-value of the t-statistic under the standard normal.
    pub p_value: Option<f64>,
}

/// Everything a fit reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FitReport {
    /// The model fitted.
    pub spec: ModelSpec,
    /// Estimates in `arch`'s parameter order.
    pub params: Vec<ParameterEstimate>,
    /// How the standard errors were computed.
    pub covariance_type: CovarianceType,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Akaike information criterion, `2k − 2ℓ`.
    pub aic: f64,
    /// Bayesian information criterion, `k ln T − 2ℓ`.
    pub bic: f64,
    /// Observations used.
    pub nobs: usize,
    /// Whether the optimiser met its convergence criterion.
    pub converged: bool,
    /// Optimiser iterations.
    pub iterations: u64,
    /// Likelihood evaluations (with gradient).
    pub function_evaluations: u64,
    /// Why the optimiser stopped, in words.
    pub status: String,
    /// Parameters that ended on (numerically at) a constraint; empty when interior.
    pub at_bounds: Vec<String>,
    /// Persistence of shocks: `Σα + Σγ/2 + Σβ` (GARCH/GJR), `β` (EGARCH).
    pub persistence: f64,
    /// Days for a variance shock to halve, `ln ½ / ln persistence`; `None` if not stationary.
    pub half_life_days: Option<f64>,
    /// Long-run daily variance, in squared return units (percent² for percent returns):
    /// `ω / (1 − persistence)` for GARCH/GJR; `exp(ω / (1 − β))`, the variance at the long-run
    /// mean of `ln σ²`, for EGARCH.
    pub unconditional_variance: Option<f64>,
    /// `√(252 · unconditional_variance)`.
    pub annualized_volatility: Option<f64>,
}

impl FitReport {
    /// The estimate named `name`.
    pub fn param(&self, name: &str) -> Option<&ParameterEstimate> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Point estimates in order.
    pub fn values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }
}
