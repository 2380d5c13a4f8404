//! The reparameterisation that turns `arch`'s constrained problem into an unconstrained one.
//!
//! argmin 0.11 has no bounded quasi-Newton method (L-BFGS-B is an open request), and a projected
//! method would need the linear stationarity constraint as well as boxes. Instead the optimiser
//! works on `θ ∈ ℝᵏ` and every `θ` maps to a feasible parameter vector:
//!
//! * `μ = θ_μ`; GARCH/GJR `ω = exp θ_ω` (ω > 0).
//! * GARCH/GJR: the persistence is split into non-negative components that sum to less than one,
//!   `c_i = e^{θ_i} / (1 + Σ_j e^{θ_j})` (a softmax with a slack term). For a lag with both an
//!   ARCH and a threshold term the components are `α/2` and `(α+γ)/2`, so `α ≥ 0`, `α + γ ≥ 0`
//!   and `α + γ/2` is their sum; an ARCH-only lag contributes `α`, a threshold-only lag `γ/2`,
//!   each `β` itself. Hence ω > 0, α ≥ 0, α + γ ≥ 0, β ≥ 0 and `Σα + Σγ/2 + Σβ < 1`, exactly
//!   `arch`'s linear constraints, hold for every θ.
//! * EGARCH: ω, α, γ free; `β = 1/(1 + e^{−θ})` ∈ (0, 1) (`arch` bounds β to [0, 1]).
//! * shape parameters: `lo + (hi − lo)/(1 + e^{−θ})` within `arch`'s bounds ([`shape_bounds`]):
//!   Student-t ν ∈ (2.05, 500), skewed-t η ∈ (2.05, 300) and λ ∈ (−1, 1), GED ν ∈ (1.01, 500).
//!
//! The price: a parameter that belongs exactly on a bound (α = 0 for GJR on the S&P 500) is only
//! approached, and the gradient in θ vanishes there. The fit reports such parameters as
//! "at bound" (see [`Transform::near_bounds`]).

use crate::spec::{Distribution, Layout, ModelSpec, VolatilityModel};

/// Smallest ν.
pub(crate) const NU_MIN: f64 = 2.05;
/// Largest ν.
pub(crate) const NU_MAX: f64 = 500.0;

/// `arch`'s bounds on the shape parameters (`bounds` of `StudentsT`, `SkewStudent`,
/// `GeneralizedError` in `arch/univariate/distribution.py`), in parameter order.
pub(crate) fn shape_bounds(dist: Distribution) -> &'static [(f64, f64)] {
    match dist {
        Distribution::Normal => &[],
        Distribution::StudentT => &[(NU_MIN, NU_MAX)],
        Distribution::SkewT => &[(NU_MIN, 300.0), (-1.0, 1.0)],
        Distribution::Ged => &[(1.01, 500.0)],
    }
}

/// The open domain of the shape parameters (where the density is defined), in parameter order.
fn shape_domain(dist: Distribution) -> &'static [(f64, f64)] {
    match dist {
        Distribution::Normal => &[],
        Distribution::StudentT => &[(2.0, NU_MAX)],
        Distribution::SkewT => &[(2.0, 300.0), (-1.0, 1.0)],
        Distribution::Ged => &[(1.0, 500.0)],
    }
}
/// A component or slack below this is reported as sitting on its bound.
const BOUND_TOL: f64 = 1e-6;

#[inline]
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[inline]
fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// How the persistence slots of a GARCH/GJR model map to components.
#[derive(Clone, Copy)]
enum Slot {
    /// α_i with a matching γ_i: component α_i/2.
    PairedAlpha,
    /// γ_i with a matching α_i (at offset `alpha_offset` from ω): component (α_i + γ_i)/2.
    PairedGamma { alpha_offset: usize },
    /// α_i alone or β_k: the component is the parameter.
    Plain,
    /// γ_i with no α_i: component γ_i/2.
    LoneGamma,
}

fn garch_slots(p: usize, o: usize, q: usize) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(p + o + q);
    slots.extend((1..=p).map(|i| {
        if i <= o {
            Slot::PairedAlpha
        } else {
            Slot::Plain
        }
    }));
    slots.extend((1..=o).map(|i| {
        if i <= p {
            Slot::PairedGamma { alpha_offset: i }
        } else {
            Slot::LoneGamma
        }
    }));
    slots.extend((0..q).map(|_| Slot::Plain));
    slots
}

/// A linear inequality `a·x ≥ b` on the parameter vector.
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    pub(crate) a: Vec<f64>,
    pub(crate) b: f64,
    /// What it means when it holds with equality.
    pub(crate) name: String,
}

impl Constraint {
    /// `a·x − b` (≥ 0 where it holds).
    pub(crate) fn slack(&self, x: &[f64]) -> f64 {
        self.a.iter().zip(x).map(|(a, x)| a * x).sum::<f64>() - self.b
    }
}

/// Maps between unconstrained θ and model parameters.
#[derive(Debug, Clone)]
pub(crate) struct Transform {
    spec: ModelSpec,
    layout: Layout,
}

impl Transform {
    pub(crate) fn new(spec: ModelSpec) -> Self {
        Self {
            spec,
            layout: spec.layout(),
        }
    }

    /// Parameters from θ, and the Jacobian `∂params/∂θ` (row-major k × k) if `jac` is given.
    pub(crate) fn to_params(&self, theta: &[f64], params: &mut [f64], jac: Option<&mut [f64]>) {
        let k = self.layout.len;
        let mut local = Vec::new();
        let jac = match jac {
            Some(j) => j,
            None => {
                local.resize(k * k, 0.0);
                &mut local[..]
            }
        };
        jac.fill(0.0);
        // The mean parameters (μ, or an AR mean's constant and coefficients) are free.
        for m in 0..self.layout.n_mean {
            params[m] = theta[m];
            jac[m * k + m] = 1.0;
        }
        let v = self.layout.vol;
        match self.spec.volatility {
            VolatilityModel::Garch(g) => {
                params[v] = theta[v].exp();
                jac[v * k + v] = params[v];
                let slots = garch_slots(g.p(), g.o(), g.q());
                let m = slots.len();
                let first = v + 1;
                let exps: Vec<f64> = (0..m).map(|i| theta[first + i].exp()).collect();
                let denom = 1.0 + exps.iter().sum::<f64>();
                let c: Vec<f64> = exps.iter().map(|e| e / denom).collect();
                // dc_i/dθ_j = c_i(δ_ij − c_j)
                let dc = |i: usize, j: usize| c[i] * (f64::from(u8::from(i == j)) - c[j]);
                for (i, slot) in slots.iter().enumerate() {
                    let row = first + i;
                    match *slot {
                        Slot::Plain => {
                            params[row] = c[i];
                            for j in 0..m {
                                jac[row * k + first + j] = dc(i, j);
                            }
                        }
                        Slot::PairedAlpha => {
                            params[row] = 2.0 * c[i];
                            for j in 0..m {
                                jac[row * k + first + j] = 2.0 * dc(i, j);
                            }
                        }
                        Slot::LoneGamma => {
                            params[row] = 2.0 * c[i];
                            for j in 0..m {
                                jac[row * k + first + j] = 2.0 * dc(i, j);
                            }
                        }
                        Slot::PairedGamma { alpha_offset } => {
                            // γ = 2v − 2u, u = component of the paired α.
                            let a = alpha_offset - 1;
                            params[row] = 2.0 * c[i] - 2.0 * c[a];
                            for j in 0..m {
                                jac[row * k + first + j] = 2.0 * dc(i, j) - 2.0 * dc(a, j);
                            }
                        }
                    }
                }
            }
            VolatilityModel::Egarch => {
                for i in 0..=2 {
                    params[v + i] = theta[v + i];
                    jac[(v + i) * k + v + i] = 1.0;
                }
                let b = logistic(theta[v + 3]);
                params[v + 3] = b;
                jac[(v + 3) * k + v + 3] = b * (1.0 - b);
            }
        }
        if let Some(n) = self.layout.nu {
            for (i, &(lo, hi)) in shape_bounds(self.spec.distribution).iter().enumerate() {
                let s = logistic(theta[n + i]);
                params[n + i] = lo + (hi - lo) * s;
                jac[(n + i) * k + n + i] = (hi - lo) * s * (1.0 - s);
            }
        }
    }

    /// θ for feasible parameters. Components on a bound are nudged inside by a tiny amount.
    pub(crate) fn to_theta(&self, params: &[f64]) -> Vec<f64> {
        let mut theta = params.to_vec();
        let v = self.layout.vol;
        match self.spec.volatility {
            VolatilityModel::Garch(_) => {
                theta[v] = params[v].max(1e-12).ln();
                let comps = self.components(params);
                let slack = (1.0 - comps.iter().sum::<f64>()).max(1e-10);
                for (i, c) in comps.iter().enumerate() {
                    theta[v + 1 + i] = (c.max(1e-10) / slack).ln();
                }
            }
            VolatilityModel::Egarch => {
                theta[v + 3] = logit(params[v + 3].clamp(1e-10, 1.0 - 1e-10));
            }
        }
        if let Some(n) = self.layout.nu {
            for (i, &(lo, hi)) in shape_bounds(self.spec.distribution).iter().enumerate() {
                let s = (params[n + i] - lo) / (hi - lo);
                theta[n + i] = logit(s.clamp(1e-10, 1.0 - 1e-10));
            }
        }
        theta
    }

    /// GARCH/GJR persistence components (see the module docs); empty for EGARCH.
    fn components(&self, params: &[f64]) -> Vec<f64> {
        let VolatilityModel::Garch(g) = self.spec.volatility else {
            return Vec::new();
        };
        let first = self.layout.vol + 1;
        garch_slots(g.p(), g.o(), g.q())
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let x = params[first + i];
                match *slot {
                    Slot::Plain => x,
                    Slot::PairedAlpha | Slot::LoneGamma => x / 2.0,
                    Slot::PairedGamma { alpha_offset } => {
                        (params[first + alpha_offset - 1] + x) / 2.0
                    }
                }
            })
            .collect()
    }

    /// Whether `params` satisfy every constraint strictly.
    pub(crate) fn is_feasible(&self, params: &[f64]) -> bool {
        self.within_constraints(params, false)
    }

    /// As [`Self::is_feasible`], but on the closed set of `arch`'s constraints: persistence
    /// `Σα + Σγ/2 + Σβ ≤ 1` (EGARCH `β ≤ 1`) is admissible. The active-set refinement may end a fit
    /// exactly on that face; [`crate::fix`] and filtering must accept such estimates, while the
    /// optimiser's interior transform keeps the strict form.
    pub(crate) fn is_admissible(&self, params: &[f64]) -> bool {
        self.within_constraints(params, true)
    }

    fn within_constraints(&self, params: &[f64], closed: bool) -> bool {
        if params.iter().any(|x| !x.is_finite()) {
            return false;
        }
        let ok_vol = match self.spec.volatility {
            VolatilityModel::Garch(_) => {
                let c = self.components(params);
                params[self.layout.vol] > 0.0
                    && c.iter().all(|&x| x >= 0.0)
                    && (c.iter().sum::<f64>() < 1.0 || (closed && c.iter().sum::<f64>() <= 1.0))
            }
            VolatilityModel::Egarch => {
                let b = params[self.layout.vol + 3];
                (0.0..1.0).contains(&b) || (closed && b == 1.0)
            }
        };
        let ok_shape = self.layout.nu.is_none_or(|n| {
            shape_domain(self.spec.distribution)
                .iter()
                .enumerate()
                .all(|(i, &(lo, hi))| params[n + i] > lo && params[n + i] <= hi)
        }) && (self.spec.distribution != Distribution::SkewT
            || self.layout.nu.is_none_or(|n| params[n + 1] < 1.0));
        ok_vol && ok_shape
    }

    /// `arch`'s constraints on the parameters as linear inequalities `a·x ≥ b`, for the active-set
    /// refinement (`fit/active_set.rs`): ω within `arch`'s bounds (`[1e-8·v, 10·v]` for
    /// GARCH/GJR, `ln v ± ln 1e4` for EGARCH, `v` the mean squared starting residual), α ≥ 0,
    /// α + γ ≥ 0 (γ ≥ 0 alone), β ≥ 0, `Σα + Σγ/2 + Σβ ≤ 1` (EGARCH: 0 ≤ β ≤ 1), and the shape
    /// parameters' bounds. Each comes with a name for the report's `at_bounds`.
    pub(crate) fn linear_constraints(&self, v: f64, names: &[String]) -> Vec<Constraint> {
        let k = self.layout.len;
        let unit = |i: usize, sign: f64, b: f64, name: String| {
            let mut a = vec![0.0; k];
            a[i] = sign;
            Constraint { a, b, name }
        };
        let mut out = Vec::new();
        let w = self.layout.vol;
        match self.spec.volatility {
            VolatilityModel::Garch(g) => {
                out.push(unit(
                    w,
                    1.0,
                    1e-8 * v,
                    "omega at its lower bound (1e-8·mean e²)".into(),
                ));
                out.push(unit(
                    w,
                    -1.0,
                    -10.0 * v,
                    "omega at its upper bound (10·mean e²)".into(),
                ));
                let first = w + 1;
                let slots = garch_slots(g.p(), g.o(), g.q());
                let mut persistence = vec![0.0; k];
                for (i, slot) in slots.iter().enumerate() {
                    let name = &names[first + i];
                    match *slot {
                        Slot::PairedGamma { alpha_offset } => {
                            let mut a = vec![0.0; k];
                            a[first + i] = 1.0;
                            a[first + alpha_offset - 1] = 1.0;
                            let alpha = &names[first + alpha_offset - 1];
                            out.push(Constraint {
                                a,
                                b: 0.0,
                                name: format!("{alpha} + {name} = 0 (on the bound α + γ ≥ 0)"),
                            });
                            persistence[first + i] = -0.5;
                        }
                        Slot::LoneGamma => {
                            out.push(unit(
                                first + i,
                                1.0,
                                0.0,
                                format!("{name} = 0 (lower bound)"),
                            ));
                            persistence[first + i] = -0.5;
                        }
                        Slot::Plain | Slot::PairedAlpha => {
                            out.push(unit(
                                first + i,
                                1.0,
                                0.0,
                                format!("{name} = 0 (lower bound)"),
                            ));
                            persistence[first + i] = -1.0;
                        }
                    }
                }
                out.push(Constraint {
                    a: persistence,
                    b: -1.0,
                    name: "persistence = 1 (on the stationarity bound)".into(),
                });
            }
            VolatilityModel::Egarch => {
                let (lnv, c) = (v.ln(), 1e4f64.ln());
                out.push(unit(
                    w,
                    1.0,
                    lnv - c,
                    "omega at its lower bound (ln v − ln 1e4)".into(),
                ));
                out.push(unit(
                    w,
                    -1.0,
                    -(lnv + c),
                    "omega at its upper bound (ln v + ln 1e4)".into(),
                ));
                out.push(unit(w + 3, 1.0, 0.0, "beta = 0 (lower bound)".into()));
                out.push(unit(
                    w + 3,
                    -1.0,
                    -1.0,
                    "beta = 1 (on the stationarity bound)".into(),
                ));
            }
        }
        if let Some(n) = self.layout.nu {
            for (i, &(lo, hi)) in shape_bounds(self.spec.distribution).iter().enumerate() {
                let name = &names[n + i];
                out.push(unit(n + i, 1.0, lo, format!("{name} = {lo} (lower bound)")));
                out.push(unit(
                    n + i,
                    -1.0,
                    -hi,
                    format!("{name} = {hi} (upper bound)"),
                ));
            }
        }
        out
    }

    /// Human-readable notes on parameters that sit (numerically) on a constraint.
    pub(crate) fn near_bounds(&self, params: &[f64], names: &[String]) -> Vec<String> {
        let mut notes = Vec::new();
        let first = self.layout.vol + 1;
        match self.spec.volatility {
            VolatilityModel::Garch(g) => {
                let comps = self.components(params);
                for (i, (slot, c)) in garch_slots(g.p(), g.o(), g.q())
                    .iter()
                    .zip(&comps)
                    .enumerate()
                {
                    if *c < BOUND_TOL {
                        notes.push(match slot {
                            Slot::PairedGamma { alpha_offset } => format!(
                                "{} + {} ≈ 0 (on the bound α + γ ≥ 0)",
                                names[first + alpha_offset - 1],
                                names[first + i]
                            ),
                            _ => format!("{} ≈ 0 (on its lower bound)", names[first + i]),
                        });
                    }
                }
                if 1.0 - comps.iter().sum::<f64>() < BOUND_TOL {
                    notes.push("persistence ≈ 1 (on the stationarity bound)".into());
                }
            }
            VolatilityModel::Egarch => {
                let b = params[self.layout.vol + 3];
                if b > 1.0 - BOUND_TOL {
                    notes.push("beta ≈ 1 (on the stationarity bound)".into());
                } else if b < BOUND_TOL {
                    notes.push("beta ≈ 0 (on its lower bound)".into());
                }
            }
        }
        if let Some(n) = self.layout.nu {
            let dist = self.spec.distribution;
            for (i, &(lo, hi)) in shape_bounds(dist).iter().enumerate() {
                let (x, name) = (params[n + i], &names[n + i]);
                let span = hi - lo;
                if x > hi - 1e-6 * span {
                    let why = match (dist, i) {
                        (Distribution::StudentT | Distribution::SkewT, 0) => {
                            "; tails look normal, the shape is unidentified"
                        }
                        _ => "",
                    };
                    notes.push(format!("{name} ≈ {hi} (upper bound{why})"));
                } else if x < lo + 1e-6 * span.min(1.0) {
                    notes.push(format!("{name} ≈ {lo} (lower bound)"));
                }
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Distribution, GarchOrders, MeanModel};

    fn roundtrip(spec: ModelSpec, params: &[f64]) {
        let tr = Transform::new(spec);
        let theta = tr.to_theta(params);
        let mut back = vec![0.0; params.len()];
        tr.to_params(&theta, &mut back, None);
        for (a, b) in params.iter().zip(&back) {
            assert!((a - b).abs() < 1e-12, "{params:?} -> {back:?}");
        }
        assert!(tr.is_feasible(&back));
    }

    #[test]
    fn roundtrips() {
        use Distribution::*;
        roundtrip(
            ModelSpec::new(MeanModel::Constant, VolatilityModel::garch(), Normal),
            &[0.05, 0.02, 0.1, 0.88],
        );
        roundtrip(
            ModelSpec::new(MeanModel::Constant, VolatilityModel::gjr(), StudentT),
            &[0.03, 0.02, 0.01, 0.15, 0.88, 7.0],
        );
        // γ < 0 with α + γ ≥ 0.
        roundtrip(
            ModelSpec::new(MeanModel::Zero, VolatilityModel::gjr(), Normal),
            &[0.02, 0.1, -0.05, 0.85],
        );
        roundtrip(
            ModelSpec::new(MeanModel::Zero, VolatilityModel::egarch(), StudentT),
            &[0.01, 0.12, -0.08, 0.97, 6.0],
        );
        let g212 = VolatilityModel::Garch(GarchOrders::new(2, 1, 2).unwrap());
        roundtrip(
            ModelSpec::new(MeanModel::Zero, g212, Normal),
            &[0.02, 0.05, 0.03, 0.1, 0.4, 0.3],
        );
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let spec = ModelSpec::new(
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::StudentT,
        );
        let tr = Transform::new(spec);
        let theta = [0.1, -3.0, -2.0, -1.5, 1.2, 0.3];
        let k = theta.len();
        let mut p0 = vec![0.0; k];
        let mut jac = vec![0.0; k * k];
        tr.to_params(&theta, &mut p0, Some(&mut jac));
        for j in 0..k {
            let h = 1e-6;
            let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
            tp[j] += h;
            tm[j] -= h;
            let (mut pp, mut pm) = (vec![0.0; k], vec![0.0; k]);
            tr.to_params(&tp, &mut pp, None);
            tr.to_params(&tm, &mut pm, None);
            for i in 0..k {
                let fd = (pp[i] - pm[i]) / (2.0 * h);
                assert!((fd - jac[i * k + j]).abs() < 1e-7, "d{i}/d{j}");
            }
        }
    }
}
