//! # garch-core
//!
//! The numerical core of the GARCH volatility and trading-signal services. It is pure
//! computation: it knows nothing of HTTP, processes or message queues.
//!
//! * [`series`]: validated input series ([`Prices`], [`Returns`]); prices → percent log returns.
//! * [`spec`]: what to fit ([`ModelSpec`]: mean, volatility process, error distribution).
//! * [`mean`]: the constant, zero and AR(p) means (`arch`'s `ConstantMean`, `ZeroMean`, `ARX`):
//!   residuals, least-squares starts, conditional-mean forecasts.
//! * [`fit()`]: maximum-likelihood estimation following the conventions of Python `arch` 8.0
//!   (backcast, variance bounds, starting grid), with an analytic gradient and robust
//!   (Bollerslev–Wooldridge) or classic standard errors; returns a [`FittedModel`] whose
//!   [`FitReport`] is what the services serialise.
//! * [`forecast`]: h-step conditional-mean and variance forecasts (variance analytic for
//!   GARCH/GJR, simulated for EGARCH h > 1).
//! * [`FittedModel::filter`]: apply fitted parameters to an extended series without refitting.
//! * Rolling re-estimation (the `backtest` crate): [`fit_from`] warm-starts a fit from given
//!   parameters, [`fit_warm`] from a previous fit's [`WarmStart`] (its optimum and the exact
//!   Hessian there, for a cheaper first Newton step); [`continued_variance`] continues a
//!   sub-range fit's variance path through later observations as `arch`'s
//!   `forecast(start=…)` does, and [`FittedModel::continued_forecasts`] gives its forecasts
//!   past the sample from the fitted path, without rerunning it where that is exact.
//! * [`simulate()`]: seeded simulation of every model.
//! * [`ShockLaw`]: the unit-variance law of the shocks at fixed shape parameters (density, CDF,
//!   quantile, expected shortfall), e.g. from [`FittedModel::shock_law`].
//! * [`batch`]: many assets at once, sequentially or in parallel with rayon (bit-identical).
//!
//! Units: returns are in percent (`100·Δln p`), so variances are in percent² per day;
//! annualised figures use 252 trading days.

pub mod batch;
mod distribution;
pub mod fit;
pub mod forecast;
mod likelihood;
pub mod mean;
pub mod report;
pub mod series;
pub mod simulate;
pub mod spec;
#[cfg(test)]
mod test_support;
mod transform;
mod variance;

pub use batch::{Execution, fit_batch};
pub use distribution::ShockLaw;
pub use fit::{
    FitError, FitOptions, FittedModel, LikelihoodKernel, WarmStart, arch_starting_values,
    check_params, fit, fit_from, fit_warm, fix, log_likelihood_with_gradient, standard_errors,
};
pub use forecast::{
    Forecast, ForecastError, ForecastIntervals, ForecastMethod, ForecastOptions, ForecastStep,
    IntervalStep, ReturnQuantile, continued_variance,
};
pub use report::{CovarianceType, FitReport, ParameterEstimate, ReportEssentials};
pub use series::{MIN_OBSERVATIONS, Prices, ReturnScale, Returns, SeriesError};
pub use simulate::{Simulation, simulate, simulate_with_rng};
pub use spec::{
    ArLags, Distribution, GarchOrders, MeanModel, ModelSpec, SpecError, VolatilityModel,
};
