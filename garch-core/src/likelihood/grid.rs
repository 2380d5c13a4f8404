//! The Gaussian log-likelihood of many first-order GARCH/GJR candidates in one sweep: how
//! `arch`'s starting grid (16 points, 64 with a threshold term) is scored.
//!
//! Scoring the points one by one is latency-bound: each pass waits on its own recursion
//! `σ²_t ← σ²_{t−1}`. Here `LANES` candidates advance together, so their recursions overlap
//! and the per-lane work is branch-free and vectorises: the lower variance bound is a `max`,
//! and `Σ ln σ²` is kept as a running product whose binary exponent is moved into an integer
//! every eight observations (one `ln` per candidate per pass, not one per observation). The
//! rare lane that crosses its upper bound, or whose product leaves the normal range, is
//! rescored by the scalar kernel, so every score is the likelihood `arch` defines.

use super::Likelihood;
use super::logsum::{EXPONENT_OF_ONE, MANTISSA};
use crate::distribution::normal::LN_2PI;

/// Candidates per sweep: two 256-bit registers per quantity, so that the per-observation
/// work shared by the lanes (the residual, its square and sign, the bounds) is spread over
/// eight candidates and two independent recursions overlap.
const LANES: usize = 8;
/// Observations between exponent extractions: eight factors of at most 2^±127 each cannot
/// leave the normal range, and σ² outside 2^±127 sends the lane to the scalar kernel.
const RENORMALISE_EVERY: usize = 8;

impl Likelihood<'_> {
    /// Log-likelihoods of `candidates` = `[ω, α, γ, β]` under a zero-mean, normal GARCH(1,1)
    /// (γ = 0) or GJR(1,1,1) model on this likelihood's series, backcast and bounds; the same
    /// values as [`Likelihood::value`] up to the summation order of `Σ ln σ²`.
    pub(crate) fn grid_values(&self, candidates: &[[f64; 4]]) -> Vec<f64> {
        debug_assert!(self.layout.mu.is_none() && self.layout.nu.is_none());
        let mut out = Vec::with_capacity(candidates.len());
        for chunk in candidates.chunks(LANES) {
            let mut lanes = [chunk[0]; LANES];
            lanes[..chunk.len()].copy_from_slice(chunk);
            let (values, exact) = self.sweep(&lanes);
            for (i, c) in chunk.iter().enumerate() {
                out.push(if exact[i] {
                    values[i]
                } else {
                    let params: &[f64] = if self.layout.len == 4 {
                        c
                    } else {
                        &[c[0], c[1], c[3]]
                    };
                    self.value(params)
                });
            }
        }
        out
    }

    /// One sweep over the data for `LANES` candidates; per lane the log-likelihood and
    /// whether it is exact (else the caller rescores it).
    fn sweep(&self, lanes: &[[f64; 4]; LANES]) -> ([f64; LANES], [bool; LANES]) {
        let y = self.y;
        debug_assert_eq!(y.len(), self.bounds.len());
        let bc = self.backcast;
        let omega: [f64; LANES] = std::array::from_fn(|l| lanes[l][0]);
        let alpha: [f64; LANES] = std::array::from_fn(|l| lanes[l][1]);
        let gamma: [f64; LANES] = std::array::from_fn(|l| lanes[l][2]);
        let beta: [f64; LANES] = std::array::from_fn(|l| lanes[l][3]);

        let mut s2 = [0.0; LANES];
        let mut ratio = [0.0; LANES];
        let mut product = [1.0f64; LANES];
        // Sums of the biased exponent fields moved out of `product` (1023 each time).
        let mut exponent = [0u64; LANES];
        let mut renormalisations = 0u64;
        // Non-zero once a lane's product left the normal range.
        let mut abnormal = [0u64; LANES];
        // max(raw − upper bound): positive once a lane crossed its upper bound.
        let mut overshoot = [f64::NEG_INFINITY; LANES];
        let mut e_prev = 0.0f64;
        for (t, (&e, &[lo, hi])) in y.iter().zip(self.bounds.iter()).enumerate() {
            // t = 0: e² and σ² are the backcast, e²·1[e<0] half of it.
            let raw: [f64; LANES] = if t == 0 {
                std::array::from_fn(|l| {
                    omega[l] + alpha[l] * bc + gamma[l] * 0.5 * bc + beta[l] * bc
                })
            } else {
                let e2 = e_prev * e_prev;
                // γ's term as `Likelihood::value` adds it (a scalar select, not a per-lane
                // one), so that each lane's σ² is bit for bit that of a scalar pass.
                let e2_neg = if e_prev < 0.0 { e2 } else { 0.0 };
                std::array::from_fn(|l| {
                    omega[l] + alpha[l] * e2 + gamma[l] * e2_neg + beta[l] * s2[l]
                })
            };
            let e2 = e * e;
            // One loop per array (in a single loop the compiler shuffles lanes between
            // registers).
            for l in 0..LANES {
                // arch's bounds_check; a lane above its upper bound is rescored. Selects rather
                // than `f64::max`, whose NaN handling costs two extra instructions per lane
                // group; the bounds are never NaN, and a NaN `raw` still yields the lower bound
                // (and no overshoot), as `max` would.
                let over = raw[l] - hi;
                overshoot[l] = if over > overshoot[l] {
                    over
                } else {
                    overshoot[l]
                };
            }
            for l in 0..LANES {
                s2[l] = if raw[l] > lo { raw[l] } else { lo };
            }
            for l in 0..LANES {
                ratio[l] += e2 / s2[l];
            }
            for l in 0..LANES {
                product[l] *= s2[l];
            }
            if (t + 1).is_multiple_of(RENORMALISE_EVERY) {
                // Element-wise integer operations on the bits, no per-lane branches or
                // reductions (`is_normal` folded into a flag was extracted lane by lane).
                renormalisations += 1;
                for l in 0..LANES {
                    let bits = product[l].to_bits();
                    let field = (bits >> 52) & 0x7ff;
                    // Not normal: the exponent field is 0 or all ones (the product is positive,
                    // or NaN).
                    abnormal[l] |= u64::from(field.wrapping_sub(1) >= 0x7fe);
                    exponent[l] += field;
                    product[l] = f64::from_bits((bits & MANTISSA) | EXPONENT_OF_ONE);
                }
            }
            e_prev = e;
        }
        let normal = abnormal.iter().all(|&a| a == 0);
        let exponent: [i64; LANES] =
            std::array::from_fn(|l| exponent[l] as i64 - 1023 * renormalisations as i64);
        let exact: [bool; LANES] =
            std::array::from_fn(|l| normal && overshoot[l] <= 0.0 && product[l].is_normal());
        let n = y.len() as f64;
        let values = std::array::from_fn(|l| {
            let ln_s2 = product[l].ln() + exponent[l] as f64 * std::f64::consts::LN_2;
            -0.5 * (n * LN_2PI + ln_s2 + ratio[l])
        });
        (values, exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Distribution, MeanModel, ModelSpec, VolatilityModel};

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
