//! The Gaussian log-likelihood of many first-order GARCH/GJR candidates in one sweep: how
//! `arch`'s starting grid (16 points, 64 with a threshold term) is scored.
//!
//! Scoring the points one by one is latency-bound: each pass waits on its own recursion
//! `σ²_t ← σ²_{t−1}`. Here sixteen candidates (the whole GARCH grid) advance together as four
//! 256-bit vectors of four, so their recursions overlap and the per-lane work is branch-free:
//! the bounds are a `max`, the residual's square and sign are computed once for every lane,
//! and `Σ ln σ²` is kept as a running product whose binary exponent is moved into an integer
//! every eight observations (one `ln` per candidate per sweep, not one per observation).
//!
//! `arch`'s variance bounds rarely bind on its own grid, and where it can be shown that they
//! cannot ([`Envelope`], from the band inside every bound) the sweep leaves them out, and they
//! are not even computed: a fifth of its instructions, and a serial pass over the data.
//!
//! The rare lane that crosses its upper bound, or whose product or sum leaves the normal
//! range, is rescored by the scalar kernel, so every score is the likelihood `arch` defines;
//! the others differ from [`Likelihood::value`] by rounding only.

// Index loops over (vector, lane), the layout the registers have.
#![allow(clippy::needless_range_loop)]

#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
mod avx2;

use super::Likelihood;
use super::logsum::{EXPONENT_OF_ONE, MANTISSA};
use crate::distribution::normal::LN_2PI;

/// Lanes per vector (a 256-bit register of the x86-64-v3 build).
const W: usize = 4;
/// Vectors per sweep: with four independent recursions in flight the sweep is bound by its
/// throughput, not by the latency of one recursion.
const VECS: usize = 4;
/// Candidates per sweep.
const LANES: usize = W * VECS;
/// Observations between exponent extractions: four factors `σ²_a·σ²_b` of at most 2^±254 each
/// cannot leave the normal range, and σ² outside 2^±127 sends the lane to the scalar kernel.
const RENORMALISE_EVERY: usize = 8;

/// One quantity per candidate, as `VECS` vectors of `W` lanes.
type Lanes = [[f64; W]; VECS];

impl Likelihood<'_> {
    /// Log-likelihoods of `candidates` = `[ω, α, γ, β]` under a zero-mean, normal GARCH(1,1)
    /// (γ = 0) or GJR(1,1,1) model on this likelihood's series, backcast and bounds; the same
    /// values as [`Likelihood::value`] up to the summation order of `Σ ln σ²`: every `σ²_t` is
    /// bit for bit the scalar pass's.
    pub(crate) fn grid_values(&self, candidates: &[[f64; 4]]) -> Vec<f64> {
        debug_assert!(self.layout.mu.is_none() && self.layout.nu.is_none());
        let threshold = self.layout.len == 4;
        let max_e2 = Envelope::max_square(self);
        let band = Envelope::of_band(self, max_e2);
        let exact = std::cell::OnceCell::new();
        let mut out = Vec::with_capacity(candidates.len());
        for chunk in candidates.chunks(LANES) {
            let mut lanes = [chunk[0]; LANES];
            lanes[..chunk.len()].copy_from_slice(chunk);
            // The band first; only where it cannot tell, the bounds (computed then).
            let unbounded = lanes.iter().all(|c| band.never_binds(c))
                || lanes.iter().all(|c| {
                    exact
                        .get_or_init(|| Envelope::of_bounds(self, max_e2))
                        .never_binds(c)
                });
            let (values, exact) = match (threshold, unbounded) {
                (true, true) => self.sweep::<true, false>(&lanes),
                (true, false) => self.sweep::<true, true>(&lanes),
                (false, true) => self.sweep::<false, false>(&lanes),
                (false, false) => self.sweep::<false, true>(&lanes),
            };
            for (i, c) in chunk.iter().enumerate() {
                out.push(if exact[i] {
                    values[i]
                } else {
                    let params: &[f64] = if threshold { c } else { &[c[0], c[1], c[3]] };
                    self.value(params)
                });
            }
        }
        out
    }

    /// One sweep over the data for `LANES` candidates (`GAMMA`: with the threshold term;
    /// `BOUNDED`: applying the variance bounds, which the caller has shown cannot bind when
    /// not); per lane the log-likelihood and whether it is exact (else the caller rescores it).
    fn sweep<const GAMMA: bool, const BOUNDED: bool>(
        &self,
        lanes: &[[f64; 4]; LANES],
    ) -> ([f64; LANES], [bool; LANES]) {
        let y = self.y;
        // The bounds only where they may bind: computing them is a serial pass of its own.
        let bounds: &[[f64; 2]] = if BOUNDED {
            &self.bounds()[..y.len()]
        } else {
            &[]
        };
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        let acc = avx2::sweep::<GAMMA, BOUNDED>(y, bounds, self.backcast, lanes);
        #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
        let acc = portable_sweep::<GAMMA, BOUNDED>(y, bounds, self.backcast, lanes);
        acc.finish(y.len())
    }
}

/// The sweep's loop in portable form (the AVX2 build runs [`avx2::sweep`], the same operations
/// in registers): the accumulators after `y`, from the backcast `bc`.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "avx2", not(test)),
    allow(dead_code)
)]
fn portable_sweep<const GAMMA: bool, const BOUNDED: bool>(
    y: &[f64],
    bounds: &[[f64; 2]],
    bc: f64,
    lanes: &[[f64; 4]; LANES],
) -> Accumulators {
    let bound = |t: usize| if BOUNDED { bounds[t] } else { [0.0; 2] };
    let coefficient = |k: usize| -> Lanes {
        std::array::from_fn(|v| std::array::from_fn(|l| lanes[v * W + l][k]))
    };
    let recursion = Recursion {
        omega: coefficient(0),
        alpha: coefficient(1),
        gamma: coefficient(2),
        beta: coefficient(3),
    };
    let mut acc = Accumulators::new();
    // Before the sample e² and σ² are the backcast, e²·1[e<0] half of it (`value_into`'s
    // first step, in the same order).
    let mut prev = Shared {
        e2: bc,
        e2_neg: 0.5 * bc,
    };
    let mut s2: Lanes = [[bc; W]; VECS];
    // Two observations per iteration (a fifth fewer instructions than one: the loop's
    // bookkeeping and the lanes' moves between registers are shared).
    for (k, e) in y.chunks_exact(2).enumerate() {
        let first = Shared::of(e[0]);
        let s_a = recursion.step::<GAMMA, BOUNDED>(&prev, &s2, bound(2 * k), &mut acc.overshoot);
        let second = Shared::of(e[1]);
        s2 = recursion.step::<GAMMA, BOUNDED>(&first, &s_a, bound(2 * k + 1), &mut acc.overshoot);
        acc.add_pair([first.e2, second.e2], &s_a, &s2);
        if (k + 1).is_multiple_of(RENORMALISE_EVERY / 2) {
            acc.renormalise();
        }
        prev = second;
    }
    if y.len() % 2 == 1 {
        let t = y.len() - 1;
        s2 = recursion.step::<GAMMA, BOUNDED>(&prev, &s2, bound(t), &mut acc.overshoot);
        acc.add(y[t] * y[t], &s2);
    }
    acc
}

/// What decides whether `arch`'s variance bounds can bind on a candidate: the largest lower
/// bound, the smallest upper bound and the largest square that enters the recursion.
struct Envelope {
    /// At least every lower bound.
    lower: f64,
    /// At most every upper bound.
    upper: f64,
    /// max(backcast, e²_t).
    max_e2: f64,
}

impl Envelope {
    /// From the likelihood's band inside every bound ([`Likelihood::envelope`]): the bounds
    /// themselves (a serial EWMA) are not computed. Enough for `arch`'s GARCH grid; a GJR
    /// candidate whose stationary level exceeds the largest square needs [`Self::of_bounds`].
    fn of_band(lik: &Likelihood<'_>, max_e2: f64) -> Self {
        let [lower, upper] = lik.envelope();
        Self {
            lower,
            upper,
            max_e2,
        }
    }

    /// From the bounds themselves: the largest lower and the smallest upper bound.
    fn of_bounds(lik: &Likelihood<'_>, max_e2: f64) -> Self {
        let smaller = |a: f64, b: f64| if b < a { b } else { a };
        let (mut lo, mut hi) = ([f64::NEG_INFINITY; 8], [f64::INFINITY; 8]);
        let mut bounds = lik.bounds().chunks_exact(8);
        for c in &mut bounds {
            for l in 0..8 {
                lo[l] = larger(lo[l], c[l][0]);
                hi[l] = smaller(hi[l], c[l][1]);
            }
        }
        for (l, b) in bounds.remainder().iter().enumerate() {
            lo[l] = larger(lo[l], b[0]);
            hi[l] = smaller(hi[l], b[1]);
        }
        Self {
            lower: lo.into_iter().fold(f64::NEG_INFINITY, larger),
            upper: hi.into_iter().fold(f64::INFINITY, smaller),
            max_e2,
        }
    }

    /// max(backcast, e²_t) over the likelihood's series.
    fn max_square(lik: &Likelihood<'_>) -> f64 {
        let mut m = [0.0; 8];
        let mut y = lik.y.chunks_exact(8);
        for c in &mut y {
            for l in 0..8 {
                m[l] = larger(m[l], c[l] * c[l]);
            }
        }
        for (l, e) in y.remainder().iter().enumerate() {
            m[l] = larger(m[l], e * e);
        }
        m.into_iter().fold(lik.backcast, larger)
    }

    /// Whether no bound can bind on the path of `[ω, α, γ, β]` (non-negative, β < 1). Every
    /// term added to ω is non-negative, and floating-point addition is monotone, so every
    /// `σ²_t ≥ ω`: no floor if `ω ≥` the largest lower bound. From `σ²_{−1}` = the backcast
    /// `≤ max e²`, by induction `σ²_t ≤ U = max(max e², (ω + (α + γ)·max e²)/(1 − β))` in exact
    /// arithmetic;
    /// each step's three roundings add at most 3u relative, which the recursion's contraction
    /// keeps below `3u/(1 − β)` ≤ 1e-12 for `β ≤ 0.999`, covered by the factor on `U`. No
    /// overshoot if that is below the smallest upper bound. Both are checked against the band
    /// inside the bounds, which is stricter.
    fn never_binds(&self, &[omega, alpha, gamma, beta]: &[f64; 4]) -> bool {
        let non_negative = omega >= 0.0 && alpha >= 0.0 && gamma >= 0.0 && beta >= 0.0;
        if !(non_negative && beta <= 0.999) {
            return false;
        }
        let stationary_level = (omega + (alpha + gamma) * self.max_e2) / (1.0 - beta);
        let upper = self.max_e2.max(stationary_level) * (1.0 + 1e-10);
        omega >= self.lower && upper <= self.upper
    }
}

/// `a.max(b)` for non-NaN inputs in the form of `maxpd`, so that scans over eight lanes
/// vectorise (a fold over `f64::max` waits on its previous value every element, and its NaN
/// handling costs two more instructions).
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// What every lane shares of an observation: `e²` and `e²·1[e<0]`.
struct Shared {
    e2: f64,
    e2_neg: f64,
}

impl Shared {
    #[inline(always)]
    fn of(e: f64) -> Self {
        let e2 = e * e;
        // A scalar select, as `Likelihood::value` adds γ's term, so that each lane's σ² is
        // bit for bit that of a scalar pass.
        Self {
            e2,
            e2_neg: if e < 0.0 { e2 } else { 0.0 },
        }
    }
}

/// The candidates' variance parameters.
struct Recursion {
    omega: Lanes,
    alpha: Lanes,
    gamma: Lanes,
    beta: Lanes,
}

impl Recursion {
    /// `σ²_t` of every lane from `e_{t−1}` and `σ²_{t−1}`, floored at the lower bound;
    /// `overshoot` keeps each lane's largest excess over the upper bound (`BOUNDED`; else the
    /// raw recursion).
    #[inline(always)]
    fn step<const GAMMA: bool, const BOUNDED: bool>(
        &self,
        prev: &Shared,
        s_prev: &Lanes,
        [lo, hi]: [f64; 2],
        overshoot: &mut Lanes,
    ) -> Lanes {
        let mut s = [[0.0; W]; VECS];
        for v in 0..VECS {
            for l in 0..W {
                let mut raw = self.omega[v][l] + self.alpha[v][l] * prev.e2;
                if GAMMA {
                    raw += self.gamma[v][l] * prev.e2_neg;
                }
                raw += self.beta[v][l] * s_prev[v][l];
                // arch's bounds_check; a lane above its upper bound is rescored. Selects in
                // the form of `maxpd` (`f64::max`'s NaN handling costs two more instructions);
                // the bounds are never NaN, and a NaN `raw` still yields the lower bound (and
                // no overshoot), as `max` would.
                if BOUNDED {
                    let over = raw - hi;
                    let o = overshoot[v][l];
                    overshoot[v][l] = if over > o { over } else { o };
                    s[v][l] = if raw > lo { raw } else { lo };
                } else {
                    s[v][l] = raw;
                }
            }
        }
        s
    }
}

/// Per lane: `Σ e²/σ²`, the running product of `σ²` and its extracted exponents.
struct Accumulators {
    ratio: Lanes,
    product: Lanes,
    /// Sums of the biased exponent fields moved out of `product` (1023 each time).
    exponent: [[u64; W]; VECS],
    renormalisations: u64,
    /// Non-zero once a lane's product left the normal range.
    abnormal: [[u64; W]; VECS],
    /// max(raw − upper bound): positive once a lane crossed its upper bound.
    overshoot: Lanes,
}

impl Accumulators {
    fn new() -> Self {
        Self {
            ratio: [[0.0; W]; VECS],
            product: [[1.0; W]; VECS],
            exponent: [[0; W]; VECS],
            renormalisations: 0,
            abnormal: [[0; W]; VECS],
            overshoot: [[f64::NEG_INFINITY; W]; VECS],
        }
    }

    /// Two observations with one division: `e²_a/σ²_a + e²_b/σ²_b` as
    /// `(e²_a·σ²_b + e²_b·σ²_a)/(σ²_a·σ²_b)`, and `σ²_a·σ²_b` into the product. The divider's
    /// throughput sets the sweep's speed (a division per lane and observation was a third of
    /// the sweep's time). The terms differ from the quotients by a few ulps; a product
    /// `σ²_a·σ²_b` outside the normal range leaves the running product there too, and the
    /// lane is rescored.
    #[inline(always)]
    fn add_pair(&mut self, [e2_a, e2_b]: [f64; 2], s_a: &Lanes, s_b: &Lanes) {
        for v in 0..VECS {
            for l in 0..W {
                let (a, b) = (s_a[v][l], s_b[v][l]);
                let p = a * b;
                self.ratio[v][l] += (e2_a * b + e2_b * a) / p;
                self.product[v][l] *= p;
            }
        }
    }

    /// One observation: `e²/σ²` into the ratio, `σ²` into the product.
    #[inline(always)]
    fn add(&mut self, e2: f64, s: &Lanes) {
        for v in 0..VECS {
            for l in 0..W {
                self.ratio[v][l] += e2 / s[v][l];
                self.product[v][l] *= s[v][l];
            }
        }
    }

    /// Moves the products' binary exponents into the integers: element-wise operations on the
    /// bits, no per-lane branches (`is_normal` folded into a flag was extracted lane by lane).
    #[inline(always)]
    fn renormalise(&mut self) {
        self.renormalisations += 1;
        for v in 0..VECS {
            for l in 0..W {
                let bits = self.product[v][l].to_bits();
                let field = (bits >> 52) & 0x7ff;
                // Not normal: the exponent field is 0 or all ones (the product is positive,
                // or NaN).
                self.abnormal[v][l] |= u64::from(field.wrapping_sub(1) >= 0x7fe);
                self.exponent[v][l] += field;
                self.product[v][l] = f64::from_bits((bits & MANTISSA) | EXPONENT_OF_ONE);
            }
        }
    }

    /// Per lane the log-likelihood of `n` observations and whether it is exact.
    fn finish(&self, n: usize) -> ([f64; LANES], [bool; LANES]) {
        let n = n as f64;
        let lane = |i: usize| (i / W, i % W);
        let values = std::array::from_fn(|i| {
            let (v, l) = lane(i);
            let exponent = self.exponent[v][l] as i64 - 1023 * self.renormalisations as i64;
            let ln_s2 = self.product[v][l].ln() + exponent as f64 * std::f64::consts::LN_2;
            -0.5 * (n * LN_2PI + ln_s2 + self.ratio[v][l])
        });
        let exact = std::array::from_fn(|i| {
            let (v, l) = lane(i);
            self.abnormal[v][l] == 0
                && self.overshoot[v][l] <= 0.0
                && self.product[v][l].is_normal()
                && self.ratio[v][l].is_finite()
        });
        (values, exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Distribution, MeanModel, ModelSpec, VolatilityModel};

    #[test]
    fn sweeps_without_the_bounds_equal_bounded_ones_where_they_cannot_bind() {
        let y: Vec<f64> = (0..2001)
            .map(|i| ((i * 7919 % 613) as f64 - 306.0) / 150.0 * (1.0 + (i / 300) as f64 * 0.2))
            .collect();
        let spec = ModelSpec::new(
            MeanModel::Zero,
            VolatilityModel::gjr(),
            Distribution::Normal,
        );
        let lik = Likelihood::new(spec, &y, &y);
        let max_e2 = Envelope::max_square(&lik);
        let (band, envelope) = (
            Envelope::of_band(&lik, max_e2),
            Envelope::of_bounds(&lik, max_e2),
        );
        let m = y.iter().map(|e| e * e).sum::<f64>() / y.len() as f64;
        // arch's grid (persistence p, ω = (1 − p)·mean e²), with and without γ.
        let lanes: [[f64; 4]; LANES] = std::array::from_fn(|i| {
            let alpha = [0.01, 0.05, 0.1, 0.2][i / 4];
            let p = [0.5, 0.7, 0.9, 0.98][i % 4];
            let gamma = if i % 2 == 0 { 0.0 } else { 0.05 };
            [(1.0 - p) * m, alpha, gamma, p - alpha - gamma / 2.0]
        });
        assert!(lanes.iter().all(|c| envelope.never_binds(c)));
        let (bounded, exact) = lik.sweep::<true, true>(&lanes);
        let (unbounded, _) = lik.sweep::<true, false>(&lanes);
        assert!(exact.iter().all(|&x| x));
        for i in 0..LANES {
            assert_eq!(bounded[i].to_bits(), unbounded[i].to_bits(), "lane {i}");
        }
        // The envelope refuses what could bind: a tiny ω (floor), a huge ω (cap), β near 1.
        // The band is inside the bounds: what it lets through, they do.
        assert!(band.lower >= envelope.lower && band.upper <= envelope.upper);
        assert!(lanes.iter().any(|c| band.never_binds(c)));
        for c in [
            [1e-12, 0.05, 0.0, 0.9],
            [1e9, 0.05, 0.0, 0.9],
            [0.01, 0.0, 0.0, 0.9999],
        ] {
            assert!(!envelope.never_binds(&c), "{c:?}");
            assert!(!band.never_binds(&c), "{c:?}");
        }
    }

    /// The AVX2 loop and the portable one, bit for bit, with and without γ and the bounds,
    /// on a series with a floored stretch and one over the upper bound (rescored lanes).
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    #[test]
    fn the_avx2_sweep_is_the_portable_one_bit_for_bit() {
        let y: Vec<f64> = (0..1237)
            .map(|i| {
                let quiet = if (400..700).contains(&i) { 1e-4 } else { 1.0 };
                quiet * ((i * 7919 % 613) as f64 - 306.0) / 150.0 * (1.0 + (i / 200) as f64 * 0.3)
            })
            .collect();
        let spec = ModelSpec::new(
            MeanModel::Zero,
            VolatilityModel::gjr(),
            Distribution::Normal,
        );
        let lik = Likelihood::new(spec, &y, &y);
        let lanes: [[f64; 4]; LANES] = std::array::from_fn(|i| {
            let omega = [1e-12, 0.02, 0.3, 1e9][i % 4];
            [
                omega,
                0.01 * (i / 4) as f64,
                0.03 * (i % 3) as f64,
                0.5 + 0.1 * (i / 4) as f64,
            ]
        });
        let bounds = &lik.bounds()[..y.len()];
        let check = |a: Accumulators, b: Accumulators| {
            let bits = |x: &Lanes| x.map(|v| v.map(f64::to_bits));
            assert_eq!(bits(&a.ratio), bits(&b.ratio));
            assert_eq!(bits(&a.product), bits(&b.product));
            assert_eq!(a.exponent, b.exponent);
            assert_eq!(a.renormalisations, b.renormalisations);
            assert_eq!(bits(&a.overshoot), bits(&b.overshoot));
            let flags = |x: &[[u64; W]; VECS]| x.map(|v| v.map(|f| f != 0));
            assert_eq!(flags(&a.abnormal), flags(&b.abnormal));
        };
        for n in [y.len(), 1000, 9] {
            let (y, b) = (&y[..n], &bounds[..n]);
            let bc = lik.backcast;
            check(
                avx2::sweep::<true, true>(y, b, bc, &lanes),
                portable_sweep::<true, true>(y, b, bc, &lanes),
            );
            check(
                avx2::sweep::<false, true>(y, b, bc, &lanes),
                portable_sweep::<false, true>(y, b, bc, &lanes),
            );
            check(
                avx2::sweep::<true, false>(y, &[], bc, &lanes),
                portable_sweep::<true, false>(y, &[], bc, &lanes),
            );
            check(
                avx2::sweep::<false, false>(y, &[], bc, &lanes),
                portable_sweep::<false, false>(y, &[], bc, &lanes),
            );
        }
    }

    #[test]
    fn grid_scores_equal_scalar_passes() {
        let y: Vec<f64> = (0..1237)
            .map(|i| ((i * 7919 % 613) as f64 - 306.0) / 150.0 * (1.0 + (i / 200) as f64 * 0.3))
            .collect();
        for vol in [VolatilityModel::garch(), VolatilityModel::gjr()] {
            let spec = ModelSpec::new(MeanModel::Zero, vol, Distribution::Normal);
            let lik = Likelihood::new(spec, &y, &y);
            let mut candidates = Vec::new();
            for (i, &alpha) in [0.01, 0.05, 0.1, 0.2].iter().enumerate() {
                for &beta in &[0.5, 0.7, 0.9, 0.97] {
                    let gamma = if vol == VolatilityModel::gjr() {
                        0.05 * i as f64
                    } else {
                        0.0
                    };
                    candidates.push([0.02, alpha, gamma, beta]);
                }
            }
            // Tiny ω pushes σ² under the lower bound; huge ω over the upper one (rescored).
            candidates.push([1e-12, 0.01, 0.0, 0.5]);
            candidates.push([1e9, 0.01, 0.0, 0.5]);
            let got = lik.grid_values(&candidates);
            for (c, g) in candidates.iter().zip(&got) {
                let params: Vec<f64> = if vol == VolatilityModel::gjr() {
                    c.to_vec()
                } else {
                    vec![c[0], c[1], c[3]]
                };
                let expected = lik.value(&params);
                assert!(
                    (g - expected).abs() <= 1e-12 * expected.abs(),
                    "{vol:?} {c:?}: {g} vs {expected}"
                );
            }
        }
    }
}
