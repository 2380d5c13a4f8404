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
//! 2. the sliding update is `S₁ += dₙ − dₒ`, `S₂ += (dₙ − dₒ)(dₙ + dₒ)` with
//!    `d = x − K` for the entering/leaving closes;
//! 3. every `n` bars the state is **re-seeded exactly** from the window: `K` = window
//!    mean, `S₁`, `S₂` recomputed in two passes. Rounding error can therefore only
//!    accumulate over at most `n` updates, and re-seeding costs O(n) every n bars,
//!    i.e. O(1) amortised (two extra flops per bar);
//! 3. b. the state is also re-seeded *early* when a running bound on the rounding error
//!    committed since the last re-seed (ε·Σ|operands|) exceeds 2⁻⁴⁴ of `n·σ²` — this is
//!    what happens when a large deviation leaves the window and σ collapses (e.g. a
//!    nearly flat window after a move): without it σ of such a window could be off by
//!    1e-9 relative. On ordinary data it almost never fires;
//! 4. a window whose closes are all identical (tracked by the length of the trailing run
//!    of equal closes) gets `σ = 0` and `middle = close` exactly, so flat markets give
//!    exactly collapsed bands, like TA-Lib 0.8.1.
//!
//! `tests/indicators.rs` measures the worst relative σ error over every window of
//! 1,000,000 random-walk closes against an exact (compensated) two-pass σ: ≤ 1e-12.
//!
//! # Batch speed
//!
//! [`bollinger_into`] (and the fused kernel) run the same steps over blocks of a few
//! hundred bars: a serial pass slides the sums (between two re-seeds in a call-free loop;
//! the periodic re-seed's two passes are computed one window ahead, off the critical
//! path), then a pass with independent iterations (vectorised) computes `middle`, σ (one
//! square root per bar) and the bands. Results are bit-identical to [`BollingerState`].

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
/// kernel (see the module docs for the algorithm). The fused kernel reads the fields and
/// drives the same methods ([`BbCore::tick`], [`BbCore::slide_sums`],
/// [`BbCore::apply_reseed`]) in its own loop.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BbCore {
    pub(crate) n: usize,
    pub(crate) inv_n: f64,
    pub(crate) k_up: f64,
    pub(crate) k_dn: f64,
    pub(crate) shift: f64,
    pub(crate) s1: f64,
    s2: f64,
    pub(crate) since_reseed: usize,
    pub(crate) var_n: f64,
    magnitude: f64,
    run: usize,
    last: f64,
}

/// Exact two-pass sums of a window: shift `K` = its mean, `Σ(x−K)`, `Σ(x−K)²`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reseed {
    k: f64,
    s1: f64,
    s2: f64,
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
fn lanes_total(l: [f64; SUM_LANES]) -> f64 {
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

/// ε·2⁴⁴ = 2⁻⁸: re-seed when (sum of operand magnitudes)·ε > 2⁻⁴⁴·n·σ².
const CANCELLATION_LIMIT: f64 = 1.0 / 256.0;

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
        Self {
            n: p.period,
            inv_n: 1.0 / p.period as f64,
            k_up: p.k_up,
            k_dn: p.k_dn,
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            since_reseed: 0,
            var_n: 0.0,
            magnitude: 0.0,
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

    /// Sets the state from exact window sums (a re-seed).
    #[inline(always)]
    pub(crate) fn apply_reseed(&mut self, r: Reseed) {
        self.shift = r.k;
        self.s1 = r.s1;
        self.s2 = r.s2;
        self.var_n = r.s2 - r.s1 * r.s1 * self.inv_n;
        self.since_reseed = 0;
        self.magnitude = 0.0;
    }

    /// Exact re-seed from the full window, given oldest-first as two slices.
    #[inline(always)]
    pub(crate) fn reseed(&mut self, a: &[f64], b: &[f64]) {
        // The sums come back by value so that `self` never escapes into a call and can
        // stay in registers in the hot loops.
        self.apply_reseed(reseed_sums(self.inv_n, a, b));
    }

    /// Counts one slide of the full window; true when this slide is a periodic re-seed
    /// (every `n` slides since the last re-seed).
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> bool {
        self.since_reseed += 1;
        self.since_reseed == self.n
    }

    /// The O(1) update of the sums (`x_new` enters, `x_old` leaves); true when the
    /// accumulated rounding error could exceed 2⁻⁴⁴ of `n·σ²`, i.e. the state must be
    /// re-seeded from the window now — unless the window is exactly flat (see
    /// [`BbCore::slide`]), which the caller checks (rarely needed, so callers that do not
    /// track the run of equal closes per bar can find it out only then).
    #[inline(always)]
    pub(crate) fn slide_sums(&mut self, x_new: f64, x_old: f64) -> bool {
        let dn = x_new - self.shift;
        let dold = x_old - self.shift;
        let delta = dn - dold;
        let term = delta * (dn + dold);
        self.s1 += delta;
        self.s2 += term;
        // Running bound on the rounding error committed since the last re-seed:
        // each addition errs by at most ε/2·(|a| + |b|).
        self.magnitude += term.abs() + self.s2.abs();
        // n·σ² from the sums; re-seed as soon as the accumulated error could exceed
        // 2⁻⁴⁴ of it (a large deviation just left the window, or the mean ran away
        // from the shift).
        self.var_n = self.s2 - self.s1 * self.s1 * self.inv_n;
        self.magnitude * CANCELLATION_LIMIT > self.var_n
    }

    /// Slides the full window by one close (`x_new` enters, `x_old` leaves); re-seeds
    /// from `window` (the new window, oldest first, as two slices) every `n` slides, and
    /// early when [`BbCore::slide_sums`] asks for it — except for an exactly flat window,
    /// whose σ is exact anyway (and whose `n·σ²` of 0 would otherwise re-seed every bar).
    #[inline(always)]
    pub(crate) fn slide(&mut self, x_new: f64, x_old: f64, window: (&[f64], &[f64])) {
        if self.tick() || (self.slide_sums(x_new, x_old) && !self.is_flat()) {
            self.reseed(window.0, window.1);
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
/// per-block scratch (a few KiB) stays in L1.
pub(crate) const BLOCK: usize = 256;

/// [`BbCore`] driven over a whole series (the batch kernels), one block at a time.
///
/// The same steps as [`BbCore::slide`], arranged for speed: between two re-seeds the
/// window slides in a call-free inner loop; the periodic re-seed happens between inner
/// loops, its two passes computed one window ahead (off the critical path); the early
/// re-seed is a cold path, which is also where an exactly flat window is recognised
/// (from the closes: batch callers do not call [`BbCore::observe`]).
pub(crate) struct BbBatch {
    pub(crate) core: BbCore,
    /// The re-seed sums of the next periodic re-seed bar, when already computed.
    ahead: Option<(usize, Reseed)>,
}

impl BbBatch {
    pub(crate) fn new(core: BbCore) -> Self {
        Self { core, ahead: None }
    }

    /// Slides over bars `b0..b0 + m` of `close` (all with a full window before them:
    /// `b0 ≥ n`), calling `bar(u, &core)` after bar `b0 + u` in order.
    #[inline(always)]
    pub(crate) fn slide_block(
        &mut self,
        close: &[f64],
        b0: usize,
        m: usize,
        mut bar: impl FnMut(usize, &BbCore),
    ) {
        let n = self.core.n;
        let (xs, olds) = (&close[b0..b0 + m], &close[b0 - n..b0 + m - n]);
        let mut t = 0;
        while t < m {
            // Bars before the next periodic re-seed: plain slides (no call in this loop).
            let free = (n - 1 - self.core.since_reseed).min(m - t);
            let mut fired = None;
            for u in t..t + free {
                let periodic = self.core.tick();
                debug_assert!(!periodic);
                if self.core.slide_sums(xs[u], olds[u]) {
                    fired = Some(u);
                    break;
                }
                bar(u, &self.core);
            }
            // (The re-seed helpers take and return values: `self` must not escape into a
            // call, or its fields would live in memory in the inner loop.)
            let u = match fired {
                Some(u) => {
                    // not for an exactly flat window (as `BbCore::slide`)
                    if !window_is_flat(close, b0 + u, n) {
                        self.core.apply_reseed(early_reseed_sums(
                            close,
                            b0 + u,
                            n,
                            self.core.inv_n,
                        ));
                        self.ahead = None;
                    }
                    u
                }
                None if t + free < m => {
                    let u = t + free;
                    let periodic = self.core.tick();
                    debug_assert!(periodic);
                    let (sums, ahead) =
                        periodic_reseed_sums(close, b0 + u, n, self.core.inv_n, self.ahead);
                    self.core.apply_reseed(sums);
                    self.ahead = ahead;
                    u
                }
                None => break,
            };
            bar(u, &self.core);
            t = u + 1;
        }
    }
}

/// The sums of the periodic re-seed at bar `i` (from the look-ahead when it has them),
/// and the look-ahead for the next one, bar `i + n`.
#[inline(never)]
pub(crate) fn periodic_reseed_sums(
    close: &[f64],
    i: usize,
    n: usize,
    inv_n: f64,
    ahead: Option<(usize, Reseed)>,
) -> (Reseed, Option<(usize, Reseed)>) {
    let sums = match ahead {
        Some((at, sums)) if at == i => sums,
        _ => reseed_sums(inv_n, &close[i + 1 - n..=i], &[]),
    };
    let next = close
        .get(i + 1..=i + n)
        .map(|w| (i + n, reseed_sums(inv_n, w, &[])));
    (sums, next)
}

/// The sums of an early re-seed at bar `i`.
#[cold]
#[inline(never)]
pub(crate) fn early_reseed_sums(close: &[f64], i: usize, n: usize, inv_n: f64) -> Reseed {
    reseed_sums(inv_n, &close[i + 1 - n..=i], &[])
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
            self.core.slide(close, old, (older, newer));
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
    // Then blocks: the serial sums, then the bands with independent iterations.
    let mut batch = BbBatch::new(core);
    let (mut shift, mut s1, mut var_n) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let mut flat = [false; BLOCK];
    let mut b0 = n;
    while b0 < len {
        let m = (len - b0).min(BLOCK);
        batch.slide_block(close, b0, m, |u, bb| {
            shift[u] = bb.shift;
            s1[u] = bb.s1;
            var_n[u] = bb.var_n;
        });
        let bb = &batch.core;
        let (inv_n, k_up, k_dn) = (bb.inv_n, bb.k_up, bb.k_dn);
        let xs = &close[b0..b0 + m];
        let (u, mi, l) = (
            &mut upper[b0..b0 + m],
            &mut middle[b0..b0 + m],
            &mut lower[b0..b0 + m],
        );
        let (shift, s1, var_n, flat) = (&shift[..m], &s1[..m], &var_n[..m], &mut flat[..m]);
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
        b0 += m;
    }
    Ok(n - 1)
}

/// Bollinger Bands of `close` (allocating form of [`bollinger_into`]).
///
/// ```
/// use garch_core::indicators::{bollinger, BollingerParams};
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
