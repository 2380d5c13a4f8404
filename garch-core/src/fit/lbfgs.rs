//! The general optimiser: argmin's L-BFGS with a Moré–Thuente line search on the
//! unconstrained reparameterisation of the private `transform` module, with the analytic
//! gradient, preconditioned by a Cholesky factor of the Hessian where it starts (and at each
//! restart). It fits every model (EGARCH, higher orders) and takes over from Newton's method
//! where an optimum sits on a constraint.

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DMatrix;

use super::{FitError, FitOptions, Optimum};
use crate::likelihood::Likelihood;
use crate::transform::Transform;

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
/// `L = chol(H)⁻ᵀ` for an estimate `H` of the objective's Hessian in θ, or a diagonal scaling
/// where `H` is not positive definite. Without it the first quasi-Newton steps are badly
/// scaled (ω, α, β and ν differ by orders of magnitude in curvature) and the line search
/// wanders for hundreds of evaluations. `H` is the outer product of the per-observation
/// scores (BHHH: the information matrix, which the Hessian equals in expectation), one pass,
/// where central differences of the gradient took 2k (EGARCH fits 12–20 % faster). The
/// optimum does not depend on it, only the path there.
fn preconditioner(lik: &Likelihood<'_>, transform: &Transform, theta: &[f64]) -> (Vec<f64>, u64) {
    let k = theta.len();
    let h = score_outer_product(lik, transform, theta);
    let finite = h.iter().all(|x| x.is_finite());
    let mut scale = vec![0.0; k * k];
    if let Some(inv) = finite
        .then(|| h.clone().cholesky())
        .flatten()
        .and_then(|c| c.l().try_inverse())
    {
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
    // One pass with scores.
    (scale, 1)
}

/// The outer product of the per-observation scores in θ, over T: `Jᵀ (Σ s sᵀ) J / T` from one
/// pass ([`Likelihood::score_moments`]).
fn score_outer_product(lik: &Likelihood<'_>, transform: &Transform, theta: &[f64]) -> DMatrix<f64> {
    let k = theta.len();
    let mut params = vec![0.0; k];
    let mut jac = vec![0.0; k * k];
    transform.to_params(theta, &mut params, Some(&mut jac));
    let (_, outer) = lik.score_moments(&params);
    let j = DMatrix::from_row_slice(k, k, &jac);
    let o = DMatrix::from_row_slice(k, k, &outer);
    (j.transpose() * o * j) / lik.nobs() as f64
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

pub(super) fn optimise(
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
    let mut stationary = false;
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
        stationary = grad_norm <= options.gradient_tolerance * 10.0;
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
        stationary,
        iterations,
        evaluations,
        status,
    })
}
