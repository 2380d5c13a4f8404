//! What to fit: a [`ModelSpec`] names the mean, the volatility process and the error
//! distribution, and fixes the layout of the parameter vector.
//!
//! The layout follows `arch` so that parameter vectors can be compared index by index:
//! `[mu]` (constant mean only), `omega, alpha[1..p], gamma[1..o], beta[1..q]`, then the error
//! law's shape parameters: `nu` (Student-t, GED), `eta, lambda` (skewed t), none (normal).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a specification was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// An order combination the volatility process does not support.
    #[error("unsupported order for {model}: {detail}")]
    UnsupportedOrder {
        /// The process.
        model: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Shape parameters a distribution does not accept (wrong count or out of range).
    #[error("invalid shape parameters for the {distribution} distribution: {detail}")]
    InvalidShape {
        /// The distribution.
        distribution: String,
        /// What is wrong.
        detail: String,
    },
    /// A name that is not a known model, distribution or mean.
    #[error("unknown {what} '{value}'; expected one of {expected}")]
    UnknownName {
        /// Which kind of name.
        what: &'static str,
        /// The name given.
        value: String,
        /// The accepted names.
        expected: &'static str,
    },
}

/// The conditional mean of the returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeanModel {
    /// `r_t = μ + ε_t` (default).
    #[default]
    Constant,
    /// `r_t = ε_t`.
    Zero,
}

/// Lag orders of a GARCH-type process: `p` symmetric ARCH lags, `o` asymmetric (threshold) lags,
/// `q` lagged variances. Guaranteed `p ≥ 1` and all orders ≤ [`GarchOrders::MAX_ORDER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawOrders", into = "RawOrders")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GarchOrders {
    p: usize,
    o: usize,
    q: usize,
}

#[derive(Serialize, Deserialize)]
struct RawOrders {
    p: usize,
    o: usize,
    q: usize,
}

impl TryFrom<RawOrders> for GarchOrders {
    type Error = SpecError;
    fn try_from(r: RawOrders) -> Result<Self, SpecError> {
        GarchOrders::new(r.p, r.o, r.q)
    }
}

impl From<GarchOrders> for RawOrders {
    fn from(g: GarchOrders) -> Self {
        RawOrders {
            p: g.p,
            o: g.o,
            q: g.q,
        }
    }
}

impl GarchOrders {
    /// Largest lag order accepted for any term.
    pub const MAX_ORDER: usize = 8;

    /// Validates the orders.
    pub fn new(p: usize, o: usize, q: usize) -> Result<Self, SpecError> {
        if p == 0 {
            return Err(SpecError::UnsupportedOrder {
                model: "garch",
                detail: "p must be at least 1".into(),
            });
        }
        if p.max(o).max(q) > Self::MAX_ORDER {
            return Err(SpecError::UnsupportedOrder {
                model: "garch",
                detail: format!("orders above {} are not supported", Self::MAX_ORDER),
            });
        }
        Ok(Self { p, o, q })
    }
    /// Symmetric ARCH lags.
    pub fn p(&self) -> usize {
        self.p
    }
    /// Asymmetric (threshold) lags.
    pub fn o(&self) -> usize {
        self.o
    }
    /// Lagged conditional variances.
    pub fn q(&self) -> usize {
        self.q
    }
}

/// The conditional-variance process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VolatilityModel {
    /// GARCH(p, q) (Bollerslev 1986) or, with `o > 0`, GJR-GARCH(p, o, q) (Glosten, Jagannathan
    /// and Runkle 1993):
    /// `σ²_t = ω + Σα_i ε²_{t−i} + Σγ_j ε²_{t−j}·1[ε_{t−j} < 0] + Σβ_k σ²_{t−k}`.
    Garch(GarchOrders),
    /// EGARCH(1,1,1) (Nelson 1991) as `arch` writes it:
    /// `ln σ²_t = ω + α(|z_{t−1}| − √(2/π)) + γ z_{t−1} + β ln σ²_{t−1}`, `z = ε/σ`.
    Egarch,
}

impl VolatilityModel {
    /// GARCH(1,1).
    pub const fn garch() -> Self {
        VolatilityModel::Garch(GarchOrders { p: 1, o: 0, q: 1 })
    }
    /// GJR-GARCH(1,1,1).
    pub const fn gjr() -> Self {
        VolatilityModel::Garch(GarchOrders { p: 1, o: 1, q: 1 })
    }
    /// EGARCH(1,1,1).
    pub const fn egarch() -> Self {
        VolatilityModel::Egarch
    }

    /// Orders `(p, o, q)`.
    pub fn orders(&self) -> (usize, usize, usize) {
        match self {
            VolatilityModel::Garch(g) => (g.p, g.o, g.q),
            VolatilityModel::Egarch => (1, 1, 1),
        }
    }

    /// Number of variance parameters (ω and the lag coefficients).
    pub fn n_params(&self) -> usize {
        let (p, o, q) = self.orders();
        1 + p + o + q
    }

    /// Short name: `garch`, `gjr` or `egarch` for the first-order models, otherwise e.g.
    /// `gjr(2,1,1)`.
    pub fn name(&self) -> String {
        match self {
            VolatilityModel::Garch(g) if g.o == 0 && g.p == 1 && g.q == 1 => "garch".into(),
            VolatilityModel::Garch(g) if g.p == 1 && g.o == 1 && g.q == 1 => "gjr".into(),
            VolatilityModel::Garch(g) if g.o == 0 => format!("garch({},{})", g.p, g.q),
            VolatilityModel::Garch(g) => format!("gjr({},{},{})", g.p, g.o, g.q),
            VolatilityModel::Egarch => "egarch".into(),
        }
    }
}

impl FromStr for VolatilityModel {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "garch" => Ok(Self::garch()),
            "gjr" | "gjr-garch" | "gjr_garch" => Ok(Self::gjr()),
            "egarch" => Ok(Self::egarch()),
            _ => Err(SpecError::UnknownName {
                what: "model",
                value: s.into(),
                expected: "garch, gjr, egarch",
            }),
        }
    }
}

/// Distribution of the standardised errors `z_t = ε_t / σ_t`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Distribution {
    /// Standard normal (default).
    #[default]
    Normal,
    /// Student's t standardised to unit variance, shape ν > 2 (estimated).
    #[serde(rename = "t")]
    StudentT,
    /// Hansen's (1994) skewed Student-t standardised to unit variance, as `arch`'s
    /// `SkewStudent`: tail shape η > 2 and skewness λ in (−1, 1) (both estimated).
    #[serde(rename = "skewt")]
    SkewT,
    /// The generalised error distribution standardised to unit variance, as `arch`'s
    /// `GeneralizedError`: shape ν > 1 (ν = 2 is the normal, ν < 2 has heavier tails).
    Ged,
}

impl Distribution {
    /// Names of the law's shape parameters in `arch`'s order (`[]` normal, `[nu]` Student-t).
    pub fn shape_names(&self) -> &'static [&'static str] {
        match self {
            Distribution::Normal => &[],
            Distribution::StudentT | Distribution::Ged => &["nu"],
            Distribution::SkewT => &["eta", "lambda"],
        }
    }
}

impl FromStr for Distribution {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "normal" | "gaussian" => Ok(Self::Normal),
            "t" | "studentst" | "student-t" | "student_t" => Ok(Self::StudentT),
            "skewt" | "skew-t" | "skew_t" | "skewstudent" => Ok(Self::SkewT),
            "ged" | "generalizederror" | "generalized-error" => Ok(Self::Ged),
            _ => Err(SpecError::UnknownName {
                what: "distribution",
                value: s.into(),
                expected: "normal, t, skewt, ged",
            }),
        }
    }
}

impl FromStr for MeanModel {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "constant" => Ok(Self::Constant),
            "zero" => Ok(Self::Zero),
            _ => Err(SpecError::UnknownName {
                what: "mean",
                value: s.into(),
                expected: "constant, zero",
            }),
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Distribution::Normal => "normal",
            Distribution::StudentT => "t",
            Distribution::SkewT => "skewt",
            Distribution::Ged => "ged",
        })
    }
}

impl fmt::Display for MeanModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MeanModel::Constant => "constant",
            MeanModel::Zero => "zero",
        })
    }
}

impl fmt::Display for VolatilityModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A complete model: mean, volatility process and error distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSpec {
    /// Conditional mean.
    pub mean: MeanModel,
    /// Conditional variance process.
    pub volatility: VolatilityModel,
    /// Error distribution.
    pub distribution: Distribution,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self::new(
            MeanModel::Constant,
            VolatilityModel::garch(),
            Distribution::Normal,
        )
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{} ({} mean)",
            self.volatility, self.distribution, self.mean
        )
    }
}

/// Where each block of parameters sits in a parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Index of μ, if the mean has one.
    pub mu: Option<usize>,
    /// Index of ω; the lag coefficients follow it.
    pub vol: usize,
    /// Index of the first shape parameter (ν of Student-t and GED, η of the skewed t), if the
    /// distribution has one.
    pub nu: Option<usize>,
    /// Number of shape parameters (0, 1 or 2), from index `nu` on.
    pub n_shape: usize,
    /// Total number of parameters.
    pub len: usize,
}

impl ModelSpec {
    /// A specification.
    pub const fn new(
        mean: MeanModel,
        volatility: VolatilityModel,
        distribution: Distribution,
    ) -> Self {
        Self {
            mean,
            volatility,
            distribution,
        }
    }

    pub(crate) fn layout(&self) -> Layout {
        let mu = matches!(self.mean, MeanModel::Constant).then_some(0);
        let vol = usize::from(mu.is_some());
        let after_vol = vol + self.volatility.n_params();
        let n_shape = self.distribution.shape_names().len();
        let nu = (n_shape > 0).then_some(after_vol);
        Layout {
            mu,
            vol,
            nu,
            n_shape,
            len: after_vol + n_shape,
        }
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.layout().len
    }

    /// Parameter names in vector order: `mu, omega, alpha, gamma, beta` and the shape
    /// parameters (`nu`; `eta, lambda` for the skewed t) for first-order models,
    /// `alpha[1], alpha[2], …` when an order exceeds one.
    pub fn param_names(&self) -> Vec<String> {
        let (p, o, q) = self.volatility.orders();
        let mut names = Vec::with_capacity(self.n_params());
        if self.mean == MeanModel::Constant {
            names.push("mu".to_string());
        }
        names.push("omega".to_string());
        let lagged = |names: &mut Vec<String>, base: &str, n: usize| {
            for i in 1..=n {
                names.push(if n == 1 {
                    base.to_string()
                } else {
                    format!("{base}[{i}]")
                });
            }
        };
        lagged(&mut names, "alpha", p);
        lagged(&mut names, "gamma", o);
        lagged(&mut names, "beta", q);
        names.extend(
            self.distribution
                .shape_names()
                .iter()
                .map(|n| n.to_string()),
        );
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_arch_layout() {
        let spec = ModelSpec::new(
            MeanModel::Constant,
            VolatilityModel::gjr(),
            Distribution::StudentT,
        );
        assert_eq!(
            spec.param_names(),
            ["mu", "omega", "alpha", "gamma", "beta", "nu"]
        );
        let l = spec.layout();
        assert_eq!((l.mu, l.vol, l.nu, l.len), (Some(0), 1, Some(5), 6));
        let skew = ModelSpec::new(
            MeanModel::Zero,
            VolatilityModel::egarch(),
            Distribution::SkewT,
        );
        assert_eq!(
            skew.param_names(),
            ["omega", "alpha", "gamma", "beta", "eta", "lambda"]
        );
        let l = skew.layout();
        assert_eq!((l.mu, l.nu, l.n_shape, l.len), (None, Some(4), 2, 6));
        let zero = ModelSpec::new(
            MeanModel::Zero,
            VolatilityModel::garch(),
            Distribution::Normal,
        );
        assert_eq!(zero.param_names(), ["omega", "alpha", "beta"]);
        let g21 = VolatilityModel::Garch(GarchOrders::new(2, 0, 1).unwrap());
        let spec = ModelSpec::new(MeanModel::Zero, g21, Distribution::Normal);
        assert_eq!(
            spec.param_names(),
            ["omega", "alpha[1]", "alpha[2]", "beta"]
        );
    }

    #[test]
    fn parses_names() {
        assert_eq!("GJR".parse::<VolatilityModel>(), Ok(VolatilityModel::gjr()));
        assert_eq!("t".parse::<Distribution>(), Ok(Distribution::StudentT));
        for d in [
            Distribution::Normal,
            Distribution::StudentT,
            Distribution::SkewT,
            Distribution::Ged,
        ] {
            assert_eq!(d.to_string().parse::<Distribution>(), Ok(d));
        }
        assert!("arma".parse::<VolatilityModel>().is_err());
        assert!(GarchOrders::new(0, 1, 1).is_err());
    }
}
