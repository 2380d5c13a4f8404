//! Combined streaming state: RSI + Bollinger Bands + signal, one bar at a time.

use serde::Serialize;

use super::bollinger::{BandsPoint, BollingerState};
use super::fused::IndicatorConfig;
use super::rsi::RsiState;
use super::signal::{ReasonSet, Signal, SignalCore, SignalSummary};
use super::{IndicatorError, check_finite_at};

/// Everything known about one bar after [`IndicatorState::update`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndicatorPoint {
    /// Bar number since the state was created/reset (0-based).
    pub index: usize,
    /// The close fed in.
    pub close: f64,
    /// RSI (`None` for the first `rsi_period` bars).
    pub rsi: Option<f64>,
    /// Bollinger values (`None` for the first `bb_period − 1` bars).
    pub bands: Option<BandsPoint>,
    /// Position after this bar.
    pub position: Signal,
    /// Reasons that fired on this bar.
    pub reasons: ReasonSet,
}

impl IndicatorPoint {
    /// %B of this bar (policy 0.5 on collapsed bands); `None` during warm-up.
    pub fn percent_b(&self) -> Option<f64> {
        self.bands.map(|b| b.percent_b(self.close))
    }

    /// Bandwidth of this bar; `None` during warm-up or when the middle band is 0.
    pub fn bandwidth(&self) -> Option<f64> {
        self.bands.and_then(|b| b.bandwidth())
    }
}

/// Streaming RSI + Bollinger + signal with O(1) updates. Feeding a series bar by bar
/// yields bit-identical values to [`compute`](super::compute) on the whole series.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorState {
    config: IndicatorConfig,
    rsi: RsiState,
    bands: BollingerState,
    signal: SignalCore,
    position_since: Option<usize>,
    last: Option<IndicatorPoint>,
}

impl IndicatorState {
    /// A fresh state (validates `config`).
    pub fn new(config: IndicatorConfig) -> Result<Self, IndicatorError> {
        config.validate()?;
        Ok(Self {
            config,
            rsi: RsiState::new(config.rsi_period)?,
            bands: BollingerState::new(config.bollinger)?,
            signal: SignalCore::new(&config.signal),
            position_since: None,
            last: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &IndicatorConfig {
        &self.config
    }

    /// Number of bars accepted so far.
    pub fn count(&self) -> usize {
        self.rsi.count()
    }

    /// Feeds the next close. A non-finite close is rejected with its bar index and leaves
    /// the state unchanged.
    pub fn update(&mut self, close: f64) -> Result<IndicatorPoint, IndicatorError> {
        check_finite_at("close", self.count(), close)?;
        Ok(self.push(close))
    }

    /// The most recent bar (`None` before the first update).
    pub fn last(&self) -> Option<&IndicatorPoint> {
        self.last.as_ref()
    }

    /// Summary of the most recent bar (`None` before the first update).
    pub fn summary(&self) -> Option<SignalSummary> {
        self.last.map(|p| SignalSummary {
            index: p.index,
            close: p.close,
            rsi: p.rsi,
            upper: p.bands.map(|b| b.upper),
            middle: p.bands.map(|b| b.middle),
            lower: p.bands.map(|b| b.lower),
            percent_b: p.percent_b(),
            bandwidth: p.bandwidth(),
            position: p.position,
            reasons: p.reasons,
            position_since: self.position_since,
        })
    }

    /// Forgets all history (keeps the configuration).
    pub fn reset(&mut self) {
        self.rsi.reset();
        self.bands.reset();
        self.signal = SignalCore::new(&self.config.signal);
        self.position_since = None;
        self.last = None;
    }

    /// Update without validation (finite close guaranteed by the caller).
    #[inline]
    pub(crate) fn push(&mut self, close: f64) -> IndicatorPoint {
        let index = self.rsi.count();
        let rsi = self.rsi.push(close);
        let bands = self.bands.push(close);
        let prev = self.signal.position;
        let reasons = match (rsi, bands) {
            (Some(r), Some(b)) => self.signal.step(close, r, b.upper, b.middle, b.lower),
            _ => self.signal.warmup(close, rsi, bands),
        };
        let position = self.signal.position;
        if position != prev {
            self.position_since = (position != Signal::Flat).then_some(index);
        }
        let point = IndicatorPoint {
            index,
            close,
            rsi,
            bands,
            position,
            reasons,
        };
        self.last = Some(point);
        point
    }

    /// Internal access for the fused kernel's hand-over after warm-up.
    pub(crate) fn into_parts(self) -> (RsiState, BollingerState, SignalCore) {
        (self.rsi, self.bands, self.signal)
    }
}
