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
//!    the analytic gradient;
//! 4. covariance `H⁻¹ B H⁻¹ / T` (robust) or `H⁻¹ / T` (classic), as `compute_param_cov`: `H`
//!    and the score covariance `B` exact from the second-order pass where there is one (for
//!    Newton fits, its last pass), else `H` by `arch`'s own second differences
//!    (`approx_hess3`) and analytic scores;
//! 5. the log-likelihood and conditional variances at the optimum: for Newton fits from the
//!    same last pass (the variances bit for bit those of a value pass, the log-likelihood
//!    equal up to summation order), else from one value pass.

mod newton;

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::likelihood::{Likelihood, SecondOrder};
use crate::report::{CovarianceType, FitReport, ParameterEstimate, TRADING_DAYS_PER_YEAR};
use crate::series::Returns;
use crate::spec::{Layout, MeanModel, ModelSpec, VolatilityModel};
use crate::transform::Transform;

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
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            covariance: CovarianceType::Robust,
            max_iterations: 1000,
            gradient_tolerance: 1e-8,
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
}

impl FittedModel {
    /// The report.
    pub fn report(&self) -> &FitReport {
        &self.report
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
    /// In-sample conditional variances `σ²_t` (as `arch`'s `conditional_volatility²`).
    pub fn conditional_variance(&self) -> &[f64] {
        &self.conditional_variance
    }
    /// In-sample conditional volatilities `σ_t`.
    pub fn conditional_volatility(&self) -> Vec<f64> {
        self.conditional_variance.iter().map(|v| v.sqrt()).collect()
    }
    /// Standardised residuals `(y_t − μ)/σ_t`.
    pub fn std_resids(&self) -> Vec<f64> {
        let mu = self.spec.layout().mu.map_or(0.0, |m| self.params[m]);
        self.returns
            .as_slice()
            .iter()
            .zip(&self.conditional_variance)
            .map(|(y, v)| (y - mu) / v.sqrt())
            .collect()
    }
    /// Applies these parameters, without refitting, to `extended` (typically the original
    /// series with new observations appended): the conditional variances are updated and the
    /// result forecasts from the new end. Same as `arch`'s `fix` on the longer series.
    pub fn filter(&self, extended: &Returns) -> Result<FittedModel, FitError> {
        fix(extended, self.spec, &self.params)
    }
}

/// Starting residuals: `y − ȳ` for a constant mean, `y` for a zero mean.
pub(crate) fn starting_resids(spec: &ModelSpec, y: &[f64]) -> Vec<f64> {
    match spec.mean {
        MeanModel::Constant => {
            let m = y.iter().sum::<f64>() / y.len() as f64;
            y.iter().map(|v| v - m).collect()
        }
        MeanModel::Zero => y.to_vec(),
    }
}

/// `arch`'s starting values for `main`'s model on `y`: mean, variance grid, ν rule. `e0` are
/// the starting residuals `main` was prepared from.
pub(crate) fn starting_values(main: &Likelihood<'_>, y: &[f64], e0: &[f64]) -> Vec<f64> {
    let spec = &main.spec();
    let layout = spec.layout();
    // The grid is scored by the Gaussian likelihood of the variance process alone on e₀.
    let lik = main.variance_only(e0);
    let mean_e2 = e0.iter().map(|e| e * e).sum::<f64>() / e0.len() as f64;
    let mut candidates: Vec<Vec<f64>> = Vec::new();
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            for &alpha in &[0.01, 0.05, 0.1, 0.2] {
                for &gamma in &[0.01, 0.05, 0.1, 0.2] {
                    for &agb in &[0.5, 0.7, 0.9, 0.98] {
                        let mut sv = vec![(1.0 - agb) * mean_e2; 1 + p + o + q];
                        let mut rest = agb;
                        sv[1..=p].fill(alpha / p as f64);
                        rest -= alpha;
                        if o > 0 {
                            sv[1 + p..1 + p + o].fill(gamma / o as f64);
                            rest -= gamma / 2.0;
                        }
                        if q > 0 {
                            sv[1 + p + o..].fill(rest / q as f64);
                        }
                        // With o = 0 the γ loop repeats points: 16 distinct, not 64.
                        if !candidates.contains(&sv) {
                            candidates.push(sv);
                        }
                    }
                }
            }
        }
        VolatilityModel::Egarch => {
            let target = mean_e2.ln();
            for &alpha in &[0.01, 0.05, 0.1, 0.2] {
                for &gamma in &[-0.1, 0.0, 0.1] {
                    for &beta in &[0.5, 0.7, 0.9, 0.98] {
                        candidates.push(vec![(1.0 - beta) * target, alpha, gamma, beta]);
                    }
                }
            }
        }
    }
    let scores: Vec<f64> = match spec.volatility {
        // First-order GARCH/GJR: every point in one vectorised sweep.
        VolatilityModel::Garch(g) if g.p() == 1 && g.o() <= 1 && g.q() == 1 => {
            let points: Vec<[f64; 4]> = candidates
                .iter()
                .map(|c| match c[..] {
                    [omega, alpha, beta] => [omega, alpha, 0.0, beta],
                    [omega, alpha, gamma, beta] => [omega, alpha, gamma, beta],
                    _ => unreachable!("first-order GARCH has 3 or 4 variance parameters"),
                })
                .collect();
            lik.grid_values(&points)
        }
        _ => lik.values(&candidates),
    };
    // First maximum wins, as numpy's argmax.
    let mut best = 0;
    let mut best_ll = f64::NEG_INFINITY;
    for (i, &ll) in scores.iter().enumerate() {
        if ll > best_ll {
            best_ll = ll;
            best = i;
        }
    }
    let vol_sv = &candidates[best];
    let mut sv = vec![0.0; layout.len];
    if let Some(m) = layout.mu {
        sv[m] = y.iter().sum::<f64>() / y.len() as f64;
    }
    sv[layout.vol..layout.vol + vol_sv.len()].copy_from_slice(vol_sv);
    if let Some(n) = layout.nu {
        let (_, s2) = lik.conditional_variance(vol_sv);
        let z: Vec<f64> = e0.iter().zip(&s2).map(|(e, v)| e / v.sqrt()).collect();
        let k = pearson_kurtosis(&z);
        sv[n] = if k > 3.75 {
            (4.0 * k - 6.0) / (k - 3.0)
        } else {
            12.0
        }
        .max(4.0);
    }
    sv
}

/// `m₄ / m₂²` with population moments (scipy's `kurtosis(fisher=False)`).
fn pearson_kurtosis(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let (m2, m4) = x.iter().fold((0.0, 0.0), |(a, b), v| {
        let d = (v - mean) * (v - mean);
        (a + d, b + d * d)
    });
    (m4 / n) / (m2 / n).powi(2)
}

/// The optimiser's view: mean negative log-likelihood in preconditioned coordinates `u`, with
/// `θ = θ₀ + L·u` (see [`preconditioner`]). Value and gradient come from one pass and are
/// cached, because argmin asks for them separately at the same point.
struct Objective<'a> {
    lik: &'a Likelihood<'a>,
    transform: &'a Transform,
    origin: &'a [f64],
    /// Row-major k × k.
    scale: &'a [f64],
    cache: &'a RefCell<Cache>,
}

#[derive(Default)]
struct Cache {
    u: Vec<f64>,
    value: f64,
    grad: Vec<f64>,
    evaluations: u64,
    /// Best point seen: (value, θ, gradient in u).
    best: Option<(f64, Vec<f64>, Vec<f64>)>,
}

/// Mean negative log-likelihood and its gradient in θ. A non-finite likelihood (far outside
/// the data's scale) is a high wall with no slope, which line searches back off from.
fn theta_objective(lik: &Likelihood<'_>, transform: &Transform, theta: &[f64]) -> (f64, Vec<f64>) {
    let k = theta.len();
    let mut params = vec![0.0; k];
    let mut jac = vec![0.0; k * k];
    transform.to_params(theta, &mut params, Some(&mut jac));
    let mut g = vec![0.0; k];
    let ll = lik.value_and_gradient(&params, &mut g, None);
    let t = lik.nobs() as f64;
    if ll.is_finite() && g.iter().all(|x| x.is_finite()) {
        // ∇_θ f = −Jᵀ ∇ℓ / T
        let grad = (0..k)
            .map(|j| -(0..k).map(|i| jac[i * k + j] * g[i]).sum::<f64>() / t)
            .collect();
        (-ll / t, grad)
    } else {
        (WALL, vec![0.0; k])
    }
}

/// L-BFGS also stops when an iteration improves the mean negative log-likelihood by less than
/// this (≈ 50 ulps of a typical value). It matters only where the gradient cannot vanish:
/// EGARCH's likelihood is kinked in μ (|z| at z = 0), so its optimum may sit on a kink.
const COST_TOLERANCE: f64 = 1e-14;

/// Objective value standing in for an undefined likelihood.
const WALL: f64 = 1e100;

impl Objective<'_> {
    fn theta(&self, u: &[f64]) -> Vec<f64> {
        let k = u.len();
        (0..k)
            .map(|i| self.origin[i] + (0..k).map(|j| self.scale[i * k + j] * u[j]).sum::<f64>())
            .collect()
    }

    fn evaluate(&self, u: &[f64]) {
        let mut cache = self.cache.borrow_mut();
        if cache.u == u && !cache.grad.is_empty() {
            return;
        }
        let k = u.len();
        let theta = self.theta(u);
        let (value, g_theta) = theta_objective(self.lik, self.transform, &theta);
        // ∇_u f = Lᵀ ∇_θ f
        let grad: Vec<f64> = (0..k)
            .map(|j| (0..k).map(|i| self.scale[i * k + j] * g_theta[i]).sum())
            .collect();
        cache.evaluations += 1;
        if cache.best.as_ref().is_none_or(|(v, _, _)| value < *v) {
            cache.best = Some((value, theta, grad.clone()));
        }
        cache.u = u.to_vec();
        cache.value = value;
        cache.grad = grad;
    }
}

/// A linear change of variables that makes the problem look like a unit quadratic to L-BFGS:
/// `L = chol(H)⁻ᵀ` for the Hessian `H` of the objective in θ (central differences of the
/// analytic gradient), or a diagonal scaling where `H` is not positive definite. Without it
/// the first quasi-Newton steps are badly scaled (ω, α, β and ν differ by orders of
/// magnitude in curvature) and the line search wanders for hundreds of evaluations.
fn preconditioner(lik: &Likelihood<'_>, transform: &Transform, theta: &[f64]) -> (Vec<f64>, u64) {
    let k = theta.len();
    let mut h = DMatrix::<f64>::zeros(k, k);
    for j in 0..k {
        let step = 1e-5 * theta[j].abs().max(1.0);
        let mut x = theta.to_vec();
        x[j] = theta[j] + step;
        let (_, gp) = theta_objective(lik, transform, &x);
        x[j] = theta[j] - step;
        let (_, gm) = theta_objective(lik, transform, &x);
        for i in 0..k {
            h[(i, j)] = (gp[i] - gm[i]) / (2.0 * step);
        }
    }
    let h = (&h + h.transpose()) * 0.5;
    let mut scale = vec![0.0; k * k];
    if let Some(inv) = h.clone().cholesky().and_then(|c| c.l().try_inverse()) {
        // H = L_c L_cᵀ; with θ = θ₀ + L_c⁻ᵀ u the Hessian in u is the identity.
        let l = inv.transpose();
        for i in 0..k {
            for j in 0..k {
                scale[i * k + j] = l[(i, j)];
            }
        }
    } else {
        for i in 0..k {
            let d = h[(i, i)].abs();
            scale[i * k + i] = if d.is_finite() && d > 1e-12 {
                1.0 / d.sqrt()
            } else {
                1.0
            };
        }
    }
    (scale, 2 * k as u64)
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.evaluate(u);
        Ok(self.cache.borrow().value)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        self.evaluate(u);
        Ok(self.cache.borrow().grad.clone())
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

struct Optimum {
    params: Vec<f64>,
    converged: bool,
    iterations: u64,
    evaluations: u64,
    status: String,
}

fn optimise(
    lik: &Likelihood<'_>,
    transform: &Transform,
    start: &[f64],
    options: &FitOptions,
) -> Result<Optimum, FitError> {
    let mut theta = transform.to_theta(start);
    if theta_objective(lik, transform, &theta).0 >= WALL {
        return Err(FitError::NonFiniteLikelihood);
    }
    let mut evaluations = 1;
    let mut iterations = 0;
    let mut status = String::new();
    let mut converged = false;
    // A restart re-preconditions at the best point; one or two are needed only when the first
    // run's line search gives up far from the optimum.
    for attempt in 0..3 {
        let (scale, cost) = preconditioner(lik, transform, &theta);
        evaluations += cost;
        let cache = RefCell::new(Cache::default());
        let objective = Objective {
            lik,
            transform,
            origin: &theta,
            scale: &scale,
            cache: &cache,
        };
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
            .with_tolerance_grad(options.gradient_tolerance)
            .and_then(|s| s.with_tolerance_cost(COST_TOLERANCE))
            .map_err(|e| FitError::Optimizer(e.to_string()))?;
        let outcome = Executor::new(objective, solver)
            .configure(|state| {
                state
                    .param(vec![0.0; theta.len()])
                    .max_iters(options.max_iterations.saturating_sub(iterations).max(1))
            })
            .run();
        // Keep only what the report needs from argmin's result, so the cache can be taken back.
        let stop: Result<(Option<TerminationReason>, u64), String> = outcome
            .map(|res| {
                let state = res.state();
                (state.get_termination_reason().cloned(), state.get_iter())
            })
            .map_err(|e| e.to_string());
        let cache = cache.into_inner();
        evaluations += cache.evaluations;
        let (_, best_theta, best_grad) = cache
            .best
            .ok_or_else(|| FitError::Optimizer("no evaluation".into()))?;
        theta = best_theta;
        let grad_norm = norm(&best_grad);
        // Line searches routinely fail *at* the optimum, where the cost no longer changes in
        // the last bits; judge convergence by the gradient at the best point seen. In the
        // preconditioned coordinates ½‖∇f‖² approximates the distance to the optimum in f.
        let stationary = grad_norm <= options.gradient_tolerance * 10.0;
        let solver_converged = matches!(stop, Ok((Some(TerminationReason::SolverConverged), _)));
        let (done, it, why) = match stop {
            Ok((Some(TerminationReason::SolverConverged), it)) => (
                true,
                it,
                if stationary {
                    "gradient below tolerance".to_string()
                } else {
                    "objective no longer improving (non-smooth optimum)".to_string()
                },
            ),
            Ok((Some(TerminationReason::MaxItersReached), it)) => {
                (true, it, "iteration limit reached".to_string())
            }
            Ok((other, it)) => (stationary, it, format!("optimiser stopped ({other:?})")),
            Err(e) => (stationary, 0, format!("line search ended ({e})")),
        };
        iterations += it;
        converged = stationary || solver_converged;
        status = format!(
            "{}: {why}; gradient norm {grad_norm:.1e} after {} restart(s)",
            if converged {
                "converged"
            } else {
                "not converged"
            },
            attempt
        );
        if done || iterations >= options.max_iterations {
            break;
        }
    }
    let mut params = vec![0.0; theta.len()];
    transform.to_params(&theta, &mut params, None);
    Ok(Optimum {
        params,
        converged,
        iterations,
        evaluations,
        status,
    })
}

/// Parameter covariance at `params` (see the module docs). `None` if the Hessian is singular.
pub(crate) fn covariance(
    lik: &Likelihood<'_>,
    params: &[f64],
    kind: CovarianceType,
) -> Option<DMatrix<f64>> {
    let robust = kind == CovarianceType::Robust;
    if let Some(so) = lik.second_order(params, robust) {
        return covariance_from_second_order(&so, lik.nobs(), kind);
    }
    let h = approx_hess3(lik, params);
    let b = robust.then(|| score_covariance(lik, params));
    sandwich(h, b, lik.nobs())
}

/// The covariance from an analytic second-order pass: `H = −∇²ℓ/T` and, for the robust
/// flavour, `B` the sample covariance of the scores (numpy's `cov`, ddof = 1, as arch).
/// `None` if `H` is singular or the robust flavour is asked of a pass without scores.
fn covariance_from_second_order(
    so: &SecondOrder,
    nobs: usize,
    kind: CovarianceType,
) -> Option<DMatrix<f64>> {
    let k = so.grad.len();
    let tf = nobs as f64;
    let h = DMatrix::from_row_slice(k, k, &so.hess) / -tf;
    let b = match kind {
        CovarianceType::Classic => None,
        CovarianceType::Robust => {
            let m = so.scores.as_ref()?;
            let sum = DVector::from_column_slice(&m.sum);
            Some(
                (DMatrix::from_row_slice(k, k, &m.outer) - &sum * sum.transpose() / tf)
                    / (tf - 1.0),
            )
        }
    };
    sandwich(h, b, nobs)
}

/// `H⁻¹ B H⁻¹ / T` (robust, given `B`) or `H⁻¹ / T` (classic), as arch's `compute_param_cov`.
fn sandwich(h: DMatrix<f64>, b: Option<DMatrix<f64>>, nobs: usize) -> Option<DMatrix<f64>> {
    let tf = nobs as f64;
    let h_inv = h.try_inverse()?;
    match b {
        Some(b) => Some(&h_inv * b * &h_inv / tf),
        None => Some(h_inv / tf),
    }
}

/// `H = ∂²(−ℓ)/∂θ² / T` exactly as arch computes it: statsmodels' `approx_hess3`, second
/// differences of the log-likelihood with steps ε^(1/4)·max(|θ|, 0.1). Used where there is no
/// analytic Hessian (EGARCH, higher orders). For EGARCH it is the right choice, not only a
/// fallback: its |z| makes the likelihood kinked in μ wherever a residual crosses zero, so any
/// Hessian depends on the differencing scale, and arch's scale gives arch's standard errors.
/// GARCH's ω step is capped at a quarter of ω so the recursion never sees a negative intercept.
fn approx_hess3(lik: &Likelihood<'_>, params: &[f64]) -> DMatrix<f64> {
    let k = params.len();
    let tf = lik.nobs() as f64;
    let omega_index = match lik.spec().volatility {
        VolatilityModel::Garch(_) => Some(lik.spec().layout().vol),
        VolatilityModel::Egarch => None,
    };
    let steps: Vec<f64> = params
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let h = f64::EPSILON.powf(0.25) * x.abs().max(0.1);
            if Some(i) == omega_index {
                h.min(0.25 * x)
            } else {
                h
            }
        })
        .collect();
    // The four shifted points of every (i, j), evaluated together (EGARCH interleaves
    // several passes over the data; each value is the same as alone).
    let mut points = Vec::with_capacity(2 * k * (k + 1));
    for i in 0..k {
        for j in i..k {
            let (hi, hj) = (steps[i], steps[j]);
            for (di, dj) in [(hi, hj), (hi, -hj), (-hi, hj), (-hi, -hj)] {
                let mut x = params.to_vec();
                x[i] += di;
                x[j] += dj;
                points.push(x);
            }
        }
    }
    let mut values = lik.values(&points).into_iter().map(|ll| -ll);
    let mut f = || values.next().expect("four values per (i, j)");
    let mut h = DMatrix::<f64>::zeros(k, k);
    for i in 0..k {
        for j in i..k {
            let (hi, hj) = (steps[i], steps[j]);
            let (pp, pm, mp, mm) = (f(), f(), f(), f());
            let v = (pp - pm - (mp - mm)) / (4.0 * hi * hj) / tf;
            h[(i, j)] = v;
            h[(j, i)] = v;
        }
    }
    h
}

/// Sample covariance of the analytic per-observation scores, demeaned with ddof = 1.
fn score_covariance(lik: &Likelihood<'_>, params: &[f64]) -> DMatrix<f64> {
    let k = params.len();
    let t = lik.nobs();
    let tf = t as f64;
    let mut grad = vec![0.0; k];
    let mut scores = vec![0.0; t * k];
    lik.value_and_gradient(params, &mut grad, Some(&mut scores));
    let mut mean = vec![0.0; k];
    for row in scores.chunks_exact(k) {
        for (m, s) in mean.iter_mut().zip(row) {
            *m += s;
        }
    }
    mean.iter_mut().for_each(|m| *m /= tf);
    let mut b = DMatrix::<f64>::zeros(k, k);
    let mut d = vec![0.0; k];
    for row in scores.chunks_exact(k) {
        for ((di, s), m) in d.iter_mut().zip(row).zip(&mean) {
            *di = s - m;
        }
        for i in 0..k {
            for j in 0..=i {
                b[(i, j)] += d[i] * d[j];
            }
        }
    }
    for i in 0..k {
        for j in 0..i {
            b[(j, i)] = b[(i, j)];
        }
    }
    b / (tf - 1.0)
}

fn persistence(spec: &ModelSpec, layout: &Layout, params: &[f64]) -> f64 {
    let v = layout.vol;
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            let a: f64 = params[v + 1..v + 1 + p].iter().sum();
            let gm: f64 = params[v + 1 + p..v + 1 + p + o].iter().sum();
            let b: f64 = params[v + 1 + p + o..v + 1 + p + o + q].iter().sum();
            a + gm / 2.0 + b
        }
        VolatilityModel::Egarch => params[v + 3],
    }
}

fn two_sided_p(t: f64) -> f64 {
    statrs::function::erf::erfc(t.abs() / std::f64::consts::SQRT_2)
}

/// Assembles the report from parameters and (optionally) their covariance.
#[allow(clippy::too_many_arguments)]
fn build_report(
    spec: ModelSpec,
    params: &[f64],
    cov: Option<&DMatrix<f64>>,
    covariance_type: CovarianceType,
    log_likelihood: f64,
    nobs: usize,
    converged: bool,
    iterations: u64,
    function_evaluations: u64,
    status: String,
    at_bounds: Vec<String>,
) -> FitReport {
    let layout = spec.layout();
    let names = spec.param_names();
    let estimates = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let std_err = cov
                .map(|c| c[(i, i)])
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(f64::sqrt);
            let t_stat = std_err.filter(|s| *s > 0.0).map(|s| params[i] / s);
            ParameterEstimate {
                name: name.clone(),
                value: params[i],
                std_err,
                t_stat,
                p_value: t_stat.map(two_sided_p),
            }
        })
        .collect();
    let k = params.len() as f64;
    let pers = persistence(&spec, &layout, params);
    let stationary = pers < 1.0 && pers > 0.0;
    let omega = params[layout.vol];
    let unconditional_variance = (pers < 1.0).then(|| match spec.volatility {
        VolatilityModel::Garch(_) => omega / (1.0 - pers),
        VolatilityModel::Egarch => (omega / (1.0 - pers)).exp(),
    });
    FitReport {
        spec,
        params: estimates,
        covariance_type,
        log_likelihood,
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * (nobs as f64).ln() - 2.0 * log_likelihood,
        nobs,
        converged,
        iterations,
        function_evaluations,
        status,
        at_bounds,
        persistence: pers,
        half_life_days: stationary.then(|| 0.5f64.ln() / pers.ln()),
        unconditional_variance,
        annualized_volatility: unconditional_variance.map(|v| (TRADING_DAYS_PER_YEAR * v).sqrt()),
    }
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
    let y = returns.as_slice();
    let e0 = starting_resids(&spec, y);
    let lik = Likelihood::new(spec, y, &e0);
    let transform = Transform::new(spec);
    let start = starting_values(&lik, y, &e0);
    // Newton on the exact Hessian where the model has one and the optimum is interior;
    // otherwise (or if it fails) L-BFGS on the unconstrained reparameterisation.
    let mut newton_evaluations = 0;
    let (opt, last_pass) =
        match newton::maximise(&lik, &transform, &start, options, &mut newton_evaluations) {
            Some(newton) => (
                Optimum {
                    params: newton.params,
                    converged: true,
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
    let robust = options.covariance == CovarianceType::Robust;
    let cov = match &last_pass {
        // Newton's last pass is at the optimum: reuse it if it has what the flavour needs.
        Some(so) if so.scores.is_some() || !robust => {
            covariance_from_second_order(so, y.len(), options.covariance)
        }
        _ => covariance(&lik, &opt.params, options.covariance),
    };
    // The same pass has the log-likelihood and the conditional variances at the optimum.
    let (ll, sigma2) = match last_pass {
        Some(so) => (so.ll, so.sigma2),
        None => lik.conditional_variance(&opt.params),
    };
    let mut status = opt.status;
    if cov.is_none() {
        status.push_str("; Hessian is singular, standard errors unavailable");
    }
    let at_bounds = transform.near_bounds(&opt.params, &spec.param_names());
    let report = build_report(
        spec,
        &opt.params,
        cov.as_ref(),
        options.covariance,
        ll,
        y.len(),
        opt.converged,
        opt.iterations,
        opt.evaluations,
        status,
        at_bounds,
    );
    Ok(FittedModel {
        spec,
        params: opt.params,
        returns: returns.clone(),
        conditional_variance: sigma2,
        report,
    })
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
        params,
        None,
        CovarianceType::Robust,
        ll,
        y.len(),
        true,
        0,
        1,
        "fixed parameters (not estimated)".into(),
        Vec::new(),
    );
    Ok(FittedModel {
        spec,
        params: params.to_vec(),
        returns: returns.clone(),
        conditional_variance: sigma2,
        report,
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
        if report.nobs != y.len() {
            return Err(FitError::InfeasibleParameters(format!(
                "the report does not match the series: it is for {} observations, the series has {}",
                report.nobs,
                y.len()
            )));
        }
        let e0 = starting_resids(&spec, y);
        let lik = Likelihood::new(spec, y, &e0);
        let (_, sigma2) = lik.conditional_variance(&params);
        Ok(FittedModel {
            spec,
            params,
            returns: returns.clone(),
            conditional_variance: sigma2,
            report,
        })
    }
}

/// Rejects a parameter vector of the wrong length or outside the constraints (what [`fix`]
/// and [`crate::simulate()`] check before they use one).
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
    if !transform.is_feasible(params) {
        return Err(FitError::InfeasibleParameters(format!(
            "{} = {:?}",
            names.join(", "),
            params
        )));
    }
    Ok(())
}

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
            inner: Likelihood::new(spec, y, &e0),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::simulate;
    use crate::spec::Distribution;

    fn series(spec: ModelSpec, params: &[f64], n: usize, seed: u64) -> Vec<f64> {
        simulate(spec, params, n, seed).unwrap().returns
    }

    /// Newton on the exact Hessian and the reparameterised L-BFGS find the same optimum, and
    /// the covariance, log-likelihood and variances taken from Newton's last pass are the ones
    /// computed afresh.
    #[test]
    fn newton_agrees_with_lbfgs_and_reuses_its_last_pass() {
        let gjr_t = ModelSpec::new(
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::StudentT,
        );
        let y = series(gjr_t, &[0.04, 0.02, 0.03, 0.1, 0.88, 7.0], 3000, 11);
        for (vol, dist) in [
            (VolatilityModel::garch(), Distribution::Normal),
            (VolatilityModel::garch(), Distribution::StudentT),
            (VolatilityModel::gjr(), Distribution::Normal),
            (VolatilityModel::gjr(), Distribution::StudentT),
        ] {
            for mean in [MeanModel::Constant, MeanModel::Zero] {
                let spec = ModelSpec::new(mean, vol, dist);
                let e0 = starting_resids(&spec, &y);
                let lik = Likelihood::new(spec, &y, &e0);
                let transform = Transform::new(spec);
                let start = starting_values(&lik, &y, &e0);
                let options = FitOptions::default();
                let mut evaluations = 0;
                let newton = newton::maximise(&lik, &transform, &start, &options, &mut evaluations)
                    .unwrap_or_else(|| panic!("{spec}: Newton did not converge"));
                assert!(evaluations <= 12, "{spec}: {evaluations} passes");
                // The last pass reports the optimum as a value pass would: the same variances,
                // the log-likelihood up to summation order.
                let (ll, sigma2) = lik.conditional_variance(&newton.params);
                assert!(
                    newton
                        .last
                        .sigma2
                        .iter()
                        .map(|x| x.to_bits())
                        .eq(sigma2.iter().map(|x| x.to_bits())),
                    "{spec}: conditional variances"
                );
                assert!(
                    (newton.last.ll - ll).abs() <= 1e-12 * ll.abs(),
                    "{spec}: log-likelihood"
                );
                let lbfgs = optimise(&lik, &transform, &start, &options).unwrap();
                let (ll_newton, ll_lbfgs) = (lik.value(&newton.params), lik.value(&lbfgs.params));
                assert!(
                    ll_newton >= ll_lbfgs - 1e-9,
                    "{spec}: {ll_newton} < {ll_lbfgs}"
                );
                for (a, b) in newton.params.iter().zip(&lbfgs.params) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{spec}: {a} vs {b}"
                    );
                }
                for kind in [CovarianceType::Robust, CovarianceType::Classic] {
                    let fresh = covariance(&lik, &newton.params, kind).unwrap();
                    let mut last = newton.last.clone();
                    if kind == CovarianceType::Robust && last.scores.is_none() {
                        last = lik.second_order(&newton.params, true).unwrap();
                    }
                    let reused = covariance_from_second_order(&last, y.len(), kind).unwrap();
                    assert!(
                        (&fresh - &reused).abs().max() <= 1e-10 * fresh.abs().max(),
                        "{spec} {kind:?}"
                    );
                }
            }
        }
    }

    /// An optimum on a constraint (data with no ARCH effect: α → 0) makes Newton give up
    /// early; the fit still converges through L-BFGS and says where it ended.
    #[test]
    fn newton_hands_constrained_optima_to_lbfgs() {
        let garch = ModelSpec::default();
        let y = series(garch, &[0.03, 0.05, 0.0, 0.9], 3000, 3);
        let spec = ModelSpec::new(
            MeanModel::Constant,
            VolatilityModel::garch(),
            Distribution::Normal,
        );
        let e0 = starting_resids(&spec, &y);
        let lik = Likelihood::new(spec, &y, &e0);
        let transform = Transform::new(spec);
        let start = starting_values(&lik, &y, &e0);
        let mut evaluations = 0;
        let newton = newton::maximise(
            &lik,
            &transform,
            &start,
            &FitOptions::default(),
            &mut evaluations,
        );
        assert!(
            newton.is_none(),
            "α → 0 is on a bound: Newton cannot converge there"
        );
        assert!(evaluations < 60, "gave up after {evaluations} passes");
        let model = fit(&Returns::new(y).unwrap(), spec, &FitOptions::default()).unwrap();
        assert!(model.report().converged, "{}", model.report().status);
        assert!(!model.report().at_bounds.is_empty());
    }
}
