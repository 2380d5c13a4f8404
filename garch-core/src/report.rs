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

/// What a [`FitReport`] holds that does not follow from the rest: the estimates and their
/// standard errors, the log-likelihood and how the optimiser ended. Names, t statistics,
/// p-values, information criteria, persistence, half-life and the unconditional and
/// annualised volatility are functions of these and the model, and
/// [`FitReport::from_essentials`] recomputes them with the operations [`crate::fit`] uses,
/// so the report comes back bit for bit. For transports that carry many reports: a
/// distributed backtest sends one per refit, and these are under half the bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportEssentials {
    /// Point estimates in `arch` order.
    pub values: Vec<f64>,
    /// Their standard errors.
    pub std_errs: Vec<Option<f64>>,
    /// How the standard errors were computed.
    pub covariance_type: CovarianceType,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Observations used.
    pub nobs: usize,
    /// Whether the optimiser met its convergence criterion.
    pub converged: bool,
    /// Optimiser iterations.
    pub iterations: u64,
    /// Likelihood evaluations.
    pub function_evaluations: u64,
    /// Why the optimiser stopped.
    pub status: String,
    /// Parameters on a constraint.
    pub at_bounds: Vec<String>,
}

impl FitReport {
    /// The fields the others follow from.
    pub fn essentials(&self) -> ReportEssentials {
        ReportEssentials {
            values: self.params.iter().map(|p| p.value).collect(),
            std_errs: self.params.iter().map(|p| p.std_err).collect(),
            covariance_type: self.covariance_type,
            log_likelihood: self.log_likelihood,
            nobs: self.nobs,
            converged: self.converged,
            iterations: self.iterations,
            function_evaluations: self.function_evaluations,
            status: self.status.clone(),
            at_bounds: self.at_bounds.clone(),
        }
    }

    /// The report of `spec` with these essentials: the one [`Self::essentials`] came from, bit
    /// for bit. Fails when the number of values or standard errors is not the model's.
    pub fn from_essentials(
        spec: ModelSpec,
        essentials: ReportEssentials,
    ) -> Result<FitReport, crate::FitError> {
        let names = spec.param_names();
        let (n_values, n_errs) = (essentials.values.len(), essentials.std_errs.len());
        if n_values != names.len() || n_errs != names.len() {
            return Err(crate::FitError::WrongParameterCount {
                expected: names.len(),
                got: n_values.max(n_errs),
                names: names.join(", "),
            });
        }
        Ok(crate::fit::report::build_report(spec, essentials))
    }

    /// The estimate named `name`.
    pub fn param(&self, name: &str) -> Option<&ParameterEstimate> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Point estimates in order.
    pub fn values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }
}
