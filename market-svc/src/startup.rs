//! Building and running the application: bind, load data in the background, serve.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::distributed::{Coordinator, CoordinatorConfig, Topology};
use crate::routes;
use crate::routes::admin::load_and_fit;
use crate::state::{AppState, DistributedFits, on_rayon};
use crate::universe::Universe;

/// A bound, not yet running, application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: Arc<AppState>,
}

impl Application {
    /// Binds the listener and starts loading the data in the background: `/health` answers at
    /// once, `/ready` turns 200 when the first fits are done.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr).await?;
        let state = AppState::new(
            Universe::empty(&config.data),
            config.data.clone(),
            Some(config.bars.clone()),
            // An empty token (e.g. MARKET_SVC_TOKEN="") must not open the endpoint.
            config.token.clone().filter(|t| !t.is_empty()),
        );
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
                url: url.clone(),
            });
            tracing::info!(%url, "distributed fitting enabled");
        }
        let router = svc_kit::server::with_standard_layers(
            routes::router(Arc::clone(&state), config.body_limit),
            Duration::from_secs(config.request_timeout_secs),
        );
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            let worker = Arc::clone(&st);
            match on_rayon(move || load_and_fit(&worker, 1)).await {
                Ok(Ok(universe)) => {
                    st.universe.store(Arc::new(universe));
                    st.set_ready(true);
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot load the data; not ready");
                    st.set_load_error(Some(e));
                }
                Err(p) => tracing::error!(error = %p.detail, "data loading aborted"),
            }
        });
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Shared state (for tests).
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "market-svc listening");
        svc_kit::server::serve(self.listener, self.router, shutdown).await
    }
}
