//! The batch kernels' group arithmetic in AVX2 registers, through `safe_arch` (safe
//! wrappers of the `core::arch` intrinsics; this crate forbids `unsafe`).
//!
//! Compiled when the target has AVX2 (this workspace builds for x86-64-v3, see
//! `.cargo/config.toml`); elsewhere the portable forms in [`super::bollinger`] run
//! instead. Both evaluate the same IEEE operations in the same order lane by lane — no
//! fused multiply-adds, no reassociation — so results are bit-identical whichever is
//! compiled (and to the streaming state, which the indicator tests check with
//! `f64::to_bits`).
//!
//! Why by hand: LLVM's SLP vectoriser turned the group step (a prefix scan across the
//! lanes plus lane-wise arithmetic) into scalar code, 47 instructions a bar.

use safe_arch::{
    bitand_m256d, blend_m256d, cmp_op, cmp_op_mask_m256d, load_unaligned_m256d, m256d,
    move_mask_m256d, set_splat_m256d, shuffle_ai_f64_all_m256d, sqrt_m256d,
};

use super::bollinger::{CANCELLATION_LIMIT, Group, GroupOut, Reseed, Sums, lanes_total};
use super::signal::{GroupConditions, SignalCore};

/// [`super::bollinger::prefix`] in one register: `a = v + [v₀, v₀, v₁, v₂]` with lane 0
/// kept as `v₀`, then `a + [a₀, a₀, a₀, a₁]` with lanes 0 and 1 kept.
#[inline(always)]
fn prefix(v: m256d) -> m256d {
    let a = blend_m256d::<0b0001>(v + shuffle_ai_f64_all_m256d::<0b10_01_00_00>(v), v);
    blend_m256d::<0b0011>(a + shuffle_ai_f64_all_m256d::<0b01_00_00_00>(a), a)
}

/// `|x|` lane by lane (clears the sign bits, as `f64::abs`).
#[inline(always)]
fn abs(x: m256d) -> m256d {
    bitand_m256d(x, m256d::from_bits([!(1u64 << 63); 4]))
}

/// [`super::bollinger::GroupOut::portable`] in AVX2 registers.
#[inline(always)]
pub(super) fn group(base: Sums, shift: f64, inv_n: f64, xs: &Group, olds: &Group) -> GroupOut {
    let k = set_splat_m256d(shift);
    let dn = load_unaligned_m256d(xs) - k;
    let dold = load_unaligned_m256d(olds) - k;
    let delta = dn - dold;
    let term = delta * (dn + dold);
    let s1 = set_splat_m256d(base.s1) + prefix(delta);
    let s2 = set_splat_m256d(base.s2) + prefix(term);
    let bound = set_splat_m256d(base.bound) + prefix(abs(term) + abs(s2));
    let var_n = s2 - s1 * s1 * set_splat_m256d(inv_n);
    let early = move_mask_m256d(cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(
        bound * set_splat_m256d(CANCELLATION_LIMIT),
        var_n,
    ));
    let (s1, s2, bound) = (s1.to_array(), s2.to_array(), bound.to_array());
    GroupOut {
        s1,
        var_n: var_n.to_array(),
        early: early as u32,
        last: Sums {
            s1: s1[3],
            s2: s2[3],
            bound: bound[3],
        },
    }
}

/// [`super::bollinger::reseed_sums`] of one slice (the window starts at lane 0), with
/// each lane's sums in a register lane: whole groups of four, then the remainder
/// lane by lane, as `add_to_lanes` does.
#[inline(always)]
pub(super) fn window_sums(window: &[f64], inv_n: f64) -> Reseed {
    let groups = window.chunks_exact(4);
    let rest = groups.remainder();
    let mut sum = set_splat_m256d(0.0);
    for g in groups.clone() {
        sum += load_unaligned_m256d(g.try_into().expect("a group"));
    }
    let mut sum = sum.to_array();
    for (j, &x) in rest.iter().enumerate() {
        sum[j] += x;
    }
    let k = lanes_total(sum) * inv_n;
    let kv = set_splat_m256d(k);
    let (mut s1, mut s2) = (set_splat_m256d(0.0), set_splat_m256d(0.0));
    for g in groups {
        let d = load_unaligned_m256d(g.try_into().expect("a group")) - kv;
        s1 += d;
        s2 += d * d;
    }
    let (mut s1, mut s2) = (s1.to_array(), s2.to_array());
    for (j, &x) in rest.iter().enumerate() {
        let d = x - k;
        s1[j] += d;
        s2[j] += d * d;
    }
    Reseed {
        k,
        s1: lanes_total(s1),
        s2: lanes_total(s2),
    }
}

/// The fused kernel's finishing step for four bars that are not exactly flat, as the
/// streaming state computes each bar: `middle_sigma` and `band_edges` (the bands), and
/// `SignalCore::conditions` as one 4-bit mask per condition (the comparisons are the
/// ordered ones: false with a NaN operand, as Rust's).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn finish_group(
    shift: &Group,
    s1: &Group,
    var_n: &Group,
    xs: &Group,
    rsi: &Group,
    inv_n: f64,
    (k_up, k_dn): (f64, f64),
    signal: &SignalCore,
) -> ([Group; 3], GroupConditions) {
    let inv_n = set_splat_m256d(inv_n);
    let var = load_unaligned_m256d(var_n) * inv_n;
    let middle = load_unaligned_m256d(shift) + load_unaligned_m256d(s1) * inv_n;
    let positive = cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(var, set_splat_m256d(0.0));
    let sigma = bitand_m256d(sqrt_m256d(var), positive);
    let upper = middle + sigma * set_splat_m256d(k_up);
    let lower = middle - sigma * set_splat_m256d(k_dn);
    let (x, r) = (load_unaligned_m256d(xs), load_unaligned_m256d(rsi));
    let mask = |m: m256d| move_mask_m256d(m) as u32;
    let conditions = GroupConditions {
        at_or_above_middle: mask(cmp_op_mask_m256d::<{ cmp_op!(GreaterEqualOrdered) }>(
            x, middle,
        )),
        overbought: mask(cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(
            r,
            set_splat_m256d(signal.overbought),
        )),
        oversold: mask(cmp_op_mask_m256d::<{ cmp_op!(LessThanOrdered) }>(
            r,
            set_splat_m256d(signal.oversold),
        )),
        above_upper: mask(cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(
            x, upper,
        )),
        below_lower: mask(cmp_op_mask_m256d::<{ cmp_op!(LessThanOrdered) }>(x, lower)),
        at_or_below_middle: mask(cmp_op_mask_m256d::<{ cmp_op!(LessEqualOrdered) }>(
            x, middle,
        )),
    };
    (
        [upper.to_array(), middle.to_array(), lower.to_array()],
        conditions,
    )
}
