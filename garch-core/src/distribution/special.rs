//! Special functions the laws need beyond `statrs`: the trigamma function (statrs has `lnΓ` and
//! the digamma function ψ but not its derivative), the normal law's CDF and quantile, the
//! regularised incomplete beta function with `1 − x` passed in exactly (statrs forms `1 − x`
//! itself and caps its continued fraction at 140 terms, which costs digits in the tails), and a
//! safeguarded Newton solver that turns an accurate CDF into an accurate quantile.
//!
//! The quantiles of [`super::ShockLaw`] are checked against scipy to 1e-12 (relative); that is
//! why the CDFs here are computed from whichever tail keeps the relative precision.

use statrs::function::erf::erfc_inv;

/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The trigamma function ψ'(x) for x > 0: the recurrence ψ'(x) = ψ'(x+1) + 1/x² up to x ≥ 10,
/// then the asymptotic series `1/x + 1/(2x²) + Σ B_{2k}/x^{2k+1}` (Abramowitz and Stegun
/// 6.4.12), accurate to a few ulps there.
pub(super) fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // Bernoulli numbers B2..B10: 1/6, −1/30, 1/42, −1/30, 5/66.
    let series =
        z * (1.0 / 6.0 + z * (-1.0 / 30.0 + z * (1.0 / 42.0 + z * (-1.0 / 30.0 + z * 5.0 / 66.0))));
    acc + (1.0 + 0.5 / x + series) / x
}

/// The standard normal density φ(z).
pub(super) fn normal_pdf(z: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * z * z).exp()
}

/// The standard normal CDF Φ(z) = ½Q(½, z²/2) for z < 0 (and its complement above), with the
/// regularised incomplete gamma function of [`gamma_pq`]: statrs' `erfc` is off by up to ~1e-10
/// relative in the lower tail (Φ(−4.5) by 8e-11), this stays within a few ulps of scipy.
pub(super) fn normal_cdf(z: f64) -> f64 {
    let (p, q) = gamma_pq(0.5, 0.5 * z * z);
    // P(½, z²/2) is the mass of (−|z|, |z|), Q(½, z²/2) of its complement.
    let tail = if q < 0.5 { 0.5 * q } else { 0.5 - 0.5 * p };
    if z < 0.0 { tail } else { 1.0 - tail }
}

/// The regularised incomplete gamma functions `(P(a, x), Q(a, x))`, `a > 0`, `x ≥ 0`: the series
/// for `P` when `x < a + 1`, Legendre's continued fraction for `Q` otherwise (Numerical Recipes
/// §6.2, `gser`/`gcf`, with the modified Lentz method), each computed directly on its own side so
/// that the small one keeps its relative precision; the other is its complement.
pub(super) fn gamma_pq(a: f64, x: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if x.is_infinite() {
        return (1.0, 0.0);
    }
    let ln_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let (mut ap, mut del) = (a, 1.0 / a);
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        let p = sum * ln_front.exp();
        (p, 1.0 - p)
    } else {
        const TINY: f64 = 1e-300;
        let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = 1.0 / guard(an * d + b);
            c = guard(b + an / c);
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let q = ln_front.exp() * h;
        (1.0 - q, q)
    }
}

/// The standard normal quantile Φ⁻¹(p), p in (0, 1): `−√2·erfc⁻¹(2p)` (Boost's inverse), then
/// polished by [`solve_quantile`] on [`normal_cdf`] from the tail that holds `p`.
pub(super) fn normal_quantile(p: f64) -> f64 {
    if p > 0.5 {
        // 1 − p is exact for p in [½, 1] (Sterbenz).
        return -normal_quantile(1.0 - p);
    }
    let x0 = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p);
    solve_quantile(p, x0, normal_cdf, normal_pdf)
}

/// The regularised incomplete beta function `I_x(a, b)`, with `y = 1 − x` passed in so that
/// neither tail loses precision to the subtraction: the continued fraction of Numerical Recipes
/// (§6.4, modified Lentz) on whichever side converges fast, `x < (a+1)/(a+b+2)`, and the
/// symmetry `I_x(a, b) = 1 − I_y(b, a)` on the other.
pub(super) fn beta_reg(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() + b * y.ln() - ln_beta(a, b);
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_continued_fraction(b, a, y) / b
    }
}

/// `ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b)`, with the difference `lnΓ(a + ½) − lnΓ(a)` taken
/// from [`ln_gamma_half_ratio`] when one argument is ½ (the Student-t case), so that large ν
/// does not cost the digits two `lnΓ` near 1000 would.
fn ln_beta(a: f64, b: f64) -> f64 {
    const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;
    if b == 0.5 {
        LN_SQRT_PI - ln_gamma_half_ratio(a)
    } else if a == 0.5 {
        LN_SQRT_PI - ln_gamma_half_ratio(b)
    } else {
        ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
    }
}

/// `lnΓ(x)` for x > 0, to about an ulp of the result (a few 1e-16 absolute where it is near
/// zero): statrs' Lanczos `ln_gamma` is 8e-14 off at 15 and 2e-15 at 1.5, too much for the
/// densities to 1e-12 (the GED's far tail multiplies the error in `lnΓ(1/ν)` by `ν|z/s|^ν`).
/// * x ≥ 20: the Stirling series `(x − ½)ln x − x + ½ln 2π + Σ B₂ₖ/(2k(2k−1)x²ᵏ⁻¹)`
///   (Abramowitz and Stegun 6.1.40) through B₁₀ (the first omitted term is below 1e-17);
/// * ½ ≤ x < 3/2: the Taylor series `lnΓ(1 + t) = −γt + Σ_{k≥2} ζ(k)(−t)ᵏ/k`, |t| ≤ ½ (A&S 6.1.33);
/// * below ½: `lnΓ(x) = lnΓ(1 + x) − ln x`; from 3/2 to 20: down to [½, 3/2) by
///   `lnΓ(x) = ln((x−1)…(x−n)) + lnΓ(x − n)`, whose product's rounding is relative to the result.
pub(super) fn ln_gamma(x: f64) -> f64 {
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
    if x >= 20.0 {
        return (x - 0.5) * x.ln() - x + HALF_LN_2PI + stirling_correction(x);
    }
    if x < 0.5 {
        return ln_gamma_1p(x) - x.ln();
    }
    let (mut product, mut y) = (1.0, x);
    while y >= 1.5 {
        y -= 1.0;
        product *= y;
    }
    ln_gamma_1p(y - 1.0) + product.ln()
}

/// `lnΓ(1 + t)` for |t| ≤ ½ from its Taylor series, smallest terms first.
fn ln_gamma_1p(t: f64) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    let zeta = zeta_table();
    let mut sum = 0.0;
    for k in (2..ZETA_TERMS).rev() {
        sum += zeta[k] * (-t).powi(k as i32) / k as f64;
    }
    sum - EULER_GAMMA * t
}

/// Terms of the series in [`ln_gamma_1p`]: ½⁶⁰ is below 1e-18.
const ZETA_TERMS: usize = 60;

/// ζ(k) for k < [`ZETA_TERMS`] (entries 0 and 1 unused): known values to k = 9, from 10 on
/// `Σ_{n ≤ 30} n⁻ᵏ + 30¹⁻ᵏ/(k−1) − 30⁻ᵏ/2` (Euler–Maclaurin; the error is below 1e-16 of ζ(k) − 1).
fn zeta_table() -> &'static [f64; ZETA_TERMS] {
    static TABLE: std::sync::OnceLock<[f64; ZETA_TERMS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut z = [0.0; ZETA_TERMS];
        let known = [
            1.644_934_066_848_226_4,
            1.202_056_903_159_594_3,
            1.082_323_233_711_138_2,
            1.036_927_755_143_37,
            1.017_343_061_984_449,
            1.008_349_277_381_922_8,
            1.004_077_356_197_944_3,
            1.002_008_392_826_082_2,
        ];
        z[2..10].copy_from_slice(&known);
        for (k, zk) in z.iter_mut().enumerate().skip(10) {
            let kf = k as f64;
            let n = 30.0f64;
            let head: f64 = (2..=30).rev().map(|m| f64::from(m).powf(-kf)).sum();
            *zk = 1.0 + head + n.powf(1.0 - kf) / (kf - 1.0) - 0.5 * n.powf(-kf);
        }
        z
    })
}

/// `Σ B₂ₖ/(2k(2k−1)x²ᵏ⁻¹)` through B₁₀, for x ≥ 20.
fn stirling_correction(x: f64) -> f64 {
    let z = 1.0 / (x * x);
    (1.0 / 12.0
        + z * (-1.0 / 360.0 + z * (1.0 / 1260.0 + z * (-1.0 / 1680.0 + z * (1.0 / 1188.0)))))
        / x
}

/// `lnΓ(a + ½) − lnΓ(a)` for a > 0. Below 20 from [`ln_gamma`] (values under 60, so a few
/// 1e-15 absolute); from 20 on, the difference of the two Stirling series
/// `lnΓ(x) = (x − ½)ln x − x + ½ln 2π + Σ B₂ₖ/(2k(2k−1)x²ᵏ⁻¹)` (Abramowitz and Stegun 6.1.40)
/// taken term by term: `a·ln(1 + 1/(2a)) − ½ + ½ln a + Δcorrections`, accurate to a few ulps
/// where the direct difference of two `lnΓ` near 1000 (ν = 500) loses 1e-13.
pub(super) fn ln_gamma_half_ratio(a: f64) -> f64 {
    if a < 20.0 {
        return ln_gamma(a + 0.5) - ln_gamma(a);
    }
    let corr = stirling_correction;
    // (a)·ln(a + ½) − (a − ½)·ln a − ½ = a·ln(1 + 1/(2a)) + ½ln a − ½.
    (a * (0.5 / a).ln_1p() - 0.5) + 0.5 * a.ln() + (corr(a + 0.5) - corr(a))
}

/// The continued fraction of `I_x(a, b)` (Numerical Recipes `betacf`).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The root `x` of `cdf(x) = p` by Newton's method from `x0`, safeguarded by the bracket the
/// iterates establish (bisection when a step leaves it, doubling steps until there is one).
/// Converges to a few ulps of the root of the CDF as computed, so the quantile is as accurate
/// as `cdf` (relative to `p`; call it with the tail probability below ½ for that reason).
pub(super) fn solve_quantile(
    p: f64,
    x0: f64,
    cdf: impl Fn(f64) -> f64,
    pdf: impl Fn(f64) -> f64,
) -> f64 {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut x = if x0.is_finite() { x0 } else { 0.0 };
    for _ in 0..200 {
        let f = cdf(x) - p;
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = x - f / pdf(x);
        // A Newton step below the resolution of x: converged (checked before the bracket, as
        // such a step may land on the bracket's own end).
        if (next - x).abs() <= 2.0 * f64::EPSILON * x.abs() {
            return next;
        }
        // Outside the bracket, or (while one side is open) further than the doubling step.
        let open = !(lo.is_finite() && hi.is_finite());
        if !(next > lo && next < hi) || (open && (next - x).abs() > x.abs().max(1.0)) {
            next = match (lo.is_finite(), hi.is_finite()) {
                (true, true) => 0.5 * (lo + hi),
                (true, false) => lo + lo.abs().max(1.0),
                _ => hi - hi.abs().max(1.0),
            };
        }
        let tight = !open && hi - lo <= 4.0 * f64::EPSILON * lo.abs().max(hi.abs());
        if next == lo || next == hi || tight {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_reg_matches_closed_forms() {
        // I_x(1, b) = 1 − (1−x)^b; I_x(a, 1) = x^a; I_½(a, a) = ½.
        for (a, b, x, expected) in [
            (1.0, 3.5, 0.3, 1.0 - 0.7f64.powf(3.5)),
            (2.5, 1.0, 0.8, 0.8f64.powf(2.5)),
            (7.0, 7.0, 0.5, 0.5),
            (1.0, 0.5, 1e-9, -(0.5 * (-1e-9f64).ln_1p()).exp_m1()),
        ] {
            let got = beta_reg(a, b, x, 1.0 - x);
            assert!(
                ((got - expected) / expected).abs() < 1e-13,
                "I_{x}({a}, {b}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    // The reference values are quoted as mpmath printed them.
    #[allow(clippy::excessive_precision)]
    fn ln_gamma_matches_reference_values() {
        // mpmath.loggamma at 30 digits.
        for (x, expected) in [
            (15.0, 25.191_221_182_738_681_5),
            (15.5, 26.536_914_491_115_613_6),
            (0.5, 0.572_364_942_924_700_087),
            (1.5, -0.120_782_237_635_245_222),
            (2.5, 0.284_682_870_472_919_16),
            (100.25, 360.284_559_637_764_235),
            (0.025, 3.674_956_947_385_164_9),
            (0.075, 2.551_441_425_971_993_6),
            (1.0, 0.0),
            (2.0, 0.0),
            (1.2, -0.085_374_090_003_315_85),
        ] {
            let got = ln_gamma(x);
            assert!(
                (got - expected).abs() < 4e-16 * expected.abs().max(1.0),
                "lnΓ({x}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn half_ratio_is_continuous_and_exact_where_known() {
        // Γ(n + ½)/Γ(n) at n = 1: √π/2.
        let e = (std::f64::consts::PI.sqrt() / 2.0).ln();
        assert!(
            (ln_gamma_half_ratio(1.0) - e).abs() < 1e-14,
            "{} {e}",
            ln_gamma_half_ratio(1.0)
        );
        // The two branches agree at the switch (the direct form is still accurate there).
        let (lo, hi) = (ln_gamma(20.5) - ln_gamma(20.0), ln_gamma_half_ratio(20.0));
        assert!(((lo - hi) / hi).abs() < 1e-14, "{lo} {hi}");
        // Recurrence Γ(a + 3/2)/Γ(a + 1) = (a + ½)/a · Γ(a + ½)/Γ(a).
        for a in [25.0, 249.5, 1e4] {
            let lhs = ln_gamma_half_ratio(a + 1.0);
            let rhs = ln_gamma_half_ratio(a) + ((a + 0.5) / a).ln();
            assert!(((lhs - rhs) / rhs).abs() < 1e-15, "a = {a}: {lhs} {rhs}");
        }
    }

    #[test]
    fn gamma_pq_matches_closed_forms() {
        // P(1, x) = 1 − e^(−x); Q(2, x) = (1 + x)e^(−x); both sides of x = a + 1.
        for x in [1e-8, 0.3, 1.9, 2.1, 7.5, 40.0, 600.0] {
            let (p1, q1) = gamma_pq(1.0, x);
            let (p2, q2) = gamma_pq(2.0, x);
            let (ep1, eq2) = (-(-x).exp_m1(), (1.0 + x) * (-x).exp());
            assert!(
                ((p1 - ep1) / ep1).abs() < 1e-14,
                "P(1, {x}) = {p1}, expected {ep1}"
            );
            assert!(
                ((q2 - eq2) / eq2).abs() < 1e-13,
                "Q(2, {x}) = {q2}, expected {eq2}"
            );
            assert!((p1 + q1 - 1.0).abs() < 1e-15 && (p2 + q2 - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for p in [1e-300, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1.0 - 1e-12] {
            let x = normal_quantile(p);
            let back = if p <= 0.5 {
                normal_cdf(x)
            } else {
                normal_cdf(-x)
            };
            let target = if p <= 0.5 { p } else { 1.0 - p };
            assert!(((back - target) / target).abs() < 1e-13, "p = {p}: x = {x}");
        }
    }

    #[test]
    fn trigamma_matches_closed_forms() {
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        for (x, expected) in [
            (1.0, pi2 / 6.0),
            (0.5, pi2 / 2.0),
            (2.0, pi2 / 6.0 - 1.0),
            (1.5, pi2 / 2.0 - 4.0),
            // ψ'(n) = π²/6 − Σ_{k<n} 1/k²
            (
                30.0,
                pi2 / 6.0 - (1..30).map(|k| 1.0 / (k * k) as f64).sum::<f64>(),
            ),
            (3.25, 0.359_798_290_309_579_8), // scipy.special.polygamma(1, 3.25)
        ] {
            let got = trigamma(x);
            assert!(
                ((got - expected) / expected).abs() < 1e-12,
                "ψ'({x}) = {got}, expected {expected}"
            );
        }
    }
}
