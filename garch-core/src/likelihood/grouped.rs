//! The passes of the laws whose per-observation terms cost more than the recursion around
//! them — the GED (a logarithm and an exponential) and the skewed t (two divisions, a root and
//! a data-dependent side): their sinks hold observations in groups of [`GROUP`] and compute
//! the partials of a group at once ([`Density::partials_group`]), so that those operations
//! vectorise and their long dependency chains overlap, instead of running one observation at
//! a time inside the serial variance recursion. The sums are those of the one-at-a-time
//! sinks of the parent module, to rounding (the tests here hold them to it).

use super::logsum::LogProduct;
use super::{LEAN, Lean, log_likelihood};
use crate::distribution::lanes::{self, GROUP};
use crate::distribution::{Density, FirstPartials, GroupPartials};
use crate::variance::VarianceSink;

/// The observations a grouped sink holds until it has a [`GROUP`]: residuals, variances and
/// the derivative vectors of the variances.
struct Group {
    density: Density,
    held: usize,
    e: [f64; GROUP],
    s2: [f64; GROUP],
    ds2: [[f64; LEAN]; GROUP],
}

impl Group {
    fn new(density: Density) -> Self {
        Self {
            density,
            held: 0,
            e: [0.0; GROUP],
            s2: [1.0; GROUP],
            ds2: [[0.0; LEAN]; GROUP],
        }
    }

    /// Holds one observation; whether the group is now full.
    #[inline(always)]
    fn hold(&mut self, e: f64, s2: f64, ds2: &[f64]) -> bool {
        let i = self.held;
        self.e[i] = e;
        self.s2[i] = s2;
        // Copied as the recursion stored it (four, then the rest): one copy of the whole
        // slice reads it back with loads that straddle those stores, which cannot be
        // forwarded and stalled every observation (a third of the pass).
        let row = &mut self.ds2[i];
        let split = ds2.len().min(4);
        row[..split].copy_from_slice(&ds2[..split]);
        for (r, d) in row[split..].iter_mut().zip(&ds2[split..]) {
            *r = *d;
        }
        self.held += 1;
        self.held == GROUP
    }

    /// The partials of a full group, computed together; the group is emptied.
    fn take_partials(&mut self) -> GroupPartials {
        debug_assert_eq!(self.held, GROUP);
        self.held = 0;
        self.density
            .partials_group(&self.e, &self.s2)
            .expect("grouped sinks are made for laws with grouped partials")
    }

    /// The one-at-a-time partials of the observations held at the end of a pass.
    fn rest(&self) -> impl Iterator<Item = (usize, FirstPartials)> + '_ {
        (0..self.held).map(|i| (i, self.density.partials(self.e[i], self.s2[i])))
    }
}

/// The lean gradient pass of the laws with [`Density::partials_group`] (GED, skewed t):
/// observations are held in groups of [`GROUP`] and their partials computed together, so that
/// the density's per-observation transcendentals, divisions and roots vectorise; the sums are
/// [`super::GradientSink`]'s lean ones.
pub(super) struct GroupedGradientSink {
    group: Group,
    lean: Lean,
    n: f64,
    /// `Σ ln σ²` and `Σ ln acc` (skewed t) by running products: one logarithm per lane per
    /// pass, not one per eight observations.
    ln_s2: LogProduct,
    ln_acc: LogProduct,
    /// `Σ acc` (GED).
    acc: f64,
}

impl GroupedGradientSink {
    pub(super) fn new(density: Density) -> Self {
        Self {
            group: Group::new(density),
            lean: Lean::default(),
            n: 0.0,
            ln_s2: LogProduct::new(),
            ln_acc: LogProduct::new(),
            acc: 0.0,
        }
    }

    /// Whether the law sums `ln acc` rather than `acc` (the skewed t).
    fn logs_acc(&self) -> bool {
        self.group.density.log_sum_shape_weight() != 0.0
    }

    /// The observations' `σ²` and `acc` into the sums.
    fn push_all(&mut self, s2: &[f64], acc: &[f64]) {
        self.n += s2.len() as f64;
        self.ln_s2.push_all(s2);
        if self.logs_acc() {
            self.ln_acc.push_all(acc);
        } else {
            for a in acc {
                self.acc += a;
            }
        }
    }

    fn flush_group(&mut self) {
        let p = self.group.take_partials();
        // The sums in locals (registers) for the group, in observation order.
        let mut lean = self.lean;
        for i in 0..GROUP {
            for (a, d) in lean.s2.iter_mut().zip(&self.group.ds2[i]) {
                *a += p.s2[i] * d;
            }
            lean.e += p.e[i];
            lean.shape[0] += p.shape[0][i];
            lean.shape[1] += p.shape[1][i];
        }
        self.lean = lean;
        let s2 = self.group.s2;
        self.push_all(&s2, &p.acc);
    }

    /// The log-likelihood; the gradient added into `grad` (μ at `mu`, the shape parameters at
    /// `shape.0`, `shape.1` of them).
    pub(super) fn finish(
        mut self,
        grad: &mut [f64],
        mu: Option<usize>,
        shape: (usize, usize),
    ) -> f64 {
        let rest: Vec<_> = self.group.rest().collect();
        for (i, p) in rest {
            for (a, d) in self.lean.s2.iter_mut().zip(&self.group.ds2[i]) {
                *a += p.s2 * d;
            }
            self.lean.e += p.e;
            self.lean.shape[0] += p.shape[0];
            self.lean.shape[1] += p.shape[1];
            let s2 = self.group.s2[i];
            self.push_all(&[s2], &[p.acc]);
        }
        for (g, a) in grad.iter_mut().zip(self.lean.s2) {
            *g += a;
        }
        if let Some(m) = mu {
            grad[m] -= self.lean.e;
        }
        let (first, count) = shape;
        for (i, d) in self.lean.shape.iter().take(count).enumerate() {
            grad[first + i] += d;
        }
        let logs_acc = self.logs_acc();
        let density = self.group.density;
        let ln_s2 = self.ln_s2.total();
        let acc = if logs_acc {
            let ln_acc = self.ln_acc.total();
            grad[first] -= density.log_sum_shape_weight() * ln_acc;
            ln_acc
        } else {
            self.acc
        };
        log_likelihood(density, self.n, ln_s2, acc)
    }
}

impl VarianceSink for GroupedGradientSink {
    const DERIVATIVES: bool = true;
    #[inline(always)]
    fn observe(&mut self, _t: usize, e: f64, s2: f64, ds2: &[f64]) {
        if self.group.hold(e, s2, ds2) {
            self.flush_group();
        }
    }
}

/// `Σ s_t` and `Σ s_t s_tᵀ` of the per-observation scores of the laws with
/// [`Density::partials_group`], observations held in groups as in [`GroupedGradientSink`]:
/// their score pass at about the cost of their gradient pass, without a `T × k` matrix.
pub(super) struct GroupedScoreSink {
    group: Group,
    /// Parameters, μ's index, the first shape parameter's index and the shape count.
    k: usize,
    mu: Option<usize>,
    shape: (usize, usize),
    sum: [f64; LEAN],
    /// Lower triangle of `Σ s sᵀ`.
    outer: [[f64; LEAN]; LEAN],
}

impl GroupedScoreSink {
    pub(super) fn new(
        density: Density,
        k: usize,
        mu: Option<usize>,
        shape: (usize, usize),
    ) -> Self {
        Self {
            group: Group::new(density),
            k,
            mu,
            shape,
            sum: [0.0; LEAN],
            outer: [[0.0; LEAN]; LEAN],
        }
    }

    /// Adds held observation `i`'s score from its partials (`shape`: the complete shape scores).
    #[inline(always)]
    fn add(&mut self, i: usize, p_s2: f64, p_e: f64, shape: [f64; 2]) {
        let mut s = [0.0; LEAN];
        for (si, d) in s.iter_mut().zip(&self.group.ds2[i]) {
            *si = p_s2 * d;
        }
        if let Some(m) = self.mu {
            s[m] -= p_e;
        }
        let (first, count) = self.shape;
        for (j, v) in shape.iter().take(count).enumerate() {
            s[first + j] += v;
        }
        for a in 0..self.k {
            self.sum[a] += s[a];
            for b in 0..=a {
                self.outer[a][b] += s[a] * s[b];
            }
        }
    }

    fn flush_group(&mut self) {
        let p = self.group.take_partials();
        // The first shape score's −½ln(1 + q) (skewed t), a group of logarithms at once.
        let weight = self.group.density.log_sum_shape_weight();
        let ln_acc = if weight != 0.0 {
            lanes::ln(p.acc)
        } else {
            [0.0; GROUP]
        };
        for (i, ln) in ln_acc.iter().enumerate() {
            let shape = [p.shape[0][i] - weight * ln, p.shape[1][i]];
            self.add(i, p.s2[i], p.e[i], shape);
        }
    }

    /// `Σ s_t` and `Σ s_t s_tᵀ` (row-major `k × k`).
    pub(super) fn finish(mut self) -> (Vec<f64>, Vec<f64>) {
        let rest: Vec<_> = self.group.rest().collect();
        for (i, p) in rest {
            let shape = self.group.density.shape_scores(&p);
            self.add(i, p.s2, p.e, shape);
        }
        let k = self.k;
        let mut outer = vec![0.0; k * k];
        for a in 0..k {
            for b in 0..=a {
                outer[a * k + b] = self.outer[a][b];
                outer[b * k + a] = self.outer[a][b];
            }
        }
        (self.sum[..k].to_vec(), outer)
    }
}

impl VarianceSink for GroupedScoreSink {
    const DERIVATIVES: bool = true;
    #[inline(always)]
    fn observe(&mut self, _t: usize, e: f64, s2: f64, ds2: &[f64]) {
        if self.group.hold(e, s2, ds2) {
            self.flush_group();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::likelihood::Likelihood;
    use crate::spec::{Distribution, MeanModel, ModelSpec, VolatilityModel};

    /// A series with volatility clusters, zero returns (the GED's kink) and a length that is
    /// not a multiple of the group size.
    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                if i % 97 == 5 {
                    0.0
                } else {
                    ((i * 7919 % 613) as f64 - 306.0) / 150.0 * (1.0 + (i / 200 % 3) as f64 * 0.4)
                }
            })
            .collect()
    }

    /// The grouped value, gradient and score-moment passes of the GED and the skewed t
    /// (vectorised logarithms, exponentials, divisions and roots) against the
    /// one-observation-at-a-time sums of `Density::partials`, which the score-collecting pass
    /// uses: equal to rounding, for each mean and variance model.
    #[test]
    fn grouped_passes_equal_the_one_at_a_time_sums() {
        for n in [1, 15, 16, 17, 1237] {
            let y = series(n);
            for (dist, mean, vol, params) in [
                (
                    Distribution::Ged,
                    MeanModel::Constant,
                    VolatilityModel::garch(),
                    vec![0.03, 0.05, 0.1, 0.85, 1.4],
                ),
                (
                    Distribution::Ged,
                    MeanModel::Zero,
                    VolatilityModel::gjr(),
                    vec![0.05, 0.06, 0.08, 0.8, 1.8],
                ),
                (
                    Distribution::Ged,
                    MeanModel::Constant,
                    VolatilityModel::Egarch,
                    vec![0.0, 0.02, 0.1, -0.05, 0.95, 1.2],
                ),
                (
                    Distribution::SkewT,
                    MeanModel::Constant,
                    VolatilityModel::garch(),
                    vec![0.03, 0.05, 0.1, 0.85, 6.0, -0.2],
                ),
                (
                    Distribution::SkewT,
                    MeanModel::Zero,
                    VolatilityModel::gjr(),
                    vec![0.05, 0.06, 0.08, 0.8, 9.0, 0.3],
                ),
                (
                    Distribution::SkewT,
                    MeanModel::Constant,
                    VolatilityModel::Egarch,
                    vec![0.0, 0.02, 0.1, -0.05, 0.95, 5.0, 0.1],
                ),
            ] {
                let spec = ModelSpec::new(mean, vol, dist);
                let lik = Likelihood::new(spec, &y, &y);
                let k = params.len();
                let (mut grouped, mut single) = (vec![0.0; k], vec![0.0; k]);
                let ll_grouped = lik.value_and_gradient(&params, &mut grouped, None);
                let mut scores = vec![0.0; n * k];
                let ll_single =
                    lik.forward_value_and_gradient(&params, &mut single, Some(&mut scores));
                let value = lik.value(&params);
                let tol = 1e-12 * ll_single.abs().max(1.0);
                assert!((ll_grouped - ll_single).abs() <= tol, "{spec:?} n={n}");
                assert!((value - ll_single).abs() <= tol, "{spec:?} n={n}");
                // The grouped score moments against the one-at-a-time scores' moments.
                let (sum, outer) = lik.score_moments(&params);
                for a in 0..k {
                    let col = |b: usize| scores.chunks_exact(k).map(move |r| r[b]);
                    let expected_sum: f64 = col(a).sum();
                    let tol = 1e-11 * col(a).map(f64::abs).sum::<f64>().max(1.0);
                    assert!(
                        (sum[a] - expected_sum).abs() <= tol,
                        "{spec:?} n={n} sum {a}"
                    );
                    for b in 0..k {
                        let expected: f64 = col(a).zip(col(b)).map(|(x, z)| x * z).sum();
                        let tol =
                            1e-11 * col(a).zip(col(b)).map(|(x, z)| (x * z).abs()).sum::<f64>();
                        assert!(
                            (outer[a * k + b] - expected).abs() <= tol.max(1e-300),
                            "{spec:?} n={n} outer {a},{b}: {} vs {expected}",
                            outer[a * k + b]
                        );
                    }
                }
                let scale = single.iter().fold(1.0f64, |m, g| m.max(g.abs()));
                for (a, b) in grouped.iter().zip(&single) {
                    assert!(
                        (a - b).abs() <= 1e-11 * scale,
                        "{spec:?} n={n}: {grouped:?} vs {single:?}"
                    );
                }
            }
        }
    }
}
