//! Forecast evaluation against a variance proxy.
//!
//! * Losses robust to the noise of the proxy (Patton 2011, "Volatility forecast comparison
//!   using imperfect volatility proxies", *Journal of Econometrics* 160): QLIKE
//!   `RV/h − ln(RV/h) − 1` (zero at `h = RV`) and MSE `(RV − h)²`.
//! * Mincer–Zarnowitz (1969) regression `RV_t = a + b·h_t + e_t` by OLS: unbiased forecasts have
//!   `a = 0`, `b = 1`; `R²` measures how much of the proxy's variation the forecast explains.
//! * Diebold–Mariano (1995), "Comparing predictive accuracy", *JBES* 13: `d_t = L1_t − L2_t`,
//!   `DM = d̄ / √(LRV/T)`, the long-run variance by Newey–West (1987) with Bartlett weights
//!   `1 − j/(L+1)` and autocovariances divided by `T`; the lag `L = ⌊4(T/100)^{2/9}⌋`
//!   (Newey–West 1994's rule) unless given; two-sided p-value from the standard normal.
//!
//! QLIKE is undefined where the proxy is zero (a day without a price change and no intraday
//! bars): such days have no QLIKE and are left out of its mean and of QLIKE comparisons; the
//! count is reported.

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

/// Which variance proxy a day used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Proxy {
    /// Realized variance from intraday bars (with the overnight part, as supplied).
    RealizedVariance,
    /// The squared daily return `r_t²`.
    SquaredReturn,
}

/// QLIKE loss of forecast `h` against proxy `rv`; `None` where `rv ≤ 0` or `h ≤ 0`.
pub fn qlike(rv: f64, h: f64) -> Option<f64> {
    (rv > 0.0 && h > 0.0).then(|| {
        let x = rv / h;
        x - x.ln() - 1.0
    })
}

/// MSE loss of forecast `h` against proxy `rv`.
pub fn mse(rv: f64, h: f64) -> f64 {
    (rv - h) * (rv - h)
}

/// Mincer–Zarnowitz regression result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MincerZarnowitz {
    /// Intercept `a`.
    pub a: f64,
    /// Slope `b`.
    pub b: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Observations.
    pub n: usize,
}

/// OLS of `proxy` on `forecast`; `None` with fewer than three points or a constant forecast.
pub fn mincer_zarnowitz(proxy: &[f64], forecast: &[f64]) -> Option<MincerZarnowitz> {
    let n = proxy.len().min(forecast.len());
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let my = proxy[..n].iter().sum::<f64>() / nf;
    let mx = forecast[..n].iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (y, x) in proxy.iter().zip(forecast) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        0.0
    };
    Some(MincerZarnowitz { a, b, r2, n })
}

/// Diebold–Mariano test result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DieboldMariano {
    /// Mean loss differential `mean(L1 − L2)` (negative: the first model is better).
    pub mean_difference: f64,
    /// The statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Newey–West lag used.
    pub lags: usize,
    /// Observations.
    pub n: usize,
}

/// Newey–West (1994) rule-of-thumb lag for `n` observations, `⌊4(n/100)^{2/9}⌋`.
pub fn newey_west_lag(n: usize) -> usize {
    (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// Diebold–Mariano on two aligned loss series; `lags` defaults to [`newey_west_lag`]. `None`
/// with fewer than two points or a long-run variance that is zero up to rounding (a constant
/// differential, e.g. identical losses).
pub fn diebold_mariano(l1: &[f64], l2: &[f64], lags: Option<usize>) -> Option<DieboldMariano> {
    let n = l1.len().min(l2.len());
    if n < 2 {
        return None;
    }
    let d: Vec<f64> = l1.iter().zip(l2).map(|(a, b)| a - b).collect();
    let nf = n as f64;
    let mean = d.iter().sum::<f64>() / nf;
    let dev: Vec<f64> = d.iter().map(|x| x - mean).collect();
    let lags = lags.unwrap_or_else(|| newey_west_lag(n)).min(n - 1);
    let gamma = |j: usize| dev[j..].iter().zip(&dev).map(|(a, b)| a * b).sum::<f64>() / nf;
    let mut lrv = gamma(0);
    for j in 1..=lags {
        lrv += 2.0 * (1.0 - j as f64 / (lags as f64 + 1.0)) * gamma(j);
    }
    // Zero up to rounding (a constant differential) counts as zero.
    let scale = d.iter().fold(0.0f64, |m, x| m.max(x * x));
    if lrv <= 1e-20 * scale || !lrv.is_finite() {
        return None;
    }
    let statistic = mean / (lrv / nf).sqrt();
    Some(DieboldMariano {
        mean_difference: mean,
        statistic,
        p_value: erfc(statistic.abs() / std::f64::consts::SQRT_2),
        lags,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_are_zero_at_the_proxy() {
        assert_eq!(qlike(2.0, 2.0), Some(0.0));
        assert!(qlike(2.0, 1.0).unwrap() > 0.0 && qlike(1.0, 2.0).unwrap() > 0.0);
        assert_eq!(qlike(0.0, 1.0), None);
        assert_eq!(mse(3.0, 1.0), 4.0);
    }

    #[test]
    fn mincer_zarnowitz_recovers_a_line() {
        let x: Vec<f64> = (0..50).map(|i| 1.0 + i as f64 * 0.1).collect();
        let y: Vec<f64> = x.iter().map(|v| 0.5 + 2.0 * v).collect();
        let mz = mincer_zarnowitz(&y, &x).unwrap();
        assert!((mz.a - 0.5).abs() < 1e-12 && (mz.b - 2.0).abs() < 1e-12);
        assert!((mz.r2 - 1.0).abs() < 1e-12);
        assert!(mincer_zarnowitz(&y, &[1.0; 50]).is_none());
    }

    #[test]
    fn diebold_mariano_sign_and_degenerate_cases() {
        let l1: Vec<f64> = (0..200)
            .map(|i| 1.0 + ((i * 7) % 11) as f64 * 0.1)
            .collect();
        let l2: Vec<f64> = l1.iter().map(|v| v + 0.3).collect();
        // A constant differential has zero long-run variance: no test.
        assert!(diebold_mariano(&l1, &l2, None).is_none());
        let l3: Vec<f64> = l1
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.05 * ((i % 3) as f64))
            .collect();
        let dm = diebold_mariano(&l1, &l3, None).unwrap();
        assert!(dm.statistic < 0.0 && dm.p_value < 1e-6);
        assert_eq!(dm.lags, newey_west_lag(200));
    }
}
