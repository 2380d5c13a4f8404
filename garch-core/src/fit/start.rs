//! Where the optimiser starts: `arch`'s starting residuals and starting values
//! (`GARCH.starting_values`, `EGARCH.starting_values` in `arch/univariate/volatility.py`):
//! a grid of variance parameters scored by their Gaussian likelihood, the sample mean for μ
//! (least squares for an AR mean, [`crate::mean::starting_mean`]),
//! Student-t ν and skewed-t η from the kurtosis of the standardised residuals (λ = 0), GED
//! ν = 1.5 (`starting_values` of each law in `arch/univariate/distribution.py`). A fit's optimum depends on its
//! start only through which local optimum it finds, so matching `arch` here is what makes the
//! two agree on hard series.

use crate::likelihood::Likelihood;
use crate::mean;
use crate::spec::{Distribution, ModelSpec, VolatilityModel};
use crate::variance::lane_sum;

/// Starting residuals: `y − ȳ` for a constant mean, `y` for a zero mean, the least-squares
/// residuals after the hold-back for an AR mean (`arch`'s `resids(starting_values())`).
pub(crate) fn starting_resids(spec: &ModelSpec, y: &[f64]) -> Vec<f64> {
    mean::residuals(spec.mean, &mean::starting_mean(spec.mean, y), y)
}

/// `arch`'s starting values for `main`'s model on `y`: mean, variance grid, ν rule. `e0` are
/// the starting residuals `main` was prepared from.
pub(crate) fn starting_values(main: &Likelihood<'_>, y: &[f64], e0: &[f64]) -> Vec<f64> {
    starting_candidates(main, y, e0, 1).remove(0)
}

/// The `n` best points of `arch`'s starting grid, best first (the first is
/// [`starting_values`]): where a fit ends on a constraint, the optimiser restarts from the
/// next ones to make sure another basin does not hold a better optimum.
pub(crate) fn starting_candidates(
    main: &Likelihood<'_>,
    y: &[f64],
    e0: &[f64],
    n: usize,
) -> Vec<Vec<f64>> {
    let spec = &main.spec();
    // The grid is scored by the Gaussian likelihood of the variance process alone on e₀.
    let lik = main.variance_only(e0);
    let mean_e2 = lane_sum(e0, |e| e * e) / e0.len() as f64;
    let mut candidates: Vec<Vec<f64>> = Vec::new();
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            for &alpha in &[0.01, 0.05, 0.1, 0.2] {
                for &gamma in &[0.01, 0.05, 0.1, 0.2] {
                    for &agb in &[0.5, 0.7, 0.9, 0.98] {
                        let mut sv = vec![(1.0 - agb) * mean_e2; 1 + p + o + q];
                        let mut rest = agb;
                        sv[1..=p].fill(alpha / p as f64);
                        rest -= alpha;
                        if o > 0 {
                            sv[1 + p..1 + p + o].fill(gamma / o as f64);
                            rest -= gamma / 2.0;
                        }
                        if q > 0 {
                            sv[1 + p + o..].fill(rest / q as f64);
                        }
                        // With o = 0 the γ loop repeats points: 16 distinct, not 64.
                        if !candidates.contains(&sv) {
                            candidates.push(sv);
                        }
                    }
                }
            }
        }
        VolatilityModel::Egarch => {
            let target = mean_e2.ln();
            for &alpha in &[0.01, 0.05, 0.1, 0.2] {
                for &gamma in &[-0.1, 0.0, 0.1] {
                    for &beta in &[0.5, 0.7, 0.9, 0.98] {
                        candidates.push(vec![(1.0 - beta) * target, alpha, gamma, beta]);
                    }
                }
            }
        }
    }
    let scores: Vec<f64> = match spec.volatility {
        // First-order GARCH/GJR: every point in one vectorised sweep.
        VolatilityModel::Garch(g) if g.p() == 1 && g.o() <= 1 && g.q() == 1 => {
            let points: Vec<[f64; 4]> = candidates
                .iter()
                .map(|c| match c[..] {
                    [omega, alpha, beta] => [omega, alpha, 0.0, beta],
                    [omega, alpha, gamma, beta] => [omega, alpha, gamma, beta],
                    _ => unreachable!("first-order GARCH has 3 or 4 variance parameters"),
                })
                .collect();
            lik.grid_values(&points)
        }
        _ => lik.values(&candidates),
    };
    // Best first; among equals the first, as numpy's argmax (a stable sort; NaN last).
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            if scores[i].is_nan() {
                f64::NEG_INFINITY
            } else {
                scores[i]
            }
        };
        key(b).total_cmp(&key(a))
    });
    let mean_start = mean::starting_mean(spec.mean, y);
    order
        .iter()
        .take(n.max(1))
        .map(|&i| full_start(&lik, spec, &mean_start, e0, &candidates[i]))
        .collect()
}

/// A complete starting vector around the variance start `vol_sv`: `mean_start` (the sample mean
/// for μ, least squares for an AR mean), the shape rule of the law.
fn full_start(
    lik: &Likelihood<'_>,
    spec: &ModelSpec,
    mean_start: &[f64],
    e0: &[f64],
    vol_sv: &[f64],
) -> Vec<f64> {
    let layout = spec.layout();
    let mut sv = vec![0.0; layout.len];
    sv[..layout.n_mean].copy_from_slice(mean_start);
    sv[layout.vol..layout.vol + vol_sv.len()].copy_from_slice(vol_sv);
    if spec.distribution == Distribution::Ged {
        // arch's GeneralizedError.starting_values: 1.5, heavier tails than the normal.
        sv[layout.nu.expect("GED has ν")] = 1.5;
    } else if let Some(n) = layout.nu {
        // Student-t ν and skewed-t η: the kurtosis rule (λ starts at 0).
        let s2 = lik.variance_path(vol_sv);
        let z: Vec<f64> = e0.iter().zip(&s2).map(|(e, v)| e / v.sqrt()).collect();
        let k = pearson_kurtosis(&z);
        sv[n] = if k > 3.75 {
            (4.0 * k - 6.0) / (k - 3.0)
        } else {
            12.0
        }
        .max(4.0);
    }
    sv
}

/// `m₄ / m₂²` with population moments (scipy's `kurtosis(fisher=False)`).
fn pearson_kurtosis(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let (m2, m4) = x.iter().fold((0.0, 0.0), |(a, b), v| {
        let d = (v - mean) * (v - mean);
        (a + d, b + d * d)
    });
    (m4 / n) / (m2 / n).powi(2)
}
