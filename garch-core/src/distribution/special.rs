//! Special functions the laws need beyond `statrs` (which has `lnΓ` and the digamma function
//! ψ but not its derivative).

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

#[cfg(test)]
mod tests {
    use super::*;

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
