//! Newton's method on the exact Hessian, for the models that have one (first-order GARCH and
//! GJR, see `Likelihood::second_order`).
//!
//! From `arch`'s grid start the log-likelihood is close enough to quadratic that damped Newton
//! steps converge in a handful of passes, against the two to three dozen gradient passes of
//! L-BFGS. It works in the natural parameters, where the optimum of a well-posed fit is
//! interior; steps are cut back to stay strictly feasible. When the optimum is on a constraint
//! (α → 0, ν → 500) Newton cannot converge there, and this returns `None` early so that the
//! reparameterised L-BFGS of the parent module, which handles bounds, takes over.
//!
//! Each iteration solves `(A + λI)·δ = g` in the equilibrated metric `A = −H` scaled to a
//! unit diagonal (Levenberg–Marquardt damping `λ` only when `A` is not positive definite),
//! then backtracks along `δ` until the Armijo condition holds. It stops when the Newton
//! decrement `gᵀA⁻¹g`, twice the predicted remaining gain, falls below
//! `T·gradient_tolerance²`: the same "gain per observation" measure as the L-BFGS stopping
//! rule.
//!
//! A warm start may come with the Hessian at the previous sample's optimum (a rolling refit:
//! the windows share all but a few observations, so the curvature at the old optimum is the new
//! one's up to O(1/T)). The first step then takes that Hessian and only the value and gradient
//! at the start, from the pass without Hessian terms at about half the cost; the step is as
//! good as an exact one (measured: the same number of passes after it), and it never decides
//! convergence, which only the exact Hessian at the point reported does.

use nalgebra::{DMatrix, DVector};

use super::FitOptions;
use crate::likelihood::{FirstOrder, Likelihood, SecondOrder};
use crate::transform::{NU_MAX, NU_MIN, Transform};

/// Newton iterations before giving up (a converging fit needs 4 to 10).
const MAX_ITERATIONS: u64 = 50;
/// Step halvings per line search.
const MAX_HALVINGS: u32 = 40;
/// Consecutive iterations whose step had to be cut to stay feasible before concluding that
/// the optimum is on a constraint.
const MAX_BLOCKED: u32 = 3;
/// Armijo's sufficient-increase fraction.
const ARMIJO: f64 = 1e-4;

/// A converged Newton run.
pub(super) struct NewtonOptimum {
    pub params: Vec<f64>,
    pub iterations: u64,
    pub status: String,
    /// The pass at `params`: its Hessian, and the score moments when the last step was
    /// expected to converge, give the covariance without another pass; its value and
    /// conditional variances are the fit's.
    pub last: SecondOrder,
}

/// Below this Newton decrement per observation the next step is expected to converge
/// (quadratic convergence), so its pass also collects the score moments the covariance needs.
const NEARLY_CONVERGED: f64 = 1e-6;

/// Maximises the log-likelihood from `start`; `None` if Newton does not apply or does not
/// converge to an interior point (the caller then uses L-BFGS). `curvature` is a Hessian
/// (row-major) known at a nearby optimum, for the first step. Likelihood passes are counted in
/// `evaluations` either way.
pub(super) fn maximise(
    lik: &Likelihood<'_>,
    transform: &Transform,
    start: &[f64],
    curvature: Option<&[f64]>,
    options: &FitOptions,
    evaluations: &mut u64,
) -> Option<NewtonOptimum> {
    let nu_index = lik.spec().layout().nu;
    let feasible = |p: &[f64]| {
        transform.is_feasible(p) && nu_index.is_none_or(|n| p[n] > NU_MIN && p[n] < NU_MAX)
    };
    if !feasible(start) {
        return None;
    }
    let t = lik.nobs() as f64;
    let tolerance = t * options.gradient_tolerance * options.gradient_tolerance;
    let first_step = curvature
        .filter(|h| h.len() == start.len() * start.len())
        .and_then(|h| {
            *evaluations += 1;
            let at_start = lik.first_order(start)?;
            step_with_known_curvature(lik, &feasible, start, &at_start, h, t, evaluations)
        });
    let (mut params, mut current, taken) = match first_step {
        Some((params, current)) => (params, current, 1),
        None => {
            *evaluations += 1;
            (start.to_vec(), evaluate(lik, start, false)?, 0)
        }
    };
    let mut blocked = 0;
    for iteration in taken..MAX_ITERATIONS.min(options.max_iterations) {
        let (step, damped) = newton_step(&current.hess, &current.grad)?;
        let decrement: f64 = step.iter().zip(&current.grad).map(|(s, g)| s * g).sum();
        // Not an ascent direction (or NaN): the Hessian is unusable here.
        if decrement.is_nan() || decrement < 0.0 {
            return None;
        }
        if !damped && decrement <= tolerance {
            return Some(NewtonOptimum {
                params,
                iterations: iteration,
                last: current,
                status: format!(
                    "converged: Newton decrement {decrement:.1e} after {iteration} iterations \
                     (exact Hessian)"
                ),
            });
        }
        let (trial, next, cut_for_feasibility) = line_search(
            lik,
            &feasible,
            &params,
            current.ll,
            &step,
            decrement,
            t,
            evaluations,
        )?;
        blocked = if cut_for_feasibility { blocked + 1 } else { 0 };
        if blocked >= MAX_BLOCKED {
            return None;
        }
        params = trial;
        current = next;
    }
    None
}

/// The first step of a warm start from the value and gradient at `start` and a Hessian `h`
/// known at a nearby optimum: the new point and its pass, or `None` if `h` gives no ascent
/// direction there or the line search fails (the caller then starts with an exact pass).
fn step_with_known_curvature(
    lik: &Likelihood<'_>,
    feasible: &impl Fn(&[f64]) -> bool,
    start: &[f64],
    at_start: &FirstOrder,
    h: &[f64],
    t: f64,
    evaluations: &mut u64,
) -> Option<(Vec<f64>, SecondOrder)> {
    if !(at_start.ll.is_finite() && at_start.grad.iter().all(|g| g.is_finite())) {
        return None;
    }
    let (step, _) = newton_step(h, &at_start.grad)?;
    let decrement: f64 = step.iter().zip(&at_start.grad).map(|(s, g)| s * g).sum();
    if decrement.is_nan() || decrement < 0.0 {
        return None;
    }
    line_search(
        lik,
        feasible,
        start,
        at_start.ll,
        &step,
        decrement,
        t,
        evaluations,
    )
    .map(|(trial, next, _)| (trial, next))
}

/// Backtracking along `step` from `from` (log-likelihood `ll`, Newton decrement `decrement`):
/// feasibility first, then Armijo with slack for rounding in ℓ. The accepted point, its pass
/// (with the score moments when the step is expected to converge), and whether the step had
/// to be cut to stay feasible.
#[allow(clippy::too_many_arguments)]
fn line_search(
    lik: &Likelihood<'_>,
    feasible: &impl Fn(&[f64]) -> bool,
    from: &[f64],
    ll: f64,
    step: &[f64],
    decrement: f64,
    t: f64,
    evaluations: &mut u64,
) -> Option<(Vec<f64>, SecondOrder, bool)> {
    let slack = 1e-13 * ll.abs();
    let scores = decrement <= NEARLY_CONVERGED * t;
    let mut scale = 1.0;
    let mut cut_for_feasibility = false;
    for _ in 0..MAX_HALVINGS {
        let trial: Vec<f64> = from.iter().zip(step).map(|(p, s)| p + scale * s).collect();
        if feasible(&trial) {
            *evaluations += 1;
            if let Some(next) = evaluate(lik, &trial, scores)
                && next.ll - ll >= ARMIJO * scale * decrement - slack
            {
                return Some((trial, next, cut_for_feasibility));
            }
        } else {
            cut_for_feasibility = true;
        }
        scale *= 0.5;
    }
    None
}

/// One second-order pass; `None` where the likelihood or its derivatives are not finite.
fn evaluate(lik: &Likelihood<'_>, params: &[f64], scores: bool) -> Option<SecondOrder> {
    let so = lik.second_order(params, scores)?;
    let finite = so.ll.is_finite()
        && so.grad.iter().all(|x| x.is_finite())
        && so.hess.iter().all(|x| x.is_finite());
    finite.then_some(so)
}

/// The (possibly damped) Newton step `(A + λI)⁻¹g` with `A = −H` (`hess` row-major), computed
/// on the unit-diagonal equilibration of `A`; whether damping was needed.
fn newton_step(hess: &[f64], grad: &[f64]) -> Option<(Vec<f64>, bool)> {
    let k = grad.len();
    let a = DMatrix::from_row_slice(k, k, hess) * -1.0;
    let d: Vec<f64> = (0..k)
        .map(|i| {
            let v = a[(i, i)].abs().sqrt();
            if v > 0.0 { 1.0 / v } else { 1.0 }
        })
        .collect();
    let scaled = DMatrix::from_fn(k, k, |i, j| a[(i, j)] * d[i] * d[j]);
    let g = DVector::from_fn(k, |i, _| grad[i] * d[i]);
    let mut lambda = 0.0;
    for _ in 0..16 {
        let damped = &scaled + DMatrix::identity(k, k) * lambda;
        if let Some(chol) = damped.cholesky() {
            let x = chol.solve(&g);
            let step: Vec<f64> = (0..k).map(|i| x[i] * d[i]).collect();
            return step
                .iter()
                .all(|s| s.is_finite())
                .then_some((step, lambda > 0.0));
        }
        lambda = if lambda == 0.0 { 1e-4 } else { lambda * 10.0 };
    }
    None
}
