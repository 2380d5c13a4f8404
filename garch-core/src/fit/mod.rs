//! Maximum-likelihood estimation.
//!
//! The pipeline follows `arch` 8.0's `ARCHModel.fit` (`univariate/base.py`) so that results are
//! comparable:
//! 1. starting residuals `e₀ = y − ȳ` (constant mean) or `y`; backcast and variance bounds from
//!    them, fixed for the whole optimisation;
//! 2. starting values from `arch`'s grid (`GARCH.starting_values`, `EGARCH.starting_values`),
//!    each distinct point scored by its Gaussian log-likelihood; ν from the kurtosis rule;
//! 3. maximisation (`arch` uses SLSQP with finite differences and stops at a looser optimum):
//!    for first-order GARCH/GJR, Newton's method on the exact analytic Hessian (the private
//!    `newton` module), which converges in 4–6 passes from the grid start; where it does not
//!    apply or the optimum sits on a constraint, argmin's L-BFGS with a Moré–Thuente line
//!    search on the unconstrained reparameterisation of the private `transform` module, with
//!    the analytic gradient; an L-BFGS point that is not stationary or lies near a constraint is
//!    then refined by the private `active_set` module, a primal active-set Newton method on
//!    `arch`'s linear constraints themselves, and if it ends on a constraint the fit is repeated
//!    from the grid's next two starts and the best point kept (a warm start on a constraint,
//!    without grid restarts, starts with the refinement). `converged` is granted only at a
//!    KKT point (Newton's interior optimum, an interior stationary L-BFGS point, or the
//!    refinement's verified KKT point); the constraints active there are the report's
//!    `at_bounds`;
//! 4. covariance `H⁻¹ B H⁻¹ / T` (robust) or `H⁻¹ / T` (classic), as `compute_param_cov`: `H`
//!    and the score covariance `B` exact from the second-order pass where there is one (for
//!    Newton fits, its last pass), else `H` by `arch`'s own second differences
//!    (`approx_hess3`) and analytic scores;
//! 5. the log-likelihood and conditional variances at the optimum: for Newton fits from the
//!    same last pass (the variances bit for bit those of a value pass, the log-likelihood
//!    equal up to summation order), else from one value pass.
//!
//! The files follow the pipeline: `start` (steps 1–2), `newton`, `lbfgs` and `active_set`
//! (step 3),
//! `covariance` (step 4) and `report` (the [`FitReport`] built from the result); `kernel`
//! evaluates the likelihood, standard errors and starting values at given parameters
//! without fitting. This file has the public types, [`fit`], [`fix`] and the parameter checks.

mod active_set;
mod covariance;
mod kernel;
mod lbfgs;
mod newton;
pub(crate) mod report;
mod start;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::distribution::ShockLaw;
use crate::likelihood::Likelihood;
use crate::report::{CovarianceType, FitReport, ReportEssentials};
use crate::series::Returns;
use crate::spec::{ModelSpec, SpecError};
use crate::transform::Transform;

use covariance::{covariance, covariance_from_second_order};
pub use kernel::{
    LikelihoodKernel, arch_starting_values, log_likelihood_with_gradient, standard_errors,
};
use lbfgs::optimise;
use report::{build_report, std_errs_of};
pub(crate) use start::starting_resids;
use start::{starting_candidates, starting_values};

/// Why a fit (or a fixed-parameter evaluation) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A parameter vector of the wrong length.
    #[error("expected {expected} parameters ({names}), got {got}")]
    WrongParameterCount {
        /// Parameters the model has.
        expected: usize,
        /// Parameters given.
        got: usize,
        /// Their names.
        names: String,
    },
    /// Parameters that violate the model's constraints.
    #[error("parameters violate the model constraints: {0}")]
    InfeasibleParameters(String),
    /// The likelihood is not finite at the starting values (data far outside the model's scale).
    #[error("log-likelihood is not finite at the starting values; check the data's scale")]
    NonFiniteLikelihood,
    /// The optimiser failed before producing any usable point.
    #[error("optimiser failed: {0}")]
    Optimizer(String),
}

/// Estimation settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// Standard-error flavour.
    pub covariance: CovarianceType,
    /// Iteration cap for the optimiser.
    pub max_iterations: u64,
    /// Convergence tolerance on the gradient norm of the mean negative log-likelihood in the
    /// optimiser's preconditioned coordinates, where `½‖∇‖²` approximates the remaining gain
    /// per observation (1e-8 leaves less than 1e-12 of total log-likelihood on 5,000
    /// observations).
    pub gradient_tolerance: f64,
    /// When an optimum's variance parameters end on a constraint (or the refinement does not
    /// converge), also fit from the starting grid's next-best points and keep the best
    /// (default). A caller that verifies such optima itself — a rolling backtest checks warm
    /// optima against cold fits — may turn it off for its warm starts; the result is then the
    /// constrained optimum reached from the start given, its status as honest as ever, and a
    /// warm start that is itself on a constraint goes straight to the active-set method.
    #[serde(default = "restarts_default")]
    pub grid_restarts: bool,
}

fn restarts_default() -> bool {
    true
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            covariance: CovarianceType::Robust,
            max_iterations: 1000,
            gradient_tolerance: 1e-8,
            grid_restarts: true,
        }
    }
}

/// A model with parameters attached to a series: the result of [`fit`] or [`fix`]. It can
/// forecast and be re-applied to an extended series ([`FittedModel::filter`]).
#[derive(Debug, Clone)]
pub struct FittedModel {
    pub(crate) spec: ModelSpec,
    pub(crate) params: Vec<f64>,
    pub(crate) returns: Returns,
    pub(crate) conditional_variance: Vec<f64>,
    pub(crate) report: FitReport,
    /// The exact Hessian at `params` (row-major), where Newton's method found them.
    pub(crate) hessian: Option<Vec<f64>>,
    /// Where `conditional_variance` started and the band it was checked against.
    pub(crate) origin: PathOrigin,
}

/// The backcast a fitted variance path started from and a band inside every variance bound of
/// its likelihood: a path strictly inside the band was never floored or capped, so it is the
/// plain recursion (what [`FittedModel::continued_forecasts`] extends without rerunning it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PathOrigin {
    pub backcast: f64,
    pub band: [f64; 2],
}

impl PathOrigin {
    fn of(lik: &Likelihood<'_>) -> Self {
        Self {
            backcast: lik.backcast(),
            band: lik.envelope(),
        }
    }
}

/// Where a refit on an overlapping sample starts: a previous optimum and, where Newton's method
/// found it, the exact Hessian there ([`FittedModel::warm_start`], used by [`fit_warm`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WarmStart {
    params: Vec<f64>,
    hessian: Option<Vec<f64>>,
}

impl WarmStart {
    /// A start from parameter values alone (as [`fit_from`]).
    pub fn from_params(params: Vec<f64>) -> Self {
        Self {
            params,
            hessian: None,
        }
    }
    /// The starting parameters, in `arch` order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }
}

impl FittedModel {
    /// The report.
    pub fn report(&self) -> &FitReport {
        &self.report
    }
    /// What a refit on an overlapping sample (the next rolling window) should start from.
    pub fn warm_start(&self) -> WarmStart {
        WarmStart {
            params: self.params.clone(),
            hessian: self.hessian.clone(),
        }
    }
    /// The model.
    pub fn spec(&self) -> ModelSpec {
        self.spec
    }
    /// Parameter values in `arch` order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }
    /// The series the model is attached to.
    pub fn returns(&self) -> &Returns {
        &self.returns
    }
    /// In-sample conditional variances `σ²_t` (as `arch`'s `conditional_volatility²`). With an
    /// AR(p) mean they start at observation `p` (the first `p` are only regressors; `arch`
    /// reports them as NaN), so there are `T − p` of them.
    pub fn conditional_variance(&self) -> &[f64] {
        &self.conditional_variance
    }
    /// In-sample conditional volatilities `σ_t`.
    pub fn conditional_volatility(&self) -> Vec<f64> {
        self.conditional_variance.iter().map(|v| v.sqrt()).collect()
    }
    /// The unit-variance law of the shocks at the fitted shape parameters (for value at risk,
    /// expected shortfall and forecast intervals).
    pub fn shock_law(&self) -> Result<ShockLaw, SpecError> {
        ShockLaw::of_params(self.spec.distribution, &self.params)
    }
    /// Residuals `ε_t = y_t − E[y_t | past]` at the fitted mean (from observation `p` with an
    /// AR(p) mean, aligned with [`Self::conditional_variance`]).
    pub fn resids(&self) -> Vec<f64> {
        crate::mean::residuals(self.spec.mean, &self.params, self.returns.as_slice())
    }
    /// Standardised residuals `ε_t/σ_t` (from observation `p` with an AR(p) mean).
    pub fn std_resids(&self) -> Vec<f64> {
        self.resids()
            .iter()
            .zip(&self.conditional_variance)
            .map(|(e, v)| e / v.sqrt())
            .collect()
    }
    /// Applies these parameters, without refitting, to `extended` (typically the original
    /// series with new observations appended): the conditional variances are updated and the
    /// result forecasts from the new end. Same as `arch`'s `fix` on the longer series.
    pub fn filter(&self, extended: &Returns) -> Result<FittedModel, FitError> {
        fix(extended, self.spec, &self.params)
    }
}

/// Where an optimiser stopped and how it got there.
struct Optimum {
    params: Vec<f64>,
    converged: bool,
    /// Whether the gradient (in the optimiser's coordinates) vanished there.
    stationary: bool,
    iterations: u64,
    evaluations: u64,
    status: String,
}

/// Fits `spec` to `returns` by maximum likelihood.
///
/// ```
/// use garch_core::{fit, simulate, FitOptions, ModelSpec, Returns};
/// let spec = ModelSpec::default(); // constant mean, GARCH(1,1), normal errors
/// let sim = simulate(spec, &[0.05, 0.02, 0.08, 0.9], 2000, 7).unwrap();
/// let model = fit(&Returns::new(sim.returns).unwrap(), spec, &FitOptions::default()).unwrap();
/// assert!(model.report().converged);
/// ```
pub fn fit(
    returns: &Returns,
    spec: ModelSpec,
    options: &FitOptions,
) -> Result<FittedModel, FitError> {
    fit_inner(returns, spec, options, None, None)
}

/// Fits `spec` to `returns` starting from `start` instead of `arch`'s grid: a warm start.
///
/// Rolling re-estimation refits on windows that overlap almost entirely, so the previous
/// window's optimum is an excellent start (`arch`'s documentation advises
/// `fit(starting_values=previous.params)` for rolling fits); Newton's method then needs one or
/// two passes instead of the grid's 16–64 passes plus four to six iterations. Everything else
/// (backcast, bounds, optimiser, covariance, report) is exactly [`fit`]'s.
///
/// A warm start reaches the same optimum as the grid only where the likelihood has a single
/// mode in between; callers that must be certain compare with [`fit`] (the `backtest` crate's
/// tests do, window by window). `start` is ignored, and the grid used, when it has the wrong
/// length or is not strictly feasible; the report's status then says so.
///
/// ```
/// use garch_core::{fit, fit_from, simulate, FitOptions, ModelSpec, Returns};
/// let spec = ModelSpec::default();
/// let sim = simulate(spec, &[0.05, 0.02, 0.08, 0.9], 2000, 7).unwrap();
/// let returns = Returns::new(sim.returns).unwrap();
/// let cold = fit(&returns, spec, &FitOptions::default()).unwrap();
/// let warm = fit_from(&returns, spec, &FitOptions::default(), cold.params()).unwrap();
/// assert!(warm.report().log_likelihood >= cold.report().log_likelihood - 1e-9);
/// ```
pub fn fit_from(
    returns: &Returns,
    spec: ModelSpec,
    options: &FitOptions,
    start: &[f64],
) -> Result<FittedModel, FitError> {
    fit_inner(returns, spec, options, Some(start), None)
}

/// [`fit_from`] a [`WarmStart`]: where it holds the Hessian at the previous optimum, the first
/// Newton step uses it with the value and gradient at the start, from a pass without Hessian
/// terms at about half the cost. Same optimum, same report; convergence is still decided
/// on the exact Hessian at the point reported.
///
/// ```
/// use garch_core::{fit, fit_warm, simulate, FitOptions, ModelSpec, Returns};
/// let spec = ModelSpec::default();
/// let y = simulate(spec, &[0.05, 0.02, 0.08, 0.9], 1001, 7).unwrap().returns;
/// let first = fit(&Returns::new(y[..1000].to_vec()).unwrap(), spec, &FitOptions::default()).unwrap();
/// let next = Returns::new(y[1..].to_vec()).unwrap();
/// let warm = fit_warm(&next, spec, &FitOptions::default(), &first.warm_start()).unwrap();
/// let cold = fit(&next, spec, &FitOptions::default()).unwrap();
/// assert!(warm.report().log_likelihood >= cold.report().log_likelihood - 1e-9);
/// ```
pub fn fit_warm(
    returns: &Returns,
    spec: ModelSpec,
    options: &FitOptions,
    start: &WarmStart,
) -> Result<FittedModel, FitError> {
    fit_inner(
        returns,
        spec,
        options,
        Some(&start.params),
        start.hessian.as_deref(),
    )
}

fn fit_inner(
    returns: &Returns,
    spec: ModelSpec,
    options: &FitOptions,
    warm: Option<&[f64]>,
    curvature: Option<&[f64]>,
) -> Result<FittedModel, FitError> {
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    let lik = Likelihood::new(spec, y, &e0);
    let transform = Transform::new(spec);
    let nu_index = spec.layout().nu;
    let usable = |p: &[f64]| {
        p.len() == spec.layout().len
            && p.iter().all(|v| v.is_finite())
            && transform.is_feasible(p)
            && nu_index
                .is_none_or(|n| p[n] > crate::transform::NU_MIN && p[n] < crate::transform::NU_MAX)
    };
    let warm_start = warm.filter(|p| usable(p));
    let (start, start_note) = match (warm, warm_start) {
        (_, Some(p)) => (p.to_vec(), "; warm start"),
        (Some(_), None) => (
            starting_values(&lik, y, &e0),
            "; warm start infeasible, started from the grid",
        ),
        (None, None) => (starting_values(&lik, y, &e0), ""),
    };
    let names = spec.param_names();
    let constraints = || {
        let v = crate::variance::lane_sum(&e0, |e| e * e) / e0.len() as f64;
        transform.linear_constraints(v, &names)
    };
    // EGARCH's |z| kinks the likelihood in every mean parameter.
    let kinked_mean = match spec.volatility {
        crate::spec::VolatilityModel::Egarch => 0..spec.layout().n_mean,
        _ => 0..0,
    };
    // A warm start on a constraint, for a caller that verifies such optima itself (a rolling
    // window whose predecessor's optimum is on a face): Newton cannot move along the face and
    // L-BFGS's reparameterisation reaches it only in a limit, so the active-set method starts
    // there directly. Its KKT point is the constrained optimum reached from that start; if it
    // finds none, the usual path below runs.
    if warm_start.is_some()
        && !options.grid_restarts
        && !transform.near_bounds(&start, &names).is_empty()
        && let Some(r) = active_set::refine(&lik, &constraints(), &start, kinked_mean.clone())
        && r.kkt
    {
        let opt = Optimum {
            status: format!(
                "converged: {} by the active-set method from a warm start on a constraint, \
                 {} iteration(s)",
                r.reason, r.iterations
            ),
            params: r.params,
            converged: true,
            stationary: true,
            iterations: r.iterations,
            evaluations: r.evaluations,
        };
        return Ok(finish(
            returns,
            spec,
            options,
            &lik,
            opt,
            None,
            Some(r.active),
            start_note,
        ));
    }
    // Newton on the exact Hessian where the model has one and the optimum is interior;
    // otherwise (or if it fails) L-BFGS on the unconstrained reparameterisation.
    let mut newton_evaluations = 0;
    let (opt, last_pass) = match newton::maximise(
        &lik,
        &transform,
        &start,
        curvature.filter(|_| warm_start.is_some()),
        options,
        &mut newton_evaluations,
    ) {
        Some(newton) => (
            Optimum {
                params: newton.params,
                converged: true,
                stationary: true,
                iterations: newton.iterations,
                evaluations: newton_evaluations,
                status: newton.status,
            },
            Some(newton.last),
        ),
        None => {
            let mut opt = optimise(&lik, &transform, &start, options)?;
            opt.evaluations += newton_evaluations;
            (opt, None)
        }
    };
    // Newton's optimum is interior and stationary: a KKT point. An L-BFGS result that is not
    // stationary or sits near a constraint is refined on the constraints themselves, and, if its
    // variance parameters end on one, compared with fits from the grid's next-best starts.
    let mut active = None;
    let opt = if last_pass.is_none()
        && (!opt.stationary || !transform.near_bounds(&opt.params, &names).is_empty())
    {
        let constraints = constraints();
        let (mut best, mut best_active, mut best_ll) =
            refine_optimum(&lik, &constraints, opt, kinked_mean.clone());
        // Restarts where the variance parameters sit on a constraint (where the
        // reparameterisation misled L-BFGS before) or the refinement failed; a shape parameter
        // at its bound (tails that look normal) alone does not call for them.
        let shape_names = spec.distribution.shape_names();
        let variance_bound = best_active.iter().any(|a| {
            !shape_names
                .iter()
                .any(|n| a.starts_with(&format!("{n} = ")))
        });
        if options.grid_restarts && (variance_bound || !best.converged) {
            let mut extra = 0;
            let mut note = String::new();
            for (i, alt) in starting_candidates(&lik, y, &e0, 3)
                .into_iter()
                .enumerate()
                .skip(1)
            {
                let Ok(o) = optimise(&lik, &transform, &alt, options) else {
                    continue;
                };
                let (o, a, ll) = refine_optimum(&lik, &constraints, o, kinked_mean.clone());
                extra += o.evaluations;
                if ll > best_ll + 1e-9 {
                    note = format!(
                        "; the grid's start #{} reached {:.3e} more than the best start",
                        i + 1,
                        ll - best_ll
                    );
                    (best, best_active, best_ll) = (o, a, ll);
                }
            }
            best.evaluations += extra;
            best.status.push_str(&note);
        }
        active = Some(best_active);
        best
    } else {
        opt
    };
    Ok(finish(
        returns, spec, options, &lik, opt, last_pass, active, start_note,
    ))
}

/// Steps 4 and 5 of the pipeline (covariance, log-likelihood and variances at the optimum)
/// and the report. `last_pass` is Newton's pass at the optimum, if Newton found it; `active`
/// the constraints a refinement found active (else those the optimum is near).
#[allow(clippy::too_many_arguments)]
fn finish(
    returns: &Returns,
    spec: ModelSpec,
    options: &FitOptions,
    lik: &Likelihood<'_>,
    opt: Optimum,
    last_pass: Option<crate::likelihood::SecondOrder>,
    active: Option<Vec<String>>,
    start_note: &str,
) -> FittedModel {
    let names = spec.param_names();
    let transform = Transform::new(spec);
    let robust = options.covariance == CovarianceType::Robust;
    let cov = match &last_pass {
        // Newton's last pass is at the optimum: reuse it if it has what the flavour needs.
        Some(so) if so.scores.is_some() || !robust => {
            covariance_from_second_order(so, lik.nobs(), options.covariance)
        }
        _ => covariance(lik, &opt.params, options.covariance),
    };
    // The same pass has the log-likelihood and the conditional variances at the optimum.
    let (ll, sigma2, hessian) = match last_pass {
        Some(so) => (so.ll, so.sigma2, Some(so.hess)),
        None => {
            let (ll, sigma2) = lik.conditional_variance(&opt.params);
            (ll, sigma2, None)
        }
    };
    let mut status = opt.status;
    status.push_str(start_note);
    if cov.is_none() {
        status.push_str("; Hessian is singular, standard errors unavailable");
    }
    let at_bounds = active.unwrap_or_else(|| transform.near_bounds(&opt.params, &names));
    let report = build_report(
        spec,
        ReportEssentials {
            values: opt.params.clone(),
            std_errs: std_errs_of(cov.as_ref(), opt.params.len()),
            covariance_type: options.covariance,
            log_likelihood: ll,
            nobs: lik.nobs(),
            converged: opt.converged,
            iterations: opt.iterations,
            function_evaluations: opt.evaluations,
            status,
            at_bounds,
        },
    );
    FittedModel {
        spec,
        params: opt.params,
        returns: returns.clone(),
        conditional_variance: sigma2,
        report,
        hessian,
        origin: PathOrigin::of(lik),
    }
}

/// Runs the active-set refinement from an L-BFGS optimum and keeps whichever point is better;
/// `converged` is then the refinement's KKT verdict. Returns the optimum, the constraints active
/// there and its log-likelihood.
fn refine_optimum(
    lik: &Likelihood<'_>,
    constraints: &[crate::transform::Constraint],
    opt: Optimum,
    kinked_mean: std::ops::Range<usize>,
) -> (Optimum, Vec<String>, f64) {
    let before = lik.value(&opt.params);
    match active_set::refine(lik, constraints, &opt.params, kinked_mean) {
        // The refinement may move onto a constraint at a cost within evaluation noise.
        Some(r) if r.log_likelihood >= before - 1e-9 || !before.is_finite() => {
            let status = format!(
                "{}: {} after an active-set refinement that gained {:.3e} on L-BFGS, {} iteration(s)",
                if r.kkt { "converged" } else { "not converged" },
                r.reason,
                r.log_likelihood - before,
                r.iterations
            );
            (
                Optimum {
                    params: r.params,
                    converged: r.kkt,
                    stationary: r.kkt,
                    iterations: opt.iterations + r.iterations,
                    evaluations: opt.evaluations + r.evaluations + 1,
                    status,
                },
                r.active,
                r.log_likelihood,
            )
        }
        _ => {
            let status = format!(
                "not converged: the active-set refinement could not confirm L-BFGS's point ({})",
                opt.status
            );
            (
                Optimum {
                    converged: false,
                    status,
                    ..opt
                },
                Vec::new(),
                before,
            )
        }
    }
}

/// Attaches given parameters to `returns` without estimation (`arch`'s `fix`): the
/// log-likelihood, conditional variances and forecasts at those parameters.
pub fn fix(returns: &Returns, spec: ModelSpec, params: &[f64]) -> Result<FittedModel, FitError> {
    check_params(&spec, params)?;
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    let lik = Likelihood::new(spec, y, &e0);
    let (ll, sigma2) = lik.conditional_variance(params);
    let report = build_report(
        spec,
        ReportEssentials {
            values: params.to_vec(),
            std_errs: vec![None; params.len()],
            covariance_type: CovarianceType::Robust,
            log_likelihood: ll,
            nobs: lik.nobs(),
            converged: true,
            iterations: 0,
            function_evaluations: 1,
            status: "fixed parameters (not estimated)".into(),
            at_bounds: Vec::new(),
        },
    );
    Ok(FittedModel {
        spec,
        params: params.to_vec(),
        returns: returns.clone(),
        conditional_variance: sigma2,
        report,
        hessian: None,
        origin: PathOrigin::of(&lik),
    })
}

impl FittedModel {
    /// Reattaches a report produced elsewhere (another process or host that ran [`fit`] on the same
    /// series) to `returns`, without estimating again: the parameters are the report's point
    /// estimates and the conditional variances are recomputed by the same deterministic filter
    /// [`fit`] uses, so the model is bit-identical to the one the report came from (given the
    /// exact same returns and an exact transport of the `f64` values). This is how a distributed
    /// fit is turned back into a [`FittedModel`] that forecasts, at the cost of one likelihood pass.
    ///
    /// Fails if the report does not belong to a series of this length or has the wrong number
    /// of parameters for its model.
    ///
    /// ```
    /// use garch_core::{fit, simulate, FitOptions, FittedModel, ModelSpec, Returns};
    /// let spec = ModelSpec::default();
    /// let sim = simulate(spec, &[0.05, 0.02, 0.08, 0.9], 1000, 3).unwrap();
    /// let returns = Returns::new(sim.returns).unwrap();
    /// let model = fit(&returns, spec, &FitOptions::default()).unwrap();
    /// let again = FittedModel::from_report(&returns, model.report().clone()).unwrap();
    /// assert_eq!(again.conditional_variance(), model.conditional_variance());
    /// ```
    pub fn from_report(returns: &Returns, report: FitReport) -> Result<FittedModel, FitError> {
        let spec = report.spec;
        let params: Vec<f64> = report.params.iter().map(|p| p.value).collect();
        // Only the shape is checked: a fitted optimum may sit numerically on a constraint,
        // which the strict feasibility test of `fix` would reject.
        let names = spec.param_names();
        if params.len() != names.len() {
            return Err(FitError::WrongParameterCount {
                expected: names.len(),
                got: params.len(),
                names: names.join(", "),
            });
        }
        let y = returns.as_slice();
        let used = y.len().saturating_sub(spec.mean.hold_back());
        if report.nobs != used {
            return Err(FitError::InfeasibleParameters(format!(
                "the report does not match the series: it is for {} observations, the series has {}",
                report.nobs, used
            )));
        }
        let e0 = starting_resids(&spec, y);
        let lik = Likelihood::new(spec, y, &e0);
        let sigma2 = lik.variance_path(&params);
        Ok(FittedModel {
            spec,
            params,
            returns: returns.clone(),
            conditional_variance: sigma2,
            report,
            hessian: None,
            origin: PathOrigin::of(&lik),
        })
    }
}

/// Rejects a parameter vector of the wrong length or outside the (closed) constraints (what
/// [`fix`] and [`crate::simulate()`] check before they use one): an estimate on the persistence
/// face, as the active-set refinement can return, is accepted.
pub fn check_params(spec: &ModelSpec, params: &[f64]) -> Result<(), FitError> {
    let names = spec.param_names();
    if params.len() != names.len() {
        return Err(FitError::WrongParameterCount {
            expected: names.len(),
            got: params.len(),
            names: names.join(", "),
        });
    }
    let transform = Transform::new(*spec);
    if !transform.is_admissible(params) {
        return Err(FitError::InfeasibleParameters(format!(
            "{} = {:?}",
            names.join(", "),
            params
        )));
    }
    Ok(())
}
