//! Trading signals from RSI and Bollinger Bands.
//!
//! Per bar, with `rsi`, bands `lower ≤ middle ≤ upper` and thresholds
//! `0 < oversold < overbought < 100` (defaults 30/70, as backtrader and TradingView):
//!
//! * condition reasons: [`Reason::RsiOversold`] (`rsi < oversold`),
//!   [`Reason::RsiOverbought`] (`rsi > overbought`), [`Reason::BelowLowerBand`]
//!   (`close < lower`), [`Reason::AboveUpperBand`] (`close > upper`);
//! * the mean-reversion position (the rule of freqtrade's Bollinger/RSI examples):
//!   1. `close < lower` and `rsi < oversold` → **long** ([`Reason::EnterLong`] when the
//!      position changes);
//!   2. else `close > upper` and `rsi > overbought` → **short** ([`Reason::EnterShort`]);
//!   3. else a long position exits to **flat** once the close is back at or above the
//!      middle band ([`Reason::ExitLong`]), a short once it is at or below it
//!      ([`Reason::ExitShort`]);
//!   4. otherwise the previous position is held.
//!
//!   Entries take precedence over exits, so a short turns long directly when the long
//!   condition fires. Comparisons are strict (`rsi == 30` is not oversold).
//! * while RSI or the bands are still warming up the position stays flat and
//!   [`Reason::Warmup`] is reported (with whichever condition reasons can already be
//!   evaluated).

use serde::{Deserialize, Serialize};

use super::IndicatorError;
use super::bollinger::BandsPoint;

/// Position implied by the signal rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(i8)]
pub enum Signal {
    /// Long (expecting reversion up to the middle band).
    Long = 1,
    /// Short (expecting reversion down to the middle band).
    Short = -1,
    /// No position.
    #[default]
    Flat = 0,
}

impl Signal {
    /// +1 / −1 / 0.
    pub fn direction(self) -> i8 {
        self as i8
    }
}

/// Why a bar got its signal. Serialised in `snake_case` (`"rsi_oversold"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Reason {
    /// RSI or the bands are not available yet; no position can be taken.
    Warmup = 0,
    /// RSI above the overbought threshold.
    RsiOverbought = 1,
    /// RSI below the oversold threshold.
    RsiOversold = 2,
    /// Close above the upper band.
    AboveUpperBand = 3,
    /// Close below the lower band.
    BelowLowerBand = 4,
    /// The position changed to long (close below lower band and RSI oversold).
    EnterLong = 5,
    /// The position changed to short (close above upper band and RSI overbought).
    EnterShort = 6,
    /// A long position was closed: the close reached the middle band.
    ExitLong = 7,
    /// A short position was closed: the close reached the middle band.
    ExitShort = 8,
}

impl Reason {
    /// Every reason, in bit order.
    pub const ALL: [Reason; 9] = [
        Reason::Warmup,
        Reason::RsiOverbought,
        Reason::RsiOversold,
        Reason::AboveUpperBand,
        Reason::BelowLowerBand,
        Reason::EnterLong,
        Reason::EnterShort,
        Reason::ExitLong,
        Reason::ExitShort,
    ];

    const fn bit(self) -> u16 {
        1 << (self as u8)
    }
}

/// A compact set of [`Reason`]s (a 16-bit mask; 2 bytes per bar in series outputs).
/// Serialised as a JSON array of reason names in bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "Vec<Reason>", from = "Vec<Reason>")]
pub struct ReasonSet(u16);

impl ReasonSet {
    /// The empty set.
    pub const EMPTY: ReasonSet = ReasonSet(0);

    /// Adds a reason.
    #[inline(always)]
    pub fn insert(&mut self, r: Reason) {
        self.0 |= r.bit();
    }

    /// Whether `r` is in the set.
    #[inline]
    pub fn contains(self, r: Reason) -> bool {
        self.0 & r.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of reasons.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The reasons, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// The raw bit mask (bit `i` = the reason with discriminant `i`).
    pub fn bits(self) -> u16 {
        self.0
    }

    /// Four bars' reasons packed as the `u16` lanes of `bits` (bar `p` in bits
    /// `16·p..16·p + 16`).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "avx2")),
        allow(dead_code)
    )]
    #[inline(always)]
    pub(crate) fn of_lanes(bits: u64) -> [Self; 4] {
        std::array::from_fn(|p| ReasonSet((bits >> (16 * p)) as u16))
    }

    /// The condition reasons of a condition code (its bits 1–4, see `code`).
    #[inline(always)]
    pub(crate) fn of_conditions(c: u64) -> Self {
        ReasonSet((c & code::REASONS) as u16)
    }

    #[inline(always)]
    fn set_if(&mut self, r: Reason, cond: bool) {
        self.0 |= (cond as u16) << (r as u8);
    }
}

impl From<ReasonSet> for Vec<Reason> {
    fn from(s: ReasonSet) -> Self {
        s.iter().collect()
    }
}

impl From<Vec<Reason>> for ReasonSet {
    fn from(v: Vec<Reason>) -> Self {
        v.into_iter().collect()
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut s = ReasonSet::EMPTY;
        for r in iter {
            s.insert(r);
        }
        s
    }
}

/// RSI thresholds of the signal rule. Validate with [`SignalConfig::validate`] (every
/// consumer in this module does).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalConfig {
    /// RSI strictly below this is oversold (default 30).
    pub oversold: f64,
    /// RSI strictly above this is overbought (default 70).
    pub overbought: f64,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            oversold: 30.0,
            overbought: 70.0,
        }
    }
}

impl SignalConfig {
    /// Validated thresholds.
    pub fn new(oversold: f64, overbought: f64) -> Result<Self, IndicatorError> {
        let c = Self {
            oversold,
            overbought,
        };
        c.validate()?;
        Ok(c)
    }

    /// Requires `0 < oversold < overbought < 100` (NaN fails).
    pub fn validate(&self) -> Result<(), IndicatorError> {
        if !(self.oversold > 0.0 && self.oversold < 100.0) {
            return Err(IndicatorError::InvalidParameter {
                name: "oversold",
                value: self.oversold,
                expected: "0 < oversold < overbought < 100",
            });
        }
        if !(self.overbought > self.oversold && self.overbought < 100.0) {
            return Err(IndicatorError::InvalidParameter {
                name: "overbought",
                value: self.overbought,
                expected: "0 < oversold < overbought < 100",
            });
        }
        Ok(())
    }
}

/// Condition code of one bar (see [`SignalCore::conditions`]): bits 1–4 are the
/// condition reasons' own bits, bits 0 and 5 say where the close is against the middle
/// band (the exit rules). A `u64` so that a vectorised loop computing codes keeps them in
/// the 64-bit lanes of its `f64` comparisons.
pub(crate) mod code {
    /// `close >= middle` (exits a long).
    pub const AT_OR_ABOVE_MIDDLE: u64 = 1 << 0;
    /// `rsi > overbought` (= the bit of [`super::Reason::RsiOverbought`]).
    pub const OVERBOUGHT: u64 = 1 << 1;
    /// `rsi < oversold` (= the bit of [`super::Reason::RsiOversold`]).
    pub const OVERSOLD: u64 = 1 << 2;
    /// `close > upper` (= the bit of [`super::Reason::AboveUpperBand`]).
    pub const ABOVE_UPPER: u64 = 1 << 3;
    /// `close < lower` (= the bit of [`super::Reason::BelowLowerBand`]).
    pub const BELOW_LOWER: u64 = 1 << 4;
    /// `close <= middle` (exits a short).
    pub const AT_OR_BELOW_MIDDLE: u64 = 1 << 5;
    /// The bits that are reasons themselves.
    pub const REASONS: u64 = OVERBOUGHT | OVERSOLD | ABOVE_UPPER | BELOW_LOWER;
    /// Number of distinct codes.
    #[cfg(test)]
    pub const COUNT: usize = 64;
}

/// The position rule: the next position and the reasons of a bar, from the previous
/// position and the bar's condition code. The one definition of the state machine, used
/// by [`SignalCore::step`] and (through [`run_events`]) by the batch kernel.
#[inline(always)]
pub(crate) fn transition(prev: Signal, c: u64) -> (Signal, ReasonSet) {
    let has = |bit: u64| c & bit != 0;
    // The reason bits fit in 16 bits.
    let mut reasons = ReasonSet((c & code::REASONS) as u16);
    let next = if has(code::BELOW_LOWER) && has(code::OVERSOLD) {
        Signal::Long
    } else if has(code::ABOVE_UPPER) && has(code::OVERBOUGHT) {
        Signal::Short
    } else {
        match prev {
            Signal::Long if has(code::AT_OR_ABOVE_MIDDLE) => {
                reasons.insert(Reason::ExitLong);
                Signal::Flat
            }
            Signal::Short if has(code::AT_OR_BELOW_MIDDLE) => {
                reasons.insert(Reason::ExitShort);
                Signal::Flat
            }
            p => p,
        }
    };
    if next != prev {
        match next {
            Signal::Long => reasons.insert(Reason::EnterLong),
            Signal::Short => reasons.insert(Reason::EnterShort),
            Signal::Flat => {}
        }
    }
    (next, reasons)
}

/// Words of [`Events`]: up to 256 bars, one bit each.
pub(crate) const EVENT_WORDS: usize = 4;

/// For a run of up to 256 bars (a block of the batch kernel), the bars where each of
/// the conditions that can move the position holds, one bit per bar (bar `t` is bit
/// `t mod 64` of word `t / 64`): the entries (close below the lower band and RSI
/// oversold; close above the upper band and RSI overbought) and the two sides of the
/// middle band (the exits). [`transition`] depends on a code through these four only.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events {
    enter_long: [u64; EVENT_WORDS],
    enter_short: [u64; EVENT_WORDS],
    at_or_above: [u64; EVENT_WORDS],
    at_or_below: [u64; EVENT_WORDS],
}

impl Events {
    /// No events.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Records bar `t`'s condition code.
    #[inline(always)]
    pub(crate) fn add_code(&mut self, t: usize, c: u64) {
        let has = |bits: u64| u64::from(c & bits == bits);
        let (w, b) = (t / 64, t % 64);
        self.enter_long[w] |= has(code::BELOW_LOWER | code::OVERSOLD) << b;
        self.enter_short[w] |= has(code::ABOVE_UPPER | code::OVERBOUGHT) << b;
        self.at_or_above[w] |= has(code::AT_OR_ABOVE_MIDDLE) << b;
        self.at_or_below[w] |= has(code::AT_OR_BELOW_MIDDLE) << b;
    }

    /// Records the four bars from `t` (a multiple of 4).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "avx2")),
        allow(dead_code)
    )]
    #[inline(always)]
    pub(crate) fn add_group(&mut self, t: usize, g: GroupEvents) {
        let (w, b) = (t / 64, t % 64);
        self.enter_long[w] |= u64::from(g.enter_long) << b;
        self.enter_short[w] |= u64::from(g.enter_short) << b;
        self.at_or_above[w] |= u64::from(g.at_or_above) << b;
        self.at_or_below[w] |= u64::from(g.at_or_below) << b;
    }

    /// The bars of word `w` whose code moves `position` (`transition(position, c).0 !=
    /// position`, tested against it for every code).
    #[inline(always)]
    fn changes(&self, w: usize, position: Signal) -> u64 {
        let (el, es) = (self.enter_long[w], self.enter_short[w]);
        match position {
            Signal::Flat => el | es,
            // a long is kept by a new long entry, ended by a short entry or the middle
            Signal::Long => !el & (es | self.at_or_above[w]),
            // a short is ended by a long entry, kept by a new short entry, else ended at
            // the middle
            Signal::Short => el | (!es & self.at_or_below[w]),
        }
    }

    /// A code with bar `t`'s events (the reason bits only as far as the entries imply
    /// them): what [`transition`] needs.
    #[inline(always)]
    fn code(&self, t: usize) -> u64 {
        let (w, b) = (t / 64, t % 64);
        let bit = |words: &[u64; EVENT_WORDS]| words[w] >> b & 1 == 1;
        let mut c = 0;
        if bit(&self.enter_long) {
            c |= code::BELOW_LOWER | code::OVERSOLD;
        }
        if bit(&self.enter_short) {
            c |= code::ABOVE_UPPER | code::OVERBOUGHT;
        }
        if bit(&self.at_or_above) {
            c |= code::AT_OR_ABOVE_MIDDLE;
        }
        if bit(&self.at_or_below) {
            c |= code::AT_OR_BELOW_MIDDLE;
        }
        c
    }

    /// The first bar in `t..m` that moves `position`, or `m`.
    #[inline(always)]
    fn next_change(&self, t: usize, m: usize, position: Signal) -> usize {
        let mut w = t / 64;
        let mut bits = self.changes(w, position) & (!0u64 << (t % 64));
        while bits == 0 {
            w += 1;
            if w * 64 >= m {
                return m;
            }
            bits = self.changes(w, position);
        }
        (w * 64 + bits.trailing_zeros() as usize).min(m)
    }
}

/// Four bars' events, each as a 4-bit mask (bit `p` for the group's bar `p`): the
/// bits [`Events`] keeps, for one group of four bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupEvents {
    pub(crate) enter_long: u32,
    pub(crate) enter_short: u32,
    pub(crate) at_or_above: u32,
    pub(crate) at_or_below: u32,
}

/// The state machine over the `m` bars of `events`, starting from `position`: writes
/// every bar's position, adds the entry/exit reasons to `reasons` (which hold the
/// condition reasons already) and returns the position after the last bar. The batch
/// form of [`SignalCore::step`]: [`transition`] only at the bars that move the position,
/// found 64 bars at a time; between them the position is held, so those bars are a fill.
pub(crate) fn run_events(
    events: &Events,
    m: usize,
    mut position: Signal,
    positions: &mut [Signal],
    reasons: &mut [ReasonSet],
) -> Signal {
    let (positions, reasons) = (&mut positions[..m], &mut reasons[..m]);
    let mut t = 0;
    while t < m {
        let e = events.next_change(t, m, position);
        positions[t..e].fill(position);
        if e == m {
            break;
        }
        let (next, why) = transition(position, events.code(e));
        positions[e] = next;
        // (the events' code has no condition reasons the bar lacks)
        reasons[e].0 |= why.0;
        position = next;
        t = e + 1;
    }
    position
}

/// The signal state machine shared by the streaming state and the fused kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SignalCore {
    pub(crate) oversold: f64,
    pub(crate) overbought: f64,
    pub(crate) position: Signal,
}

impl SignalCore {
    pub(crate) fn new(cfg: &SignalConfig) -> Self {
        Self {
            oversold: cfg.oversold,
            overbought: cfg.overbought,
            position: Signal::Flat,
        }
    }

    /// The condition code of a bar with both indicators available (branch-free).
    #[inline(always)]
    pub(crate) fn conditions(
        &self,
        close: f64,
        rsi: f64,
        upper: f64,
        middle: f64,
        lower: f64,
    ) -> u64 {
        u64::from(close >= middle)
            | u64::from(rsi > self.overbought) << 1
            | u64::from(rsi < self.oversold) << 2
            | u64::from(close > upper) << 3
            | u64::from(close < lower) << 4
            | u64::from(close <= middle) << 5
    }

    /// One bar with both indicators available.
    #[inline(always)]
    pub(crate) fn step(
        &mut self,
        close: f64,
        rsi: f64,
        upper: f64,
        middle: f64,
        lower: f64,
    ) -> ReasonSet {
        let c = self.conditions(close, rsi, upper, middle, lower);
        let (next, reasons) = transition(self.position, c);
        self.position = next;
        reasons
    }

    /// One bar during warm-up (at least one indicator missing).
    pub(crate) fn warmup(
        &mut self,
        close: f64,
        rsi: Option<f64>,
        bands: Option<BandsPoint>,
    ) -> ReasonSet {
        let mut reasons = ReasonSet::EMPTY;
        reasons.insert(Reason::Warmup);
        if let Some(r) = rsi {
            reasons.set_if(Reason::RsiOversold, r < self.oversold);
            reasons.set_if(Reason::RsiOverbought, r > self.overbought);
        }
        if let Some(b) = bands {
            reasons.set_if(Reason::BelowLowerBand, close < b.lower);
            reasons.set_if(Reason::AboveUpperBand, close > b.upper);
        }
        self.position = Signal::Flat;
        reasons
    }
}

/// The state of the latest bar of a series, for APIs and dashboards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalSummary {
    /// Index of the bar in its series.
    pub index: usize,
    /// Its close.
    pub close: f64,
    /// RSI (`None` during warm-up).
    pub rsi: Option<f64>,
    /// Upper band (`None` during warm-up).
    pub upper: Option<f64>,
    /// Middle band (`None` during warm-up).
    pub middle: Option<f64>,
    /// Lower band (`None` during warm-up).
    pub lower: Option<f64>,
    /// %B (flat-band policy 0.5; `None` during warm-up).
    pub percent_b: Option<f64>,
    /// Bandwidth (`None` during warm-up or when the middle band is 0).
    pub bandwidth: Option<f64>,
    /// Current position.
    pub position: Signal,
    /// Reasons that fired on this bar.
    pub reasons: ReasonSet,
    /// Index of the bar where the current position was entered (`None` when flat).
    pub position_since: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::super::test_inputs::xorshift;
    use super::*;

    fn core() -> SignalCore {
        SignalCore::new(&SignalConfig::default())
    }

    // Bands fixed at lower 90 / middle 100 / upper 110 in these tests.
    fn step(c: &mut SignalCore, close: f64, rsi: f64) -> (Signal, Vec<Reason>) {
        let r = c.step(close, rsi, 110.0, 100.0, 90.0);
        (c.position, r.iter().collect())
    }

    #[test]
    fn long_entry_hold_and_exit_at_middle() {
        let mut c = core();
        assert_eq!(
            step(&mut c, 95.0, 25.0),
            (Signal::Flat, vec![Reason::RsiOversold])
        );
        assert_eq!(
            step(&mut c, 89.0, 25.0),
            (
                Signal::Long,
                vec![
                    Reason::RsiOversold,
                    Reason::BelowLowerBand,
                    Reason::EnterLong
                ]
            )
        );
        // still in the entry zone: hold, no new entry reason
        assert_eq!(
            step(&mut c, 88.0, 20.0),
            (
                Signal::Long,
                vec![Reason::RsiOversold, Reason::BelowLowerBand]
            )
        );
        // below the middle: hold
        assert_eq!(step(&mut c, 99.99, 45.0), (Signal::Long, vec![]));
        // reaching the middle exits
        assert_eq!(
            step(&mut c, 100.0, 50.0),
            (Signal::Flat, vec![Reason::ExitLong])
        );
        assert_eq!(step(&mut c, 101.0, 55.0), (Signal::Flat, vec![]));
    }

    #[test]
    fn short_entry_and_exit() {
        let mut c = core();
        assert_eq!(
            step(&mut c, 111.0, 75.0),
            (
                Signal::Short,
                vec![
                    Reason::RsiOverbought,
                    Reason::AboveUpperBand,
                    Reason::EnterShort
                ]
            )
        );
        assert_eq!(step(&mut c, 105.0, 60.0), (Signal::Short, vec![]));
        assert_eq!(
            step(&mut c, 99.0, 40.0),
            (Signal::Flat, vec![Reason::ExitShort])
        );
    }

    #[test]
    fn both_conditions_needed_and_strict_thresholds() {
        let mut c = core();
        // below the band but RSI not oversold
        assert_eq!(
            step(&mut c, 89.0, 30.0),
            (Signal::Flat, vec![Reason::BelowLowerBand])
        );
        // oversold but inside the bands
        assert_eq!(
            step(&mut c, 91.0, 10.0),
            (Signal::Flat, vec![Reason::RsiOversold])
        );
        // at the upper band exactly with RSI exactly 70: nothing
        assert_eq!(step(&mut c, 110.0, 70.0), (Signal::Flat, vec![]));
    }

    #[test]
    fn reversal_short_to_long() {
        let mut c = core();
        step(&mut c, 111.0, 75.0);
        assert_eq!(c.position, Signal::Short);
        let (p, r) = step(&mut c, 89.0, 25.0);
        assert_eq!(p, Signal::Long);
        assert!(r.contains(&Reason::EnterLong) && !r.contains(&Reason::ExitShort));
    }

    #[test]
    fn warmup_is_flat_and_reports_what_is_known() {
        let mut c = core();
        let r = c.warmup(50.0, Some(20.0), None);
        assert_eq!(c.position, Signal::Flat);
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            vec![Reason::Warmup, Reason::RsiOversold]
        );
    }

    #[test]
    fn custom_thresholds() {
        let mut c = SignalCore::new(&SignalConfig::new(20.0, 80.0).unwrap());
        assert_eq!(step(&mut c, 89.0, 25.0).0, Signal::Flat);
        assert_eq!(step(&mut c, 89.0, 19.0).0, Signal::Long);
    }

    #[test]
    fn condition_code_bits_are_reason_bits() {
        assert_eq!(code::OVERBOUGHT, u64::from(Reason::RsiOverbought.bit()));
        assert_eq!(code::OVERSOLD, u64::from(Reason::RsiOversold.bit()));
        assert_eq!(code::ABOVE_UPPER, u64::from(Reason::AboveUpperBand.bit()));
        assert_eq!(code::BELOW_LOWER, u64::from(Reason::BelowLowerBand.bit()));
    }

    #[test]
    fn event_changes_are_the_transition_function() {
        for prev in [Signal::Flat, Signal::Long, Signal::Short] {
            for c in 0..code::COUNT as u64 {
                let mut ev = Events::default();
                ev.add_code(5, c);
                let changes = transition(prev, c).0 != prev;
                assert_eq!(
                    ev.changes(0, prev),
                    u64::from(changes) << 5,
                    "{prev:?} {c:#b}"
                );
                assert_eq!(transition(prev, ev.code(5)).0, transition(prev, c).0);
            }
        }
    }

    /// Pseudo-random condition codes that move the position often.
    fn random_codes(len: usize) -> Vec<u64> {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        (0..len).map(|_| next() % code::COUNT as u64).collect()
    }

    #[test]
    fn group_events_match_codes() {
        let codes = random_codes(256);
        let (mut by_code, mut by_group) = (Events::default(), Events::default());
        for (t, &c) in codes.iter().enumerate() {
            by_code.add_code(t, c);
        }
        for (g, four) in codes.chunks_exact(4).enumerate() {
            let mask = |bits: u64| {
                four.iter()
                    .enumerate()
                    .fold(0, |m, (p, &c)| m | u32::from(c & bits == bits) << p)
            };
            by_group.add_group(
                4 * g,
                GroupEvents {
                    enter_long: mask(code::BELOW_LOWER | code::OVERSOLD),
                    enter_short: mask(code::ABOVE_UPPER | code::OVERBOUGHT),
                    at_or_above: mask(code::AT_OR_ABOVE_MIDDLE),
                    at_or_below: mask(code::AT_OR_BELOW_MIDDLE),
                },
            );
            let packed = four
                .iter()
                .enumerate()
                .fold(0, |r, (p, &c)| r | (c & code::REASONS) << (16 * p));
            let lanes = ReasonSet::of_lanes(packed);
            for (p, r) in lanes.iter().enumerate() {
                assert_eq!(*r, ReasonSet::of_conditions(four[p]), "group {g} bar {p}");
            }
        }
        assert_eq!(by_code.enter_long, by_group.enter_long);
        assert_eq!(by_code.enter_short, by_group.enter_short);
        assert_eq!(by_code.at_or_above, by_group.at_or_above);
        assert_eq!(by_code.at_or_below, by_group.at_or_below);
    }

    #[test]
    fn run_events_matches_step_by_step_transitions() {
        let codes = random_codes(256);
        for m in (0..70).chain([127, 128, 129, 200, 255, 256]) {
            for start in [Signal::Flat, Signal::Long, Signal::Short] {
                let mut ev = Events::default();
                let mut why: Vec<ReasonSet> = codes[..m]
                    .iter()
                    .enumerate()
                    .map(|(t, &c)| {
                        ev.add_code(t, c);
                        ReasonSet((c & code::REASONS) as u16)
                    })
                    .collect();
                let mut pos = vec![Signal::Flat; m];
                let end = run_events(&ev, m, start, &mut pos, &mut why);
                let mut p = start;
                for (t, &c) in codes[..m].iter().enumerate() {
                    let (next, reasons) = transition(p, c);
                    assert_eq!((pos[t], why[t]), (next, reasons), "m {m} bar {t}");
                    p = next;
                }
                assert_eq!(end, p);
            }
        }
    }

    #[test]
    fn reason_set_roundtrip() {
        let s: ReasonSet = [Reason::ExitShort, Reason::Warmup].into_iter().collect();
        assert_eq!(s.len(), 2);
        assert_eq!(Vec::from(s), vec![Reason::Warmup, Reason::ExitShort]);
        assert_eq!(ReasonSet::from(Vec::from(s)), s);
    }
}
