//! Starting the manager: build the state (opening the recordings index and running
//! its migrations), bind the listener, spawn the health pollers, the registry
//! sweeper and the cascade sweeper, and serve the router.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::ManagerConfig;
use crate::extra_ice::ExtraIce;
use crate::proxy::{MAX_SDP, NodeClient};
use crate::registry::Registry;
use crate::routes;
use crate::state::{AppState, Inner};

/// Heartbeats carry the node's stream list: allow more than an SDP.
const MAX_HEARTBEAT: usize = 16 * 1024 * 1024;

/// A manager that is serving. Dropping it stops the background tasks and the listener.
pub struct RunningManager {
    pub http_addr: SocketAddr,
    /// URL clients and nodes use to reach the manager.
    pub public_url: String,
    pub registry: Arc<Registry>,
    pub task: Option<JoinHandle<io::Result<()>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RunningManager {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

pub fn router(state: AppState) -> Router {
    let cors_on = state.cfg.http.cors;
    let session = get(routes::session::session)
        .patch(routes::session::session)
        .delete(routes::session::session)
        .post(routes::session::session);
    let r = Router::new()
        .route("/whip/{stream}", post(routes::whip::whip))
        .route("/whep/{stream}", post(routes::whip::whep))
        .route("/session/{stream}/{session}", session)
        .route(
            "/session/{stream}/{session}/layer",
            get(routes::session::layer).post(routes::session::layer).delete(routes::session::layer),
        )
        .route("/api/whip/{alias}/{stream}", post(routes::whip::whip_on))
        .route("/api/whep/{alias}/{stream}", post(routes::whip::whep_on))
        .route("/api/nodes/", get(routes::nodes::list))
        .route("/api/nodes/{alias}/drain", post(routes::nodes::drain))
        .route("/api/nodes/{alias}/undrain", post(routes::nodes::undrain))
        .route("/api/streams/", get(routes::streams::list))
        .route(
            "/api/streams/{id}",
            get(routes::streams::get).post(routes::streams::create).delete(routes::streams::delete),
        )
        .route("/api/sse/streams", get(routes::sse::streams))
        .route("/api/cascade/", get(routes::cascade::list))
        .route("/api/playback", get(routes::playback::streams))
        .route("/api/playback/{stream}", get(routes::playback::days))
        .route("/api/playback/{stream}/{year}/{month}/{day}", get(routes::playback::sessions))
        .route(
            "/api/record/{stream}",
            get(routes::record::get).post(routes::record::start).delete(routes::record::stop),
        )
        .route("/api/record/object/{*path}", get(routes::playback::object))
        .route("/api/record/export/{stream}/{y}/{m}/{d}", get(routes::playback::export))
        .route("/api/storage/presign", post(routes::playback::presign))
        .route("/api/storage/ping", get(routes::playback::ping))
        .route("/api/login", post(routes::auth::login))
        .route("/api/token", post(routes::auth::token))
        .route("/api/info", get(routes::info::info))
        .route("/metrics", get(routes::metrics::metrics))
        .layer(RequestBodyLimitLayer::new(MAX_SDP))
        // Nodes' heartbeats and recording reports carry lists: larger bodies.
        .route(
            wishcast_api::cluster::HEARTBEAT_PATH,
            post(routes::cluster::heartbeat).layer(RequestBodyLimitLayer::new(MAX_HEARTBEAT)),
        )
        .route(
            "/api/recordings/report",
            post(routes::recordings::report).layer(RequestBodyLimitLayer::new(routes::recordings::MAX_REPORT_BODY)),
        )
        .merge(wishcast_dashboard::router())
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    let mut allow = wishcast_http::cors::ALLOW_HEADERS.to_vec();
    allow.push(axum::http::HeaderName::from_static("x-region"));
    wishcast_http::cors::apply(r, cors_on, &allow)
}

/// Validate the config, bind, and serve in the background.
pub async fn start(cfg: ManagerConfig) -> io::Result<RunningManager> {
    let listen = cfg.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let index = wishcast_index::Index::connect(&cfg.database.index_config())
        .await
        .map_err(|e| io::Error::other(format!("recordings index ([database]): {e}")))?;
    let store = match wishcast_storage::Store::new(&cfg.recorder.storage) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!("recording playback is off: [recorder.storage]: {e}");
            None
        }
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("http.listen: cannot bind {listen}: {e}")))?;
    let http_addr = listener.local_addr()?;
    let public_url = cfg.public_url(http_addr);
    let registry = Registry::new(&cfg.nodes, cfg.health.clone());
    let nodes = NodeClient::new(Duration::from_millis(cfg.health.request_timeout_ms));
    let state = AppState {
        inner: Arc::new(Inner {
            registry: registry.clone(),
            gate: wishcast_http::Gate::new(&cfg.auth.auth_config()),
            extra_ice: ExtraIce::new(cfg.extra_ice.clone(), nodes.http.clone()),
            nodes,
            metrics: Default::default(),
            public_url: public_url.clone(),
            index,
            store,
            login: Default::default(),
            cfg,
        }),
    };
    let mut tasks = crate::health::spawn(&state.cluster());
    tasks.push(tokio::spawn(crate::cascade::sweeper(state.cluster(), state.cfg.cascade.clone())));
    let globs = state.cfg.auto_record_globs();
    let tick = Duration::from_millis(state.cfg.auto_record.tick_ms);
    tasks.extend(crate::auto_record::spawn(state.cluster(), globs, tick));
    tasks.extend(crate::retention::spawn(state.clone(), state.cfg.recorder.retention_days));
    let app = router(state);
    // Connect info: the login back-off keys on the client's socket address.
    let task =
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );
    Ok(RunningManager { http_addr, public_url, registry, task: Some(task), tasks })
}
