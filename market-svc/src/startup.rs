//! Building and running the application: bind, load data in the background, serve.

use std::sync::Arc;
use std::time::Duration;

use svc_kit::server::BoundServer;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::distributed::{Coordinator, CoordinatorConfig, Topology, redact_credentials};
use crate::fitting::load_and_fit;
use crate::routes;
use crate::state::{AppState, DistributedFits};
use crate::universe::Universe;

/// Binds the listener and starts loading the data in the background: `/health` answers at
/// once, `/ready` turns 200 when the first fits are done.
pub async fn build(config: &ServeConfig) -> anyhow::Result<BoundServer> {
    // The store first: a file it cannot trust stops the start with one line naming it.
    let store = Arc::new(market_data::store::Store::open(&config.store_file())?);
    let listener = TcpListener::bind(config.addr).await?;
    let state = AppState::new(
        Universe::empty(&config.data),
        config.data.clone(),
        Some(config.bars.clone()),
        config.token.clone(),
        config.budget.limits()?,
        store,
        config.refit_every,
    );
    state.backtests.set_wait(std::time::Duration::from_secs_f64(
        config.budget.backtest_wait,
    ));
    if let Some(url) = &config.distributed.nats {
        let d = &config.distributed;
        if !(d.distributed_deadline.is_finite() && d.distributed_deadline > 0.0) {
            anyhow::bail!("--distributed-deadline must be a positive number of seconds");
        }
        if !(d.ack_wait.is_finite() && d.ack_wait >= 0.5) {
            anyhow::bail!("--ack-wait must be at least 0.5 seconds");
        }
        let mut cc = CoordinatorConfig::new(url.clone());
        cc.chunk_size = usize::from(d.chunk_size);
        cc.topology = Topology::with_ack_wait(Duration::from_secs_f64(d.ack_wait));
        // The service starts even if NATS is down; distributed refits fail with 503 until
        // the connection is up.
        cc.wait_for_server = true;
        let coordinator = Coordinator::connect(cc).await?;
        let _ = state.distributed.set(DistributedFits {
            coordinator,
            deadline: Duration::from_secs_f64(d.distributed_deadline),
            url: redact_credentials(url),
        });
        tracing::info!(url = %redact_credentials(url), "distributed fitting enabled");
    }
    // The SSE stream is merged after the standard layers: it must not get the request timeout.
    let router = svc_kit::server::with_standard_layers(
        routes::router(Arc::clone(&state), config.body_limit),
        Duration::from_secs(config.request_timeout_secs),
    )
    .merge(routes::stream_router(Arc::clone(&state)));
    svc_kit::server::load_in_background(
        state,
        "data",
        |st| load_and_fit(st, 1),
        |st, universe| st.universe.store(Arc::new(universe)),
    );
    Ok(BoundServer::new("market-svc", listener, router))
}
