//! The second-order pass with the forward recursions of `D_t`'s non-zero entries: the
//! fallback of the adjoint pass where a variance is floored (a floor resets the recursions,
//! which the adjoint does not handle). Slower, but any variance inside its upper bound works.
//!
//! Its sums are kept per lane of a block ([`Lanes`]), element-wise so that they vectorise to
//! full registers, and added up once at the end in a fixed order.

use super::assemble::{Totals, assemble};
use super::{BLOCK, Block, SecondOrder};
use crate::distribution::SecondOrderDensity;
use crate::likelihood::Likelihood;
use crate::likelihood::logsum::LogSum;
use crate::variance::{RecursionInput, bound};

impl Likelihood<'_> {
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
    pub(super) fn pass_bounded<
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
        let mut rows = SecondRows::<N>::new();
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
                    rows.db[i][k] = db[i];
                }
                rows.dmm[k] = dmm;
                rows.dma[k] = dma;
                rows.dmg[k] = dmg;
                s_prev = s2;
                d_prev = d;
                db_prev = db;
                (dmm_prev, dma_prev, dmg_prev) = (dmm, dma, dmg);
            }
            s2_block.copy_from_slice(&blk.s2[..len]);
            lanes.add::<D, MU, GAMMA, SCORES>(&blk, &rows, len, &density, &mut scratch, &mut logs);
        }
        lanes.total::<D, MU>(&mut totals);
        let [mut ln_s2, mut ln_1q] = logs;
        (totals.ln_s2, totals.ln_1q) = (ln_s2.total(), ln_1q.total());
        Some(assemble::<N, MU, GAMMA, D, SCORES, true>(
            totals, sigma2, &density, ia, ig, ib,
        ))
    }
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
        rows: &SecondRows<N>,
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
                self.h_beta[i][k] += p.s * rows.db[i][k];
                let w = p.ss * di;
                for j in i..nv {
                    self.h_dd[i][j][k] += w * blk.d[j][k];
                }
            }
            if MU {
                self.le[k] += p.e;
                self.h_mm[k] += p.s * rows.dmm[k];
                self.h_ma[k] += p.s * rows.dma[k];
                if GAMMA {
                    self.h_mg[k] += p.s * rows.dmg[k];
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

/// One block's second derivatives of `σ²_t` that this pass carries forwards (the adjoint pass
/// needs none): the β row of `∂²σ²_t/∂θ∂θᵀ` and the μ entries.
struct SecondRows<const N: usize> {
    db: [[f64; BLOCK]; N],
    dmm: [f64; BLOCK],
    dma: [f64; BLOCK],
    dmg: [f64; BLOCK],
}

impl<const N: usize> SecondRows<N> {
    fn new() -> Self {
        Self {
            db: [[0.0; BLOCK]; N],
            dmm: [0.0; BLOCK],
            dma: [0.0; BLOCK],
            dmg: [0.0; BLOCK],
        }
    }
}
