//! The exact Hessian of the log-likelihood of a first-order GARCH/GJR model (constant or zero
//! mean, normal or Student-t errors) in one pass, alongside the value, the gradient and,
//! when asked, the moments of the per-observation scores.
//!
//! It extends the recursive gradient of [`crate::variance`] by one order: with
//! `σ²_t = ω + (α + γ·1[e_{t−1}<0])·e²_{t−1} + β·σ²_{t−1}` the first derivatives `d_t = ∂σ²_t/∂θ`
//! follow `d_t = x_t + β·d_{t−1}` and the second derivatives
//! `D_t = β·D_{t−1} + e_β d_{t−1}ᵀ + d_{t−1} e_βᵀ + M_t`, where `M_t` holds the μ terms of
//! `(α+γ·1)·e²` (Fiorentini, Calzolari and Panattoni 1996 give the first-order recursion; the
//! second order is its derivative). The log density `ℓ_t(σ², e, ν)` then contributes
//! `H += ℓ_σσ d dᵀ + ℓ_σ D + (μ and ν cross terms)`.
//!
//! The sum `Σ ℓ_σ D` is taken backwards (the adjoint of the linear recursions in `D`, see
//! `Likelihood::pass`), so a pass runs `σ²_t` and `d_t` forwards and two scalar recursions
//! backwards instead of carrying `D_t`'s entries; where a variance is bounded the forward
//! recursions of `Likelihood::pass_bounded` are used.
//!
//! Newton's method on this Hessian converges in a handful of passes where a quasi-Newton
//! method needs dozens, and the same pass gives the sandwich covariance's two matrices
//! exactly, without `arch`'s second differences (which this Hessian reproduces to their own
//! truncation error: see the tests of `fit`).

// Index loops mirror the matrix algebra (several arrays indexed by the same i, j).
#![allow(clippy::needless_range_loop)]

use super::Likelihood;
use super::logsum::{LogProduct, LogSum};
use crate::distribution::{Density, Normal, SecondOrderDensity};
use crate::spec::VolatilityModel;
use crate::variance::{RecursionInput, bound};

/// Value, gradient and Hessian of the total log-likelihood at one parameter vector.
#[derive(Debug, Clone)]
pub(crate) struct SecondOrder {
    /// Log-likelihood.
    pub ll: f64,
    /// Gradient of the log-likelihood.
    pub grad: Vec<f64>,
    /// Hessian of the log-likelihood, row-major `k × k` (negative definite at a maximum).
    pub hess: Vec<f64>,
    /// Moments of the per-observation scores, when asked for.
    pub scores: Option<ScoreMoments>,
    /// The conditional variances `σ²_t`, bit for bit those of [`Likelihood::value_into`] (the
    /// same operations in the same order), so that a fit need not run a value pass to report
    /// them at its last Newton point.
    pub sigma2: Vec<f64>,
}

/// `Σ_t g_t` and `Σ_t g_t g_tᵀ` of the per-observation scores `g_t`: enough for their sample
/// covariance (the "meat" of the sandwich) without storing a `T × k` matrix.
#[derive(Debug, Clone)]
pub(crate) struct ScoreMoments {
    /// Σ g_t.
    pub sum: Vec<f64>,
    /// Σ g_t g_tᵀ, row-major `k × k`.
    pub outer: Vec<f64>,
}

impl Likelihood<'_> {
    /// Whether [`Self::second_order`] covers this model (first-order GARCH or GJR).
    pub(crate) fn has_second_order(&self) -> bool {
        matches!(self.spec.volatility, VolatilityModel::Garch(g)
            if g.p() == 1 && g.o() <= 1 && g.q() == 1)
    }

    /// Value, gradient and exact Hessian at `params` in one pass; with `scores`, also the
    /// moments of the per-observation scores. `None` for models without the pass (see
    /// [`Self::has_second_order`]) and where a variance exceeds its upper bound.
    pub(crate) fn second_order(&self, params: &[f64], scores: bool) -> Option<SecondOrder> {
        if !self.has_second_order() {
            return None;
        }
        let out = match self.density(params) {
            Density::StudentT(t) => {
                // The constant and its derivative as the first-order pass has them.
                let mut out = self.dispatch(params, t.second_order(), scores)?;
                // C''(ν), once per observation.
                let n = self.layout.nu.expect("Student-t has ν");
                let k = params.len();
                out.hess[n * k + n] += self.y.len() as f64 * t.d2_constant();
                out
            }
            Density::Normal => self.dispatch(params, Normal, scores)?,
        };
        Some(out)
    }

    fn dispatch<D: SecondOrderDensity>(
        &self,
        params: &[f64],
        density: D,
        scores: bool,
    ) -> Option<SecondOrder> {
        let VolatilityModel::Garch(g) = self.spec.volatility else {
            unreachable!("second-order pass is for GARCH/GJR");
        };
        // The layout as compile-time constants, so that every index into the per-observation
        // arrays is a constant and the arrays live in registers.
        let key = (
            self.layout.len,
            self.layout.mu.is_some(),
            g.o() == 1,
            scores,
        );
        macro_rules! arms {
            ($(($n:literal, $mu:literal, $gamma:literal)),*) => {
                match key {
                    $(
                        ($n, $mu, $gamma, false) => self
                            .pass::<$n, $mu, $gamma, D, false>(params, density)
                            .or_else(|| self.pass_bounded::<$n, $mu, $gamma, D, false>(params, density)),
                        ($n, $mu, $gamma, true) => self
                            .pass::<$n, $mu, $gamma, D, true>(params, density)
                            .or_else(|| self.pass_bounded::<$n, $mu, $gamma, D, true>(params, density)),
                    )*
                    _ => unreachable!("first-order GARCH has 3 to 6 parameters"),
                }
            };
        }
        arms!(
            (3, false, false),
            (4, true, false),
            (4, false, true),
            (4, false, false),
            (5, true, true),
            (5, true, false),
            (5, false, true),
            (6, true, true)
        )
    }

    /// The pass where every variance is inside its bounds (the usual case), for `N`
    /// parameters; `None` as soon as one is not, and [`Self::pass_bounded`] takes over.
    ///
    /// Forward, by blocks of [`BLOCK`] observations: a serial sweep ([`forward_block`]) runs
    /// `σ²_t` and `d_t = x_t + β·d_{t−1}` and stores them column-wise (ω's column, which does
    /// not depend on the data, in closed form, and the bounds checked, after the sweep);
    /// element-wise loops over the block then compute the density partials and add every term
    /// that needs `d_t` (gradient, `Σ ℓ_σσ d dᵀ`, the μ and ν cross terms) into four-lane sums
    /// held in registers ([`Sums`]).
    ///
    /// `D_t`'s entries are not carried. Each is a linear recursion `z_t = β·z_{t−1} + u_t`
    /// (`z_{−1} = 0`), and `Σ_t ℓ_σ,t z_t = Σ_t u_t A_t` with the adjoint
    /// `A_t = ℓ_σ,t + β·A_{t+1}` (`A_T = 0`). For the β row `u_t = c·d_{t−1}` (`c = 2` on the
    /// diagonal), and since `d` is itself such a recursion in `x`,
    /// `Σ_t d_{t−1} A_t = Σ_t x_t B_t` with `B_t = A_{t+1} + β·B_{t+1}` (`B_T = 0`). So a
    /// backward sweep runs two scalar recursions instead of the forward `N + 3` (four steps at a
    /// time, [`backward_recursion`]), and its sums need only `x_t` and `u_t`, which are
    /// functions of `e_{t−1}` and `σ²_{t−1}`. This holds only where no variance is floored (a
    /// floor resets the recursions), hence the fallback.
    ///
    /// The results differ from [`Self::pass_bounded`]'s by rounding only (a test checks it);
    /// `σ²` is bit for bit the same.
    fn pass<
        const N: usize,
        const MU: bool,
        const GAMMA: bool,
        D: SecondOrderDensity,
        const SCORES: bool,
    >(
        &self,
        params: &[f64],
        density: D,
    ) -> Option<SecondOrder> {
        let RecursionInput {
            y,
            mu,
            backcast: bc,
            bounds,
            ..
        } = self.input(params);
        let v = usize::from(MU);
        let (omega, alpha) = (params[v], params[v + 1]);
        let (gamma, beta) = if GAMMA {
            (params[v + 2], params[v + 3])
        } else {
            (0.0, params[v + 2])
        };
        let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(GAMMA));
        let nv = N - usize::from(D::HAS_NU);
        let bounds = &bounds[..y.len()];

        let mut sums = Sums::<N>::new();
        let mut ln_s2 = LogProduct::new();
        let mut ln_1q = LogProduct::new();
        let mut blk = Block::<N>::new();
        let mut w = Weights::<N>::new();
        let mut sigma2 = Vec::with_capacity(y.len());
        // ℓ_σ,t for the backward sweep.
        let mut l_s = Vec::with_capacity(y.len());
        let coefs = Coefficients {
            mu,
            omega,
            alpha,
            gamma,
            beta,
        };
        let geometric = Geometric::new(beta);
        // Carried across blocks: σ²_{t−1}, e_{t−1}, d_{t−1}.
        let mut state = Recursion {
            s_prev: bc,
            ..Recursion::default()
        };
        for (b, (y_block, b_block)) in y.chunks(BLOCK).zip(bounds.chunks(BLOCK)).enumerate() {
            let len = y_block.len().min(BLOCK);
            state = if b == 0 {
                forward_block::<N, MU, GAMMA, true>(
                    &coefs, bc, y_block, b_block, state, &geometric, &mut blk,
                )
            } else {
                forward_block::<N, MU, GAMMA, false>(
                    &coefs, bc, y_block, b_block, state, &geometric, &mut blk,
                )
            }?;
            sigma2.extend_from_slice(&blk.s2[..len]);
            ln_s2.push_all(&blk.s2[..len]);
            let n_up = len.div_ceil(LANES) * LANES;
            w.fill::<D, MU>(&blk, len, n_up, &density);
            l_s.extend_from_slice(&w.s[..len]);
            if D::HAS_NU {
                ln_1q.push_all(&w.one_plus_q[..len]);
            }
            if len < n_up {
                for i in 0..nv {
                    blk.d[i][len..n_up].fill(0.0);
                }
            }
            sums.forward::<D, MU, SCORES>(&blk, &mut w, n_up);
        }

        // Backward: A_t and B_t by blocks from the end, then the sums Σ x_t B_t, Σ u_t A_t.
        let mut rev = Backward::new();
        let powers = [
            beta,
            beta * beta,
            beta * beta * beta,
            beta * beta * (beta * beta),
        ];
        let (mut a_next, mut b_next) = (0.0, 0.0);
        let n_blocks = y.len().div_ceil(BLOCK);
        for b in (0..n_blocks).rev() {
            let first = b * BLOCK;
            let len = (y.len() - first).min(BLOCK);
            let n_up = len.div_ceil(LANES) * LANES;
            // A_t = ℓ_σ,t + β·A_{t+1}; B_t = A_{t+1} + β·B_{t+1}.
            rev.a[len] = a_next;
            a_next =
                backward_recursion(&l_s[first..first + len], beta, &powers, a_next, &mut rev.a);
            b_next = backward_recursion(&rev.a[1..=len], beta, &powers, b_next, &mut rev.b);
            if len < n_up {
                rev.a[len..n_up].fill(0.0);
                rev.b[len..n_up].fill(0.0);
                rev.ep[len..n_up].fill(0.0);
                rev.sp[len..n_up].fill(0.0);
            }
            // e_{t−1} and σ²_{t−1}; at t = 0 zeros, its x_0 is added below.
            let k0 = usize::from(first == 0);
            if first == 0 {
                rev.ep[0] = 0.0;
                rev.sp[0] = 0.0;
                // u_0 = 0: A_0 enters only the sums Σ u_t A_t.
                rev.a[0] = 0.0;
            }
            for ((ep, sp), (&yp, &s)) in rev.ep[k0..len]
                .iter_mut()
                .zip(&mut rev.sp[k0..len])
                .zip(y[first + k0 - 1..].iter().zip(&sigma2[first + k0 - 1..]))
            {
                *ep = yp - mu;
                *sp = s;
            }
            sums.backward::<MU, GAMMA>(&rev, alpha, gamma, n_up);
        }
        if !y.is_empty() {
            // x_0 = (ω: 1, α: bc, γ: bc/2, β: bc), u_0 = 0; its ω term is already in.
            let b0 = rev.b[0];
            sums.x_b[ia][0] += bc * b0;
            if GAMMA {
                sums.x_b[ig][0] += 0.5 * bc * b0;
            }
            sums.x_b[ib][0] += bc * b0;
        }

        let totals = sums.totals::<D, MU, GAMMA>(ln_s2.total(), ln_1q.total(), v, ia, ig, ib);
        Some(assemble::<N, MU, GAMMA, D, SCORES>(
            totals, sigma2, &density, ia, ig, ib,
        ))
    }

    /// The pass with the forward recursions of `D_t`, for `N` parameters: used where a
    /// variance is bounded (a floor resets the recursions, which [`Self::pass`] does not
    /// handle).
    ///
    /// `D_t` is sparse: its recursion only ever fills the β row (`e_β d_{t−1}ᵀ`) and the μ
    /// entries `(μ,μ)`, `(μ,α)`, `(μ,γ)` of `(α+γ·1)·e²`; the rest stay zero. So the pass
    /// carries those `N + 3` numbers, not `N²`. A variance above its upper bound (where `arch`
    /// continues logarithmically) would make `D_t` dense; there the pass declines (`None`) and
    /// callers use their derivative-free or first-order alternative.
    ///
    /// The work is split by blocks of [`BLOCK`] observations: a serial sweep runs the
    /// recursions and stores `σ²_t`, `e_t`, `d_t` and `D_t`'s entries column-wise; then one
    /// element-wise loop over the block computes the density partials and adds every term
    /// (gradient, the `N(N+1)/2` Hessian entries) into per-lane sums ([`Lanes`]), which the
    /// compiler vectorises four observations to a register.
    fn pass_bounded<
        const N: usize,
        const MU: bool,
        const GAMMA: bool,
        D: SecondOrderDensity,
        const SCORES: bool,
    >(
        &self,
        params: &[f64],
        density: D,
    ) -> Option<SecondOrder> {
        debug_assert_eq!(
            N,
            usize::from(MU) + 3 + usize::from(GAMMA) + usize::from(D::HAS_NU)
        );
        let RecursionInput {
            y,
            mu,
            backcast: bc,
            bounds,
            ..
        } = self.input(params);
        let v = usize::from(MU);
        let (omega, alpha) = (params[v], params[v + 1]);
        let (gamma, beta) = if GAMMA {
            (params[v + 2], params[v + 3])
        } else {
            (0.0, params[v + 2])
        };
        let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(GAMMA));

        let mut totals = Totals::<N>::new();
        let mut lanes = Lanes::<N>::new();
        let mut logs = [LogSum::new(), LogSum::new()];
        let mut scratch = Scratch {
            one_plus_q: [0.0; BLOCK],
            g: [[0.0; BLOCK]; N],
        };
        let mut blk = Block::<N>::new();
        let mut sigma2 = vec![0.0; y.len()];
        // Recursion state carried across blocks: σ²_{t−1}, e_{t−1}, d_{t−1} and D_{t−1}'s
        // non-zero entries (the β row; (μ,μ), (μ,α), (μ,γ)).
        let mut s_prev = bc;
        let mut d_prev = [0.0; N];
        let mut db_prev = [0.0; N];
        let (mut dmm_prev, mut dma_prev, mut dmg_prev) = (0.0, 0.0, 0.0);
        for (b, (y_block, s2_block)) in y.chunks(BLOCK).zip(sigma2.chunks_mut(BLOCK)).enumerate() {
            let (first, len) = (b * BLOCK, y_block.len());
            for (k, &yt) in y_block.iter().enumerate() {
                let t = first + k;
                let mut d = [0.0; N];
                let mut db = [0.0; N];
                let (mut dmm, mut dma, mut dmg) = (0.0, 0.0, 0.0);
                d[v] = 1.0;
                let mut raw = omega;
                if t == 0 {
                    // Before the sample e² and σ² are the backcast, e²·1[e<0] half of it.
                    raw += alpha * bc;
                    d[ia] = bc;
                    if GAMMA {
                        raw += gamma * 0.5 * bc;
                        d[ig] = 0.5 * bc;
                    }
                    raw += beta * bc;
                    d[ib] = bc;
                } else {
                    let ep = y[t - 1] - mu;
                    let e2 = ep * ep;
                    let neg = GAMMA && ep < 0.0;
                    raw += alpha * e2;
                    d[ia] = e2;
                    let mut slope = alpha;
                    if neg {
                        raw += gamma * e2;
                        d[ig] = e2;
                        slope += gamma;
                    }
                    raw += beta * s_prev;
                    d[ib] = s_prev;
                    if MU {
                        d[0] = -2.0 * slope * ep;
                        dmm = beta * dmm_prev + 2.0 * slope;
                        dma = beta * dma_prev - 2.0 * ep;
                        if GAMMA {
                            dmg = beta * dmg_prev - if neg { 2.0 * ep } else { 0.0 };
                        }
                    }
                    // e_β d_{t−1}ᵀ + d_{t−1} e_βᵀ: d_{t−1} in the β row, twice on the diagonal.
                    for i in 0..N {
                        d[i] += beta * d_prev[i];
                        let twice = if i == ib { 2.0 } else { 1.0 };
                        db[i] = beta * db_prev[i] + twice * d_prev[i];
                    }
                }
                let (s2, scale) = bound(raw, bounds[t]);
                if scale != 1.0 {
                    if scale != 0.0 {
                        return None;
                    }
                    // Floored (or infinite): a constant, with no derivatives.
                    d = [0.0; N];
                    db = [0.0; N];
                    (dmm, dma, dmg) = (0.0, 0.0, 0.0);
                }
                blk.s2[k] = s2;
                blk.e[k] = yt - mu;
                for i in 0..N {
                    blk.d[i][k] = d[i];
                    blk.db[i][k] = db[i];
                }
                blk.dmm[k] = dmm;
                blk.dma[k] = dma;
                blk.dmg[k] = dmg;
                s_prev = s2;
                d_prev = d;
                db_prev = db;
                (dmm_prev, dma_prev, dmg_prev) = (dmm, dma, dmg);
            }
            s2_block.copy_from_slice(&blk.s2[..len]);
            lanes.add::<D, MU, GAMMA, SCORES>(&blk, len, &density, &mut scratch, &mut logs);
        }
        lanes.total::<D, MU>(&mut totals);
        let [mut ln_s2, mut ln_1q] = logs;
        (totals.ln_s2, totals.ln_1q) = (ln_s2.total(), ln_1q.total());
        Some(assemble::<N, MU, GAMMA, D, SCORES>(
            totals, sigma2, &density, ia, ig, ib,
        ))
    }
}

/// Assembles `H = Σ ℓ_σσ d dᵀ + Σ ℓ_σ D +` the μ and ν cross terms from a pass's sums, with the
/// value and gradient.
fn assemble<
    const N: usize,
    const MU: bool,
    const GAMMA: bool,
    D: SecondOrderDensity,
    const SCORES: bool,
>(
    totals: Totals<N>,
    sigma2: Vec<f64>,
    density: &D,
    ia: usize,
    ig: usize,
    ib: usize,
) -> SecondOrder {
    let nn = N - 1; // ν's index when D::HAS_NU
    let Totals {
        mut grad,
        h_dd,
        h_beta,
        h_mm,
        h_ma,
        h_mg,
        h_se,
        h_ee,
        h_sn,
        h_en,
        h_nn,
        ln_s2,
        ratio,
        ln_1q,
        score_sum,
        mut score_outer,
    } = totals;
    // Assemble H = Σ ℓ_σσ d dᵀ + Σ ℓ_σ D + the μ and ν cross terms (∂e/∂μ = −1).
    let mut hess = h_dd;
    for j in 0..N {
        let (lo, hi) = (j.min(ib), j.max(ib));
        hess[lo][hi] += h_beta[j];
    }
    if MU {
        hess[0][0] += h_mm - 2.0 * h_se[0] + h_ee;
        for j in 1..N {
            hess[0][j] -= h_se[j];
        }
        hess[0][ia] += h_ma;
        if GAMMA {
            hess[0][ig] += h_mg;
        }
    }
    if D::HAS_NU {
        grad[nn] -= 0.5 * ln_1q;
        for i in 0..nn {
            hess[i][nn] += h_sn[i];
        }
        if MU {
            hess[0][nn] -= h_en;
        }
        hess[nn][nn] += h_nn;
    }
    for i in 0..N {
        for j in 0..i {
            hess[i][j] = hess[j][i];
            score_outer[i][j] = score_outer[j][i];
        }
    }
    let n = sigma2.len() as f64;
    let ll = density.total(n, ln_s2, ratio, ln_1q);
    let flat = |m: [[f64; N]; N]| m.iter().flatten().copied().collect::<Vec<f64>>();
    SecondOrder {
        ll,
        grad: grad.to_vec(),
        hess: flat(hess),
        scores: SCORES.then(|| ScoreMoments {
            sum: score_sum.to_vec(),
            outer: flat(score_outer),
        }),
        sigma2,
    }
}

/// Observations per block of the second-order pass: its column arrays stay in L1.
const BLOCK: usize = 64;

/// One block's recursion outputs, column-wise.
struct Block<const N: usize> {
    s2: [f64; BLOCK],
    e: [f64; BLOCK],
    /// `∂σ²_t/∂θ_i`, one column per parameter.
    d: [[f64; BLOCK]; N],
    /// The β row of `∂²σ²_t/∂θ∂θᵀ`.
    db: [[f64; BLOCK]; N],
    dmm: [f64; BLOCK],
    dma: [f64; BLOCK],
    dmg: [f64; BLOCK],
}

/// Sums over all blocks.
struct Totals<const N: usize> {
    grad: [f64; N],
    h_dd: [[f64; N]; N],
    h_beta: [f64; N],
    h_mm: f64,
    h_ma: f64,
    h_mg: f64,
    h_se: [f64; N],
    h_ee: f64,
    h_sn: [f64; N],
    h_en: f64,
    h_nn: f64,
    /// Σ ln σ².
    ln_s2: f64,
    ratio: f64,
    /// Σ ln(1 + q).
    ln_1q: f64,
    score_sum: [f64; N],
    score_outer: [[f64; N]; N],
}

/// The sums of [`Totals`] split by lane: lane `k` accumulates the observations `t ≡ k`
/// (mod [`BLOCK`]), so that adding a block is element-wise over `k` and vectorises to full
/// 256-bit registers (a dot product's reduction over `k` gets only 128-bit pairs from the
/// compiler). The lanes are summed once, in a fixed order, at the end of the pass
/// ([`Lanes::total`]): the result is deterministic. Only the upper triangles of the
/// `N × N` sums are used.
struct Lanes<const N: usize> {
    /// Σ ℓ_σ d_i.
    grad: [[f64; BLOCK]; N],
    /// Σ ℓ_e (subtracted from μ's gradient).
    le: [f64; BLOCK],
    /// Σ ℓ_σσ d_i d_j.
    h_dd: [[[f64; BLOCK]; N]; N],
    /// Σ ℓ_σ ∂d_i/∂β.
    h_beta: [[f64; BLOCK]; N],
    h_mm: [f64; BLOCK],
    h_ma: [f64; BLOCK],
    h_mg: [f64; BLOCK],
    h_se: [[f64; BLOCK]; N],
    h_ee: [f64; BLOCK],
    /// Σ ∂ℓ/∂ν without `−½ln(1+q)`.
    ln_rest: [f64; BLOCK],
    h_sn: [[f64; BLOCK]; N],
    h_en: [f64; BLOCK],
    h_nn: [f64; BLOCK],
    ratio: [f64; BLOCK],
    score_sum: [[f64; BLOCK]; N],
    score_outer: [[[f64; BLOCK]; N]; N],
}

/// Per-block scratch of the reductions.
struct Scratch<const N: usize> {
    one_plus_q: [f64; BLOCK],
    /// The per-observation scores.
    g: [[f64; BLOCK]; N],
}

impl<const N: usize> Totals<N> {
    fn new() -> Self {
        Self {
            grad: [0.0; N],
            h_dd: [[0.0; N]; N],
            h_beta: [0.0; N],
            h_mm: 0.0,
            h_ma: 0.0,
            h_mg: 0.0,
            h_se: [0.0; N],
            h_ee: 0.0,
            h_sn: [0.0; N],
            h_en: 0.0,
            h_nn: 0.0,
            ln_s2: 0.0,
            ratio: 0.0,
            ln_1q: 0.0,
            score_sum: [0.0; N],
            score_outer: [[0.0; N]; N],
        }
    }
}

impl<const N: usize> Block<N> {
    fn new() -> Self {
        Self {
            s2: [0.0; BLOCK],
            e: [0.0; BLOCK],
            d: [[0.0; BLOCK]; N],
            db: [[0.0; BLOCK]; N],
            dmm: [0.0; BLOCK],
            dma: [0.0; BLOCK],
            dmg: [0.0; BLOCK],
        }
    }
}

/// The sum of one lane array: a fixed pairwise order.
fn lane_total(x: &[f64; BLOCK]) -> f64 {
    let mut v = *x;
    let mut width = BLOCK;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            v[k] += v[k + width];
        }
    }
    v[0]
}

impl<const N: usize> Lanes<N> {
    fn new() -> Box<Self> {
        const Z: [f64; BLOCK] = [0.0; BLOCK];
        Box::new(Self {
            grad: [Z; N],
            le: Z,
            h_dd: [[Z; N]; N],
            h_beta: [Z; N],
            h_mm: Z,
            h_ma: Z,
            h_mg: Z,
            h_se: [Z; N],
            h_ee: Z,
            ln_rest: Z,
            h_sn: [Z; N],
            h_en: Z,
            h_nn: Z,
            ratio: Z,
            score_sum: [Z; N],
            score_outer: [[Z; N]; N],
        })
    }

    /// Adds the lanes' sums into `totals` (μ's `Σ ℓ_e` into its gradient, ν's into its).
    fn total<D: SecondOrderDensity, const MU: bool>(&self, totals: &mut Totals<N>) {
        for i in 0..N {
            totals.grad[i] += lane_total(&self.grad[i]);
            totals.h_beta[i] = lane_total(&self.h_beta[i]);
            totals.h_se[i] = lane_total(&self.h_se[i]);
            totals.h_sn[i] = lane_total(&self.h_sn[i]);
            totals.score_sum[i] = lane_total(&self.score_sum[i]);
            for j in i..N {
                totals.h_dd[i][j] = lane_total(&self.h_dd[i][j]);
                totals.score_outer[i][j] = lane_total(&self.score_outer[i][j]);
            }
        }
        if MU {
            totals.grad[0] -= lane_total(&self.le);
        }
        if D::HAS_NU {
            totals.grad[N - 1] += lane_total(&self.ln_rest);
        }
        totals.h_mm = lane_total(&self.h_mm);
        totals.h_ma = lane_total(&self.h_ma);
        totals.h_mg = lane_total(&self.h_mg);
        totals.h_ee = lane_total(&self.h_ee);
        totals.h_en = lane_total(&self.h_en);
        totals.h_nn = lane_total(&self.h_nn);
        totals.ratio = lane_total(&self.ratio);
    }

    /// Adds the block's first `n` observations. Not inlined: compiled apart from the serial
    /// recursion, each loop gets the registers to itself (inlined, the recursion's state
    /// spills, about a tenth more instructions per pass).
    #[inline(never)]
    fn add<D: SecondOrderDensity, const MU: bool, const GAMMA: bool, const SCORES: bool>(
        &mut self,
        blk: &Block<N>,
        n: usize,
        density: &D,
        scratch: &mut Scratch<N>,
        logs: &mut [LogSum; 2],
    ) {
        let n = n.min(BLOCK);
        // ν has no σ² derivative: its column is zero and skipped.
        let nv = N - usize::from(D::HAS_NU);
        // One element-wise loop over the block for every sum but the logarithms.
        for k in 0..n {
            let p = density.partials(blk.e[k], blk.s2[k]);
            for i in 0..nv {
                let di = blk.d[i][k];
                self.grad[i][k] += p.s * di;
                self.h_beta[i][k] += p.s * blk.db[i][k];
                let w = p.ss * di;
                for j in i..nv {
                    self.h_dd[i][j][k] += w * blk.d[j][k];
                }
            }
            if MU {
                self.le[k] += p.e;
                self.h_mm[k] += p.s * blk.dmm[k];
                self.h_ma[k] += p.s * blk.dma[k];
                if GAMMA {
                    self.h_mg[k] += p.s * blk.dmg[k];
                }
                for j in 0..nv {
                    self.h_se[j][k] += p.se * blk.d[j][k];
                }
                self.h_ee[k] += p.ee;
            }
            if D::HAS_NU {
                scratch.one_plus_q[k] = 1.0 + p.q;
                self.ln_rest[k] += p.n_rest;
                for j in 0..nv {
                    self.h_sn[j][k] += p.sn * blk.d[j][k];
                }
                self.h_en[k] += p.en;
                self.h_nn[k] += p.nn_rest;
            } else {
                self.ratio[k] += p.r;
            }
            if SCORES {
                for i in 0..nv {
                    scratch.g[i][k] = p.s * blk.d[i][k];
                }
                if MU {
                    scratch.g[0][k] -= p.e;
                }
                if D::HAS_NU {
                    scratch.g[N - 1][k] = p.n_rest;
                }
            }
        }
        logs[0].push_all(&blk.s2[..n]);
        if D::HAS_NU {
            logs[1].push_all(&scratch.one_plus_q[..n]);
        }
        if SCORES {
            if D::HAS_NU {
                // ν's score needs its logarithm per observation.
                for k in 0..n {
                    scratch.g[N - 1][k] -= 0.5 * scratch.one_plus_q[k].ln();
                }
            }
            for i in 0..N {
                for k in 0..n {
                    self.score_sum[i][k] += scratch.g[i][k];
                }
                for j in i..N {
                    for k in 0..n {
                        self.score_outer[i][j][k] += scratch.g[i][k] * scratch.g[j][k];
                    }
                }
            }
        }
    }
}

/// The parameters of the variance recursion.
struct Coefficients {
    mu: f64,
    omega: f64,
    alpha: f64,
    gamma: f64,
    beta: f64,
}

/// `Σ_{j≤k} β^j` and `β^{k+1}` for `k` < [`BLOCK`].
struct Geometric {
    sum: [f64; BLOCK],
    power: [f64; BLOCK],
}

impl Geometric {
    fn new(beta: f64) -> Self {
        let (mut sum, mut power) = ([0.0; BLOCK], [0.0; BLOCK]);
        let (mut s, mut p) = (0.0, 1.0);
        for k in 0..BLOCK {
            s = 1.0 + beta * s;
            p *= beta;
            sum[k] = s;
            power[k] = p;
        }
        Self { sum, power }
    }
}

/// The forward recursion's state after an observation: `σ²_t`, `e_t` and `d_t` (one variable
/// per parameter).
#[derive(Clone, Copy, Default)]
struct Recursion {
    s_prev: f64,
    e_prev: f64,
    d_mu: f64,
    d_om: f64,
    d_al: f64,
    d_ga: f64,
    d_be: f64,
}

/// The serial sweep of [`Likelihood::pass`] over one block (`FIRST`: the block starting at
/// t = 0): `σ²_t`, `e_t` and `d_t = x_t + β·d_{t−1}` into `blk`; `None` where a variance is
/// outside its bounds. Not inlined: on its own, the recursions' state stays in registers
/// (inlined into the pass, it was spilled to the stack every observation).
#[inline(never)]
fn forward_block<const N: usize, const MU: bool, const GAMMA: bool, const FIRST: bool>(
    c: &Coefficients,
    bc: f64,
    y_block: &[f64],
    b_block: &[[f64; 2]],
    state: Recursion,
    geometric: &Geometric,
    blk: &mut Block<N>,
) -> Option<Recursion> {
    let Coefficients {
        mu,
        omega,
        alpha,
        gamma,
        beta,
    } = *c;
    let v = usize::from(MU);
    let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(GAMMA));
    let len = y_block.len().min(BLOCK).min(b_block.len());
    let Recursion {
        mut s_prev,
        mut e_prev,
        mut d_mu,
        mut d_om,
        mut d_al,
        mut d_ga,
        mut d_be,
    } = state;
    let mut k0 = 0;
    if FIRST && len > 0 {
        // Before the sample e² and σ² are the backcast, e²·1[e<0] half of it.
        let mut raw = omega;
        raw += alpha * bc;
        if GAMMA {
            raw += gamma * 0.5 * bc;
        }
        raw += beta * bc;
        let [lo, hi] = b_block[0];
        if raw < lo || raw > hi {
            return None;
        }
        (d_mu, d_al, d_ga, d_be) = (0.0, bc, 0.5 * bc, bc);
        s_prev = raw;
        e_prev = y_block[0] - mu;
        blk.s2[0] = s_prev;
        blk.e[0] = e_prev;
        blk.d[ia][0] = d_al;
        if GAMMA {
            blk.d[ig][0] = d_ga;
        }
        blk.d[ib][0] = d_be;
        if MU {
            blk.d[0][0] = d_mu;
        }
        k0 = 1;
    }
    // −2·slope, exactly (a doubling).
    let (m2_alpha, m2_alpha_gamma) = (-2.0 * alpha, -2.0 * (alpha + gamma));
    for k in k0..len {
        let ep = e_prev;
        let e2 = ep * ep;
        let neg = GAMMA && ep < 0.0;
        // The operations of `Likelihood::value_into`, so σ² is bit for bit the same.
        let mut raw = omega;
        raw += alpha * e2;
        if neg {
            raw += gamma * e2;
        }
        raw += beta * s_prev;
        // d_t = x_t + β·d_{t−1}, as `pass_bounded` computes it.
        d_al = e2 + beta * d_al;
        if GAMMA {
            d_ga = if neg { e2 } else { 0.0 } + beta * d_ga;
        }
        d_be = s_prev + beta * d_be;
        if MU {
            let m2_slope = if neg { m2_alpha_gamma } else { m2_alpha };
            d_mu = m2_slope * ep + beta * d_mu;
        }
        e_prev = y_block[k] - mu;
        blk.s2[k] = raw;
        blk.d[ia][k] = d_al;
        if GAMMA {
            blk.d[ig][k] = d_ga;
        }
        blk.d[ib][k] = d_be;
        if MU {
            blk.d[0][k] = d_mu;
        }
        s_prev = raw;
    }
    // The bounds, checked after the sweep (element-wise, it vectorises): a variance outside
    // them only makes this pass decline.
    let outside = blk.s2[..len]
        .iter()
        .zip(&b_block[..len])
        .fold(false, |out, (&raw, &[lo, hi])| {
            out | (raw < lo) | (raw > hi)
        });
    if outside {
        return None;
    }
    for (e, &yt) in blk.e[..len].iter_mut().zip(&y_block[..len]) {
        *e = yt - mu;
    }
    // ω's column, d_t = 1 + β·d_{t−1}, does not depend on the data: from the one before the
    // block (0 before the sample), d_{first+k} = Σ_{j≤k} β^j + β^{k+1}·d_{first−1}, element-wise
    // (off the serial sweep, whose chain of dependent operations sets its speed).
    for ((d, &sum), &power) in blk.d[v][..len]
        .iter_mut()
        .zip(&geometric.sum[..len])
        .zip(&geometric.power[..len])
    {
        *d = sum + power * d_om;
    }
    if len > 0 {
        d_om = blk.d[v][len - 1];
    }
    Some(Recursion {
        s_prev,
        e_prev,
        d_mu,
        d_om,
        d_al,
        d_ga,
        d_be,
    })
}

/// Observations per register of the lane sums of [`Likelihood::pass`].
const LANES: usize = 4;

/// Four lanes of a sum: lane `l` accumulates the observations `k ≡ l (mod 4)` of each block.
type Acc = [f64; LANES];

/// The sum of the lanes, in a fixed order.
fn acc_total(a: &Acc) -> f64 {
    (a[0] + a[1]) + (a[2] + a[3])
}

/// Per-block density partials of [`Likelihood::pass`], column-wise, zero past the block's
/// observations (up to a multiple of [`LANES`]).
struct Weights<const N: usize> {
    /// ℓ_σ.
    s: [f64; BLOCK],
    /// ℓ_σσ.
    ss: [f64; BLOCK],
    /// ℓ_e.
    e: [f64; BLOCK],
    /// ℓ_σe.
    se: [f64; BLOCK],
    /// ℓ_ee.
    ee: [f64; BLOCK],
    /// e²/σ² (normal).
    r: [f64; BLOCK],
    /// ∂ℓ/∂ν without `−½ln(1+q)`.
    n_rest: [f64; BLOCK],
    sn: [f64; BLOCK],
    en: [f64; BLOCK],
    nn_rest: [f64; BLOCK],
    /// 1 + q (one past the observations).
    one_plus_q: [f64; BLOCK],
    /// The per-observation scores.
    g: [[f64; BLOCK]; N],
}

impl<const N: usize> Weights<N> {
    fn new() -> Self {
        const Z: [f64; BLOCK] = [0.0; BLOCK];
        Self {
            s: Z,
            ss: Z,
            e: Z,
            se: Z,
            ee: Z,
            r: Z,
            n_rest: Z,
            sn: Z,
            en: Z,
            nn_rest: Z,
            one_plus_q: [1.0; BLOCK],
            g: [Z; N],
        }
    }

    /// The partials of the block's first `n` observations, zeros up to `n_up`.
    #[inline(always)]
    fn fill<D: SecondOrderDensity, const MU: bool>(
        &mut self,
        blk: &Block<N>,
        n: usize,
        n_up: usize,
        density: &D,
    ) {
        let n = n.min(BLOCK);
        for k in 0..n {
            let p = density.partials(blk.e[k], blk.s2[k]);
            self.s[k] = p.s;
            self.ss[k] = p.ss;
            if MU {
                self.e[k] = p.e;
                self.se[k] = p.se;
                self.ee[k] = p.ee;
            }
            if D::HAS_NU {
                self.n_rest[k] = p.n_rest;
                self.sn[k] = p.sn;
                self.en[k] = p.en;
                self.nn_rest[k] = p.nn_rest;
                self.one_plus_q[k] = 1.0 + p.q;
            } else {
                self.r[k] = p.r;
            }
        }
        let pad = n..n_up.min(BLOCK);
        if pad.is_empty() {
            return;
        }
        for col in [
            &mut self.s,
            &mut self.ss,
            &mut self.e,
            &mut self.se,
            &mut self.ee,
            &mut self.r,
            &mut self.n_rest,
            &mut self.sn,
            &mut self.en,
            &mut self.nn_rest,
        ] {
            col[pad.clone()].fill(0.0);
        }
        self.one_plus_q[pad].fill(1.0);
    }
}

/// Per-block columns of the backward sweep of [`Likelihood::pass`].
struct Backward {
    /// A_t, and A at the next block's first observation.
    a: [f64; BLOCK + 1],
    /// B_t.
    b: [f64; BLOCK],
    /// e_{t−1}.
    ep: [f64; BLOCK],
    /// σ²_{t−1}.
    sp: [f64; BLOCK],
}

impl Backward {
    fn new() -> Self {
        const Z: [f64; BLOCK] = [0.0; BLOCK];
        Self {
            a: [0.0; BLOCK + 1],
            b: Z,
            ep: Z,
            sp: Z,
        }
    }
}

/// `out_k = x_k + β·out_{k+1}` backwards from `out_n = after`; returns `out_0`. Four steps at
/// a time from `out_{k+4}`, `out_k = (x_k + β·x_{k+1} + β²·x_{k+2} + β³·x_{k+3}) + β⁴·out_{k+4}`:
/// the loop-carried dependence is one multiply-add per four observations, not per one.
/// `powers` are β, β², β³, β⁴.
#[inline(always)]
fn backward_recursion(x: &[f64], beta: f64, powers: &[f64; 4], after: f64, out: &mut [f64]) -> f64 {
    let n = x.len().min(out.len());
    let n4 = n / 4 * 4;
    let mut c = after;
    for k in (n4..n).rev() {
        c = x[k] + beta * c;
        out[k] = c;
    }
    for k in (0..n4).step_by(4).rev() {
        let s3 = x[k + 3];
        let s2 = x[k + 2] + beta * s3;
        let s1 = x[k + 1] + beta * s2;
        let s0 = x[k] + beta * s1;
        out[k + 3] = s3 + powers[0] * c;
        out[k + 2] = s2 + powers[1] * c;
        out[k + 1] = s1 + powers[2] * c;
        c = s0 + powers[3] * c;
        out[k] = c;
    }
    c
}

/// `acc_i += Σ_k w_k·c_i,k` for `i < m`, four lanes.
#[inline(always)]
fn dot_lanes<const N: usize>(
    w: &[f64; BLOCK],
    cols: &[[f64; BLOCK]; N],
    m: usize,
    n_up: usize,
    acc: &mut [Acc; N],
) {
    let mut a = [[0.0; LANES]; N];
    a[..m].copy_from_slice(&acc[..m]);
    for c in 0..n_up.min(BLOCK) / LANES {
        let k = c * LANES;
        for i in 0..m {
            for l in 0..LANES {
                a[i][l] += w[k + l] * cols[i][k + l];
            }
        }
    }
    acc[..m].copy_from_slice(&a[..m]);
}

/// `acc += Σ_k x_k`, four lanes.
#[inline(always)]
fn sum_lanes(x: &[f64; BLOCK], n_up: usize, acc: &mut Acc) {
    let mut a = *acc;
    for c in x[..n_up.min(BLOCK)].chunks_exact(LANES) {
        for l in 0..LANES {
            a[l] += c[l];
        }
    }
    *acc = a;
}

/// `acc_ij += Σ_k (w_k·c_i,k)·c_j,k` (or without `w`) for the rows `R0 ≤ i < R1` of the upper
/// triangle `i ≤ j < m`, four lanes. A few rows at a time, the sums stay in registers.
#[inline(always)]
fn outer_lanes<const N: usize, const R0: usize, const R1: usize, const WEIGHTED: bool>(
    w: &[f64; BLOCK],
    cols: &[[f64; BLOCK]; N],
    m: usize,
    n_up: usize,
    acc: &mut [[Acc; N]; N],
) {
    let r1 = R1.min(m);
    let mut a = [[[0.0; LANES]; N]; N];
    for i in R0..r1 {
        for j in i..m {
            a[i][j] = acc[i][j];
        }
    }
    for c in 0..n_up.min(BLOCK) / LANES {
        let k = c * LANES;
        for i in R0..r1 {
            let wi: Acc = std::array::from_fn(|l| {
                if WEIGHTED {
                    w[k + l] * cols[i][k + l]
                } else {
                    cols[i][k + l]
                }
            });
            for j in i..m {
                for l in 0..LANES {
                    a[i][j][l] += wi[l] * cols[j][k + l];
                }
            }
        }
    }
    for i in R0..r1 {
        for j in i..m {
            acc[i][j] = a[i][j];
        }
    }
}

/// The lane sums of [`Likelihood::pass`]; only the upper triangles of the `N × N` ones are
/// used.
struct Sums<const N: usize> {
    /// Σ ℓ_σ d_i.
    grad: [Acc; N],
    /// Σ ℓ_e.
    le: Acc,
    /// Σ ℓ_σσ d_i d_j.
    h_dd: [[Acc; N]; N],
    h_se: [Acc; N],
    h_ee: Acc,
    ln_rest: Acc,
    h_sn: [Acc; N],
    h_en: Acc,
    h_nn: Acc,
    ratio: Acc,
    score_sum: [Acc; N],
    score_outer: [[Acc; N]; N],
    /// Σ x_t,i B_t (the β row of Σ ℓ_σ D before its factor `c`).
    x_b: [Acc; N],
    /// Σ u_t A_t of the μ entries of D.
    h_mm: Acc,
    h_ma: Acc,
    h_mg: Acc,
}

impl<const N: usize> Sums<N> {
    fn new() -> Box<Self> {
        const Z: Acc = [0.0; LANES];
        Box::new(Self {
            grad: [Z; N],
            le: Z,
            h_dd: [[Z; N]; N],
            h_se: [Z; N],
            h_ee: Z,
            ln_rest: Z,
            h_sn: [Z; N],
            h_en: Z,
            h_nn: Z,
            ratio: Z,
            score_sum: [Z; N],
            score_outer: [[Z; N]; N],
            x_b: [Z; N],
            h_mm: Z,
            h_ma: Z,
            h_mg: Z,
        })
    }

    /// Adds a block's terms that need `d_t`, and the plain sums of the partials.
    #[inline(never)]
    fn forward<D: SecondOrderDensity, const MU: bool, const SCORES: bool>(
        &mut self,
        blk: &Block<N>,
        w: &mut Weights<N>,
        n_up: usize,
    ) {
        // ν has no σ² derivative: its column is zero and skipped.
        let nv = N - usize::from(D::HAS_NU);
        dot_lanes(&w.s, &blk.d, nv, n_up, &mut self.grad);
        outer_lanes::<N, 0, 2, true>(&w.ss, &blk.d, nv, n_up, &mut self.h_dd);
        outer_lanes::<N, 2, N, true>(&w.ss, &blk.d, nv, n_up, &mut self.h_dd);
        if MU {
            sum_lanes(&w.e, n_up, &mut self.le);
            dot_lanes(&w.se, &blk.d, nv, n_up, &mut self.h_se);
            sum_lanes(&w.ee, n_up, &mut self.h_ee);
        }
        if D::HAS_NU {
            sum_lanes(&w.n_rest, n_up, &mut self.ln_rest);
            dot_lanes(&w.sn, &blk.d, nv, n_up, &mut self.h_sn);
            sum_lanes(&w.en, n_up, &mut self.h_en);
            sum_lanes(&w.nn_rest, n_up, &mut self.h_nn);
        } else {
            sum_lanes(&w.r, n_up, &mut self.ratio);
        }
        if SCORES {
            let n_up = n_up.min(BLOCK);
            for i in 0..nv {
                for k in 0..n_up {
                    w.g[i][k] = w.s[k] * blk.d[i][k];
                }
            }
            if MU {
                for k in 0..n_up {
                    w.g[0][k] -= w.e[k];
                }
            }
            if D::HAS_NU {
                // ν's score needs its logarithm per observation.
                for k in 0..n_up {
                    w.g[N - 1][k] = w.n_rest[k] - 0.5 * w.one_plus_q[k].ln();
                }
            }
            for i in 0..N {
                sum_lanes(&w.g[i], n_up, &mut self.score_sum[i]);
            }
            outer_lanes::<N, 0, 2, false>(&w.s, &w.g, N, n_up, &mut self.score_outer);
            outer_lanes::<N, 2, N, false>(&w.s, &w.g, N, n_up, &mut self.score_outer);
        }
    }

    /// Adds a block's `Σ x_t B_t` and `Σ u_t A_t` (`x_t`, `u_t` from `e_{t−1}`, `σ²_{t−1}`).
    #[inline(never)]
    fn backward<const MU: bool, const GAMMA: bool>(
        &mut self,
        rev: &Backward,
        alpha: f64,
        gamma: f64,
        n_up: usize,
    ) {
        let v = usize::from(MU);
        let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(GAMMA));
        let z = [0.0; LANES];
        let (mut xm, mut xo, mut xa, mut xg, mut xb) = (z, z, z, z, z);
        let (mut mm, mut ma, mut mg) = (z, z, z);
        for c in 0..n_up.min(BLOCK) / LANES {
            let k = c * LANES;
            for l in 0..LANES {
                let (ep, bt, at) = (rev.ep[k + l], rev.b[k + l], rev.a[k + l]);
                let e2 = ep * ep;
                let neg = GAMMA && ep < 0.0;
                xo[l] += bt;
                xa[l] += e2 * bt;
                if GAMMA {
                    xg[l] += if neg { e2 } else { 0.0 } * bt;
                }
                xb[l] += rev.sp[k + l] * bt;
                if MU {
                    let slope = if neg { alpha + gamma } else { alpha };
                    xm[l] += -2.0 * slope * ep * bt;
                    mm[l] += 2.0 * slope * at;
                    ma[l] += -2.0 * ep * at;
                    if GAMMA {
                        mg[l] += if neg { -2.0 * ep } else { 0.0 } * at;
                    }
                }
            }
        }
        let add = |acc: &mut Acc, x: Acc| {
            for l in 0..LANES {
                acc[l] += x[l];
            }
        };
        add(&mut self.x_b[v], xo);
        add(&mut self.x_b[ia], xa);
        if GAMMA {
            add(&mut self.x_b[ig], xg);
        }
        add(&mut self.x_b[ib], xb);
        if MU {
            add(&mut self.x_b[0], xm);
            add(&mut self.h_mm, mm);
            add(&mut self.h_ma, ma);
            add(&mut self.h_mg, mg);
        }
    }

    /// The totals, μ's `Σ ℓ_e` in its gradient, ν's `Σ ∂ℓ/∂ν` without the logarithm in its.
    fn totals<D: SecondOrderDensity, const MU: bool, const GAMMA: bool>(
        &self,
        ln_s2: f64,
        ln_1q: f64,
        v: usize,
        ia: usize,
        ig: usize,
        ib: usize,
    ) -> Totals<N> {
        let mut t = Totals::<N>::new();
        t.ln_s2 = ln_s2;
        t.ln_1q = ln_1q;
        for i in 0..N {
            t.grad[i] = acc_total(&self.grad[i]);
            t.h_se[i] = acc_total(&self.h_se[i]);
            t.h_sn[i] = acc_total(&self.h_sn[i]);
            t.score_sum[i] = acc_total(&self.score_sum[i]);
            for j in i..N {
                t.h_dd[i][j] = acc_total(&self.h_dd[i][j]);
                t.score_outer[i][j] = acc_total(&self.score_outer[i][j]);
            }
        }
        // The β row of D: u_t = c·d_{t−1}, c = 2 on the diagonal.
        let mut rows = vec![v, ia, ib];
        if MU {
            rows.push(0);
        }
        if GAMMA {
            rows.push(ig);
        }
        for i in rows {
            let c = if i == ib { 2.0 } else { 1.0 };
            t.h_beta[i] = c * acc_total(&self.x_b[i]);
        }
        if MU {
            t.grad[0] -= acc_total(&self.le);
        }
        if D::HAS_NU {
            t.grad[N - 1] += acc_total(&self.ln_rest);
        }
        t.h_mm = acc_total(&self.h_mm);
        t.h_ma = acc_total(&self.h_ma);
        t.h_mg = acc_total(&self.h_mg);
        t.h_ee = acc_total(&self.h_ee);
        t.h_en = acc_total(&self.h_en);
        t.h_nn = acc_total(&self.h_nn);
        t.ratio = acc_total(&self.ratio);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::StudentT;
    use crate::spec::{Distribution, MeanModel, ModelSpec};

    fn series(n: usize) -> Vec<f64> {
        // A deterministic heavy-tailed series with volatility clusters.
        let mut s2: f64 = 1.0;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                let z = (u - 0.5) * 3.4;
                let e = s2.sqrt() * z * (1.0 + z * z * 0.1);
                s2 = 0.05 + 0.08 * e * e + 0.9 * s2;
                e + 0.04
            })
            .collect()
    }

    /// The first-order layouts the second-order pass covers, at interior parameters.
    fn cases() -> [(MeanModel, VolatilityModel, Distribution, &'static [f64]); 6] {
        [
            (
                MeanModel::Constant,
                VolatilityModel::garch(),
                Distribution::Normal,
                &[0.04, 0.06, 0.09, 0.88],
            ),
            (
                MeanModel::Zero,
                VolatilityModel::garch(),
                Distribution::Normal,
                &[0.06, 0.09, 0.88],
            ),
            (
                MeanModel::Constant,
                VolatilityModel::gjr(),
                Distribution::Normal,
                &[0.04, 0.05, 0.04, 0.06, 0.88],
            ),
            (
                MeanModel::Constant,
                VolatilityModel::garch(),
                Distribution::StudentT,
                &[0.04, 0.06, 0.09, 0.88, 6.5],
            ),
            (
                MeanModel::Constant,
                VolatilityModel::gjr(),
                Distribution::StudentT,
                &[0.04, 0.05, 0.04, 0.06, 0.88, 8.0],
            ),
            (
                MeanModel::Zero,
                VolatilityModel::gjr(),
                Distribution::StudentT,
                &[0.05, 0.04, 0.06, 0.88, 5.0],
            ),
        ]
    }

    /// The analytic Hessian against central differences of the analytic gradient.
    #[test]
    fn hessian_matches_differences_of_the_gradient() {
        let y = series(1500);
        let cases = cases();
        for (mean, vol, dist, params) in cases {
            let spec = ModelSpec::new(mean, vol, dist);
            let e0 = crate::fit::starting_resids(&spec, &y);
            let lik = Likelihood::new(spec, &y, &e0);
            let so = lik.second_order(params, true).expect("first-order model");
            let k = params.len();
            let mut g = vec![0.0; k];
            let ll = lik.value_and_gradient(params, &mut g, None);
            assert!((so.ll - ll).abs() <= 1e-10 * ll.abs(), "{spec}: value");
            for i in 0..k {
                assert!(
                    (so.grad[i] - g[i]).abs() <= 1e-10 * g[i].abs().max(1.0),
                    "{spec}: grad"
                );
            }
            for j in 0..k {
                let h = 1e-5 * params[j].abs().max(1e-2);
                let (mut up, mut down) = (params.to_vec(), params.to_vec());
                up[j] += h;
                down[j] -= h;
                let (mut gu, mut gd) = (vec![0.0; k], vec![0.0; k]);
                lik.value_and_gradient(&up, &mut gu, None);
                lik.value_and_gradient(&down, &mut gd, None);
                for i in 0..k {
                    let fd = (gu[i] - gd[i]) / (2.0 * h);
                    let an = so.hess[i * k + j];
                    let scale = (so.hess[i * k + i] * so.hess[j * k + j]).abs().sqrt();
                    assert!(
                        (fd - an).abs() <= 1e-6 * scale,
                        "{spec}: H[{i}][{j}] analytic {an} vs differences {fd}"
                    );
                    assert_eq!(
                        an.to_bits(),
                        so.hess[j * k + i].to_bits(),
                        "{spec}: symmetry"
                    );
                }
            }
            // The score moments: their sum is the gradient, the outer sum is positive.
            let m = so.scores.expect("asked for scores");
            for i in 0..k {
                assert!(
                    (m.sum[i] - g[i]).abs() <= 1e-8 * g[i].abs().max(1.0),
                    "{spec}: Σg_t"
                );
                assert!(m.outer[i * k + i] > 0.0);
            }
        }
    }

    /// The adjoint pass against the forward recursions of `pass_bounded`, where no variance
    /// is bounded: the same value, gradient, Hessian and score moments up to rounding, and
    /// the same conditional variances bit for bit.
    #[test]
    fn adjoint_pass_matches_the_forward_recursions() {
        let y = series(1003);
        let cases = cases();
        fn both<const N: usize, const MU: bool, const GAMMA: bool, D: SecondOrderDensity>(
            lik: &Likelihood<'_>,
            params: &[f64],
            density: D,
        ) -> (SecondOrder, SecondOrder) {
            let fast = lik
                .pass::<N, MU, GAMMA, D, true>(params, density)
                .expect("inside the bounds");
            let forward = lik
                .pass_bounded::<N, MU, GAMMA, D, true>(params, density)
                .expect("inside the bounds");
            (fast, forward)
        }
        for (mean, vol, dist, params) in cases {
            let spec = ModelSpec::new(mean, vol, dist);
            let e0 = crate::fit::starting_resids(&spec, &y);
            let lik = Likelihood::new(spec, &y, &e0);
            let t = match dist {
                Distribution::StudentT => {
                    let nu = params[params.len() - 1];
                    Some(StudentT::new(nu).second_order())
                }
                Distribution::Normal => None,
            };
            let (fast, forward) = match (params.len(), mean == MeanModel::Constant, t) {
                (4, true, None) => both::<4, true, false, _>(&lik, params, Normal),
                (3, false, None) => both::<3, false, false, _>(&lik, params, Normal),
                (5, true, None) => both::<5, true, true, _>(&lik, params, Normal),
                (5, true, Some(t)) => both::<5, true, false, _>(&lik, params, t),
                (6, true, Some(t)) => both::<6, true, true, _>(&lik, params, t),
                (5, false, Some(t)) => both::<5, false, true, _>(&lik, params, t),
                _ => unreachable!(),
            };
            let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-12 * scale;
            assert!(
                close(fast.ll, forward.ll, forward.ll.abs()),
                "{spec}: value"
            );
            let k = params.len();
            for i in 0..k {
                let gi = forward.grad[i].abs().max(1.0);
                assert!(close(fast.grad[i], forward.grad[i], gi), "{spec}: grad {i}");
                let (fs, bs) = (
                    fast.scores.as_ref().unwrap(),
                    forward.scores.as_ref().unwrap(),
                );
                assert!(close(fs.sum[i], bs.sum[i], gi), "{spec}: Σg {i}");
                for j in 0..k {
                    let scale = (forward.hess[i * k + i] * forward.hess[j * k + j])
                        .abs()
                        .sqrt();
                    let (a, b) = (fast.hess[i * k + j], forward.hess[i * k + j]);
                    assert!(close(a, b, scale), "{spec}: H[{i}][{j}] {a} vs {b}");
                    let scale = (bs.outer[i * k + i] * bs.outer[j * k + j]).sqrt();
                    let (a, b) = (fs.outer[i * k + j], bs.outer[i * k + j]);
                    assert!(close(a, b, scale), "{spec}: Σgg[{i}][{j}] {a} vs {b}");
                }
            }
            assert!(
                fast.sigma2
                    .iter()
                    .zip(&forward.sigma2)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{spec}: σ²"
            );
        }
    }
}
