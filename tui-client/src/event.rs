//! Events in, effects out: terminal keys are mapped to [`Key`]s, and [`Command`]s are run as
//! spawned tasks whose results come back on a channel, so the UI never waits on the network.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::{
    ApiResult, Command, HISTORY_LIMIT, INTERVAL, Key, RANKING_SETTING, RISK_DAYS, RISK_SETTING,
    SIGNAL_POINTS, UNIVERSE_SETTING,
};
use crate::client::ApiClient;

/// Maps a terminal key event to a [`Key`] (`None` for releases and keys the app ignores).
pub fn key_from(event: &KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char('c') if ctrl => Key::CtrlC,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

/// Runs `cmd` on a spawned task; its result(s) are sent on `tx`. Send errors (the loop has
/// ended) are ignored.
pub fn spawn_command(cmd: Command, client: ApiClient, tx: UnboundedSender<ApiResult>) {
    tokio::spawn(async move {
        match cmd {
            Command::FetchVolScreener(key) => {
                let call = client.vol_screener(key.0, key.1, key.2).await;
                let _ = tx.send(ApiResult::VolScreener(key, call));
            }
            Command::FetchSignalScreener(interval) => {
                let call = client.signal_screener(&interval).await;
                let _ = tx.send(ApiResult::SignalScreener(interval, call));
            }
            Command::FetchDetail(key) => {
                let call = client.vol_detail(&key.0, key.1, key.2, key.3).await;
                let _ = tx.send(ApiResult::Detail(key, call));
            }
            Command::FetchHistory(key) => {
                let call = client.history(&key.0, key.1, key.2, HISTORY_LIMIT).await;
                let _ = tx.send(ApiResult::History(key, call));
            }
            Command::FetchSymbolSignals(symbol) => {
                let call = client
                    .symbol_signals(&symbol, INTERVAL, SIGNAL_POINTS)
                    .await;
                let _ = tx.send(ApiResult::SymbolSignals(symbol, call));
            }
            Command::RunFits(mode, model, dist) => {
                let call = client.run_fits(mode, model, dist).await;
                let _ = tx.send(ApiResult::Fits(mode, call));
            }
            Command::FetchBacktest(key) => {
                let call = client
                    .backtest(&key.0, key.1, key.2, RISK_SETTING, RISK_DAYS)
                    .await;
                let _ = tx.send(ApiResult::Backtest(key, call));
            }
            Command::FetchRanking(symbol) => {
                let call = client.models(&symbol, RANKING_SETTING).await;
                let _ = tx.send(ApiResult::Ranking(symbol, call));
            }
            Command::RunBacktests(mode, model, dist) => {
                let call = client
                    .run_backtests(mode, model, dist, UNIVERSE_SETTING)
                    .await;
                let _ = tx.send(ApiResult::Backtests(mode, call));
            }
            Command::CheckHealth(service) => {
                let (health, ready) = tokio::join!(client.health(service), client.ready(service));
                let _ = tx.send(ApiResult::Health(service, health));
                let _ = tx.send(ApiResult::Ready(service, ready));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_and_releases_are_ignored() {
        let press = |code, mods| KeyEvent::new(code, mods);
        assert_eq!(
            key_from(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Key::Char('j'))
        );
        assert_eq!(
            key_from(&press(KeyCode::Char('S'), KeyModifiers::SHIFT)),
            Some(Key::Char('S'))
        );
        assert_eq!(
            key_from(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Key::CtrlC)
        );
        assert_eq!(
            key_from(&press(KeyCode::Char('x'), KeyModifiers::CONTROL)),
            None
        );
        assert_eq!(
            key_from(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Key::BackTab)
        );
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(key_from(&release), None);
        assert_eq!(key_from(&press(KeyCode::F(1), KeyModifiers::NONE)), None);
    }
}
