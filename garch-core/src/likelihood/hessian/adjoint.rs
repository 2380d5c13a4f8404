//! The second-order pass where no variance is bounded (the usual case): `σ²_t` and `d_t`
//! forwards by blocks, the terms of `Σ ℓ_σ D` backwards through the adjoint of `D_t`'s
//! linear recursions (see [`Likelihood::pass`]), so `D_t`'s entries are never carried.
//!
//! Here are the pass itself, its serial forward sweep ([`forward_block`]), the per-block
//! density partials it reduces ([`Weights`]) and its backward sweep ([`Backward`],
//! [`backward_recursions`]); the register-blocked sums it adds into are in `lanes`.

use super::assemble::assemble;
use super::lanes::{LANES, Sums};
use super::{BLOCK, Block, SecondOrder};
use crate::distribution::SecondOrderDensity;
use crate::likelihood::Likelihood;
use crate::likelihood::logsum::LogProduct;

impl Likelihood<'_> {
    /// The pass where every variance is inside its bounds (the usual case), for `N`
    /// parameters; `None` as soon as one leaves the bounds' envelope (a band inside every
    /// bound, so the bounds themselves are never computed here), and [`Self::pass_bounded`]
    /// takes over.
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
    /// time, [`backward_recursions`]), and its sums need only `x_t` and `u_t`, which are
    /// functions of `e_{t−1}` and `σ²_{t−1}`. This holds only where no variance is floored (a
    /// floor resets the recursions), hence the fallback.
    ///
    /// The results differ from [`Self::pass_bounded`]'s by rounding only (a test checks it);
    /// `σ²` is bit for bit the same.
    pub(super) fn pass<
        const N: usize,
        const MU: bool,
        const GAMMA: bool,
        D: SecondOrderDensity,
        const SCORES: bool,
        const HESS: bool,
    >(
        &self,
        params: &[f64],
        density: D,
    ) -> Option<SecondOrder> {
        // Not `self.input`: that would compute the per-observation bounds, and this pass checks
        // its variances against the envelope alone.
        let (y, bc) = (self.y, self.backcast);
        let mu = self.layout.mu.map_or(0.0, |m| params[m]);
        let band = self.envelope();
        let v = usize::from(MU);
        let (omega, alpha) = (params[v], params[v + 1]);
        let (gamma, beta) = if GAMMA {
            (params[v + 2], params[v + 3])
        } else {
            (0.0, params[v + 2])
        };
        let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(GAMMA));
        let nv = N - usize::from(D::HAS_NU);

        let mut sums = Sums::<N>::new();
        let mut ln_s2 = LogProduct::new();
        let mut ln_1q = LogProduct::new();
        let mut blk = Block::<N>::new();
        let mut w = Weights::<N>::new();
        // Written block by block in place (copying each block's columns cost a call a block).
        let mut sigma2 = vec![0.0; y.len()];
        // ℓ_σ,t for the backward sweep.
        let mut l_s = vec![0.0; y.len()];
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
        let blocks = y
            .chunks(BLOCK)
            .zip(sigma2.chunks_mut(BLOCK).zip(l_s.chunks_mut(BLOCK)));
        for (b, (y_block, (s2, ls))) in blocks.enumerate() {
            let len = y_block.len().min(BLOCK);
            state = if b == 0 {
                forward_block::<N, MU, GAMMA, true>(
                    &coefs, bc, y_block, band, state, &geometric, s2, &mut blk,
                )
            } else {
                forward_block::<N, MU, GAMMA, false>(
                    &coefs, bc, y_block, band, state, &geometric, s2, &mut blk,
                )
            }?;
            ln_s2.push_all(s2);
            let n_up = len.div_ceil(LANES) * LANES;
            w.fill::<D, MU, HESS>(&blk, s2, ls, n_up, &density);
            if D::HAS_NU {
                ln_1q.push_all(&w.one_plus_q[..len]);
            }
            if len < n_up {
                for i in 0..nv {
                    blk.d[i][len..n_up].fill(0.0);
                }
            }
            sums.forward::<D, MU, SCORES, HESS>(&blk, &mut w, n_up);
        }
        if !HESS {
            // The gradient needs only the forward sums; the backward sweep is the Hessian's.
            let totals = sums.totals::<D, MU, GAMMA>(ln_s2.total(), ln_1q.total(), v, ia, ig, ib);
            return Some(assemble::<N, MU, GAMMA, D, SCORES, HESS>(
                totals, sigma2, &density, ia, ig, ib,
            ));
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
            (a_next, b_next) = backward_recursions(
                &l_s[first..first + len],
                beta,
                &powers,
                b_next,
                &mut rev.a,
                &mut rev.b,
            );
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
        Some(assemble::<N, MU, GAMMA, D, SCORES, HESS>(
            totals, sigma2, &density, ia, ig, ib,
        ))
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
/// t = 0): `σ²_t` into `s2` (the block's part of the pass's output), `e_t` and
/// `d_t = x_t + β·d_{t−1}` into `blk`; `None` where a variance is outside its bounds. Not inlined: on its own, the recursions' state stays in registers
/// (inlined into the pass, it was spilled to the stack every observation).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn forward_block<const N: usize, const MU: bool, const GAMMA: bool, const FIRST: bool>(
    c: &Coefficients,
    bc: f64,
    y_block: &[f64],
    band: [f64; 2],
    state: Recursion,
    geometric: &Geometric,
    s2: &mut [f64],
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
    let len = y_block.len().min(BLOCK).min(s2.len());
    let s2 = &mut s2[..len];
    let [lo, hi] = band;
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
        if raw < lo || raw > hi {
            return None;
        }
        (d_mu, d_al, d_ga, d_be) = (0.0, bc, 0.5 * bc, bc);
        s_prev = raw;
        e_prev = y_block[0] - mu;
        s2[0] = s_prev;
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
        s2[k] = raw;
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
    // The envelope of the bounds, checked after the sweep (element-wise, it vectorises): a
    // variance outside it only makes this pass decline, and the bounded pass takes over.
    let outside = s2
        .iter()
        .fold(false, |out, &raw| out | (raw < lo) | (raw > hi));
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

/// Per-block density partials of [`Likelihood::pass`], column-wise, zero past the block's
/// observations (up to a multiple of [`LANES`]).
pub(super) struct Weights<const N: usize> {
    /// ℓ_σ.
    pub(super) s: [f64; BLOCK],
    /// ℓ_σσ.
    pub(super) ss: [f64; BLOCK],
    /// ℓ_e.
    pub(super) e: [f64; BLOCK],
    /// ℓ_σe.
    pub(super) se: [f64; BLOCK],
    /// ℓ_ee.
    pub(super) ee: [f64; BLOCK],
    /// e²/σ² (normal).
    pub(super) r: [f64; BLOCK],
    /// ∂ℓ/∂ν without `−½ln(1+q)`.
    pub(super) n_rest: [f64; BLOCK],
    pub(super) sn: [f64; BLOCK],
    pub(super) en: [f64; BLOCK],
    pub(super) nn_rest: [f64; BLOCK],
    /// 1 + q (one past the observations).
    pub(super) one_plus_q: [f64; BLOCK],
    /// The per-observation scores.
    pub(super) g: [[f64; BLOCK]; N],
}

impl<const N: usize> Weights<N> {
    pub(super) fn new() -> Self {
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

    /// The partials of the block's observations (residuals in `blk`, variances `s2`), zeros up
    /// to `n_up`; ℓ_σ also into `l_s` (the backward sweep's copy). Without `HESS` only the
    /// first-order partials are stored.
    #[inline(always)]
    pub(super) fn fill<D: SecondOrderDensity, const MU: bool, const HESS: bool>(
        &mut self,
        blk: &Block<N>,
        s2: &[f64],
        l_s: &mut [f64],
        n_up: usize,
        density: &D,
    ) {
        let n = s2.len().min(l_s.len()).min(BLOCK);
        for k in 0..n {
            let p = density.partials(blk.e[k], s2[k]);
            self.s[k] = p.s;
            l_s[k] = p.s;
            if HESS {
                self.ss[k] = p.ss;
            }
            if MU {
                self.e[k] = p.e;
                if HESS {
                    self.se[k] = p.se;
                    self.ee[k] = p.ee;
                }
            }
            if D::HAS_NU {
                self.n_rest[k] = p.n_rest;
                if HESS {
                    self.sn[k] = p.sn;
                    self.en[k] = p.en;
                    self.nn_rest[k] = p.nn_rest;
                }
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
pub(super) struct Backward {
    /// A_t, and A at the next block's first observation.
    pub(super) a: [f64; BLOCK + 1],
    /// B_t.
    pub(super) b: [f64; BLOCK],
    /// e_{t−1}.
    pub(super) ep: [f64; BLOCK],
    /// σ²_{t−1}.
    pub(super) sp: [f64; BLOCK],
}

impl Backward {
    pub(super) fn new() -> Self {
        const Z: [f64; BLOCK] = [0.0; BLOCK];
        Self {
            a: [0.0; BLOCK + 1],
            b: Z,
            ep: Z,
            sp: Z,
        }
    }
}

/// The backward sweep's two recursions over one block, interleaved: `a_k = x_k + β·a_{k+1}`
/// from `a_n` (already in `a[n]`) and `b_k = a_{k+1} + β·b_{k+1}` from `b_n = b_after`, for
/// `n = x.len()`; returns `(a_0, b_0)`. Four steps at a time from `k + 4`,
/// `out_k = (x_k + β·x_{k+1} + β²·x_{k+2} + β³·x_{k+3}) + β⁴·out_{k+4}`: each loop-carried
/// dependence is one multiply-add per four observations, and the two chains, which run one
/// after the other block by block, overlap (run one after the other, they were latency-bound).
/// `powers` are β, β², β³, β⁴. The same operations as two separate sweeps, in the same order
/// for every value.
#[inline(always)]
fn backward_recursions(
    x: &[f64],
    beta: f64,
    powers: &[f64; 4],
    b_after: f64,
    a: &mut [f64],
    b: &mut [f64],
) -> (f64, f64) {
    let n = x.len().min(a.len() - 1).min(b.len());
    let n4 = n / 4 * 4;
    let (mut ca, mut cb) = (a[n], b_after);
    for k in (n4..n).rev() {
        ca = x[k] + beta * ca;
        a[k] = ca;
        cb = a[k + 1] + beta * cb;
        b[k] = cb;
    }
    for k in (0..n4).step_by(4).rev() {
        let s3 = x[k + 3];
        let s2 = x[k + 2] + beta * s3;
        let s1 = x[k + 1] + beta * s2;
        let s0 = x[k] + beta * s1;
        // b's inputs a_{k+1..k+4}: a_{k+4} is the previous step's (or a[n]).
        let a4 = ca;
        let (a3, a2, a1) = (
            s3 + powers[0] * ca,
            s2 + powers[1] * ca,
            s1 + powers[2] * ca,
        );
        ca = s0 + powers[3] * ca;
        (a[k + 3], a[k + 2], a[k + 1], a[k]) = (a3, a2, a1, ca);
        let t3 = a4;
        let t2 = a3 + beta * t3;
        let t1 = a2 + beta * t2;
        let t0 = a1 + beta * t1;
        b[k + 3] = t3 + powers[0] * cb;
        b[k + 2] = t2 + powers[1] * cb;
        b[k + 1] = t1 + powers[2] * cb;
        cb = t0 + powers[3] * cb;
        b[k] = cb;
    }
    (ca, cb)
}
