//! The register-blocked sums of the adjoint pass: every sum is four lanes (`[f64; 4]`, one
//! 256-bit register), lane `l` accumulating the observations `k ≡ l (mod 4)` of a block, and
//! the few rows of an outer product that fit the registers are updated together
//! ([`outer_lanes`]). The lanes are added in a fixed order at the end ([`acc_total`]), so
//! the result is deterministic.

use super::adjoint::{Backward, Weights};
use super::assemble::Totals;
use super::{BLOCK, Block};
use crate::distribution::SecondOrderDensity;

/// Observations per register of the lane sums of
/// [`Likelihood::pass`](crate::likelihood::Likelihood::pass).
pub(super) const LANES: usize = 4;

/// Four lanes of a sum: lane `l` accumulates the observations `k ≡ l (mod 4)` of each block.
type Acc = [f64; LANES];

/// The sum of the lanes, in a fixed order.
fn acc_total(a: &Acc) -> f64 {
    (a[0] + a[1]) + (a[2] + a[3])
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

/// The lane sums of [`Likelihood::pass`](crate::likelihood::Likelihood::pass); only the
/// upper triangles of the `N × N` ones are used.
pub(super) struct Sums<const N: usize> {
    /// Σ ℓ_σ d_i.
    pub(super) grad: [Acc; N],
    /// Σ ℓ_e.
    pub(super) le: Acc,
    /// Σ ℓ_σσ d_i d_j.
    pub(super) h_dd: [[Acc; N]; N],
    pub(super) h_se: [Acc; N],
    pub(super) h_ee: Acc,
    pub(super) ln_rest: Acc,
    pub(super) h_sn: [Acc; N],
    pub(super) h_en: Acc,
    pub(super) h_nn: Acc,
    pub(super) ratio: Acc,
    pub(super) score_sum: [Acc; N],
    pub(super) score_outer: [[Acc; N]; N],
    /// Σ x_t,i B_t (the β row of Σ ℓ_σ D before its factor `c`).
    pub(super) x_b: [Acc; N],
    /// Σ u_t A_t of the μ entries of D.
    pub(super) h_mm: Acc,
    pub(super) h_ma: Acc,
    pub(super) h_mg: Acc,
}

impl<const N: usize> Sums<N> {
    pub(super) fn new() -> Box<Self> {
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

    /// Adds a block's terms that need `d_t`, and the plain sums of the partials (without
    /// `HESS`, those of the value and the gradient only).
    #[inline(never)]
    pub(super) fn forward<
        D: SecondOrderDensity,
        const MU: bool,
        const SCORES: bool,
        const HESS: bool,
    >(
        &mut self,
        blk: &Block<N>,
        w: &mut Weights<N>,
        n_up: usize,
    ) {
        // ν has no σ² derivative: its column is zero and skipped.
        let nv = N - usize::from(D::HAS_NU);
        dot_lanes(&w.s, &blk.d, nv, n_up, &mut self.grad);
        if HESS {
            outer_lanes::<N, 0, 2, true>(&w.ss, &blk.d, nv, n_up, &mut self.h_dd);
            outer_lanes::<N, 2, N, true>(&w.ss, &blk.d, nv, n_up, &mut self.h_dd);
        }
        if MU {
            sum_lanes(&w.e, n_up, &mut self.le);
            if HESS {
                dot_lanes(&w.se, &blk.d, nv, n_up, &mut self.h_se);
                sum_lanes(&w.ee, n_up, &mut self.h_ee);
            }
        }
        if D::HAS_NU {
            sum_lanes(&w.n_rest, n_up, &mut self.ln_rest);
            if HESS {
                dot_lanes(&w.sn, &blk.d, nv, n_up, &mut self.h_sn);
                sum_lanes(&w.en, n_up, &mut self.h_en);
                sum_lanes(&w.nn_rest, n_up, &mut self.h_nn);
            }
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
    pub(super) fn backward<const MU: bool, const GAMMA: bool>(
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
    pub(super) fn totals<D: SecondOrderDensity, const MU: bool, const GAMMA: bool>(
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
