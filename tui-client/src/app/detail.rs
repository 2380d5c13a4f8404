//! One symbol's detail view: its fit and forecast and its volatility history (market-svc) and its
//! price, bands and RSI (signals-svc), each fetched for the symbol, model, distribution and
//! horizon shown; and stepping to the neighbouring symbols in screener order.

use super::refresh::Command;
use super::resource::{Resource, needs};
use super::spec::{Dist, Model};
use super::{App, View};
use crate::client::{History, SymbolSignals, VolDetail};

/// Key of one symbol's fit: symbol, model, distribution, horizon.
pub type DetailKey = (String, Model, Dist, usize);
/// Key of one symbol's history: symbol, model, distribution.
pub type HistoryKey = (String, Model, Dist);

/// One symbol's detail view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// Ticker.
    pub symbol: String,
    /// Fit and forecast.
    pub fit: Resource<DetailKey, VolDetail>,
    /// Conditional/realized volatility history.
    pub history: Resource<HistoryKey, History>,
    /// Price, bands and RSI.
    pub signals: Resource<String, SymbolSignals>,
}

impl App {
    /// Requests what the detail view lacks; with `all`, refetches even loaded parts.
    pub(super) fn refresh_detail(&mut self, all: bool) -> Vec<Command> {
        let (model, dist, horizon) = (self.model, self.dist, self.horizon);
        let Some(d) = self.detail.as_mut() else {
            return Vec::new();
        };
        let mut cmds = Vec::new();
        let fit_key = (d.symbol.clone(), model, dist, horizon);
        if (all || needs(&d.fit, &fit_key)) && d.fit.request(fit_key.clone()) {
            cmds.push(Command::FetchDetail(fit_key));
        }
        let hist_key = (d.symbol.clone(), model, dist);
        if (all || needs(&d.history, &hist_key)) && d.history.request(hist_key.clone()) {
            cmds.push(Command::FetchHistory(hist_key));
        }
        let sig_key = d.symbol.clone();
        if (all || needs(&d.signals, &sig_key)) && d.signals.request(sig_key.clone()) {
            cmds.push(Command::FetchSymbolSignals(sig_key));
        }
        cmds
    }

    /// Opens the detail view of `symbol`.
    pub fn open_detail(&mut self, symbol: &str) -> Vec<Command> {
        self.view = View::Detail;
        if self.detail.as_ref().map(|d| d.symbol.as_str()) != Some(symbol) {
            self.detail = Some(Detail {
                symbol: symbol.to_string(),
                ..Detail::default()
            });
        }
        self.refresh_detail(false)
    }

    /// Moves to the previous/next symbol in the detail view (following the screener order).
    pub(super) fn step_detail(&mut self, delta: isize) -> Vec<Command> {
        let current = self.detail.as_ref().map(|d| d.symbol.clone());
        match self.neighbour(current.as_deref(), delta) {
            Some(symbol) => self.open_detail(&symbol),
            None => Vec::new(),
        }
    }

    /// The symbol `delta` rows from `current` in screener order (wrapping; from the selected
    /// row when `current` is not shown), and selects it.
    pub(super) fn neighbour(&mut self, current: Option<&str>, delta: isize) -> Option<String> {
        let rows = self.rows();
        if rows.is_empty() {
            return None;
        }
        let cur = current
            .and_then(|s| rows.iter().position(|r| r.symbol == s))
            .unwrap_or(self.selected.min(rows.len() - 1));
        let next = (cur as isize + delta).rem_euclid(rows.len() as isize) as usize;
        self.selected = next;
        Some(rows[next].symbol.clone())
    }
}
