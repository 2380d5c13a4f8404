//! Coverage tests of a VaR path: does it exceed as often as it should, and independently?
//!
//! * Kupiec (1995), "Techniques for verifying the accuracy of risk measurement models",
//!   *Journal of Derivatives* 3: the proportion-of-failures likelihood ratio
//!   `LR_uc = −2[(n−x)ln(1−a) + x ln a − (n−x)ln(1−π̂) − x ln π̂]`, `π̂ = x/n`, χ²(1).
//! * Christoffersen (1998), "Evaluating interval forecasts", *International Economic Review*
//!   39: the first-order Markov test of independence `LR_ind` (χ²(1)) and of conditional
//!   coverage `LR_cc` (χ²(2)) on the `n − 1` transitions `n_ij` (day in state `i` followed by
//!   a day in state `j`, 1 = exceedance).
//!
//!   **Form used**: the strict one, where `LR_cc = −2 ln[L(a)/L(π̂₀₁, π̂₁₁)]` with both
//!   likelihoods on the same `n − 1` transitions; it equals `LR_uc` computed on the `n − 1`
//!   days after the first plus `LR_ind`. (The loose form adds Kupiec's `LR_uc` on all `n`
//!   days instead; the two differ by at most the first day's term.)
//! * The Basel Committee's (1996) traffic light for 250 days at 99 %: green for 0–4
//!   exceptions, yellow 5–9, red 10 or more.
//!
//! `0·ln 0 = 0` throughout. The p-values are the χ² survival functions in closed form
//! (`erfc(√(x/2))` for one degree of freedom, `e^{−x/2}` for two), so they are accurate in the
//! far tail where `1 − cdf` would cancel.

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

/// `x·ln y`, zero when `x = 0` (the convention `0·ln 0 = 0`).
fn xlny(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * y.ln() }
}

/// Survival function of χ²(1).
pub fn chi2_1_sf(x: f64) -> f64 {
    erfc((x.max(0.0) / 2.0).sqrt())
}

/// Survival function of χ²(2).
pub fn chi2_2_sf(x: f64) -> f64 {
    (-x.max(0.0) / 2.0).exp()
}

/// Kupiec's unconditional-coverage (proportion of failures) test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kupiec {
    /// VaR level `a` (expected exceedance probability).
    pub level: f64,
    /// Days tested.
    pub days: usize,
    /// Exceedances observed.
    pub exceedances: usize,
    /// Exceedances expected, `a·n`.
    pub expected: f64,
    /// Likelihood ratio, χ²(1) under correct coverage.
    pub lr: f64,
    /// Its p-value.
    pub p_value: f64,
}

/// Kupiec's test of `hits` (true = exceedance) against level `a`. `None` for an empty path.
pub fn kupiec(hits: &[bool], a: f64) -> Option<Kupiec> {
    let n = hits.len();
    if n == 0 {
        return None;
    }
    let x = hits.iter().filter(|h| **h).count();
    let (nf, xf) = (n as f64, x as f64);
    let pi = xf / nf;
    let lr = -2.0 * (xlny(nf - xf, 1.0 - a) + xlny(xf, a) - xlny(nf - xf, 1.0 - pi) - xlny(xf, pi));
    let lr = lr.max(0.0);
    Some(Kupiec {
        level: a,
        days: n,
        exceedances: x,
        expected: a * nf,
        lr,
        p_value: chi2_1_sf(lr),
    })
}

/// Christoffersen's independence and conditional-coverage tests (strict form, see the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Christoffersen {
    /// VaR level `a`.
    pub level: f64,
    /// Transitions `[n00, n01, n10, n11]`.
    pub transitions: [usize; 4],
    /// Exceedances over the whole path.
    pub exceedances: usize,
    /// Exceedances expected over the whole path, `a·n`.
    pub expected: f64,
    /// Independence likelihood ratio, χ²(1).
    pub lr_ind: f64,
    /// Its p-value.
    pub p_value_ind: f64,
    /// Conditional-coverage likelihood ratio, χ²(2).
    pub lr_cc: f64,
    /// Its p-value.
    pub p_value_cc: f64,
}

/// Christoffersen's tests of `hits` against level `a`; `None` with fewer than two days.
pub fn christoffersen(hits: &[bool], a: f64) -> Option<Christoffersen> {
    if hits.len() < 2 {
        return None;
    }
    let mut n = [0usize; 4];
    for w in hits.windows(2) {
        n[2 * usize::from(w[0]) + usize::from(w[1])] += 1;
    }
    let [n00, n01, n10, n11] = n.map(|v| v as f64);
    let pi01 = if n00 + n01 > 0.0 {
        n01 / (n00 + n01)
    } else {
        0.0
    };
    let pi11 = if n10 + n11 > 0.0 {
        n11 / (n10 + n11)
    } else {
        0.0
    };
    let pi = (n01 + n11) / (n00 + n01 + n10 + n11);
    let ll_markov =
        xlny(n00, 1.0 - pi01) + xlny(n01, pi01) + xlny(n10, 1.0 - pi11) + xlny(n11, pi11);
    let ll_iid = xlny(n00 + n10, 1.0 - pi) + xlny(n01 + n11, pi);
    let ll_null = xlny(n00 + n10, 1.0 - a) + xlny(n01 + n11, a);
    let lr_ind = (-2.0 * (ll_iid - ll_markov)).max(0.0);
    let lr_cc = (-2.0 * (ll_null - ll_markov)).max(0.0);
    let x = hits.iter().filter(|h| **h).count();
    Some(Christoffersen {
        level: a,
        transitions: n,
        exceedances: x,
        expected: a * hits.len() as f64,
        lr_ind,
        p_value_ind: chi2_1_sf(lr_ind),
        lr_cc,
        p_value_cc: chi2_2_sf(lr_cc),
    })
}

/// Basel traffic-light zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Zone {
    /// 0–4 exceptions in 250 days.
    Green,
    /// 5–9.
    Yellow,
    /// 10 or more.
    Red,
}

/// The traffic light of the last 250 days of the 99 % VaR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrafficLight {
    /// Zone.
    pub zone: Zone,
    /// Exceptions in the last 250 days.
    pub exceptions: usize,
    /// Days counted (always 250).
    pub days: usize,
}

/// Days of the Basel backtesting window.
pub const BASEL_DAYS: usize = 250;

/// The Basel zone of the last [`BASEL_DAYS`] of a 99 % VaR exceedance path; `None` if the path is
/// shorter (the zones are defined for 250 days only).
pub fn traffic_light(hits_99: &[bool]) -> Option<TrafficLight> {
    let n = hits_99.len();
    if n < BASEL_DAYS {
        return None;
    }
    let exceptions = hits_99[n - BASEL_DAYS..].iter().filter(|h| **h).count();
    let zone = match exceptions {
        0..=4 => Zone::Green,
        5..=9 => Zone::Yellow,
        _ => Zone::Red,
    };
    Some(TrafficLight {
        zone,
        exceptions,
        days: BASEL_DAYS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kupiec_is_zero_at_the_expected_rate_and_grows_away_from_it() {
        let mut hits = vec![false; 1000];
        for i in (0..1000).step_by(100) {
            hits[i] = true;
        }
        let k = kupiec(&hits, 0.01).unwrap();
        assert_eq!(k.exceedances, 10);
        assert!(k.lr.abs() < 1e-12 && (k.p_value - 1.0).abs() < 1e-9);
        let none = kupiec(&[false; 1000], 0.01).unwrap();
        // 0·ln 0 = 0: LR = −2·1000·ln 0.99.
        assert!((none.lr - (-2000.0 * 0.99f64.ln())).abs() < 1e-9);
    }

    #[test]
    fn clustered_exceedances_fail_independence() {
        let mut spread = vec![false; 500];
        let mut clustered = vec![false; 500];
        for i in 0..10 {
            spread[i * 50] = true;
            clustered[200 + i] = true;
        }
        let s = christoffersen(&spread, 0.02).unwrap();
        let c = christoffersen(&clustered, 0.02).unwrap();
        assert_eq!(c.transitions, [488, 1, 1, 9]);
        assert!(s.p_value_ind > 0.5 && c.p_value_ind < 1e-6);
        // Strict form: LR_cc = LR_uc on the n − 1 destination days + LR_ind.
        let uc = kupiec(&clustered[1..], 0.02).unwrap();
        assert!((c.lr_cc - (uc.lr + c.lr_ind)).abs() < 1e-9);
    }

    #[test]
    fn traffic_light_zones() {
        let path = |x: usize| {
            let mut h = vec![false; 300];
            for i in 0..x {
                h[299 - i] = true;
            }
            h
        };
        assert_eq!(traffic_light(&path(4)).unwrap().zone, Zone::Green);
        assert_eq!(traffic_light(&path(5)).unwrap().zone, Zone::Yellow);
        assert_eq!(traffic_light(&path(10)).unwrap().zone, Zone::Red);
        assert!(traffic_light(&[false; 249]).is_none());
    }
}
