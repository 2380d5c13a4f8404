//! Conditional-variance recursions with their parameter derivatives, and the two fixed inputs
//! `arch` derives from the starting residuals: the backcast and the variance bounds.
//!
//! Both recursions propagate `∂σ²_t/∂θ` alongside `σ²_t` (the recursive analytic gradient of
//! Fiorentini, Calzolari and Panattoni 1996), so one pass over the data yields the
//! log-likelihood, its gradient and, when asked, every observation's score. EGARCH also has a
//! value-only pass at several parameter points at once, for the finite-difference Hessian and
//! the starting grid.

/// `√(2/π) = E|z|` for a standard normal `z`; `arch` uses it in EGARCH whatever the distribution.
pub(crate) const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

/// `ln(f64::MAX)`: `arch`'s compiled EGARCH recursion caps `ln σ²` here (recursions.pyx).
const LN_SIGMA2_MAX: f64 = 709.782_712_893_384;

/// Decay of the backcast and variance-bound EWMA (RiskMetrics' 0.94, as `arch`).
const EWMA_DECAY: f64 = 0.94;
/// Observations in the backcast window.
pub(crate) const BACKCAST_WINDOW: usize = 75;

/// `arch`'s backcast: `Σ w_j e_j²` over the first `min(75, T)` residuals with weights
/// `0.94^j / Σ 0.94^j` (`volatility.py`, `GARCH.backcast`). EGARCH uses its logarithm.
pub(crate) fn backcast(resids: &[f64]) -> f64 {
    let tau = resids.len().min(BACKCAST_WINDOW);
    let mut w = 1.0;
    let (mut num, mut den) = (0.0, 0.0);
    for &e in &resids[..tau] {
        num += w * e * e;
        den += w;
        w *= EWMA_DECAY;
    }
    num / den
}

/// `arch`'s per-observation variance bounds (`VolatilityProcess.variance_bounds`): an EWMA of the
/// squared residuals scaled by 1e∓6, floored at `var(e)/1e8`, the upper bound clipped to
/// `[1 + max e², 1e7·(1 + max e²)]`. They keep the likelihood finite far from the optimum.
pub(crate) fn variance_bounds(resids: &[f64]) -> Vec<[f64; 2]> {
    variance_bounds_prefix(resids, resids.len())
}

/// The first `len` of [`variance_bounds`]`(resids)`, bit for bit, without computing the rest:
/// the floor and the cap still come from all of `resids`, the EWMA stops at `len`. A rolling
/// forecast needs the bounds of a short stretch under arch's floor and cap of the whole rest
/// of the series.
pub(crate) fn variance_bounds_prefix(resids: &[f64], len: usize) -> Vec<[f64; 2]> {
    let n = resids.len();
    let BoundLimits {
        lower_floor,
        min_upper,
        max_upper,
    } = BoundLimits::of(resids);
    // `ewma_recursion` runs `garch_recursion` with ω = 0, α = 1 − 0.94, β = 0.94 from the
    // backcast; the operation order is kept so the bounds match `arch` to the last bit. The
    // serial recursion first, then the bounds element-wise (their divisions vectorise).
    let (a, b) = (1.0 - EWMA_DECAY, EWMA_DECAY);
    let bc = backcast(resids);
    // Written by index into a buffer (pushing, the possible reallocation call in the loop made
    // the compiler keep `v` on the stack).
    let mut ewma = vec![0.0; len.min(n)];
    let mut v = 0.0;
    for (t, out) in ewma.iter_mut().enumerate() {
        let (e2_prev, v_prev) = if t == 0 {
            (bc, bc)
        } else {
            (resids[t - 1] * resids[t - 1], v)
        };
        v = 0.0 + a * e2_prev + b * v_prev;
        *out = v;
    }
    ewma.iter()
        .map(|&v| {
            [
                (v / 1e6).max(lower_floor),
                (v * 1e6).max(min_upper).min(max_upper),
            ]
        })
        .collect()
}

/// The parts of [`variance_bounds`] that come from all of the residuals at once.
struct BoundLimits {
    /// `var(e)/1e8`: the floor of every lower bound.
    lower_floor: f64,
    /// `1 + max e²`: the floor of every upper bound.
    min_upper: f64,
    /// `1e7·(1 + max e²)`: the cap of every upper bound.
    max_upper: f64,
}

impl BoundLimits {
    fn of(resids: &[f64]) -> Self {
        let n = resids.len();
        // The mean, the variance and the largest square in eight lanes each (a single running
        // sum or maximum waits on its previous value every element). numpy's `var` sums
        // pairwise, so neither order is `arch`'s to the bit; the maximum is exact in any order.
        // The sum and the largest square in one pass (the sum in `lane_sum`'s order).
        let (sum, max_e2) = {
            let (mut acc, mut m) = ([0.0; 8], [0.0f64; 8]);
            let mut chunks = resids.chunks_exact(8);
            for c in &mut chunks {
                for l in 0..8 {
                    acc[l] += c[l];
                    // `f64::max` as a select (one `maxpd`; `max`'s NaN handling costs two
                    // more instructions, and a NaN square is ignored by both).
                    let e2 = c[l] * c[l];
                    m[l] = if e2 > m[l] { e2 } else { m[l] };
                }
            }
            let lanes =
                ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            let rest = chunks.remainder();
            (
                rest.iter().fold(lanes, |s, &e| s + e),
                rest.iter()
                    .fold(m.iter().fold(0.0f64, |a, &b| a.max(b)), |a, e| a.max(e * e)),
            )
        };
        let mean = sum / n as f64;
        let var = lane_sum(resids, |e| (e - mean) * (e - mean)) / n as f64;
        Self {
            lower_floor: var / 1e8,
            min_upper: 1.0 + max_e2,
            max_upper: 1e7 * (1.0 + max_e2),
        }
    }
}

/// A band `[lower, upper]` inside every one of [`variance_bounds`]`(resids)`, without the
/// serial EWMA: a variance path that stays in it is one that no bound touched, so it is the
/// bounded path bit for bit. See [`envelope_of`].
pub(crate) fn bounds_envelope(resids: &[f64]) -> [f64; 2] {
    envelope_of(backcast(resids), max_square(resids))
}

/// `max x²` in eight lanes (one running maximum would wait on the previous one every element),
/// each a select (`f64::max`'s NaN handling costs two more instructions; inputs are finite).
fn max_square(x: &[f64]) -> f64 {
    max_square_about(x, 0.0)
}

/// `max (x − c)²`, as [`max_square`] (which is this at `c = 0`, bit for bit).
pub(crate) fn max_square_about(x: &[f64], c: f64) -> f64 {
    let mut m = [0.0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for ch in &mut chunks {
        for l in 0..8 {
            let d = ch[l] - c;
            let sq = d * d;
            m[l] = if sq > m[l] { sq } else { m[l] };
        }
    }
    let lanes = m.iter().fold(0.0f64, |a, &b| a.max(b));
    chunks
        .remainder()
        .iter()
        .fold(lanes, |a, e| a.max((e - c) * (e - c)))
}

/// [`bounds_envelope`] from the backcast and the largest squared residual alone. Every upper
/// bound is at least `1 + max e²` (the floor it is given). Every lower bound is
/// `max(v_t/1e6, var/1e8)` with `v_t` the EWMA, a convex combination of the backcast and
/// earlier squares, hence at most their maximum (the factor `1 + 1e-9` covers the rounding of
/// thousands of EWMA steps, each within a few ulps); and `var ≤ mean(e²) ≤ max e²`, so the
/// floor `var/1e8` is a hundredth of that at most and never the larger.
pub(crate) fn envelope_of(backcast: f64, max_e2: f64) -> [f64; 2] {
    let ewma_max = backcast.max(max_e2) * (1.0 + 1e-9);
    [ewma_max / 1e6, 1.0 + max_e2]
}

/// `Σ f(x_i)` in eight lanes (`i mod 8`), added in a fixed order: eight independent running
/// sums instead of one that waits on its previous value every element (numpy's own sums are
/// pairwise, so no order is `arch`'s to the bit).
pub(crate) fn lane_sum(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    let lanes = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    chunks.remainder().iter().fold(lanes, |s, &e| s + f(e))
}

/// Applies `arch`'s `bounds_check` to a raw variance: below the lower bound it is floored
/// (derivative zero), above the upper bound it grows only logarithmically.
/// Returns the bounded value and the factor by which derivatives are multiplied.
#[inline(always)]
pub(crate) fn bound(raw: f64, b: [f64; 2]) -> (f64, f64) {
    if raw < b[0] {
        (b[0], 0.0)
    } else if raw > b[1] {
        if raw.is_infinite() {
            (b[1] + 1000.0, 0.0)
        } else {
            (b[1] + (raw / b[1]).ln(), 1.0 / raw)
        }
    } else {
        (raw, 1.0)
    }
}

/// Receives each observation's residual, variance and their parameter derivatives.
///
/// `de` is the derivative of the residual with respect to μ (−1 with a constant mean, absent
/// otherwise); `ds2` the gradient of `σ²_t` with respect to the full parameter vector.
pub(crate) trait VarianceSink {
    /// Whether the recursion must compute derivatives at all.
    const DERIVATIVES: bool;
    /// One observation.
    fn observe(&mut self, t: usize, e: f64, s2: f64, ds2: &[f64]);
}

/// The residual derivatives of a regression mean (the AR(p) mean): the parameters
/// `0..k` are its coefficients and `∂ε_t/∂b_j = −x[t·k + j]`.
#[derive(Clone, Copy)]
pub(crate) struct Regressors<'a> {
    /// Row-major `T × k` regressors, one row per observation of the recursion.
    pub x: &'a [f64],
    /// Number of regressors (mean parameters).
    pub k: usize,
}

impl<'a> Regressors<'a> {
    /// The regressors of observation `t`.
    #[inline(always)]
    pub fn row(&self, t: usize) -> &'a [f64] {
        &self.x[t * self.k..(t + 1) * self.k]
    }
}

/// Inputs shared by both recursions.
#[derive(Clone, Copy)]
pub(crate) struct RecursionInput<'a> {
    /// Returns (for a regression mean: its residuals, with `mu` = 0).
    pub y: &'a [f64],
    /// μ (0 for a zero mean).
    pub mu: f64,
    /// Index of μ in the parameter vector, if estimated.
    pub mu_index: Option<usize>,
    /// Index of ω in the parameter vector.
    pub vol_index: usize,
    /// Length of the parameter vector.
    pub n_params: usize,
    /// Backcast (for EGARCH, of `ln σ²`).
    pub backcast: f64,
    /// Per-observation variance bounds.
    pub bounds: &'a [[f64; 2]],
    /// A regression mean's residual derivatives (`y` then holds the residuals). Only the
    /// general recursions ([`garch_recursion`], [`egarch_recursion`]) take one.
    pub regressors: Option<Regressors<'a>>,
}

/// GARCH(p, o, q)/GJR recursion (`arch`'s `garch_recursion` with power 2): before the sample,
/// `ε²` and `σ²` are the backcast and `ε²·1[ε<0]` is half of it.
pub(crate) fn garch_recursion<S: VarianceSink>(
    input: &RecursionInput<'_>,
    (p, o, q): (usize, usize, usize),
    vol: &[f64],
    sigma2: &mut [f64],
    sink: &mut S,
) {
    let RecursionInput {
        y,
        mu,
        mu_index,
        vol_index: v,
        n_params: n,
        backcast: bc,
        bounds,
        regressors,
    } = *input;
    let omega = vol[0];
    let (alpha, rest) = vol[1..].split_at(p);
    let (gamma, beta) = rest.split_at(o);
    // Ring buffer of the last q derivative vectors (row t % q), plus the current one.
    let ring_rows = q.max(1);
    let mut ring = if S::DERIVATIVES {
        vec![0.0; ring_rows * n]
    } else {
        Vec::new()
    };
    let mut d = if S::DERIVATIVES {
        vec![0.0; n]
    } else {
        Vec::new()
    };
    for t in 0..y.len() {
        let mut raw = omega;
        if S::DERIVATIVES {
            d.fill(0.0);
            d[v] = 1.0;
        }
        for (i, &a) in alpha.iter().enumerate() {
            let lag = i + 1;
            if t >= lag {
                let e = y[t - lag] - mu;
                // α·(e²), as arch multiplies its squared residuals.
                raw += a * (e * e);
                if S::DERIVATIVES {
                    d[v + 1 + i] += e * e;
                    if let Some(m) = mu_index {
                        d[m] -= 2.0 * a * e;
                    }
                    if let Some(r) = regressors {
                        for (dj, xj) in d.iter_mut().zip(r.row(t - lag)) {
                            *dj -= 2.0 * a * e * xj;
                        }
                    }
                }
            } else {
                raw += a * bc;
                if S::DERIVATIVES {
                    d[v + 1 + i] += bc;
                }
            }
        }
        for (j, &g) in gamma.iter().enumerate() {
            let lag = j + 1;
            if t >= lag {
                let e = y[t - lag] - mu;
                if e < 0.0 {
                    raw += g * (e * e);
                    if S::DERIVATIVES {
                        d[v + 1 + p + j] += e * e;
                        if let Some(m) = mu_index {
                            d[m] -= 2.0 * g * e;
                        }
                        if let Some(r) = regressors {
                            for (dj, xj) in d.iter_mut().zip(r.row(t - lag)) {
                                *dj -= 2.0 * g * e * xj;
                            }
                        }
                    }
                }
            } else {
                raw += g * 0.5 * bc;
                if S::DERIVATIVES {
                    d[v + 1 + p + j] += 0.5 * bc;
                }
            }
        }
        for (k, &b) in beta.iter().enumerate() {
            let lag = k + 1;
            if t >= lag {
                raw += b * sigma2[t - lag];
                if S::DERIVATIVES {
                    d[v + 1 + p + o + k] += sigma2[t - lag];
                    let row = &ring[((t - lag) % ring_rows) * n..][..n];
                    for (di, ri) in d.iter_mut().zip(row) {
                        *di += b * ri;
                    }
                }
            } else {
                raw += b * bc;
                if S::DERIVATIVES {
                    d[v + 1 + p + o + k] += bc;
                }
            }
        }
        let (s2, scale) = bound(raw, bounds[t]);
        sigma2[t] = s2;
        if S::DERIVATIVES {
            if scale != 1.0 {
                d.iter_mut().for_each(|x| *x *= scale);
            }
            ring[(t % ring_rows) * n..][..n].copy_from_slice(&d);
        }
        sink.observe(t, y[t] - mu, s2, &d);
    }
}

/// The GARCH(1,1)/GJR(1,1,1) special case of [`garch_recursion`] with the derivative vector on
/// the stack (`N` = number of parameters). Same operations in the same order, hence the same
/// bits; about three times faster, which is what most fits use. Whether μ is estimated (`MU`:
/// then it is parameter 0) and whether there is a γ (`GAMMA`) are compile-time constants, so
/// every index into the derivative vector is one and the vector lives in registers (with
/// run-time indices it went through memory, and reading it back as a vector after scalar
/// stores to it stalled every observation).
pub(crate) fn garch11_recursion<
    const N: usize,
    const MU: bool,
    const GAMMA: bool,
    S: VarianceSink,
>(
    input: &RecursionInput<'_>,
    vol: &[f64],
    sigma2: &mut [f64],
    sink: &mut S,
) {
    let RecursionInput {
        y,
        mu,
        mu_index,
        vol_index: v,
        n_params,
        backcast: bc,
        bounds,
        regressors,
    } = *input;
    debug_assert_eq!(n_params, N);
    debug_assert!(
        regressors.is_none(),
        "regression means take garch_recursion"
    );
    debug_assert_eq!(mu_index, MU.then_some(0));
    debug_assert_eq!(v, usize::from(MU));
    let has_gamma = GAMMA;
    let v = usize::from(MU);
    let (omega, alpha) = (vol[0], vol[1]);
    let (gamma, beta) = if has_gamma {
        (vol[2], vol[3])
    } else {
        (0.0, vol[2])
    };
    let (ia, ig, ib) = (v + 1, v + 2, v + 2 + usize::from(has_gamma));
    let mut d_prev = [0.0; N];
    let mut s2_prev = bc;
    for t in 0..y.len() {
        let mut d = [0.0; N];
        let mut raw = omega;
        if S::DERIVATIVES {
            d[v] = 1.0;
        }
        if t == 0 {
            raw += alpha * bc;
            if has_gamma {
                raw += gamma * 0.5 * bc;
            }
            raw += beta * bc;
            if S::DERIVATIVES {
                d[ia] += bc;
                if has_gamma {
                    d[ig] += 0.5 * bc;
                }
                d[ib] += bc;
            }
        } else {
            let e = y[t - 1] - mu;
            let e2 = e * e;
            raw += alpha * e2;
            if S::DERIVATIVES {
                d[ia] += e2;
                if MU {
                    d[0] -= 2.0 * alpha * e;
                }
            }
            if has_gamma && e < 0.0 {
                raw += gamma * e2;
                if S::DERIVATIVES {
                    d[ig] += e2;
                    if MU {
                        d[0] -= 2.0 * gamma * e;
                    }
                }
            }
            raw += beta * s2_prev;
            if S::DERIVATIVES {
                d[ib] += s2_prev;
                for (di, pi) in d.iter_mut().zip(&d_prev) {
                    *di += beta * pi;
                }
            }
        }
        let (s2, scale) = bound(raw, bounds[t]);
        sigma2[t] = s2;
        if S::DERIVATIVES && scale != 1.0 {
            d.iter_mut().for_each(|x| *x *= scale);
        }
        sink.observe(t, y[t] - mu, s2, &d);
        d_prev = d;
        s2_prev = s2;
    }
}

/// EGARCH(1,1,1) recursion (`arch`'s `egarch_recursion`, recursions.pyx): at t = 0 only
/// `ω + β·backcast` (the backcast being of `ln σ²`); `ln σ²` is capped at `ln(f64::MAX)`; the
/// variance bounds apply to `σ²` and feed back into `ln σ²`.
///
/// The derivative state lives in `[f64; N]` arrays (`N` = number of parameters, 4 to 6) and
/// `MU` says whether μ is estimated (then it is parameter 0 and ω parameter 1), so every index
/// is a compile-time constant and the state stays in registers. The test module keeps a
/// straightforward slice-based transcription, against which this is checked bit for bit.
pub(crate) fn egarch111_recursion<const N: usize, const MU: bool, S: VarianceSink>(
    input: &RecursionInput<'_>,
    vol: &[f64],
    sigma2: &mut [f64],
    sink: &mut S,
) {
    let RecursionInput {
        y,
        mu,
        mu_index,
        vol_index,
        n_params,
        backcast: bc,
        bounds,
        regressors,
    } = *input;
    debug_assert!(
        regressors.is_none(),
        "regression means take egarch_recursion"
    );
    const {
        assert!(
            N >= 4 + MU as usize,
            "EGARCH has 4 variance parameters after μ"
        )
    };
    debug_assert_eq!(n_params, N);
    debug_assert_eq!(mu_index, MU.then_some(0));
    debug_assert_eq!(vol_index, usize::from(MU));
    assert!(y.len() == sigma2.len() && y.len() == bounds.len());
    let Some((&y0, y_rest)) = y.split_first() else {
        return;
    };
    let mut state = Egarch111::<N, MU> {
        omega: vol[0],
        alpha: vol[1],
        gamma: vol[2],
        beta: vol[3],
        mu,
        h_prev: bc,
        z_prev: 0.0,
        dh: [0.0; N],
        dz: [0.0; N],
    };
    sigma2[0] = state.step::<true, S>(0, y0, bounds[0], sink);
    for (t, ((&yt, &b), s2)) in y_rest
        .iter()
        .zip(&bounds[1..])
        .zip(&mut sigma2[1..])
        .enumerate()
    {
        *s2 = state.step::<false, S>(t + 1, yt, b, sink);
    }
}

/// [`egarch111_recursion`] without derivatives at `L` parameter points at once (μ and the
/// variance parameters per lane; data, backcast and bounds shared), the recursions
/// interleaved observation by observation. One recursion is latency-bound (`ln σ²` → exp →
/// √ → ÷ → `z` → next `ln σ²`); independent lanes fill the idle issue slots. Each lane runs
/// exactly the operations of a single pass, so its sink sees the same bits. The variances
/// are not stored.
pub(crate) fn egarch111_values<const N: usize, const MU: bool, const L: usize, S: VarianceSink>(
    input: &RecursionInput<'_>,
    mu: [f64; L],
    vol: [&[f64]; L],
    sinks: &mut [S; L],
) {
    const { assert!(!S::DERIVATIVES, "value passes only") };
    let RecursionInput {
        y,
        backcast: bc,
        bounds,
        ..
    } = *input;
    assert_eq!(y.len(), bounds.len());
    let Some((&y0, y_rest)) = y.split_first() else {
        return;
    };
    let mut states: [Egarch111<N, MU>; L] = std::array::from_fn(|l| Egarch111 {
        omega: vol[l][0],
        alpha: vol[l][1],
        gamma: vol[l][2],
        beta: vol[l][3],
        mu: mu[l],
        h_prev: bc,
        z_prev: 0.0,
        dh: [0.0; N],
        dz: [0.0; N],
    });
    for (state, sink) in states.iter_mut().zip(sinks.iter_mut()) {
        state.step::<true, S>(0, y0, bounds[0], sink);
    }
    for (t, (&yt, &b)) in y_rest.iter().zip(&bounds[1..]).enumerate() {
        for (state, sink) in states.iter_mut().zip(sinks.iter_mut()) {
            state.step::<false, S>(t + 1, yt, b, sink);
        }
    }
}

/// State of [`egarch111_recursion`] between observations.
struct Egarch111<const N: usize, const MU: bool> {
    omega: f64,
    alpha: f64,
    gamma: f64,
    beta: f64,
    mu: f64,
    /// `ln σ²_{t−1}` (the backcast before the sample).
    h_prev: f64,
    /// `z_{t−1}` (unused before the sample).
    z_prev: f64,
    /// `∂ln σ²_{t−1}/∂θ`.
    dh: [f64; N],
    /// `∂z_{t−1}/∂θ`.
    dz: [f64; N],
}

impl<const N: usize, const MU: bool> Egarch111<N, MU> {
    /// Index of ω.
    const V: usize = MU as usize;

    /// One observation (`FIRST`: t = 0, before which there is no `z`); returns `σ²_t`.
    #[inline(always)]
    fn step<const FIRST: bool, S: VarianceSink>(
        &mut self,
        t: usize,
        y: f64,
        b: [f64; 2],
        sink: &mut S,
    ) -> f64 {
        let (alpha, gamma, beta) = (self.alpha, self.gamma, self.beta);
        let (h_prev, z_prev) = (self.h_prev, self.z_prev);
        let v = Self::V;
        let mut h = self.omega + beta * h_prev;
        if !FIRST {
            h += alpha * (z_prev.abs() - SQRT_2_OVER_PI) + gamma * z_prev;
        }
        let dh = &mut self.dh;
        if S::DERIVATIVES {
            // dh_t = e_ω + β·dh_{t−1} + e_β·h_{t−1} [+ α·sign(z)·dz + γ·dz + e_α(|z|−c) + e_γ z]
            let sign = if z_prev > 0.0 {
                1.0
            } else if z_prev < 0.0 {
                -1.0
            } else {
                0.0
            };
            let dz_coef = if FIRST { 0.0 } else { alpha * sign + gamma };
            for (d, dz) in dh.iter_mut().zip(&self.dz) {
                *d = beta * *d + dz_coef * dz;
            }
            dh[v] += 1.0;
            dh[v + 3] += h_prev;
            if !FIRST {
                dh[v + 1] += z_prev.abs() - SQRT_2_OVER_PI;
                dh[v + 2] += z_prev;
            }
        }
        let mut scale = 1.0;
        if h > LN_SIGMA2_MAX {
            h = LN_SIGMA2_MAX;
            scale = 0.0;
        }
        let mut s2 = h.exp();
        if s2 < b[0] {
            s2 = b[0];
            h = s2.ln();
            scale = 0.0;
        } else if s2 > b[1] {
            // σ² = u + ln σ²_raw − ln u = u + h_raw − ln u, so d ln σ² = dh_raw / σ².
            s2 = b[1] + h - b[1].ln();
            h = s2.ln();
            scale /= s2;
        }
        let e = y - self.mu;
        let sd = s2.sqrt();
        let z = e / sd;
        let mut ds2 = [0.0; N];
        if S::DERIVATIVES {
            if scale != 1.0 {
                dh.iter_mut().for_each(|x| *x *= scale);
            }
            // z = e·exp(−h/2): dz = de·exp(−h/2) − z/2·dh.
            for ((dz, ds), d) in self.dz.iter_mut().zip(&mut ds2).zip(dh.iter()) {
                *dz = -0.5 * z * d;
                *ds = s2 * d;
            }
            if MU {
                self.dz[0] -= 1.0 / sd;
            }
        }
        sink.observe(t, e, s2, &ds2);
        self.h_prev = h;
        self.z_prev = z;
        s2
    }
}

/// EGARCH(1,1,1) with the derivative vectors on the heap and runtime indices: a direct
/// transcription of `arch`'s `egarch_recursion`. It serves the regression (AR) means, which
/// the fast [`egarch111_recursion`] does not take, and is the reference the fast kernel is
/// checked against bit for bit.
pub(crate) fn egarch_recursion<S: VarianceSink>(
    input: &RecursionInput<'_>,
    vol: &[f64],
    sigma2: &mut [f64],
    sink: &mut S,
) {
    let RecursionInput {
        y,
        mu,
        mu_index,
        vol_index: v,
        n_params: n,
        backcast: bc,
        bounds,
        regressors,
    } = *input;
    let (omega, alpha, gamma, beta) = (vol[0], vol[1], vol[2], vol[3]);
    // Derivatives of ln σ²_{t-1} (dh) and of z_{t-1} (dz); current d ln σ²_t (dh_new).
    let mut dh = if S::DERIVATIVES {
        vec![0.0; n]
    } else {
        Vec::new()
    };
    let mut dz = dh.clone();
    let mut ds2 = dh.clone();
    let (mut h_prev, mut z_prev) = (bc, 0.0f64);
    for t in 0..y.len() {
        let mut h = omega + beta * h_prev;
        if t > 0 {
            h += alpha * (z_prev.abs() - SQRT_2_OVER_PI) + gamma * z_prev;
        }
        if S::DERIVATIVES {
            // dh_t = e_ω + β·dh_{t−1} + e_β·h_{t−1} [+ α·sign(z)·dz + γ·dz + e_α(|z|−c) + e_γ z]
            let sign = if z_prev > 0.0 {
                1.0
            } else if z_prev < 0.0 {
                -1.0
            } else {
                0.0
            };
            let dz_coef = if t > 0 { alpha * sign + gamma } else { 0.0 };
            for i in 0..n {
                dh[i] = beta * dh[i] + dz_coef * dz[i];
            }
            dh[v] += 1.0;
            dh[v + 3] += h_prev;
            if t > 0 {
                dh[v + 1] += z_prev.abs() - SQRT_2_OVER_PI;
                dh[v + 2] += z_prev;
            }
        }
        let mut scale = 1.0;
        if h > LN_SIGMA2_MAX {
            h = LN_SIGMA2_MAX;
            scale = 0.0;
        }
        let mut s2 = h.exp();
        let b = bounds[t];
        if s2 < b[0] {
            s2 = b[0];
            h = s2.ln();
            scale = 0.0;
        } else if s2 > b[1] {
            // σ² = u + ln σ²_raw − ln u = u + h_raw − ln u, so d ln σ² = dh_raw / σ².
            s2 = b[1] + h - b[1].ln();
            h = s2.ln();
            scale /= s2;
        }
        sigma2[t] = s2;
        let e = y[t] - mu;
        let sd = s2.sqrt();
        let z = e / sd;
        if S::DERIVATIVES {
            if scale != 1.0 {
                dh.iter_mut().for_each(|x| *x *= scale);
            }
            // z = e·exp(−h/2): dz = de·exp(−h/2) − z/2·dh.
            for i in 0..n {
                dz[i] = -0.5 * z * dh[i];
                ds2[i] = s2 * dh[i];
            }
            if let Some(m) = mu_index {
                dz[m] -= 1.0 / sd;
            }
            if let Some(r) = regressors {
                for (dzj, xj) in dz.iter_mut().zip(r.row(t)) {
                    *dzj -= xj / sd;
                }
            }
        }
        sink.observe(t, e, s2, &ds2);
        h_prev = h;
        z_prev = z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope lies inside every bound, whatever the residuals: long and short, tiny
    /// and huge, outliers at the start (in the backcast) or the end.
    #[test]
    fn the_envelope_lies_inside_every_bound() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for case in 0..400 {
            let n = rng.random_range(1..3000);
            let scale = 10f64.powi(rng.random_range(-6..6));
            let mut e: Vec<f64> = (0..n)
                .map(|_| scale * (rng.random::<f64>() - 0.5))
                .collect();
            if case % 3 == 0 {
                let at = if case % 2 == 0 { 0 } else { n - 1 };
                e[at] *= 1e4;
            }
            if case % 7 == 0 {
                e.iter_mut().take(80).for_each(|x| *x = 0.0);
            }
            if case % 5 == 0 {
                // Far from zero mean: var(e) is small against max e².
                let shift = scale * 40.0;
                e.iter_mut().for_each(|x| *x += shift);
            }
            let [lower, upper] = bounds_envelope(&e);
            assert!(lower <= upper, "case {case}");
            for (t, [lo, hi]) in variance_bounds(&e).into_iter().enumerate() {
                assert!(
                    lo <= lower && hi >= upper,
                    "case {case}, t {t}: {lo} {hi} vs {lower} {upper}"
                );
            }
        }
    }

    #[test]
    fn backcast_weights_sum_to_one() {
        let e = vec![2.0; 300];
        assert!((backcast(&e) - 4.0).abs() < 1e-12);
        // Shorter than the window: all observations are used.
        let e = [1.0, 3.0];
        let expected = (1.0 + 0.94 * 9.0) / 1.94;
        assert!((backcast(&e) - expected).abs() < 1e-12);
    }

    #[test]
    fn bounds_bracket_the_ewma() {
        let e: Vec<f64> = (0..200).map(|i| ((i % 7) as f64 - 3.0) * 0.5).collect();
        for b in variance_bounds(&e) {
            assert!(b[0] > 0.0 && b[0] < b[1]);
        }
        // A prefix is the full computation cut short, bit for bit.
        let full = variance_bounds(&e);
        assert_eq!(variance_bounds_prefix(&e, 77), full[..77]);
        assert_eq!(variance_bounds_prefix(&e, 500), full);
    }

    struct Collect(Vec<f64>);
    impl VarianceSink for Collect {
        const DERIVATIVES: bool = true;
        fn observe(&mut self, _t: usize, e: f64, s2: f64, ds2: &[f64]) {
            self.0.push(e);
            self.0.push(s2);
            self.0.extend_from_slice(ds2);
        }
    }

    #[test]
    fn first_order_kernel_is_bit_identical_to_the_general_one() {
        let y: Vec<f64> = (0..400)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 20.0)
            .collect();
        let bounds = variance_bounds(&y);
        let input = RecursionInput {
            y: &y,
            mu: 0.03,
            mu_index: Some(0),
            vol_index: 1,
            n_params: 5,
            backcast: backcast(&y),
            bounds: &bounds,
            regressors: None,
        };
        let vol = [0.05, 0.04, 0.12, 0.85];
        let (mut s_gen, mut s_fast) = (vec![0.0; 400], vec![0.0; 400]);
        let (mut gen_out, mut fast) = (Collect(Vec::new()), Collect(Vec::new()));
        garch_recursion(&input, (1, 1, 1), &vol, &mut s_gen, &mut gen_out);
        garch11_recursion::<5, true, true, _>(&input, &vol, &mut s_fast, &mut fast);
        let first_diff = gen_out
            .0
            .iter()
            .zip(&fast.0)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(
            first_diff,
            None,
            "at {first_diff:?}: {:?} vs {:?}",
            first_diff.map(|i| &gen_out.0[i.saturating_sub(6)..i + 6]),
            first_diff.map(|i| &fast.0[i.saturating_sub(6)..i + 6])
        );
        assert_eq!(gen_out.0.len(), fast.0.len());
        assert!(
            s_gen
                .iter()
                .zip(&s_fast)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }

    #[test]
    fn egarch_kernel_is_bit_identical_to_the_reference() {
        // Residuals with exact zeros (sign(z) = 0) and both signs; parameter points inside the
        // bounds, below the lower one, above the upper one and past the ln σ² cap.
        let y: Vec<f64> = (0..400)
            .map(|i| match i % 13 {
                0 => 0.0,
                _ => ((i * 37 % 101) as f64 - 50.0) / 20.0,
            })
            .collect();
        let bounds = variance_bounds(&y);
        let bc = backcast(&y).ln();
        let points = [
            [0.02, 0.12, -0.08, 0.95],
            [-0.3, 0.3, 0.2, 0.6],
            [-50.0, 0.1, 0.0, 0.5],
            [30.0, 0.1, -0.1, 0.9],
            [800.0, 0.2, 0.1, 0.2],
            [0.1, -0.2, 0.5, -0.7],
        ];
        fn compare<const N: usize, const MU: bool>(input: &RecursionInput<'_>, vol: &[f64]) {
            let t = input.y.len();
            let (mut s_ref, mut s_fast) = (vec![0.0; t], vec![0.0; t]);
            let (mut ref_out, mut fast) = (Collect(Vec::new()), Collect(Vec::new()));
            egarch_recursion(input, vol, &mut s_ref, &mut ref_out);
            egarch111_recursion::<N, MU, _>(input, vol, &mut s_fast, &mut fast);
            assert_eq!(ref_out.0.len(), fast.0.len());
            let first_diff = ref_out
                .0
                .iter()
                .zip(&fast.0)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(first_diff, None, "N = {N}, MU = {MU}, θ = {vol:?}");
            assert!(
                s_ref
                    .iter()
                    .zip(&s_fast)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
        for vol in &points {
            for (mu_index, n_params) in [(None, 4), (Some(0), 5), (None, 5), (Some(0), 6)] {
                let input = RecursionInput {
                    y: &y,
                    mu: if mu_index.is_some() { 0.03 } else { 0.0 },
                    mu_index,
                    vol_index: usize::from(mu_index.is_some()),
                    n_params,
                    backcast: bc,
                    bounds: &bounds,
                    regressors: None,
                };
                match (n_params, mu_index.is_some()) {
                    (4, false) => compare::<4, false>(&input, vol),
                    (5, true) => compare::<5, true>(&input, vol),
                    (5, false) => compare::<5, false>(&input, vol),
                    _ => compare::<6, true>(&input, vol),
                }
            }
        }
    }

    struct CollectValues(Vec<f64>);
    impl VarianceSink for CollectValues {
        const DERIVATIVES: bool = false;
        fn observe(&mut self, _t: usize, e: f64, s2: f64, _ds2: &[f64]) {
            self.0.push(e);
            self.0.push(s2);
        }
    }

    #[test]
    fn interleaved_egarch_values_are_bit_identical_to_single_passes() {
        let y: Vec<f64> = (0..300)
            .map(|i| ((i * 53 % 97) as f64 - 48.0) / 25.0)
            .collect();
        let bounds = variance_bounds(&y);
        let input = RecursionInput {
            y: &y,
            mu: 0.0,
            mu_index: Some(0),
            vol_index: 1,
            n_params: 6,
            backcast: backcast(&y).ln(),
            bounds: &bounds,
            regressors: None,
        };
        let mu = [0.03, -0.2, 0.0, 1.5];
        let vol: [&[f64]; 4] = [
            &[0.02, 0.12, -0.08, 0.95],
            &[-50.0, 0.1, 0.0, 0.5],
            &[800.0, 0.2, 0.1, 0.2],
            &[30.0, 0.1, -0.1, 0.9],
        ];
        let mut lanes: [CollectValues; 4] = std::array::from_fn(|_| CollectValues(Vec::new()));
        egarch111_values::<6, true, 4, _>(&input, mu, vol, &mut lanes);
        for l in 0..4 {
            let single = RecursionInput { mu: mu[l], ..input };
            let mut sigma2 = vec![0.0; y.len()];
            let mut reference = CollectValues(Vec::new());
            egarch_recursion(&single, vol[l], &mut sigma2, &mut reference);
            assert_eq!(reference.0.len(), lanes[l].0.len());
            assert!(
                reference
                    .0
                    .iter()
                    .zip(&lanes[l].0)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "lane {l}"
            );
        }
    }

    #[test]
    fn bound_check_matches_arch() {
        assert_eq!(bound(0.5, [1.0, 10.0]), (1.0, 0.0));
        assert_eq!(bound(5.0, [1.0, 10.0]), (5.0, 1.0));
        let (v, s) = bound(20.0, [1.0, 10.0]);
        assert!((v - (10.0 + 2f64.ln())).abs() < 1e-15 && (s - 0.05).abs() < 1e-15);
    }
}
