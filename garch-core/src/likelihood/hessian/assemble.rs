//! From a pass's sums to the result: both second-order passes reduce the data to the same
//! [`Totals`], from which [`assemble`] builds the value, the gradient, the Hessian
//! `H = Σ ℓ_σσ d dᵀ + Σ ℓ_σ D +` the μ and ν cross terms, and the score moments.

use super::{ScoreMoments, SecondOrder};
use crate::distribution::SecondOrderDensity;

/// Assembles `H = Σ ℓ_σσ d dᵀ + Σ ℓ_σ D +` the μ and ν cross terms from a pass's sums, with the
/// value and gradient; without `HESS` (a pass that summed only the first-order terms) the
/// value and gradient alone, `hess` empty.
pub(super) fn assemble<
    const N: usize,
    const MU: bool,
    const GAMMA: bool,
    D: SecondOrderDensity,
    const SCORES: bool,
    const HESS: bool,
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
        hess: if HESS { flat(hess) } else { Vec::new() },
        scores: SCORES.then(|| ScoreMoments {
            sum: score_sum.to_vec(),
            outer: flat(score_outer),
        }),
        sigma2,
    }
}

/// Sums over all blocks.
pub(super) struct Totals<const N: usize> {
    pub(super) grad: [f64; N],
    pub(super) h_dd: [[f64; N]; N],
    pub(super) h_beta: [f64; N],
    pub(super) h_mm: f64,
    pub(super) h_ma: f64,
    pub(super) h_mg: f64,
    pub(super) h_se: [f64; N],
    pub(super) h_ee: f64,
    pub(super) h_sn: [f64; N],
    pub(super) h_en: f64,
    pub(super) h_nn: f64,
    /// Σ ln σ².
    pub(super) ln_s2: f64,
    pub(super) ratio: f64,
    /// Σ ln(1 + q).
    pub(super) ln_1q: f64,
    pub(super) score_sum: [f64; N],
    pub(super) score_outer: [[f64; N]; N],
}

impl<const N: usize> Totals<N> {
    pub(super) fn new() -> Self {
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
