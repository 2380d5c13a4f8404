//! [`Likelihood::sweep`](super)'s loop in AVX2 registers, through `safe_arch` (safe wrappers
//! of the `core::arch` intrinsics; this crate forbids `unsafe`), compiled where the target has
//! AVX2 (this workspace builds for x86-64-v3, see `.cargo/config.toml`); elsewhere the portable
//! loop runs.
//!
//! Both evaluate the same IEEE operations in the same order lane by lane (no fused
//! multiply-adds, no reassociation; `maxpd` where the portable loop has its select), so their
//! scores are bit-identical, which a test checks.
//!
//! Why by hand: LLVM's SLP vectoriser packed the sixteen lanes' accumulators across vector
//! boundaries and kept them on the stack, with shuffles and store-forwarding stalls, about 110
//! instructions an observation where the arithmetic needs about 35.

use safe_arch::{
    add_i64_m256i, bitand_m256i, bitor_m256i, cast_to_m256d_from_m256i, cast_to_m256i_from_m256d,
    cmp_eq_mask_i64_m256i, m256d, m256i, max_m256d, set_splat_i64_m256i, set_splat_m256d,
    shr_imm_u64_m256i,
};

use super::super::logsum::{EXPONENT_OF_ONE, MANTISSA};
use super::{Accumulators, LANES, RENORMALISE_EVERY, Shared, VECS, W};

/// The candidates' coefficients, one vector per group of [`W`].
struct Coefficients {
    omega: [m256d; VECS],
    alpha: [m256d; VECS],
    gamma: [m256d; VECS],
    beta: [m256d; VECS],
}

/// The per-lane state that changes every observation.
struct Registers {
    s: [m256d; VECS],
    ratio: [m256d; VECS],
    product: [m256d; VECS],
    overshoot: [m256d; VECS],
}

impl Registers {
    /// `σ²_t` of every lane from `e_{t−1}` (in `prev`) and `σ²_{t−1}` (in `self.s`), bounded by
    /// `[lo, hi]` when `BOUNDED` (the portable `Recursion::step`).
    #[inline(always)]
    fn step<const GAMMA: bool, const BOUNDED: bool>(
        &mut self,
        c: &Coefficients,
        prev: &Shared,
        [lo, hi]: [f64; 2],
    ) {
        let e2 = set_splat_m256d(prev.e2);
        let e2_neg = set_splat_m256d(prev.e2_neg);
        for v in 0..VECS {
            let mut raw = c.omega[v] + c.alpha[v] * e2;
            if GAMMA {
                raw += c.gamma[v] * e2_neg;
            }
            raw += c.beta[v] * self.s[v];
            self.s[v] = if BOUNDED {
                // `if over > o { over } else { o }` and `if raw > lo { raw } else { lo }`.
                self.overshoot[v] = max_m256d(raw - set_splat_m256d(hi), self.overshoot[v]);
                max_m256d(raw, set_splat_m256d(lo))
            } else {
                raw
            };
        }
    }

    /// Two observations `e`: both steps, then the portable `Accumulators::add_pair`; what the
    /// next step needs of the second.
    #[inline(always)]
    fn observe_pair<const GAMMA: bool, const BOUNDED: bool>(
        &mut self,
        c: &Coefficients,
        prev: &Shared,
        e: [f64; 2],
        bounds: [[f64; 2]; 2],
    ) -> Shared {
        let (first, second) = (Shared::of(e[0]), Shared::of(e[1]));
        self.step::<GAMMA, BOUNDED>(c, prev, bounds[0]);
        let s_a = self.s;
        self.step::<GAMMA, BOUNDED>(c, &first, bounds[1]);
        let (e2_a, e2_b) = (set_splat_m256d(first.e2), set_splat_m256d(second.e2));
        for v in 0..VECS {
            let (a, b) = (s_a[v], self.s[v]);
            let p = a * b;
            self.ratio[v] += (e2_a * b + e2_b * a) / p;
            self.product[v] *= p;
        }
        second
    }

    /// One observation `e` (the portable `Accumulators::add`).
    #[inline(always)]
    fn observe<const GAMMA: bool, const BOUNDED: bool>(
        &mut self,
        c: &Coefficients,
        prev: &Shared,
        e: f64,
        bounds: [f64; 2],
    ) {
        self.step::<GAMMA, BOUNDED>(c, prev, bounds);
        let e2 = set_splat_m256d(Shared::of(e).e2);
        for v in 0..VECS {
            self.ratio[v] += e2 / self.s[v];
            self.product[v] *= self.s[v];
        }
    }
}

/// The sweep over `y` (with per-observation `bounds` when `BOUNDED`) from the backcast `bc`,
/// for the candidates `lanes` = `[ω, α, γ, β]`: the portable sweep's accumulators, bit for bit.
pub(super) fn sweep<const GAMMA: bool, const BOUNDED: bool>(
    y: &[f64],
    bounds: &[[f64; 2]],
    bc: f64,
    lanes: &[[f64; 4]; LANES],
) -> Accumulators {
    let coefficient = |k: usize| -> [m256d; VECS] {
        std::array::from_fn(|v| m256d::from_array(std::array::from_fn(|l| lanes[v * W + l][k])))
    };
    let c = Coefficients {
        omega: coefficient(0),
        alpha: coefficient(1),
        gamma: coefficient(2),
        beta: coefficient(3),
    };
    let mut r = Registers {
        s: [set_splat_m256d(bc); VECS],
        ratio: [set_splat_m256d(0.0); VECS],
        product: [set_splat_m256d(1.0); VECS],
        overshoot: [set_splat_m256d(f64::NEG_INFINITY); VECS],
    };
    let mut exponent = [set_splat_i64_m256i(0); VECS];
    let mut abnormal = [set_splat_i64_m256i(0); VECS];
    let mut renormalisations = 0;
    let mut prev = Shared {
        e2: bc,
        e2_neg: 0.5 * bc,
    };
    let bound = |t: usize| if BOUNDED { bounds[t] } else { [0.0; 2] };
    let mut t = 0;
    let mut chunks = y.chunks_exact(RENORMALISE_EVERY);
    for chunk in &mut chunks {
        for pair in chunk.chunks_exact(2) {
            prev = r.observe_pair::<GAMMA, BOUNDED>(
                &c,
                &prev,
                [pair[0], pair[1]],
                [bound(t), bound(t + 1)],
            );
            t += 2;
        }
        // The portable `Accumulators::renormalise`, lane-wise on the bits.
        renormalisations += 1;
        let (field_mask, zero) = (set_splat_i64_m256i(0x7ff), set_splat_i64_m256i(0));
        let (mantissa, one) = (
            set_splat_i64_m256i(MANTISSA as i64),
            set_splat_i64_m256i(EXPONENT_OF_ONE as i64),
        );
        for v in 0..VECS {
            let bits = cast_to_m256i_from_m256d(r.product[v]);
            let field = bitand_m256i(shr_imm_u64_m256i::<52>(bits), field_mask);
            let not_normal = bitor_m256i(
                cmp_eq_mask_i64_m256i(field, zero),
                cmp_eq_mask_i64_m256i(field, field_mask),
            );
            abnormal[v] = bitor_m256i(abnormal[v], not_normal);
            exponent[v] = add_i64_m256i(exponent[v], field);
            r.product[v] = cast_to_m256d_from_m256i(bitor_m256i(bitand_m256i(bits, mantissa), one));
        }
    }
    let rest = chunks.remainder();
    for pair in rest.chunks_exact(2) {
        prev = r.observe_pair::<GAMMA, BOUNDED>(
            &c,
            &prev,
            [pair[0], pair[1]],
            [bound(t), bound(t + 1)],
        );
        t += 2;
    }
    if let [.., last] = rest
        && rest.len() % 2 == 1
    {
        r.observe::<GAMMA, BOUNDED>(&c, &prev, *last, bound(t));
    }
    let lanes_of = |x: &[m256d; VECS]| std::array::from_fn(|v| x[v].to_array());
    let integers_of =
        |x: &[m256i; VECS]| std::array::from_fn(|v| <[i64; W]>::from(x[v]).map(|i| i as u64));
    Accumulators {
        ratio: lanes_of(&r.ratio),
        product: lanes_of(&r.product),
        exponent: integers_of(&exponent),
        renormalisations,
        abnormal: integers_of(&abnormal),
        overshoot: lanes_of(&r.overshoot),
    }
}
