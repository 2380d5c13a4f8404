//! What a backtest does: the estimation scheme (rolling or expanding window), the refit
//! cadence, the VaR levels and forecast horizons, validated once into a [`BacktestConfig`] so
//! that the engine never sees an impossible setting.
//!
//! The scheme is `arch`'s (see `fit(first_obs, last_obs)` in `arch/univariate/base.py`): the
//! model is estimated on `y[s..e]`, and between refits the one-step forecasts come from those
//! parameters with the variance recursion continued through the new observations
//! (`forecast(start=…)`), never from a refit.

use serde::{Deserialize, Serialize};

/// Fewest observations an estimation window may have: `arch`'s backcast uses the first 75
/// residuals, and a GARCH likelihood on fewer than about a hundred points is too flat to
/// identify persistence.
pub const MIN_WINDOW: usize = 100;
/// Longest forecast horizon reported per day.
pub const MAX_HORIZON: usize = 250;
/// Most VaR levels per backtest.
pub const MAX_LEVELS: usize = 8;

/// Rolling or expanding estimation windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scheme {
    /// The last `window` observations before each refit date.
    Rolling,
    /// Everything from the first observation up to each refit date (at least `window`).
    Expanding,
}

/// An invalid backtest setting. Each variant names the offending field, so that the services
/// can report it (problem+json `field`, CLI flag).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Window shorter than [`MIN_WINDOW`].
    #[error("window: must be at least {min} observations, got {got}")]
    WindowTooShort {
        /// Requested.
        got: usize,
        /// Smallest allowed.
        min: usize,
    },
    /// The series has no observation left after the first window.
    #[error(
        "window: {window} observations leave no out-of-sample day in a series of {len} returns"
    )]
    WindowTooLong {
        /// Requested window.
        window: usize,
        /// Returns in the series.
        len: usize,
    },
    /// `refit_every` of zero.
    #[error("refit_every: must be at least 1")]
    RefitEveryZero,
    /// No VaR level, or too many.
    #[error("levels: give between 1 and {max} levels, got {got}")]
    LevelCount {
        /// Given.
        got: usize,
        /// Most allowed.
        max: usize,
    },
    /// A VaR level outside (0, 0.5).
    #[error("levels: each level must be in (0, 0.5), got {0}")]
    LevelOutOfRange(f64),
    /// The same level twice.
    #[error("levels: {0} appears twice")]
    DuplicateLevel(f64),
    /// A horizon of zero or beyond [`MAX_HORIZON`].
    #[error("horizons: each horizon must be between 1 and {max}, got {got}")]
    Horizon {
        /// Given.
        got: usize,
        /// Largest allowed.
        max: usize,
    },
    /// Block of zero refits (universe runs).
    #[error("block: a block must hold at least one refit")]
    BlockZero,
}

impl ConfigError {
    /// The request field the error is about (`window`, `refit_every`, `levels`, `horizons`,
    /// `block`).
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::WindowTooShort { .. } | ConfigError::WindowTooLong { .. } => "window",
            ConfigError::RefitEveryZero => "refit_every",
            ConfigError::LevelCount { .. }
            | ConfigError::LevelOutOfRange(_)
            | ConfigError::DuplicateLevel(_) => "levels",
            ConfigError::Horizon { .. } => "horizons",
            ConfigError::BlockZero => "block",
        }
    }
}

/// A validated backtest setting. Build it with [`BacktestConfig::new`]; the fields are read-only.
/// Deserialising validates through [`BacktestConfig::new`] too (a serialised setting parses
/// back to an equal one; an invalid one is refused with the [`ConfigError`]'s message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConfigFields")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BacktestConfig {
    scheme: Scheme,
    window: usize,
    refit_every: usize,
    levels: Vec<f64>,
    horizons: Vec<usize>,
}

/// The serialised form of a [`BacktestConfig`], validated on the way in.
#[derive(Deserialize)]
struct ConfigFields {
    scheme: Scheme,
    window: usize,
    refit_every: usize,
    levels: Vec<f64>,
    #[serde(default)]
    horizons: Vec<usize>,
}

impl TryFrom<ConfigFields> for BacktestConfig {
    type Error = ConfigError;
    fn try_from(f: ConfigFields) -> Result<Self, ConfigError> {
        BacktestConfig::new(f.scheme, f.window, f.refit_every, &f.levels, &f.horizons)
    }
}

impl BacktestConfig {
    /// Validates a setting. `levels` are left-tail probabilities in (0, 0.5) (0.01 is the 99 %
    /// VaR), kept in ascending order; `horizons` are the forecast horizons reported each day
    /// besides the one-step forecast (may be empty).
    pub fn new(
        scheme: Scheme,
        window: usize,
        refit_every: usize,
        levels: &[f64],
        horizons: &[usize],
    ) -> Result<Self, ConfigError> {
        if window < MIN_WINDOW {
            return Err(ConfigError::WindowTooShort {
                got: window,
                min: MIN_WINDOW,
            });
        }
        if refit_every == 0 {
            return Err(ConfigError::RefitEveryZero);
        }
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(ConfigError::LevelCount {
                got: levels.len(),
                max: MAX_LEVELS,
            });
        }
        let mut sorted = Vec::with_capacity(levels.len());
        for &a in levels {
            // Written so that NaN fails too.
            if !(a > 0.0 && a < 0.5) {
                return Err(ConfigError::LevelOutOfRange(a));
            }
            if sorted.contains(&a) {
                return Err(ConfigError::DuplicateLevel(a));
            }
            sorted.push(a);
        }
        sorted.sort_by(f64::total_cmp);
        let mut hs = Vec::with_capacity(horizons.len());
        for &h in horizons {
            if h == 0 || h > MAX_HORIZON {
                return Err(ConfigError::Horizon {
                    got: h,
                    max: MAX_HORIZON,
                });
            }
            if !hs.contains(&h) {
                hs.push(h);
            }
        }
        hs.sort_unstable();
        Ok(Self {
            scheme,
            window,
            refit_every,
            levels: sorted,
            horizons: hs,
        })
    }

    /// Checks that a series of `len` returns leaves at least one out-of-sample day.
    pub fn check_len(&self, len: usize) -> Result<(), ConfigError> {
        if len <= self.window {
            return Err(ConfigError::WindowTooLong {
                window: self.window,
                len,
            });
        }
        Ok(())
    }

    /// Rolling or expanding.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// Estimation window (the initial one for expanding schemes).
    pub fn window(&self) -> usize {
        self.window
    }
    /// Observations between refits.
    pub fn refit_every(&self) -> usize {
        self.refit_every
    }
    /// VaR levels, ascending.
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }
    /// Extra forecast horizons, ascending.
    pub fn horizons(&self) -> &[usize] {
        &self.horizons
    }

    /// The estimation windows of a series of `len` returns, in order: refit `j` estimates on
    /// `[start, end)` with `end = window + j·refit_every` and forecasts the days
    /// `end .. min(end + refit_every, len)`.
    pub fn windows(&self, len: usize) -> Vec<Window> {
        let mut out = Vec::new();
        let mut end = self.window;
        while end < len {
            let start = match self.scheme {
                Scheme::Rolling => end - self.window,
                Scheme::Expanding => 0,
            };
            out.push(Window {
                start,
                end,
                forecast_end: (end + self.refit_every).min(len),
            });
            end += self.refit_every;
        }
        out
    }
}

/// One estimation window and the out-of-sample days it forecasts (indices into the returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// First estimation observation.
    pub start: usize,
    /// One past the last estimation observation; also the first day forecast.
    pub end: usize,
    /// One past the last day forecast with these parameters.
    pub forecast_end: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_out_of_sample_day_once() {
        let c = BacktestConfig::new(Scheme::Rolling, 100, 7, &[0.05, 0.01], &[5, 1, 5]).unwrap();
        assert_eq!(c.levels(), &[0.01, 0.05]);
        assert_eq!(c.horizons(), &[1, 5]);
        let w = c.windows(250);
        assert_eq!(
            w[0],
            Window {
                start: 0,
                end: 100,
                forecast_end: 107
            }
        );
        assert_eq!(w[1].start, 7);
        let days: Vec<usize> = w.iter().flat_map(|w| w.end..w.forecast_end).collect();
        assert_eq!(days, (100..250).collect::<Vec<_>>());
        let e = BacktestConfig::new(Scheme::Expanding, 100, 50, &[0.01], &[]).unwrap();
        assert!(e.windows(250).iter().all(|w| w.start == 0));
        assert_eq!(e.windows(250).last().unwrap().forecast_end, 250);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let bad = [
            BacktestConfig::new(Scheme::Rolling, 50, 1, &[0.01], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 0, &[0.01], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 1, &[0.5], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 1, &[f64::NAN], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 1, &[], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 1, &[0.01, 0.01], &[]),
            BacktestConfig::new(Scheme::Rolling, 500, 1, &[0.01], &[0]),
        ];
        let fields: Vec<&str> = bad
            .iter()
            .map(|r| r.as_ref().unwrap_err().field())
            .collect();
        assert_eq!(
            fields,
            [
                "window",
                "refit_every",
                "levels",
                "levels",
                "levels",
                "levels",
                "horizons"
            ]
        );
        let c = BacktestConfig::new(Scheme::Rolling, 500, 1, &[0.01], &[]).unwrap();
        assert_eq!(c.check_len(500).unwrap_err().field(), "window");
        assert!(c.check_len(501).is_ok());
    }
}
