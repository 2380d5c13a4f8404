//! What to fit: a [`ModelSpec`] names the mean, the volatility process and the error
//! distribution, and fixes the layout of the parameter vector.
//!
//! The layout follows `arch` so that parameter vectors can be compared index by index: the mean
//! block (`mu` for a constant mean, `Const, y[1], …, y[p]` for an AR(p) mean as `arch`'s `ARX`
//! names them, nothing for a zero mean), `omega, alpha[1..p], gamma[1..o], beta[1..q]`, then the
//! error law's shape parameters: `nu` (Student-t, GED), `eta, lambda` (skewed t), none (normal).

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
///
/// Serialised as `"constant"`, `"zero"` or `{"ar": p}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeanModel {
    /// `r_t = μ + ε_t` (default).
    #[default]
    Constant,
    /// `r_t = ε_t`.
    Zero,
    /// `r_t = c + φ_1 r_{t−1} + … + φ_p r_{t−p} + ε_t`: `arch`'s `ARX` with `lags = p`, a
    /// constant and no exogenous regressors. The first `p` observations are only regressors;
    /// the likelihood is over the remaining `T − p` (see [`crate::mean`]).
    Ar(ArLags),
}

/// The order `p` of an AR(p) mean: `1 ≤ p ≤` [`ArLags::MAX`] (an AR(0) mean is
/// [`MeanModel::Constant`], so it is not representable here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = usize, minimum = 1, maximum = 10))]
pub struct ArLags(usize);

impl ArLags {
    /// Largest AR order accepted.
    pub const MAX: usize = 10;

    /// Validates the order.
    pub fn new(p: usize) -> Result<Self, SpecError> {
        if (1..=Self::MAX).contains(&p) {
            Ok(Self(p))
        } else {
            Err(SpecError::UnsupportedOrder {
                model: "ar",
                detail: format!("lags must be between 1 and {}, got {p}", Self::MAX),
            })
        }
    }
    /// The order `p`.
    pub fn get(self) -> usize {
        self.0
    }
}

impl TryFrom<usize> for ArLags {
    type Error = SpecError;
    fn try_from(p: usize) -> Result<Self, SpecError> {
        Self::new(p)
    }
}

impl From<ArLags> for usize {
    fn from(l: ArLags) -> usize {
        l.0
    }
}

impl MeanModel {
    /// An AR(p) mean, `p` validated by [`ArLags::new`].
    pub fn ar(p: usize) -> Result<Self, SpecError> {
        ArLags::new(p).map(MeanModel::Ar)
    }

    /// A mean from its name and, for `ar`, its number of lags: `("ar", Some(p))`,
    /// `("constant" | "zero", None)`. Lags with another mean, or `ar` without them, are errors.
    pub fn from_name_and_lags(name: &str, lags: Option<usize>) -> Result<Self, SpecError> {
        let base = match name.to_ascii_lowercase().as_str() {
            "ar" => None,
            _ => Some(name.parse::<MeanModel>()?),
        };
        match (base, lags) {
            (None, Some(p)) => Self::ar(p),
            (None, None) => Err(SpecError::UnsupportedOrder {
                model: "ar",
                detail: format!("an ar mean needs lags (1 to {})", ArLags::MAX),
            }),
            (Some(m), None) => Ok(m),
            (Some(m), Some(_)) => Err(SpecError::UnsupportedOrder {
                model: "ar",
                detail: format!("lags apply only to the ar mean, not to the {m} mean"),
            }),
        }
    }

    /// Number of mean parameters: 1 (constant), 0 (zero), `1 + p` (AR(p)).
    pub fn n_params(&self) -> usize {
        match self {
            MeanModel::Constant => 1,
            MeanModel::Zero => 0,
            MeanModel::Ar(l) => 1 + l.get(),
        }
    }

    /// Observations used only as regressors before the first residual: `p` for AR(p), else 0
    /// (`arch`'s `hold_back`).
    pub fn hold_back(&self) -> usize {
        match self {
            MeanModel::Ar(l) => l.get(),
            _ => 0,
        }
    }
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
            // `ar(p)`, as [`fmt::Display`] writes it.
            other => match other
                .strip_prefix("ar(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|p| p.parse::<usize>().ok())
            {
                Some(p) => Self::ar(p),
                None => Err(SpecError::UnknownName {
                    what: "mean",
                    value: s.into(),
                    expected: "constant, zero, ar(p)",
                }),
            },
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
        match self {
            MeanModel::Constant => f.write_str("constant"),
            MeanModel::Zero => f.write_str("zero"),
            MeanModel::Ar(l) => write!(f, "ar({})", l.get()),
        }
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
    /// Index of μ, if the mean is constant (the fast kernels' single mean parameter).
    pub mu: Option<usize>,
    /// Number of mean parameters, at indices `0..n_mean` (μ; or `Const, y[1], …` for AR).
    pub n_mean: usize,
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
        let vol = self.mean.n_params();
        let after_vol = vol + self.volatility.n_params();
        let n_shape = self.distribution.shape_names().len();
        let nu = (n_shape > 0).then_some(after_vol);
        Layout {
            mu,
            n_mean: vol,
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

    /// Parameter names in vector order: `mu` (or `Const, y[1], …, y[p]` for an AR(p) mean, as
    /// `arch`'s `ARX` names them), `omega, alpha, gamma, beta` and the shape parameters (`nu`;
    /// `eta, lambda` for the skewed t) for first-order models, `alpha[1], alpha[2], …` when an
    /// order exceeds one.
    pub fn param_names(&self) -> Vec<String> {
        let (p, o, q) = self.volatility.orders();
        let mut names = Vec::with_capacity(self.n_params());
        match self.mean {
            MeanModel::Constant => names.push("mu".to_string()),
            MeanModel::Zero => {}
            MeanModel::Ar(l) => {
                names.push("Const".to_string());
                names.extend((1..=l.get()).map(|i| format!("y[{i}]")));
            }
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

    #[test]
    fn ar_mean_layout_names_and_parsing() {
        let spec = ModelSpec::new(
            MeanModel::ar(2).unwrap(),
            VolatilityModel::gjr(),
            Distribution::SkewT,
        );
        assert_eq!(
            spec.param_names(),
            [
                "Const", "y[1]", "y[2]", "omega", "alpha", "gamma", "beta", "eta", "lambda"
            ]
        );
        let l = spec.layout();
        assert_eq!(
            (l.mu, l.n_mean, l.vol, l.nu, l.len),
            (None, 3, 3, Some(7), 9)
        );
        assert!(MeanModel::ar(0).is_err());
        assert!(MeanModel::ar(ArLags::MAX + 1).is_err());
        let ar3 = MeanModel::ar(3).unwrap();
        assert_eq!(ar3.to_string().parse::<MeanModel>(), Ok(ar3));
        assert_eq!(MeanModel::from_name_and_lags("AR", Some(3)), Ok(ar3));
        assert!(MeanModel::from_name_and_lags("ar", None).is_err());
        assert!(MeanModel::from_name_and_lags("constant", Some(1)).is_err());
        assert!(MeanModel::from_name_and_lags("ar", Some(0)).is_err());
        assert_eq!(
            MeanModel::from_name_and_lags("zero", None),
            Ok(MeanModel::Zero)
        );
        // Serde: unit variants as before, AR as {"ar": p}, p validated.
        let json = serde_json::to_string(&ar3).unwrap();
        assert_eq!(json, r#"{"ar":3}"#);
        assert_eq!(serde_json::from_str::<MeanModel>(&json).unwrap(), ar3);
        assert!(serde_json::from_str::<MeanModel>(r#"{"ar":0}"#).is_err());
        assert_eq!(
            serde_json::to_string(&MeanModel::Zero).unwrap(),
            r#""zero""#
        );
    }
}
