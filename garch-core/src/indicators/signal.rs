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
    pub const COUNT: usize = 64;
}

/// The position rule: the next position and the reasons of a bar, from the previous
/// position and the bar's condition code. The one definition of the state machine, used
/// by [`SignalCore::step`] and (through [`SignalTable`]) by the batch kernel.
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

/// Index of a position in [`SignalTable`].
#[inline(always)]
fn state_index(s: Signal) -> usize {
    match s {
        Signal::Flat => 0,
        Signal::Long => 1,
        Signal::Short => 2,
    }
}

/// One precomputed [`transition`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TableEntry {
    /// Reasons of the bar.
    pub(crate) reasons: ReasonSet,
    /// Position after the bar.
    pub(crate) position: Signal,
    /// Row of the next bar: `state_index(position) · code::COUNT`.
    pub(crate) next_row: u8,
}

/// [`transition`] tabulated for every (position, code) pair, so the batch kernel's state
/// machine is one load per bar instead of a chain of data-dependent branches.
#[derive(Debug, Clone)]
pub(crate) struct SignalTable {
    // Four rows (the fourth unused) so that an index is masked, not bounds-checked.
    entries: [TableEntry; 4 * code::COUNT],
}

impl SignalTable {
    pub(crate) fn new() -> Self {
        let mut entries = [TableEntry {
            reasons: ReasonSet::EMPTY,
            position: Signal::Flat,
            next_row: 0,
        }; 4 * code::COUNT];
        for prev in [Signal::Flat, Signal::Long, Signal::Short] {
            for c in 0..code::COUNT as u64 {
                let (position, reasons) = transition(prev, c);
                entries[Self::row(prev) + c as usize] = TableEntry {
                    reasons,
                    position,
                    // rows are 0, 64, 128
                    next_row: Self::row(position) as u8,
                };
            }
        }
        Self { entries }
    }

    /// The row of a position (add a code to index an entry).
    #[inline(always)]
    pub(crate) fn row(s: Signal) -> usize {
        state_index(s) * code::COUNT
    }

    /// The entry at `row + code`.
    #[inline(always)]
    pub(crate) fn get(&self, row: usize, c: u64) -> TableEntry {
        self.entries[(row + c as usize) & (4 * code::COUNT - 1)]
    }
}

/// The signal state machine shared by the streaming state and the fused kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SignalCore {
    oversold: f64,
    overbought: f64,
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
        // the table is the transition function
        let t = SignalTable::new();
        for prev in [Signal::Flat, Signal::Long, Signal::Short] {
            for c in 0..code::COUNT as u64 {
                let e = t.get(SignalTable::row(prev), c);
                assert_eq!((e.position, e.reasons), transition(prev, c));
                assert_eq!(usize::from(e.next_row), SignalTable::row(e.position));
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
