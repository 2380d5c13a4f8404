//! The terminal and the event loop.
//!
//! [`run`] sets the terminal up with `ratatui::init()` (raw mode, alternate screen, and a panic
//! hook that restores the terminal before the panic message is printed) and always restores it
//! on the way out. The loop `select!`s over terminal events, a UI tick and API results arriving
//! on an mpsc channel from spawned fetch tasks and from the two services' event streams
//! ([`crate::client::stream`]), redrawing after each.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::app::{ApiResult, App, Command, Service};
use crate::client::ApiClient;
use crate::client::stream::follow;
use crate::event::{key_from, spawn_command};
use crate::ui;

/// UI tick: spinner frames and the refresh clock.
const TICK: Duration = Duration::from_millis(250);

/// Runs the dashboard until the user quits; the terminal is restored whatever happens.
pub async fn run(app: &mut App, client: ApiClient) -> anyhow::Result<()> {
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, app, client).await;
    ratatui::restore();
    result
}

async fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    client: ApiClient,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dispatch = |cmds: Vec<Command>| {
        for cmd in cmds {
            spawn_command(cmd, client.clone(), tx.clone());
        }
    };
    dispatch(app.start(Instant::now()));
    // Both services' streams: an append shows without a key press.
    let followers: Vec<_> = [Service::Market, Service::Signals]
        .into_iter()
        .filter_map(|service| {
            let base = client.base_url(service)?;
            Some(tokio::spawn(follow(base, service, tx.clone())))
        })
        .collect();
    let result = run_loop(terminal, app, &dispatch, &mut rx).await;
    for f in followers {
        f.abort();
    }
    result
}

async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    dispatch: &impl Fn(Vec<Command>),
    rx: &mut mpsc::UnboundedReceiver<ApiResult>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        terminal.draw(|f| ui::draw(f, app))?;
        let cmds = tokio::select! {
            _ = tick.tick() => app.tick(Instant::now()),
            event = events.next() => match event {
                Some(Ok(Event::Key(k))) => key_from(&k).map(|k| app.handle_key(k)).unwrap_or_default(),
                // Resizes and other events just redraw.
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(result) = rx.recv() => {
                let mut cmds = app.apply(result);
                // Take whatever else has arrived before redrawing.
                while let Ok(more) = rx.try_recv() {
                    cmds.extend(app.apply(more));
                }
                cmds
            }
        };
        dispatch(cmds);
        if app.should_quit {
            return Ok(());
        }
    }
}
