//! The constrained refinement: a primal active-set Newton method on `arch`'s own constraints
//! (Nocedal and Wright, *Numerical Optimization*, 2nd ed., §16.5, with the line search of §3.1),
//! in the original parameters. It is what makes a fit's `converged` mean "at a KKT point of the
//! constrained problem".
//!
//! The L-BFGS path optimises an unconstrained reparameterisation (the private `transform`
//! module), where a constraint is reached only in a limit: at an optimum on the stationarity
//! bound the reparameterised gradient vanishes along a whole ridge, and the iterates drift (on a
//! monthly core-CPI series, GJR-t with a zero mean, ω fell to 1e-31 and the fit stopped 0.7
//! log-likelihood units below `arch`'s SLSQP while its gradient test passed). Here the
//! constraints are linear inequalities `a·x ≥ b` ([`crate::transform::Constraint`], the same ones
//! `arch` hands SLSQP): a working set of them holds with equality, Newton steps stay in its null
//! space (with an eigenvalue-modified Hessian from differences of the analytic gradient), a step
//! stops at the first constraint it would cross (which joins the set), and a constraint whose
//! multiplier turns negative leaves it. It stops at a KKT point: the reduced Newton decrement is
//! negligible and every multiplier is non-negative.
//!
//! EGARCH with a constant mean is not differentiable in μ where μ crosses a return (`|z|`), so
//! there μ is held at the incoming value and its optimality is checked by one-sided differences.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::likelihood::Likelihood;
use crate::transform::Constraint;

/// The outcome of [`refine`].
pub(super) struct Refined {
    pub(super) params: Vec<f64>,
    /// Total log-likelihood at `params`.
    pub(super) log_likelihood: f64,
    /// Whether `params` is a KKT point (to the tolerances below).
    pub(super) kkt: bool,
    pub(super) iterations: u64,
    pub(super) evaluations: u64,
    /// Names of the constraints that hold with equality at `params`.
    pub(super) active: Vec<String>,
    /// Why it stopped.
    pub(super) reason: String,
}

/// Stop when a reduced Newton step would gain less than this in total log-likelihood.
const DECREMENT_TOL: f64 = 1e-9;
/// A multiplier below −this (per observation, per unit of `a·x`) releases its constraint.
const MULTIPLIER_TOL: f64 = 1e-9;
const MAX_ITERATIONS: u64 = 200;
/// A constraint whose slack is below this (relative to its bound) is tried as holding exactly.
const SNAP: f64 = 1e-6;
/// A predicted gain (total log-likelihood) below this that no line search can realise is
/// evaluation noise, far below the 1e-6 the fits are held to.
const NOISE_GAIN: f64 = 1e-7;
/// Relative evaluation noise of the mean objective tolerated on a step onto a constraint.
const NOISE: f64 = 1e-12;

/// Mean negative log-likelihood and its gradient.
fn objective(lik: &Likelihood<'_>, x: &[f64]) -> Option<(f64, Vec<f64>)> {
    let mut g = vec![0.0; x.len()];
    let ll = lik.value_and_gradient(x, &mut g, None);
    let t = lik.nobs() as f64;
    (ll.is_finite() && g.iter().all(|v| v.is_finite()))
        .then(|| (-ll / t, g.iter().map(|v| -v / t).collect()))
}

/// Moves `x` into the feasible set by cyclic projection onto the violated half-spaces.
fn project(x: &mut [f64], constraints: &[Constraint]) {
    for _ in 0..50 {
        let mut moved = false;
        for c in constraints {
            let s = c.slack(x);
            if s < 0.0 {
                let norm2: f64 = c.a.iter().map(|a| a * a).sum();
                for (xi, ai) in x.iter_mut().zip(&c.a) {
                    *xi -= s * ai / norm2;
                }
                moved = true;
            }
        }
        if !moved {
            return;
        }
    }
}

/// Whether the model's mean is the constant μ (for the refinement's messages).
fn kinked_mean_is_mu(lik: &Likelihood<'_>) -> bool {
    lik.spec().layout().mu.is_some()
}

/// Refines `start` on `constraints` (see the module docs). `kinked_mean`: the indices of the
/// mean parameters when the likelihood is kinked in them (EGARCH with a constant or AR mean).
pub(super) fn refine(
    lik: &Likelihood<'_>,
    constraints: &[Constraint],
    start: &[f64],
    kinked_mean: std::ops::Range<usize>,
) -> Option<Refined> {
    let k = start.len();
    let t = lik.nobs() as f64;
    let mut x = start.to_vec();
    project(&mut x, constraints);
    let (mut f, mut g) = objective(lik, &x)?;
    let mut evaluations = 1;
    let active_tol = |c: &Constraint| 1e-12 * c.b.abs().max(1.0);
    let mut working: Vec<usize> = (0..constraints.len())
        .filter(|&i| constraints[i].slack(&x) <= active_tol(&constraints[i]))
        .collect();
    // L-BFGS approaches a bound only in a limit (ν = 499.99999): a Newton step towards it is
    // then too short to change f measurably and the line search stalls. So a constraint within
    // SNAP of holding is made to hold exactly when that costs no more than evaluation noise.
    for (i, c) in constraints.iter().enumerate() {
        let slack = c.slack(&x);
        if working.contains(&i) || slack > SNAP * c.b.abs().max(1.0) {
            continue;
        }
        let norm2: f64 = c.a.iter().map(|a| a * a).sum();
        let snapped: Vec<f64> = x
            .iter()
            .zip(&c.a)
            .map(|(x, a)| x - slack * a / norm2)
            .collect();
        if constraints
            .iter()
            .any(|o| o.slack(&snapped) < -active_tol(o))
        {
            continue;
        }
        evaluations += 1;
        if let Some((fs, gs)) = objective(lik, &snapped)
            && fs <= f + NOISE * f.abs().max(1.0)
        {
            (x, f, g) = (snapped, fs, gs);
            working.push(i);
        }
    }
    let mut kkt = false;
    let mut reason = String::from("iteration limit reached");
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        // Hessian of the mean objective from forward differences of the analytic gradient,
        // stepping inwards where a bound is near.
        let mut h = DMatrix::<f64>::zeros(k, k);
        for j in 0..k {
            let mut step = 1e-7 * x[j].abs().max(1e-4);
            let mut xp = x.clone();
            xp[j] += step;
            if constraints
                .iter()
                .any(|c| c.a[j] != 0.0 && c.slack(&xp) < 0.0)
            {
                step = -step;
                xp[j] = x[j] + step;
            }
            let (_, gp) = objective(lik, &xp)?;
            evaluations += 1;
            for i in 0..k {
                h[(i, j)] = (gp[i] - g[i]) / step;
            }
        }
        let h = (&h + h.transpose()) * 0.5;
        // Rows held fixed: the working set, plus μ where the likelihood is kinked in it.
        let mut rows: Vec<Vec<f64>> = working.iter().map(|&i| constraints[i].a.clone()).collect();
        for m in kinked_mean.clone() {
            let mut e = vec![0.0; k];
            e[m] = 1.0;
            rows.push(e);
        }
        let a = DMatrix::from_fn(rows.len(), k, |r, c| rows[r][c]);
        // Null space of A: eigenvectors of the projector I − Aᵀ(AAᵀ)⁻¹A with eigenvalue 1.
        let aat = &a * a.transpose();
        let Some(aat_inv) = (rows.is_empty())
            .then(|| DMatrix::zeros(0, 0))
            .or_else(|| aat.clone().try_inverse())
        else {
            // Dependent rows (a degenerate vertex): release the newest constraint.
            working.pop();
            continue;
        };
        let projector = DMatrix::identity(k, k) - a.transpose() * &aat_inv * &a;
        let eig = SymmetricEigen::new(projector);
        let basis: Vec<usize> = (0..k).filter(|&i| eig.eigenvalues[i] > 0.5).collect();
        let z = DMatrix::from_fn(k, basis.len(), |r, c| eig.eigenvectors[(r, basis[c])]);
        let gv = DVector::from_column_slice(&g);
        let d = if basis.is_empty() {
            DVector::zeros(k)
        } else {
            let hr = z.transpose() * &h * &z;
            let hr = (&hr + hr.transpose()) * 0.5;
            let gr = z.transpose() * &gv;
            let e = SymmetricEigen::new(hr);
            let top = e.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let floor = (1e-10 * top).max(1e-300);
            let mut p = DVector::zeros(basis.len());
            for i in 0..basis.len() {
                let v = e.eigenvectors.column(i);
                let lam = e.eigenvalues[i].abs().max(floor);
                p -= v * (v.dot(&gr) / lam);
            }
            &z * p
        };
        let decrement = -gv.dot(&d);
        if t * decrement <= DECREMENT_TOL {
            // Stationary on the working set: check the multipliers, g = Aᵀλ.
            let lambda = &aat_inv * (&a * &gv);
            let worst = (0..working.len())
                .map(|r| (r, lambda[r]))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match worst {
                Some((r, l)) if l < -MULTIPLIER_TOL => {
                    working.remove(r);
                    continue;
                }
                _ => {
                    kkt = true;
                    reason = "KKT point (reduced gradient and multipliers)".into();
                    break;
                }
            }
        }
        // Ratio test: the longest step that keeps every other constraint.
        let mut alpha_max = f64::INFINITY;
        let mut blocking = None;
        for (i, c) in constraints.iter().enumerate() {
            if working.contains(&i) {
                continue;
            }
            let ad: f64 = c.a.iter().zip(d.iter()).map(|(a, d)| a * d).sum();
            if ad < 0.0 {
                let limit = c.slack(&x).max(0.0) / -ad;
                if limit < alpha_max {
                    alpha_max = limit;
                    blocking = Some(i);
                }
            }
        }
        let mut alpha = alpha_max.min(1.0);
        let blocked = alpha_max <= 1.0;
        let mut next = None;
        let mut first = true;
        while alpha > 1e-20 {
            let trial: Vec<f64> = x.iter().zip(d.iter()).map(|(x, d)| x + alpha * d).collect();
            if trial == x {
                break;
            }
            evaluations += 1;
            if let Some((ft, gt)) = objective(lik, &trial) {
                // Sufficient decrease; or, for the full step onto a blocking constraint, no
                // increase beyond the evaluation noise of f (a sum of T logarithms): the gain
                // may be below its resolution, and the constraint must still join the set.
                let armijo = ft <= f - 1e-4 * alpha * decrement;
                let onto_bound = first && blocked && ft <= f + NOISE * f.abs().max(1.0);
                if armijo || onto_bound {
                    next = Some((trial, ft, gt, onto_bound || alpha == alpha_max));
                    break;
                }
            }
            first = false;
            alpha *= 0.5;
        }
        let Some((trial, ft, gt, reached)) = next else {
            // No step can be resolved: a KKT point within the evaluation noise of f if the gain
            // the Newton model still predicts is negligible and the multipliers are right.
            let lambda = &aat_inv * (&a * &gv);
            let signs_ok = (0..working.len()).all(|r| lambda[r] >= -MULTIPLIER_TOL);
            if t * decrement <= NOISE_GAIN && signs_ok {
                kkt = true;
                reason = format!(
                    "KKT point within evaluation noise (predicted gain {:.1e})",
                    t * decrement
                );
            } else {
                reason = format!("line search failed (predicted gain {:.1e})", t * decrement);
            }
            break;
        };
        if reached && let Some(b) = blocking {
            working.push(b);
        }
        x = trial;
        f = ft;
        g = gt;
    }
    // Mean parameters at a kink: optimal if no one-sided step improves.
    let check_kinks = kkt;
    for m in kinked_mean.filter(|_| check_kinks) {
        let h = 1e-7 * x[m].abs().max(1e-3);
        for s in [h, -h] {
            let mut xs = x.clone();
            xs[m] += s;
            evaluations += 1;
            if objective(lik, &xs).is_some_and(|(fs, _)| t * (f - fs) > DECREMENT_TOL) {
                kkt = false;
                reason = if m == 0 && k > 0 && kinked_mean_is_mu(lik) {
                    "mu is not optimal at the kink".into()
                } else {
                    "a mean parameter is not optimal at the kink".into()
                };
            }
        }
    }
    let active = working
        .iter()
        .map(|&i| constraints[i].name.clone())
        .collect();
    Some(Refined {
        params: x,
        log_likelihood: -f * t,
        kkt,
        iterations,
        evaluations,
        active,
        reason,
    })
}
