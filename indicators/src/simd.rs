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
    bitand_m256d, bitor_m128d, bitor_m256d, blend_m256d, blend_varying_m256d,
    cast_to_m128d_from_m256d, cmp_op, cmp_op_mask_m256d, extract_m128d_from_m256d,
    get_f64_from_m128d_s, load_unaligned_m256d, m256d, max_m256d, move_mask_m256d, permute2z_m256d,
    set_splat_m256d, shuffle_ai_f64_all_m256d, sqrt_m256d, store_unaligned_m256d,
    unpack_high_m128d,
};

use super::bollinger::{CANCELLATION_LIMIT, Group, GroupOut, Reseed, Sums, lanes_total};
use super::rsi::{LANES, RSI_FLAT_VALUE, RsiCore};
use super::signal::{GroupEvents, ReasonSet, SignalCore, code};

/// [`super::bollinger::prefix`] in one register: `a = v + [v₀, v₀, v₁, v₂]` with lane 0
/// kept as `v₀`, then `a + [a₀, a₀, a₀, a₁]` with lanes 0 and 1 kept.
#[inline(always)]
fn prefix(v: m256d) -> m256d {
    let a = blend_m256d::<0b0001>(v + shuffle_ai_f64_all_m256d::<0b10_01_00_00>(v), v);
    blend_m256d::<0b0011>(a + shuffle_ai_f64_all_m256d::<0b01_00_00_00>(a), a)
}

/// Four values from a slice of at least four.
#[inline(always)]
fn load4(s: &[f64]) -> m256d {
    load_unaligned_m256d(s[..LANES].try_into().expect("four values"))
}

/// Each lane's value two bars back: `[p₂, p₃, x₀, x₁]`.
#[inline(always)]
fn two_back(p: m256d, x: m256d) -> m256d {
    permute2z_m256d::<0x21>(p, x)
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
/// streaming state computes each bar: `middle_sigma` and `band_edges` (the bands);
/// `SignalCore::conditions` (the comparisons are the ordered ones: false with a NaN
/// operand, as Rust's) turned into the four bars' [`GroupEvents`] and condition
/// reasons. The reasons are built in the register, each condition's mask selecting
/// its reason bit already shifted to its bar's `u16` lane, then the four lanes OR-ed
/// into one `u64`.
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
) -> ([Group; 3], GroupEvents, [ReasonSet; 4]) {
    let inv_n = set_splat_m256d(inv_n);
    let var = load_unaligned_m256d(var_n) * inv_n;
    let middle = load_unaligned_m256d(shift) + load_unaligned_m256d(s1) * inv_n;
    let positive = cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(var, set_splat_m256d(0.0));
    let sigma = bitand_m256d(sqrt_m256d(var), positive);
    let upper = middle + sigma * set_splat_m256d(k_up);
    let lower = middle - sigma * set_splat_m256d(k_dn);
    let (x, r) = (load_unaligned_m256d(xs), load_unaligned_m256d(rsi));
    let overbought =
        cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(r, set_splat_m256d(signal.overbought));
    let oversold =
        cmp_op_mask_m256d::<{ cmp_op!(LessThanOrdered) }>(r, set_splat_m256d(signal.oversold));
    let above_upper = cmp_op_mask_m256d::<{ cmp_op!(GreaterThanOrdered) }>(x, upper);
    let below_lower = cmp_op_mask_m256d::<{ cmp_op!(LessThanOrdered) }>(x, lower);
    let mask = |m: m256d| move_mask_m256d(m) as u32;
    let events = GroupEvents {
        enter_long: mask(bitand_m256d(below_lower, oversold)),
        enter_short: mask(bitand_m256d(above_upper, overbought)),
        at_or_above: mask(cmp_op_mask_m256d::<{ cmp_op!(GreaterEqualOrdered) }>(
            x, middle,
        )),
        at_or_below: mask(cmp_op_mask_m256d::<{ cmp_op!(LessEqualOrdered) }>(
            x, middle,
        )),
    };
    let reason = |m: m256d, bit: u64| {
        bitand_m256d(m, m256d::from_bits([bit, bit << 16, bit << 32, bit << 48]))
    };
    let lanes = bitor_m256d(
        bitor_m256d(
            reason(overbought, code::OVERBOUGHT),
            reason(oversold, code::OVERSOLD),
        ),
        bitor_m256d(
            reason(above_upper, code::ABOVE_UPPER),
            reason(below_lower, code::BELOW_LOWER),
        ),
    );
    let halves = bitor_m128d(
        cast_to_m128d_from_m256d(lanes),
        extract_m128d_from_m256d::<1>(lanes),
    );
    let packed = bitor_m128d(halves, unpack_high_m128d(halves, halves));
    (
        [upper.to_array(), middle.to_array(), lower.to_array()],
        events,
        ReasonSet::of_lanes(get_f64_from_m128d_s(packed).to_bits()),
    )
}

/// [`RsiCore::smooth_groups`] in AVX2 registers: [`RsiCore::smooth_group`] for each
/// group of four bars `t0..t1`, with the averages and the last `q` terms carried in
/// registers from group to group. Each lane's previous `u`, `v` are recomputed from
/// the closes one bar back (the same operations on the same inputs, so the same
/// values as the previous group's), which frees two registers for the carried state:
/// spilling the averages would put a store and a reload on the recurrence's chain.
///
/// `max(d/n, 0)` is `vmaxpd(d/n, 0)`, which returns its second operand unless
/// `d/n > 0` — the scalar select of `gain_loss`.
#[inline(always)]
pub(super) fn rsi_groups(core: &mut RsiCore, close: &[f64], t0: usize, t1: usize, out: &mut [f64]) {
    let reg = |a: &[f64; LANES]| load_unaligned_m256d(a);
    let [_, c, c2, _, c4] = core.c.map(set_splat_m256d);
    let inv_n = set_splat_m256d(core.inv_n);
    let zero = set_splat_m256d(0.0);
    let gain_loss = |d: m256d| {
        let scaled = d * inv_n;
        let up = max_m256d(scaled, zero);
        (up, up - scaled)
    };
    let (mut gain, mut loss) = (reg(&core.gain), reg(&core.loss));
    let (mut q_up, mut q_down) = (reg(&core.q_up), reg(&core.q_down));
    // Each group's closes, and the same one and two bars back.
    let groups = |back: usize| close[t0 - back..t1 - back].as_chunks::<LANES>().0;
    let (out, _) = out.as_chunks_mut::<LANES>();
    for (((out, x0), x1), x2) in out.iter_mut().zip(groups(0)).zip(groups(1)).zip(groups(2)) {
        let (x0, x1, x2) = (reg(x0), reg(x1), reg(x2));
        let (u, v) = gain_loss(x0 - x1);
        let (u1, v1) = gain_loss(x1 - x2);
        let qu = u1 * c + u;
        let qv = v1 * c + v;
        gain = gain * c4 + (two_back(q_up, qu) * c2 + qu);
        loss = loss * c4 + (two_back(q_down, qv) * c2 + qv);
        (q_up, q_down) = (qu, qv);
        let sum = gain + loss;
        let rsi = blend_varying_m256d(
            set_splat_m256d(100.0) * (gain / sum),
            set_splat_m256d(RSI_FLAT_VALUE),
            cmp_op_mask_m256d::<{ cmp_op!(EqualOrdered) }>(sum, zero),
        );
        store_unaligned_m256d(out, rsi);
    }
    (core.gain, core.loss) = (gain.to_array(), loss.to_array());
    (core.q_up, core.q_down) = (q_up.to_array(), q_down.to_array());
    let last = &close[t1 - LANES - 1..t1];
    let (u, v) = gain_loss(load4(&last[1..]) - load4(last));
    (core.up, core.down) = (u.to_array(), v.to_array());
}

#[cfg(test)]
mod tests {
    use super::super::bollinger::{band_edges, middle_sigma};
    use super::super::signal::SignalConfig;
    use super::super::test_inputs::{unit, xorshift};
    use super::*;

    #[test]
    fn finish_group_is_the_streaming_bar_arithmetic() {
        let signal = SignalCore::new(&SignalConfig::default());
        let mut next = xorshift(0x243f_6a88_85a3_08d3);
        let (inv_n, k) = (1.0 / 20.0, (2.0, 1.5));
        for g in 0..4000 {
            let mut lanes = [[0.0; 4]; 5];
            for p in 0..4 {
                let shift = 100.0 * unit(next());
                let s1 = unit(next()) - 0.5;
                // σ² positive, zero, or (a cancelled sum) slightly negative
                let var_n = match next() % 4 {
                    0 => 0.0,
                    1 => -1e-18,
                    _ => 40.0 * unit(next()),
                };
                let (mid, sigma) = middle_sigma(shift, s1, var_n, inv_n);
                let (up, lo) = band_edges(mid, sigma, k.0, k.1);
                // closes on and around the bands (ties test the comparisons' sides)
                let close = match next() % 6 {
                    0 => mid,
                    1 => up,
                    2 => lo,
                    3 => up + 1.0,
                    4 => lo - 1.0,
                    _ => mid + (unit(next()) - 0.5) * 8.0,
                };
                // RSI on, around and between the thresholds
                let rsi = [30.0, 70.0, 10.0, 90.0, 50.0][(next() % 5) as usize];
                for (lane, v) in lanes.iter_mut().zip([shift, s1, var_n, close, rsi]) {
                    lane[p] = v;
                }
            }
            let [shift, s1, var_n, close, rsi] = lanes;
            let ([up, mid, lo], events, reasons) =
                finish_group(&shift, &s1, &var_n, &close, &rsi, inv_n, k, &signal);
            let mut expected = GroupEvents {
                enter_long: 0,
                enter_short: 0,
                at_or_above: 0,
                at_or_below: 0,
            };
            for p in 0..4 {
                let (m, sigma) = middle_sigma(shift[p], s1[p], var_n[p], inv_n);
                let (u, l) = band_edges(m, sigma, k.0, k.1);
                assert_eq!(
                    [up[p], mid[p], lo[p]].map(f64::to_bits),
                    [u, m, l].map(f64::to_bits),
                    "group {g} bar {p}"
                );
                let c = signal.conditions(close[p], rsi[p], u, m, l);
                assert_eq!(reasons[p], ReasonSet::of_conditions(c), "group {g} bar {p}");
                let has = |bits: u64| u32::from(c & bits == bits) << p;
                expected.enter_long |= has(code::BELOW_LOWER | code::OVERSOLD);
                expected.enter_short |= has(code::ABOVE_UPPER | code::OVERBOUGHT);
                expected.at_or_above |= has(code::AT_OR_ABOVE_MIDDLE);
                expected.at_or_below |= has(code::AT_OR_BELOW_MIDDLE);
            }
            assert_eq!(events, expected, "group {g}");
        }
    }
}
