//! The key bindings: a terminal-independent [`Key`] and what each one does, first the global
//! keys (quit, help, views, model/distribution/horizon, refresh, benchmarks), then those of the
//! view shown. The help overlay in [`crate::ui`] lists the same bindings.

use super::screener::SortColumn;
use super::spec::HORIZONS;
use super::{App, Command, View};

/// A key press, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Ctrl-C.
    CtrlC,
}

impl App {
    /// Handles a key press.
    pub fn handle_key(&mut self, key: Key) -> Vec<Command> {
        if key == Key::CtrlC {
            self.should_quit = true;
            return Vec::new();
        }
        if self.editing_filter {
            match key {
                Key::Char(c) => {
                    self.filter.push(c);
                    self.selected = 0;
                }
                Key::Backspace => {
                    self.filter.pop();
                    self.selected = 0;
                }
                Key::Enter => self.editing_filter = false,
                Key::Esc => {
                    self.filter.clear();
                    self.editing_filter = false;
                    self.selected = 0;
                }
                Key::Up => self.move_selection(-1),
                Key::Down => self.move_selection(1),
                _ => {}
            }
            return Vec::new();
        }
        if self.show_help {
            self.show_help = false;
            if key == Key::Char('q') {
                self.should_quit = true;
            }
            return Vec::new();
        }
        match key {
            Key::Char('q') => {
                self.should_quit = true;
                return Vec::new();
            }
            Key::Esc => {
                // Esc first clears an active filter, then quits.
                if self.view == View::Screener && !self.filter.is_empty() {
                    self.filter.clear();
                    self.selected = 0;
                } else {
                    self.should_quit = true;
                }
                return Vec::new();
            }
            Key::Char('?') => {
                self.show_help = true;
                return Vec::new();
            }
            Key::Tab => return self.switch_view(self.view.next()),
            Key::BackTab => return self.switch_view(self.view.prev()),
            Key::Char(c @ '1'..='5') => {
                let i = c as usize - '1' as usize;
                return self.switch_view(View::ALL[i]);
            }
            Key::Char('m') => {
                self.model = self.model.next();
                return self.spec_changed();
            }
            Key::Char('d') => {
                self.dist = self.dist.next();
                return self.spec_changed();
            }
            Key::Char('+') | Key::Char('=') => {
                let next = HORIZONS.iter().find(|h| **h > self.horizon);
                if let Some(&h) = next {
                    self.horizon = h;
                    return self.spec_changed();
                }
                return Vec::new();
            }
            Key::Char('-') | Key::Char('_') => {
                let prev = HORIZONS.iter().rev().find(|h| **h < self.horizon);
                if let Some(&h) = prev {
                    self.horizon = h;
                    return self.spec_changed();
                }
                return Vec::new();
            }
            Key::Char('r') => {
                self.vol.loading = false;
                self.signals.loading = false;
                return self.refresh_all();
            }
            Key::Char('b') => {
                self.view = View::Benchmark;
                return self.start_bench();
            }
            Key::Char('B') => {
                self.view = View::Benchmark;
                return self.start_universe();
            }
            _ => {}
        }
        match self.view {
            View::Screener => self.screener_key(key),
            View::Detail => self.detail_key(key),
            View::Risk => self.risk_key(key),
            View::Benchmark => {
                if key == Key::Enter {
                    self.start_bench()
                } else {
                    Vec::new()
                }
            }
            View::Status => Vec::new(),
        }
    }

    fn switch_view(&mut self, view: View) -> Vec<Command> {
        // The symbol views open on the symbol last shown in either, else the selected row.
        if matches!(view, View::Detail | View::Risk) {
            let shown = |v: View| match v {
                View::Detail => self.detail.as_ref().map(|d| d.symbol.clone()),
                _ => self.risk.as_ref().map(|r| r.symbol.clone()),
            };
            let other = if view == View::Detail {
                View::Risk
            } else {
                View::Detail
            };
            let symbol = (if self.view == other {
                shown(other)
            } else {
                None
            })
            .or_else(|| shown(view))
            .or_else(|| shown(other))
            .or_else(|| self.selected_row().map(|r| r.symbol));
            if let Some(s) = symbol {
                return if view == View::Detail {
                    self.open_detail(&s)
                } else {
                    self.open_risk(&s)
                };
            }
        }
        self.view = view;
        Vec::new()
    }

    fn risk_key(&mut self, key: Key) -> Vec<Command> {
        let delta = match key {
            Key::Up | Key::Char('k') | Key::Left | Key::Char('h') => -1,
            Key::Down | Key::Char('j') | Key::Right | Key::Char('l') => 1,
            Key::Backspace => {
                self.view = View::Screener;
                return Vec::new();
            }
            _ => return Vec::new(),
        };
        let current = self.risk.as_ref().map(|r| r.symbol.clone());
        match self.neighbour(current.as_deref(), delta) {
            Some(symbol) => self.open_risk(&symbol),
            None => Vec::new(),
        }
    }

    fn screener_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Up | Key::Char('k') => self.move_selection(-1),
            Key::Down | Key::Char('j') => self.move_selection(1),
            Key::PageUp => self.move_selection(-10),
            Key::PageDown => self.move_selection(10),
            Key::Home | Key::Char('g') => self.selected = 0,
            Key::End | Key::Char('G') => self.move_selection(isize::MAX / 2),
            Key::Left | Key::Char('h') => {
                let i = self.sort.index();
                let n = SortColumn::ALL.len();
                self.set_sort(SortColumn::ALL[(i + n - 1) % n]);
            }
            Key::Right | Key::Char('l') | Key::Char('s') => {
                let i = self.sort.index();
                self.set_sort(SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]);
            }
            Key::Char('S') => self.descending = !self.descending,
            Key::Char('/') => self.editing_filter = true,
            Key::Enter => {
                if let Some(row) = self.selected_row() {
                    return self.open_detail(&row.symbol);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn detail_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Up | Key::Char('k') | Key::Left | Key::Char('h') => self.step_detail(-1),
            Key::Down | Key::Char('j') | Key::Right | Key::Char('l') => self.step_detail(1),
            Key::Backspace => {
                self.view = View::Screener;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
