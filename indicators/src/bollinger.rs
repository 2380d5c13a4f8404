//! Bollinger Bands, as TA-Lib's `TA_BBANDS` with `optInMAType = TA_MAType_SMA`
//! (`src/ta_func/ta_BBANDS.c`), plus %B and bandwidth.
//!
//! For period `n` and multipliers `k_up`, `k_dn`, at every index `i ≥ n − 1` over the
//! window `x[i−n+1..=i]`:
//!
//! * `middle = mean` (simple moving average),
//! * `σ = sqrt(Σ(x − mean)² / n)` (population standard deviation, as TA-Lib),
//! * `upper = middle + k_up·σ`, `lower = middle − k_dn·σ` (TA-Lib's operation order).
//!
//! # Why σ does not drift
//!
//! The textbook O(1) update keeps running `Σx` and `Σx²` and computes
//! `E[x²] − mean²`. That subtracts two numbers of size `price²` to get one of size `σ²`:
//! it loses `log₁₀(price²/σ²)` digits at once, and the running sums accumulate rounding
//! error for ever (old TA-Lib versions lost all precision on tiny prices this way,
//! TA-Lib issues #118/#243). Here instead:
//!
//! 1. sums are kept of deviations from a *shift* `K` close to the window mean:
//!    `S₁ = Σ(x−K)`, `S₂ = Σ(x−K)²`, and `σ² = (S₂ − S₁²/n)/n` (the corrected two-pass
//!    formula — no cancellation while `K` is near the mean), `mean = K + S₁/n`;
//! 2. the sliding update adds `δ = dₙ − dₒ` to `S₁` and `δ·(dₙ + dₒ)` to `S₂`, with
//!    `d = x − K` for the entering/leaving closes. The bars are taken in **groups of
//!    four** (bar `i` is lane `i mod 4`): a bar's sums are the sums at the start of its
//!    group plus a prefix sum of the group's increments up to its lane, in the fixed
//!    order a vector unit computes it (`prefix`). The streaming state evaluates
//!    exactly that per bar, in O(1); the batch kernels evaluate a whole group in one
//!    AVX2 register. Only the sums at the end of a group carry over, so the error
//!    carried from bar to bar grows by one rounding per four bars rather than one per
//!    bar;
//! 3. the state is **re-seeded exactly** from the window (`K` = window mean, `S₁`, `S₂`
//!    recomputed in two passes) on every bar whose index is `−1 mod r`, where `r` is
//!    `n` rounded up to a multiple of four — so a periodic re-seed always ends a group.
//!    Rounding error can therefore only accumulate over at most `r < n + 4` updates,
//!    and re-seeding costs O(n) every `r ≥ n` bars, i.e. O(1) amortised;
//! 3. b. the state is also re-seeded *early* when a running bound on the rounding error
//!    committed since the last re-seed (ε·Σ(|term| + |S₂|), a few times the true
//!    bound for the grouped order at most) exceeds 2⁻⁴⁴ of `n·σ²` — this is what
//!    happens when a large deviation leaves the window and σ collapses (e.g. a nearly
//!    flat window after a move): without it σ of such a window could be off by 1e-9
//!    relative. On ordinary data it almost never fires (the batch kernels then redo
//!    that group bar by bar);
//! 4. a window whose closes are all identical (tracked by the length of the trailing run
//!    of equal closes) gets `σ = 0` and `middle = close` exactly, so flat markets give
//!    exactly collapsed bands, like TA-Lib 0.8.1.
//!
//! `tests/indicators.rs` measures the worst relative σ error over every window of
//! 1,000,000 random-walk closes against an exact (compensated) two-pass σ: ≤ 1e-12.
//!
//! # Batch speed
//!
//! [`bollinger_into`] (and the fused kernel) run the same steps over blocks of 256 bars:
//! `slide_block` evaluates the sums a group at a time (`simd::group`: 4 bars in ~55
//! instructions; LLVM would not vectorise the lane prefix sums by itself), then a pass
//! with independent iterations computes `middle`, σ (one square root per bar) and the
//! bands. Results are bit-identical to [`BollingerState`] (tested with `f64::to_bits`).

use serde::Serialize;

use super::{IndicatorError, Series, check_finite, check_finite_at, check_len};

/// Smallest Bollinger period (as TA-Lib).
pub const BB_MIN_PERIOD: usize = 2;
/// Largest Bollinger period (as TA-Lib).
pub const BB_MAX_PERIOD: usize = 100_000;

/// Bollinger parameters: SMA period and the σ multipliers of the upper/lower band.
///
/// Fields are public for convenience; every function validates them
/// ([`BollingerParams::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct BollingerParams {
    /// Window length `n` (2..=100000).
    pub period: usize,
    /// Multiplier of σ for the upper band (finite, ≥ 0).
    pub k_up: f64,
    /// Multiplier of σ for the lower band (finite, ≥ 0).
    pub k_dn: f64,
}

impl Default for BollingerParams {
    /// TA-Lib's/Bollinger's classic (20, 2, 2).
    fn default() -> Self {
        Self {
            period: 20,
            k_up: 2.0,
            k_dn: 2.0,
        }
    }
}

impl BollingerParams {
    /// Symmetric bands: `upper/lower = middle ± k·σ`. Validated.
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        Self::asymmetric(period, k, k)
    }

    /// Separate multipliers for the upper and lower band (as `TA_BBANDS`). Validated.
    pub fn asymmetric(period: usize, k_up: f64, k_dn: f64) -> Result<Self, IndicatorError> {
        let p = Self { period, k_up, k_dn };
        p.validate()?;
        Ok(p)
    }

    /// Checks the period range and that both multipliers are finite and ≥ 0 (negative
    /// multipliers, which TA-Lib accepts, would put the "upper" band below the middle).
    pub fn validate(&self) -> Result<(), IndicatorError> {
        if !(BB_MIN_PERIOD..=BB_MAX_PERIOD).contains(&self.period) {
            return Err(IndicatorError::InvalidPeriod {
                name: "bb_period",
                value: self.period,
                min: BB_MIN_PERIOD,
                max: BB_MAX_PERIOD,
            });
        }
        for (name, value) in [("k_up", self.k_up), ("k_dn", self.k_dn)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(IndicatorError::InvalidParameter {
                    name,
                    value,
                    expected: "a finite multiplier >= 0",
                });
            }
        }
        Ok(())
    }
}

/// The Bollinger values of one bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandsPoint {
    /// Simple moving average of the window.
    pub middle: f64,
    /// `middle + k_up·σ`.
    pub upper: f64,
    /// `middle − k_dn·σ`.
    pub lower: f64,
    /// Population standard deviation of the window.
    pub sigma: f64,
}

impl BandsPoint {
    /// %B = `(close − lower)/(upper − lower)`: 0 at the lower band, 1 at the upper.
    ///
    /// Flat-band policy: when the bands have collapsed (`upper == lower`, i.e. σ = 0 or
    /// both multipliers 0) the ratio is undefined; we return 0.5 — with σ = 0 every close
    /// of the window, including the current one, equals the middle band, which is where
    /// %B is 0.5. Never NaN for finite inputs.
    #[inline]
    pub fn percent_b(&self, close: f64) -> f64 {
        percent_b_value(close, self.upper, self.lower)
    }

    /// Bandwidth = `(upper − lower)/middle` (a fraction, not ×100). `None` when the
    /// middle band is exactly 0 (only possible for zero/mixed-sign prices).
    #[inline]
    pub fn bandwidth(&self) -> Option<f64> {
        (self.middle != 0.0).then(|| (self.upper - self.lower) / self.middle)
    }
}

#[inline(always)]
pub(crate) fn percent_b_value(close: f64, upper: f64, lower: f64) -> f64 {
    let width = upper - lower;
    if width > 0.0 {
        (close - lower) / width
    } else {
        0.5
    }
}

/// The σ/mean arithmetic shared by [`BollingerState`], [`bollinger_into`] and the fused
/// kernel (see the module docs for the algorithm). Streaming calls [`BbCore::slide`] once
/// a bar; the batch kernels run [`slide_block`], which evaluates the same formulas a
/// group of [`GROUP`] bars at a time (and calls [`BbCore::slide`] itself on the rare
/// bars where a group cannot be evaluated as one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BbCore {
    pub(crate) n: usize,
    pub(crate) inv_n: f64,
    pub(crate) k_up: f64,
    pub(crate) k_dn: f64,
    /// Bars between periodic re-seeds: `n` rounded up to whole groups.
    interval: usize,
    pub(crate) shift: f64,
    /// `S₁`, `S₂` and the error bound at the start of the current group, or at the last
    /// re-seed if that was later.
    base: Sums,
    /// The current group's per-bar increments of `S₁`, `S₂` and the bound, in the lane
    /// of each bar (see [`GROUP`]); lanes of bars not seen yet, or not after the base,
    /// are 0.
    delta: Group,
    term: Group,
    incr: Group,
    /// The current bar's sums and `n·σ² = S₂ − S₁²/n`.
    pub(crate) s1: f64,
    s2: f64,
    bound: f64,
    pub(crate) var_n: f64,
    run: usize,
    last: f64,
}

/// The sums carried from one group to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sums {
    pub(crate) s1: f64,
    pub(crate) s2: f64,
    pub(crate) bound: f64,
}

/// Bars per group of the sliding sums: one AVX2 register of `f64`. The bar with index
/// `i` (counted from the start of the series) is lane `i mod GROUP` of its group.
pub(crate) const GROUP: usize = 4;

/// One value per bar of a group.
pub(crate) type Group = [f64; GROUP];

/// Inclusive prefix sums of a group, in the order a vector unit computes them: two
/// shifted additions, `a = v + (v shifted one lane up)`, then `a + (a shifted two lanes
/// up)` (a Hillis–Steele scan). Lane `p` reads only lanes `..=p`, so the streaming state,
/// which has seen the group only up to its current bar, gets the same value.
#[inline(always)]
pub(crate) fn prefix(v: Group) -> Group {
    let a = [v[0], v[1] + v[0], v[2] + v[1], v[3] + v[2]];
    [a[0], a[1], a[2] + a[0], a[3] + a[1]]
}

/// ε·2⁴⁴ = 2⁻⁸: re-seed when (sum of operand magnitudes)·ε > 2⁻⁴⁴·n·σ².
pub(crate) const CANCELLATION_LIMIT: f64 = 1.0 / 256.0;

/// One group's step of the batch kernels: the bars' `S₁` and `n·σ²`, the lanes where the
/// error bound asks for an early re-seed (bit `p` for lane `p`), and the sums at the end
/// of the group. The same operations as [`BbCore::slide_sums`] lane by lane (lane `p`'s
/// prefix reads only lanes `..=p`, which is what the streaming state has seen).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupOut {
    pub(crate) s1: Group,
    pub(crate) var_n: Group,
    pub(crate) early: u32,
    pub(crate) last: Sums,
}

impl GroupOut {
    /// The group of bars `xs` (entering) and `olds` (leaving) from the sums at its start:
    /// in AVX2 registers where the target has them (`simd`), else [`GroupOut::portable`].
    #[inline(always)]
    fn new(base: Sums, shift: f64, inv_n: f64, xs: &Group, olds: &Group) -> Self {
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        return super::simd::group(base, shift, inv_n, xs, olds);
        #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
        return Self::portable(base, shift, inv_n, xs, olds);
    }

    /// The portable form of [`GroupOut::new`], lane by lane.
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "avx2"), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn portable(base: Sums, shift: f64, inv_n: f64, xs: &Group, olds: &Group) -> Self {
        let (mut delta, mut term) = ([0.0; GROUP], [0.0; GROUP]);
        for p in 0..GROUP {
            (delta[p], term[p]) = deviation_terms(xs[p], olds[p], shift);
        }
        let (p1, p2) = (prefix(delta), prefix(term));
        let s1: Group = std::array::from_fn(|p| base.s1 + p1[p]);
        let s2: Group = std::array::from_fn(|p| base.s2 + p2[p]);
        let pb = prefix(std::array::from_fn(|p| bound_increment(term[p], s2[p])));
        let bound: Group = std::array::from_fn(|p| base.bound + pb[p]);
        let var_n = std::array::from_fn(|p| s2[p] - s1[p] * s1[p] * inv_n);
        let mut early = 0;
        for p in 0..GROUP {
            early |= u32::from(bound[p] * CANCELLATION_LIMIT > var_n[p]) << p;
        }
        Self {
            s1,
            var_n,
            early,
            last: Sums {
                s1: s1[GROUP - 1],
                s2: s2[GROUP - 1],
                bound: bound[GROUP - 1],
            },
        }
    }
}

/// `(δ, term)` of one slide: with `d = x − K` for the entering and the leaving close,
/// `δ = dₙ − dₒ` (the change of `S₁`) and `δ·(dₙ + dₒ)` (the change of `S₂`).
#[inline(always)]
fn deviation_terms(x_new: f64, x_old: f64, shift: f64) -> (f64, f64) {
    let dn = x_new - shift;
    let dold = x_old - shift;
    let delta = dn - dold;
    (delta, delta * (dn + dold))
}

/// The error bound's increment for one bar: the magnitudes of the operands that
/// `S₂`'s additions see (its own term and the new `S₂`).
#[inline(always)]
fn bound_increment(term: f64, s2: f64) -> f64 {
    term.abs() + s2.abs()
}

/// Exact two-pass sums of a window: shift `K` = its mean, `Σ(x−K)`, `Σ(x−K)²`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reseed {
    pub(crate) k: f64,
    pub(crate) s1: f64,
    pub(crate) s2: f64,
}

/// Lanes of the re-seed sums: window element `i` goes to lane `i mod 4`.
const SUM_LANES: usize = 4;

/// Adds `f(x)` for each element of `xs`, which starts at window position `offset`, to
/// the lane of its position (see [`SUM_LANES`]); within a lane, in window order.
#[inline(always)]
fn add_to_lanes<const K: usize>(
    acc: &mut [[f64; SUM_LANES]; K],
    offset: usize,
    xs: &[f64],
    f: impl Fn(f64) -> [f64; K],
) {
    let lead = ((SUM_LANES - offset % SUM_LANES) % SUM_LANES).min(xs.len());
    for (p, &x) in xs[..lead].iter().enumerate() {
        let v = f(x);
        for k in 0..K {
            acc[k][(offset + p) % SUM_LANES] += v[k];
        }
    }
    let mut groups = xs[lead..].chunks_exact(SUM_LANES);
    for group in &mut groups {
        for (j, &x) in group.iter().enumerate() {
            let v = f(x);
            for k in 0..K {
                acc[k][j] += v[k];
            }
        }
    }
    for (j, &x) in groups.remainder().iter().enumerate() {
        let v = f(x);
        for k in 0..K {
            acc[k][j] += v[k];
        }
    }
}

/// The total of the lanes, in a fixed order.
#[inline(always)]
pub(crate) fn lanes_total(l: [f64; SUM_LANES]) -> f64 {
    (l[0] + l[1]) + (l[2] + l[3])
}

/// Two-pass sums of a window given oldest first as two slices (see [`Reseed`]).
///
/// Each sum runs in four interleaved lanes (window element `i` in lane `i mod 4`,
/// combined pairwise at the end): four independent addition chains instead of one
/// (the re-seed is otherwise the longest dependency chain of the batch kernels), and
/// the same result however the window is split between `a` and `b` (the streaming
/// state's ring buffer), so streaming and batch agree bit for bit. As exact as one
/// chain: the error bound of a sum of `n` terms only gets smaller when it is split.
#[inline(never)]
pub(crate) fn reseed_sums(inv_n: f64, a: &[f64], b: &[f64]) -> Reseed {
    let mut sum = [[0.0; SUM_LANES]; 1];
    add_to_lanes(&mut sum, 0, a, |x| [x]);
    add_to_lanes(&mut sum, a.len(), b, |x| [x]);
    let k = lanes_total(sum[0]) * inv_n;
    let mut dev = [[0.0; SUM_LANES]; 2];
    let deviation = |x: f64| {
        let d = x - k;
        [d, d * d]
    };
    add_to_lanes(&mut dev, 0, a, deviation);
    add_to_lanes(&mut dev, a.len(), b, deviation);
    Reseed {
        k,
        s1: lanes_total(dev[0]),
        s2: lanes_total(dev[1]),
    }
}

/// `(middle, σ)` of a window that is not exactly flat, from the shifted sums.
#[inline(always)]
pub(crate) fn middle_sigma(shift: f64, s1: f64, var_n: f64, inv_n: f64) -> (f64, f64) {
    let var = var_n * inv_n;
    (shift + s1 * inv_n, if var > 0.0 { var.sqrt() } else { 0.0 })
}

/// `(upper, lower)` = `middle ± k·σ` (TA-Lib's operation order).
#[inline(always)]
pub(crate) fn band_edges(middle: f64, sigma: f64, k_up: f64, k_dn: f64) -> (f64, f64) {
    (middle + sigma * k_up, middle - sigma * k_dn)
}

impl BbCore {
    pub(crate) fn new(p: &BollingerParams) -> Self {
        let zero = Sums {
            s1: 0.0,
            s2: 0.0,
            bound: 0.0,
        };
        Self {
            n: p.period,
            inv_n: 1.0 / p.period as f64,
            k_up: p.k_up,
            k_dn: p.k_dn,
            interval: p.period.next_multiple_of(GROUP),
            shift: 0.0,
            base: zero,
            delta: [0.0; GROUP],
            term: [0.0; GROUP],
            incr: [0.0; GROUP],
            s1: 0.0,
            s2: 0.0,
            bound: 0.0,
            var_n: 0.0,
            run: 0,
            last: f64::NAN,
        }
    }

    /// Records a close for flat-window detection (call for every close, in order).
    #[inline(always)]
    pub(crate) fn observe(&mut self, x: f64) {
        if x == self.last {
            self.run += 1;
        } else {
            self.run = 1;
            self.last = x;
        }
    }

    /// Whether the last `n` closes are all equal (then σ = 0 and middle = the close).
    /// Needs [`BbCore::observe`] for every close.
    #[inline(always)]
    pub(crate) fn is_flat(&self) -> bool {
        self.run >= self.n
    }

    /// Sets the state from exact window sums (a re-seed); the next bar starts a fresh
    /// partial group from them.
    #[inline(always)]
    pub(crate) fn apply_reseed(&mut self, r: Reseed) {
        let sums = Sums {
            s1: r.s1,
            s2: r.s2,
            bound: 0.0,
        };
        self.start_group(sums, r.k);
    }

    /// Puts the state at the start of a group (or just after a re-seed) with sums `base`
    /// and shift `shift`, its lanes empty.
    #[inline(always)]
    fn start_group(&mut self, base: Sums, shift: f64) {
        self.shift = shift;
        (self.s1, self.s2, self.bound) = (base.s1, base.s2, base.bound);
        self.var_n = base.s2 - base.s1 * base.s1 * self.inv_n;
        self.close_group();
    }

    /// Makes the current sums the base of the next bars, with empty lanes.
    #[inline(always)]
    fn close_group(&mut self) {
        self.base = Sums {
            s1: self.s1,
            s2: self.s2,
            bound: self.bound,
        };
        self.delta = [0.0; GROUP];
        self.term = [0.0; GROUP];
        self.incr = [0.0; GROUP];
    }

    /// Exact re-seed from the full window, given oldest-first as two slices.
    #[inline(always)]
    pub(crate) fn reseed(&mut self, a: &[f64], b: &[f64]) {
        // The sums come back by value so that `self` never escapes into a call.
        self.apply_reseed(reseed_sums(self.inv_n, a, b));
    }

    /// Whether bar `i` is a periodic re-seed: the last bar of every `interval` bars
    /// (`n` rounded up to whole groups), so that a periodic re-seed always ends a group.
    #[inline(always)]
    pub(crate) fn is_periodic(&self, i: usize) -> bool {
        i % self.interval == self.interval - 1
    }

    /// The O(1) update of the sums for bar `i` (`x_new` enters, `x_old` leaves): the
    /// bar's lane of its group, `S = base + prefix(lanes)[lane]` (see [`prefix`]). True
    /// when the accumulated rounding error could exceed a few times 2⁻⁴⁴ of `n·σ²`,
    /// i.e. the state must be re-seeded from the window now — unless the window is
    /// exactly flat (see [`BbCore::slide`]), which the caller checks.
    #[inline(always)]
    pub(crate) fn slide_sums(&mut self, i: usize, x_new: f64, x_old: f64) -> bool {
        let p = i % GROUP;
        let (delta, term) = deviation_terms(x_new, x_old, self.shift);
        self.delta[p] = delta;
        self.term[p] = term;
        self.s1 = self.base.s1 + prefix(self.delta)[p];
        self.s2 = self.base.s2 + prefix(self.term)[p];
        self.incr[p] = bound_increment(term, self.s2);
        self.bound = self.base.bound + prefix(self.incr)[p];
        self.var_n = self.s2 - self.s1 * self.s1 * self.inv_n;
        if p == GROUP - 1 {
            self.close_group();
        }
        self.bound * CANCELLATION_LIMIT > self.var_n
    }

    /// Slides the full window to bar `i` (`x_new` enters, `x_old` leaves); re-seeds from
    /// `window` (the new window, oldest first, as two slices) on the periodic bars, and
    /// early when [`BbCore::slide_sums`] asks for it — except for an exactly flat window,
    /// whose σ is exact anyway (and whose `n·σ²` of 0 would otherwise re-seed every bar).
    #[inline(always)]
    pub(crate) fn slide(&mut self, i: usize, x_new: f64, x_old: f64, window: (&[f64], &[f64])) {
        if self.is_periodic(i) || (self.slide_sums(i, x_new, x_old) && !self.is_flat()) {
            self.reseed(window.0, window.1);
        }
    }

    /// [`BbCore::slide`] for batch callers, which have the whole series (and find an
    /// exactly flat window from the closes instead of [`BbCore::observe`]).
    #[inline(always)]
    fn slide_in(&mut self, close: &[f64], i: usize) {
        let n = self.n;
        if self.is_periodic(i)
            || (self.slide_sums(i, close[i], close[i - n]) && !window_is_flat(close, i, n))
        {
            self.apply_reseed(window_sums(close, i, n, self.inv_n));
        }
    }

    /// The bands of the current (full) window.
    #[inline(always)]
    pub(crate) fn point(&self) -> BandsPoint {
        let (middle, sigma) = if self.is_flat() {
            (self.last, 0.0)
        } else {
            middle_sigma(self.shift, self.s1, self.var_n, self.inv_n)
        };
        let (upper, lower) = band_edges(middle, sigma, self.k_up, self.k_dn);
        BandsPoint {
            middle,
            upper,
            lower,
            sigma,
        }
    }
}

/// Bars per block of the batch kernels ([`bollinger_into`], the fused kernel): their
/// per-block scratch (a few KiB) stays in L1. A multiple of [`GROUP`]; blocks start at
/// multiples of it, so that they are made of whole groups.
pub(crate) const BLOCK: usize = 256;

/// Where the block after bar `b0` ends: at the next multiple of [`BLOCK`], or `len`.
#[inline(always)]
pub(crate) fn block_end(b0: usize, len: usize) -> usize {
    ((b0 / BLOCK + 1) * BLOCK).min(len)
}

/// Each bar's raw Bollinger state in a block: shift `K`, `S₁`, `n·σ²`.
pub(crate) struct RawBands {
    pub(crate) shift: [f64; BLOCK],
    pub(crate) s1: [f64; BLOCK],
    pub(crate) var_n: [f64; BLOCK],
}

impl RawBands {
    pub(crate) fn new() -> Box<Self> {
        Box::new(Self {
            shift: [0.0; BLOCK],
            s1: [0.0; BLOCK],
            var_n: [0.0; BLOCK],
        })
    }

    #[inline(always)]
    fn record(&mut self, u: usize, core: &BbCore) {
        self.shift[u] = core.shift;
        self.s1[u] = core.s1;
        self.var_n[u] = core.var_n;
    }
}

/// Slides `core` over the bars `b0..b1` of `close` (all with a full window before them:
/// `b0 ≥ n`; `b1 − b0 ≤ BLOCK`) and keeps each bar's raw state in `raw[bar − b0]`.
///
/// Exactly [`BbCore::slide`] bar by bar, evaluated a whole group at a time where it can
/// be: the group's lanes in vector registers ([`GroupOut`]), and a periodic re-seed,
/// which always ends a group, applied after them. A group where the error bound asks
/// for an early re-seed (rare on ordinary data; every bar of an exactly flat stretch)
/// is redone bar by bar, as are the bars before the first and after the last whole
/// group.
#[inline(never)]
pub(crate) fn slide_block(
    core: &mut BbCore,
    close: &[f64],
    b0: usize,
    b1: usize,
    raw: &mut RawBands,
) {
    let n = core.n;
    let inv_n = core.inv_n;
    let mut i = b0;
    while i < b1 && !i.is_multiple_of(GROUP) {
        core.slide_in(close, i);
        raw.record(i - b0, core);
        i += 1;
    }
    // Whole groups: the base sums and the shift in registers, not in `core`.
    let (mut base, mut shift) = (core.base, core.shift);
    let interval = core.interval;
    // The next periodic re-seed bar (always the last bar of a group).
    let mut periodic_at = i + (interval - 1 - i % interval);
    while i + GROUP <= b1 {
        let xs: &Group = close[i..i + GROUP].try_into().expect("a group");
        let olds: &Group = close[i - n..i - n + GROUP].try_into().expect("a group");
        let group = GroupOut::new(base, shift, inv_n, xs, olds);
        let periodic = periodic_at == i + GROUP - 1;
        // (the periodic re-seed replaces the last lane's own check)
        let early = group.early & if periodic { (1 << (GROUP - 1)) - 1 } else { !0 };
        let u = i - b0;
        if early != 0 {
            // Redo the group bar by bar from its start (which may re-seed mid-group).
            core.start_group(base, shift);
            for j in 0..GROUP {
                core.slide_in(close, i + j);
                raw.record(u + j, core);
            }
            (base, shift) = (core.base, core.shift);
        } else {
            raw.shift[u..u + GROUP].fill(shift);
            raw.s1[u..u + GROUP].copy_from_slice(&group.s1);
            raw.var_n[u..u + GROUP].copy_from_slice(&group.var_n);
            base = group.last;
            if periodic {
                let r = window_sums(close, i + GROUP - 1, n, inv_n);
                let var_n = r.s2 - r.s1 * r.s1 * inv_n;
                let last = u + GROUP - 1;
                (raw.shift[last], raw.s1[last], raw.var_n[last]) = (r.k, r.s1, var_n);
                (base, shift) = (
                    Sums {
                        s1: r.s1,
                        s2: r.s2,
                        bound: 0.0,
                    },
                    r.k,
                );
            }
        }
        if periodic {
            periodic_at += interval;
        }
        i += GROUP;
    }
    // Hand the registers back: the state after a whole group.
    core.start_group(base, shift);
    while i < b1 {
        core.slide_in(close, i);
        raw.record(i - b0, core);
        i += 1;
    }
}

/// The exact sums of the window ending at bar `i` (a re-seed).
#[inline(never)]
fn window_sums(close: &[f64], i: usize, n: usize, inv_n: f64) -> Reseed {
    let window = &close[i + 1 - n..=i];
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    return super::simd::window_sums(window, inv_n);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
    return reseed_sums(inv_n, window, &[]);
}

/// Whether the `n` closes ending at `i` are all equal (the window is exactly flat).
#[cold]
#[inline(never)]
pub(crate) fn window_is_flat(close: &[f64], i: usize, n: usize) -> bool {
    let x = close[i];
    close[i + 1 - n..i].iter().all(|&y| y == x)
}

/// Which of the `flat.len()` bars from `b0` on end an exactly flat window (the last `n`
/// closes equal, as [`BbCore::is_flat`] after [`BbCore::observe`]); false when none
/// does, and then `flat` is not written. Cheap when no two consecutive closes of the
/// block are equal (a window cannot be flat then).
pub(crate) fn flat_windows(close: &[f64], b0: usize, n: usize, flat: &mut [bool]) -> bool {
    let m = flat.len();
    let (xs, prevs) = (&close[b0..b0 + m], &close[b0 - 1..b0 - 1 + m]);
    if !xs.iter().zip(prevs).fold(false, |a, (x, p)| a | (x == p)) {
        return false;
    }
    // The run of equal closes ending at each bar, starting from the run that ends
    // just before the block (counted up to n, which is all that matters).
    let mut run = 1 + close[..b0]
        .windows(2)
        .rev()
        .take_while(|w| w[0] == w[1])
        .take(n)
        .count();
    for ((f, x), p) in flat.iter_mut().zip(xs).zip(prevs) {
        run = if x == p { run + 1 } else { 1 };
        *f = run >= n;
    }
    true
}

/// Streaming Bollinger Bands: one close at a time, O(1) amortised per update
/// (a ring buffer of the last `n` closes is kept for the leaving close and re-seeds).
///
/// Produces exactly (bit for bit) the values of [`bollinger()`] on the same closes.
#[derive(Debug, Clone, PartialEq)]
pub struct BollingerState {
    params: BollingerParams,
    core: BbCore,
    ring: Vec<f64>,
    head: usize,
    count: usize,
}

impl BollingerState {
    /// A fresh state (validates `params`).
    pub fn new(params: BollingerParams) -> Result<Self, IndicatorError> {
        params.validate()?;
        Ok(Self {
            params,
            core: BbCore::new(&params),
            ring: Vec::with_capacity(params.period),
            head: 0,
            count: 0,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &BollingerParams {
        &self.params
    }

    /// Number of closes accepted so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Feeds the next close; returns the bands at this bar (`None` for the first
    /// `n − 1` bars). A non-finite close is rejected (state unchanged) with its index.
    pub fn update(&mut self, close: f64) -> Result<Option<BandsPoint>, IndicatorError> {
        check_finite_at("close", self.count, close)?;
        Ok(self.push(close))
    }

    /// The bands of the current window (`None` during warm-up).
    pub fn value(&self) -> Option<BandsPoint> {
        (self.count >= self.params.period).then(|| self.core.point())
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        self.core = BbCore::new(&self.params);
        self.ring.clear();
        self.head = 0;
        self.count = 0;
    }

    /// The σ core (for the fused kernel's hand-over after warm-up).
    pub(crate) fn into_core(self) -> BbCore {
        self.core
    }

    /// Update without validation (the caller guarantees a finite close).
    #[inline(always)]
    pub(crate) fn push(&mut self, close: f64) -> Option<BandsPoint> {
        let n = self.params.period;
        self.count += 1;
        self.core.observe(close);
        if self.ring.len() < n {
            self.ring.push(close);
            if self.ring.len() < n {
                return None;
            }
            self.core.reseed(&self.ring, &[]);
        } else {
            let old = std::mem::replace(&mut self.ring[self.head], close);
            self.head += 1;
            if self.head == n {
                self.head = 0;
            }
            let (newer, older) = self.ring.split_at(self.head);
            self.core.slide(self.count - 1, close, old, (older, newer));
        }
        Some(self.core.point())
    }
}

/// Batch Bollinger Bands output: three aligned series (first valid index `n − 1`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Bands {
    /// Upper band.
    pub upper: Series,
    /// Middle band (SMA).
    pub middle: Series,
    /// Lower band.
    pub lower: Series,
}

impl Bands {
    /// %B per bar for the same `close` the bands were computed from (policy for
    /// collapsed bands: 0.5, see [`BandsPoint::percent_b`]); missing during warm-up.
    pub fn percent_b(&self, close: &[f64]) -> Result<Series, IndicatorError> {
        check_len("close", self.middle.len(), close.len())?;
        let values = close
            .iter()
            .zip(self.upper.as_slice().iter().zip(self.lower.as_slice()))
            .map(|(&c, (&u, &l))| {
                if u.is_nan() {
                    f64::NAN
                } else {
                    percent_b_value(c, u, l)
                }
            })
            .collect();
        Ok(Series::from_raw(values))
    }

    /// Bandwidth `(upper − lower)/middle` per bar; missing during warm-up and where the
    /// middle band is exactly 0.
    pub fn bandwidth(&self) -> Series {
        let values = self
            .middle
            .as_slice()
            .iter()
            .zip(self.upper.as_slice().iter().zip(self.lower.as_slice()))
            .map(|(&m, (&u, &l))| if m == 0.0 { f64::NAN } else { (u - l) / m })
            .collect();
        Series::from_raw(values)
    }
}

/// Bollinger Bands of `close` into caller-provided slices (each of `close.len()`);
/// returns the first valid index (`n − 1`, or `close.len()` if the series is shorter
/// than `n`). Warm-up slots are NaN.
pub fn bollinger_into(
    close: &[f64],
    params: &BollingerParams,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<usize, IndicatorError> {
    params.validate()?;
    check_len("upper", close.len(), upper.len())?;
    check_len("middle", close.len(), middle.len())?;
    check_len("lower", close.len(), lower.len())?;
    check_finite("close", close)?;
    let n = params.period;
    let len = close.len();
    if len < n {
        upper.fill(f64::NAN);
        middle.fill(f64::NAN);
        lower.fill(f64::NAN);
        return Ok(len);
    }
    for s in [&mut *upper, &mut *middle, &mut *lower] {
        s[..n - 1].fill(f64::NAN);
    }
    let mut core = BbCore::new(params);
    core.reseed(&close[..n], &[]);
    // The first window may already be flat (as `BollingerState`, which observes it).
    let flat0 = window_is_flat(close, n - 1, n);
    let (middle0, sigma0) = if flat0 {
        (close[n - 1], 0.0)
    } else {
        middle_sigma(core.shift, core.s1, core.var_n, core.inv_n)
    };
    let (upper0, lower0) = band_edges(middle0, sigma0, core.k_up, core.k_dn);
    (upper[n - 1], middle[n - 1], lower[n - 1]) = (upper0, middle0, lower0);
    // Then blocks: the sums (`slide_block`), then the bands with independent iterations.
    let mut raw = RawBands::new();
    let mut flat = [false; BLOCK];
    let mut b0 = n;
    while b0 < len {
        let b1 = block_end(b0, len);
        let m = b1 - b0;
        slide_block(&mut core, close, b0, b1, &mut raw);
        let (inv_n, k_up, k_dn) = (core.inv_n, core.k_up, core.k_dn);
        let xs = &close[b0..b1];
        let (u, mi, l) = (&mut upper[b0..b1], &mut middle[b0..b1], &mut lower[b0..b1]);
        let (shift, s1, var_n) = (&raw.shift[..m], &raw.s1[..m], &raw.var_n[..m]);
        let flat = &mut flat[..m];
        if flat_windows(close, b0, n, flat) {
            for t in 0..m {
                let (mid, sigma) = if flat[t] {
                    (xs[t], 0.0)
                } else {
                    middle_sigma(shift[t], s1[t], var_n[t], inv_n)
                };
                (u[t], l[t]) = band_edges(mid, sigma, k_up, k_dn);
                mi[t] = mid;
            }
        } else {
            for t in 0..m {
                let (mid, sigma) = middle_sigma(shift[t], s1[t], var_n[t], inv_n);
                (u[t], l[t]) = band_edges(mid, sigma, k_up, k_dn);
                mi[t] = mid;
            }
        }
        b0 = b1;
    }
    Ok(n - 1)
}

/// Bollinger Bands of `close` (allocating form of [`bollinger_into`]).
///
/// ```
/// use indicators::{bollinger, BollingerParams};
/// let close = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83];
/// let bb = bollinger(&close, &BollingerParams::new(5, 2.0).unwrap()).unwrap();
/// assert_eq!(bb.middle.first_valid(), 4);
/// assert!((bb.middle.get(4).unwrap() - 44.104).abs() < 1e-12);
/// assert!((bb.upper.get(4).unwrap() - 44.63550353).abs() < 1e-8);
/// ```
pub fn bollinger(close: &[f64], params: &BollingerParams) -> Result<Bands, IndicatorError> {
    let len = close.len();
    let (mut u, mut m, mut l) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
    let first_valid = bollinger_into(close, params, &mut u, &mut m, &mut l)?;
    let mk = |values| Series {
        values,
        first_valid,
    };
    Ok(Bands {
        upper: mk(u),
        middle: mk(m),
        lower: mk(l),
    })
}

#[cfg(test)]
mod tests;
