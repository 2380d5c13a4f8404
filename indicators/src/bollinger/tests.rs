//! Unit tests of the Bollinger kernels: the four-bar group step and the re-seed sums equal the
//! streaming slides bit for bit, on awkward values.

use super::*;
use crate::test_inputs::{unit, xorshift};

/// Awkward values: signed zeros, tiny and huge magnitudes, exact ties.
fn samples() -> Vec<f64> {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut v = vec![0.0, -0.0, 1.0, -1.0, 1e-300, -1e300, 100.0, 100.0];
    v.extend((0..400).map(|_| {
        let x = next();
        let u = unit(x);
        match x % 4 {
            0 => 100.0 + u,
            1 => -u * 1e-3,
            2 => u * 1e6,
            _ => 100.0,
        }
    }));
    v
}

#[test]
fn group_step_is_four_streaming_slides_bit_for_bit() {
    let v = samples();
    let core = BbCore::new(&BollingerParams::new(7, 2.0).unwrap());
    for (j, w) in v.windows(11).enumerate() {
        let xs: Group = w[..4].try_into().unwrap();
        let olds: Group = w[4..8].try_into().unwrap();
        let base = Sums {
            s1: w[8],
            s2: w[9].abs(),
            bound: w[10].abs(),
        };
        let shift = v[(j * 7) % v.len()];
        let group = GroupOut::new(base, shift, core.inv_n, &xs, &olds);
        let portable = GroupOut::portable(base, shift, core.inv_n, &xs, &olds);
        // the streaming state, one bar at a time from the same base
        let mut s = core.clone();
        (s.base, s.shift) = (base, shift);
        let mut early = 0;
        for p in 0..GROUP {
            early |= u32::from(s.slide_sums(4 + p, xs[p], olds[p])) << p;
            for g in [&group, &portable] {
                assert_eq!(g.s1[p].to_bits(), s.s1.to_bits(), "window {j} lane {p}");
                assert_eq!(
                    g.var_n[p].to_bits(),
                    s.var_n.to_bits(),
                    "window {j} lane {p}"
                );
            }
        }
        assert_eq!((group.early, portable.early), (early, early), "window {j}");
        let last = (s.base.s1, s.base.s2, s.base.bound);
        for g in [group.last, portable.last] {
            assert_eq!((g.s1, g.s2, g.bound), last, "window {j}");
        }
    }
}

#[test]
fn window_sums_are_the_streaming_reseed_sums() {
    let v = samples();
    for n in [2, 3, 4, 5, 8, 20, 21, 50] {
        let inv_n = 1.0 / n as f64;
        for i in n - 1..v.len() {
            let w = window_sums(&v, i, n, inv_n);
            let (a, b) = v[i + 1 - n..=i].split_at(n / 3);
            let r = reseed_sums(inv_n, a, b);
            assert_eq!(
                (w.k.to_bits(), w.s1.to_bits(), w.s2.to_bits()),
                (r.k.to_bits(), r.s1.to_bits(), r.s2.to_bits()),
                "n {n} bar {i}"
            );
        }
    }
}
