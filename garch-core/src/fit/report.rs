//! From an estimate to the [`FitReport`] the services serialise: standard errors, t
//! statistics and p-values, information criteria, persistence, half-life and the
//! unconditional (and annualised) volatility.

use nalgebra::DMatrix;

use crate::report::{FitReport, ParameterEstimate, ReportEssentials, TRADING_DAYS_PER_YEAR};
use crate::spec::{Layout, ModelSpec, VolatilityModel};

fn persistence(spec: &ModelSpec, layout: &Layout, params: &[f64]) -> f64 {
    let v = layout.vol;
    match spec.volatility {
        VolatilityModel::Garch(g) => {
            let (p, o, q) = (g.p(), g.o(), g.q());
            let a: f64 = params[v + 1..v + 1 + p].iter().sum();
            let gm: f64 = params[v + 1 + p..v + 1 + p + o].iter().sum();
            let b: f64 = params[v + 1 + p + o..v + 1 + p + o + q].iter().sum();
            a + gm / 2.0 + b
        }
        VolatilityModel::Egarch => params[v + 3],
    }
}

fn two_sided_p(t: f64) -> f64 {
    statrs::function::erf::erfc(t.abs() / std::f64::consts::SQRT_2)
}

/// Standard errors from the covariance's diagonal (`None` where it is not a finite,
/// non-negative number, or without a covariance).
pub(super) fn std_errs_of(cov: Option<&DMatrix<f64>>, k: usize) -> Vec<Option<f64>> {
    (0..k)
        .map(|i| {
            cov.map(|c| c[(i, i)])
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(f64::sqrt)
        })
        .collect()
}

/// Assembles the report from its essentials (lengths already checked against the model);
/// everything else in it follows from them ([`FitReport::from_essentials`] relies on that).
pub(crate) fn build_report(spec: ModelSpec, essentials: ReportEssentials) -> FitReport {
    let ReportEssentials {
        values: params,
        std_errs,
        covariance_type,
        log_likelihood,
        nobs,
        converged,
        iterations,
        function_evaluations,
        status,
        at_bounds,
    } = essentials;
    let layout = spec.layout();
    let names = spec.param_names();
    let estimates = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let std_err = std_errs[i];
            let t_stat = std_err.filter(|s| *s > 0.0).map(|s| params[i] / s);
            ParameterEstimate {
                name: name.clone(),
                value: params[i],
                std_err,
                t_stat,
                p_value: t_stat.map(two_sided_p),
            }
        })
        .collect();
    let k = params.len() as f64;
    let pers = persistence(&spec, &layout, &params);
    let stationary = pers < 1.0 && pers > 0.0;
    let omega = params[layout.vol];
    let unconditional_variance = (pers < 1.0).then(|| match spec.volatility {
        VolatilityModel::Garch(_) => omega / (1.0 - pers),
        VolatilityModel::Egarch => (omega / (1.0 - pers)).exp(),
    });
    FitReport {
        spec,
        params: estimates,
        covariance_type,
        log_likelihood,
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * (nobs as f64).ln() - 2.0 * log_likelihood,
        nobs,
        converged,
        iterations,
        function_evaluations,
        status,
        at_bounds,
        persistence: pers,
        half_life_days: stationary.then(|| 0.5f64.ln() / pers.ln()),
        unconditional_variance,
        annualized_volatility: unconditional_variance.map(|v| (TRADING_DAYS_PER_YEAR * v).sqrt()),
    }
}
