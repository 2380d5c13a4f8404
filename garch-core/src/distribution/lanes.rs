//! `ln` and `exp` of four values at once, for the laws whose log density needs a
//! transcendental per observation (the GED's `|z|^ν = exp(ν·ln|z|)`).
//!
//! A call to the C library's `log` or `exp` per observation is what bounds such a pass: the
//! calls do not vectorise and each is dozens of dependent instructions. Here fdlibm's
//! algorithms (`e_log.c`, `e_exp.c`, Sun Microsystems 1993, as musl and Rust's `libm` carry
//! them) are written without branches over arrays of `N` values, so that the compiler
//! turns each step into one vector instruction: the same argument reductions and the same
//! minimax polynomials, hence fdlibm's accuracy (below one unit in the last place; the tests
//! hold them to that against the C library on millions of arguments).
//!
//! Arguments outside the reduced algorithms' range (zero, subnormal, negative, infinite or
//! NaN for `ln`; beyond ±708 or NaN for `exp`) are rare in a likelihood pass; a group that
//! holds one is recomputed lane by lane with the standard functions, so every input gets the
//! standard function's special values (`ln 0 = −∞`, `exp(−∞) = 0`, NaN in, NaN out).

// fdlibm's constants digit for digit as published (they round to the intended doubles).
#![allow(clippy::excessive_precision)]

/// Values per call for a caller that has a stream of them: four 256-bit registers of `f64`,
/// so that four independent instruction chains hide each other's latency (each function is
/// a long chain: with one register per call a pass ran at a third of this speed).
pub(crate) const GROUP: usize = 16;

/// 2^52 and its bits: a float whose last place is 1.
const TWO_52: f64 = 4_503_599_627_370_496.0;
const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// `ln` of each lane (see the module docs).
#[inline(always)]
pub(crate) fn ln<const N: usize>(x: [f64; N]) -> [f64; N] {
    const LG1: f64 = 6.666_666_666_666_735_130e-1;
    const LG2: f64 = 3.999_999_999_940_941_908e-1;
    const LG3: f64 = 2.857_142_874_366_239_149e-1;
    const LG4: f64 = 2.222_219_843_214_978_396e-1;
    const LG5: f64 = 1.818_357_216_161_805_012e-1;
    const LG6: f64 = 1.531_383_769_920_937_332e-1;
    const LG7: f64 = 1.479_819_860_511_658_591e-1;
    let bits = x.map(f64::to_bits);
    // Positive, normal and finite: the biased exponent field in [1, 0x7fe], the sign clear.
    let regular = bits.map(|b| (b >> 52).wrapping_sub(1) < 0x7fe);
    // x = 2^k·m with m in [√½, √2): shift the high word so that the mantissas above √2 carry
    // into the exponent (fdlibm's `hx += 0x3ff00000 − 0x3fe6a09e`).
    let high = bits.map(|b| (b >> 32).wrapping_add(0x3ff0_0000 - 0x3fe6_a09e));
    // The exponent as a float without an integer conversion (AVX2 has none for 64-bit
    // lanes): the field's bits under the exponent of 2^52, minus 2^52 + 1023.
    let k: [f64; N] =
        std::array::from_fn(|l| f64::from_bits(TWO_52_BITS | (high[l] >> 20)) - (TWO_52 + 1023.0));
    let m: [f64; N] = std::array::from_fn(|l| {
        let hx = (high[l] & 0x000f_ffff) + 0x3fe6_a09e;
        f64::from_bits((hx << 32) | (bits[l] & 0xffff_ffff))
    });
    let out = std::array::from_fn(|l| {
        let f = m[l] - 1.0;
        let hfsq = 0.5 * f * f;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let t1 = w * (LG2 + w * (LG4 + w * LG6));
        let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
        let r = t2 + t1;
        s * (hfsq + r) + k[l] * LN2_LO - hfsq + f + k[l] * LN2_HI
    });
    if regular.iter().all(|&r| r) {
        out
    } else {
        x.map(f64::ln)
    }
}

/// `exp` of each lane (see the module docs).
#[inline(always)]
pub(crate) fn exp<const N: usize>(x: [f64; N]) -> [f64; N] {
    const P1: f64 = 1.666_666_666_666_660_190_37e-1;
    const P2: f64 = -2.777_777_777_701_559_338_42e-3;
    const P3: f64 = 6.613_756_321_437_934_361_17e-5;
    const P4: f64 = -1.653_390_220_546_525_153_90e-6;
    const P5: f64 = 4.138_136_797_057_238_460_39e-8;
    /// Adding and subtracting 1.5·2^52 rounds to the nearest integer (ties to even).
    const ROUND: f64 = 6_755_399_441_055_744.0;
    // Within ±708 the result and 2^k are normal numbers; NaN fails the test too.
    let regular = x.map(|v| v.abs() <= 708.0);
    // x = k·ln 2 + r, |r| ≤ ½ln 2 (fdlibm takes k = ±1 on (½, 1½)·ln 2; so does rounding).
    let shifted: [f64; N] = std::array::from_fn(|l| x[l] * std::f64::consts::LOG2_E + ROUND);
    let k: [f64; N] = std::array::from_fn(|l| shifted[l] - ROUND);
    // 2^k from k's two's complement in the low bits of `shifted` (no integer conversion).
    let scale: [f64; N] =
        std::array::from_fn(|l| f64::from_bits(shifted[l].to_bits().wrapping_add(1023) << 52));
    let out = std::array::from_fn(|l| {
        let hi = x[l] - k[l] * LN2_HI;
        let lo = k[l] * LN2_LO;
        let r = hi - lo;
        let rr = r * r;
        let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
        let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
        // k in [−1022, 1022] here: 2^k is normal.
        y * scale[l]
    });
    if regular.iter().all(|&r| r) {
        out
    } else {
        x.map(f64::exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANES: usize = 4;

    /// Distance in units in the last place (both finite, same sign).
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// A reproducible spread of arguments in [lo, hi), uniform or log-uniform.
    fn arguments(n: usize, lo: f64, hi: f64, log_scale: bool) -> Vec<f64> {
        crate::test_support::uniforms(0x9e37_79b9_7f4a_7c15)
            .take(n)
            .map(|u| {
                if log_scale {
                    (lo.ln() + u * (hi.ln() - lo.ln())).exp()
                } else {
                    lo + u * (hi - lo)
                }
            })
            .collect()
    }

    fn max_ulps(f: fn([f64; LANES]) -> [f64; LANES], g: fn(f64) -> f64, xs: &[f64]) -> u64 {
        xs.chunks_exact(LANES)
            .flat_map(|c| {
                let got = f(c.try_into().unwrap());
                (0..LANES).map(move |l| (got[l], g(c[l])))
            })
            .map(|(a, b)| ulps(a, b))
            .max()
            .unwrap()
    }

    #[test]
    fn ln_is_within_one_ulp_of_the_c_library() {
        // The whole normal range on a log scale, and densely around 1 where ln is smallest.
        let wide = arguments(1 << 20, 1e-300, 1e300, true);
        let near_one = arguments(1 << 18, 0.5, 2.0, false);
        assert!(max_ulps(ln, f64::ln, &wide) <= 1);
        assert!(max_ulps(ln, f64::ln, &near_one) <= 1);
    }

    #[test]
    fn exp_is_within_one_ulp_of_the_c_library() {
        let wide = arguments(1 << 20, -708.0, 708.0, false);
        let small = arguments(1 << 18, -2.0, 2.0, false);
        assert!(max_ulps(exp, f64::exp, &wide) <= 1);
        assert!(max_ulps(exp, f64::exp, &small) <= 1);
    }

    #[test]
    fn special_values_are_the_standard_ones() {
        let ln_in = [0.0, -1.0, f64::INFINITY, f64::NAN];
        let got = ln(ln_in);
        assert_eq!(got[0], f64::NEG_INFINITY);
        assert!(got[1].is_nan() && got[3].is_nan());
        assert_eq!(got[2], f64::INFINITY);
        // A subnormal lane among regular ones.
        let got = ln([5e-324, 1.0, 2.0, 0.5]);
        assert_eq!(got[0], 5e-324f64.ln());
        assert_eq!(got[1], 0.0);

        let got = exp([f64::NEG_INFINITY, 1000.0, -745.0, f64::NAN]);
        assert_eq!(got[0], 0.0);
        assert_eq!(got[1], f64::INFINITY);
        assert_eq!(got[2], (-745.0f64).exp());
        assert!(got[3].is_nan());
        assert_eq!(exp([0.0; LANES]), [1.0; LANES]);
    }
}
