//! The likelihood, its gradient and Hessian, standard errors and `arch`'s starting values at
//! given parameters, without a fit: for benchmarks, for comparison tests against `arch`, and
//! for users who profile or bootstrap a likelihood themselves.

use super::covariance::covariance;
use super::start::{starting_resids, starting_values};
use super::{FitError, check_params};
use crate::likelihood::Likelihood;
use crate::report::CovarianceType;
use crate::series::Returns;
use crate::spec::ModelSpec;

/// The log-likelihood of `spec` on one series, prepared once (backcast and variance bounds from
/// the starting residuals, as `arch`) and evaluated at many parameter vectors. This is the
/// kernel the optimiser calls; it is public for benchmarks and for users who profile or
/// bootstrap a likelihood themselves. Parameters are not checked here.
pub struct LikelihoodKernel<'a> {
    inner: Likelihood<'a>,
}

impl<'a> LikelihoodKernel<'a> {
    /// Prepares the likelihood.
    pub fn new(returns: &'a Returns, spec: ModelSpec) -> Self {
        let y = returns.as_slice();
        let e0 = starting_resids(&spec, y);
        Self {
            inner: Likelihood::new_owned(spec, y, e0),
        }
    }
    /// Total log-likelihood (one pass, no derivatives).
    pub fn value(&self, params: &[f64]) -> f64 {
        self.inner.value(params)
    }
    /// Total log-likelihood and its gradient (one pass).
    pub fn value_and_gradient(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        self.inner.value_and_gradient(params, grad, None)
    }
    /// Total log-likelihood, gradient and row-major `k × k` Hessian in one pass: the pass
    /// Newton's method iterates on. `None` for models without an analytic Hessian (EGARCH,
    /// higher orders) and where a variance exceeds its upper bound.
    pub fn value_gradient_hessian(&self, params: &[f64]) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        self.inner
            .second_order(params, false)
            .map(|so| (so.ll, so.grad, so.hess))
    }
}

/// Log-likelihood and its analytic gradient at `params`, with `arch`'s backcast and bounds for
/// `returns`. Exposed for tests of the likelihood kernel.
pub fn log_likelihood_with_gradient(
    returns: &Returns,
    spec: ModelSpec,
    params: &[f64],
) -> Result<(f64, Vec<f64>), FitError> {
    check_params(&spec, params)?;
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    let lik = Likelihood::new(spec, y, &e0);
    let mut g = vec![0.0; params.len()];
    let ll = lik.value_and_gradient(params, &mut g, None);
    Ok((ll, g))
}

/// Standard errors at given parameters (robust or classic), as `arch`'s
/// `compute_param_cov(params)`.
pub fn standard_errors(
    returns: &Returns,
    spec: ModelSpec,
    params: &[f64],
    kind: CovarianceType,
) -> Result<Option<Vec<f64>>, FitError> {
    check_params(&spec, params)?;
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    let lik = Likelihood::new(spec, y, &e0);
    Ok(covariance(&lik, params, kind).map(|c| {
        (0..params.len())
            .map(|i| c[(i, i)].max(0.0).sqrt())
            .collect()
    }))
}

/// The starting values `arch` would use for `spec` on `returns` (exposed for comparison tests).
pub fn arch_starting_values(returns: &Returns, spec: ModelSpec) -> Vec<f64> {
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    starting_values(&Likelihood::new(spec, y, &e0), y, &e0)
}
