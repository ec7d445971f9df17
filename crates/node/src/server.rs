//! Starting a node: bind the media plane and the HTTP listener, build the router.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use wishcast_sfu::{DriverConfig, MediaHandle};

use crate::config::NodeConfig;
use crate::routes;
use crate::state::{AppState, Inner};

/// Request bodies above this get 413.
pub const MAX_BODY: usize = 64 * 1024;

/// A node that is serving.
pub struct RunningNode {
    pub http_addr: SocketAddr,
    pub media: MediaHandle,
    /// Recording, when `[recorder]` is configured (see [`RunningNode::shutdown`]).
    pub recordings: Option<Arc<crate::recording::Recordings>>,
    pub task: tokio::task::JoinHandle<io::Result<()>>,
}

pub fn router(state: AppState) -> Router {
    let cors_on = state.cfg.http.cors;
    let r = Router::new()
        .route("/whip/{stream}", post(routes::whip::whip))
        .route("/whep/{stream}", post(routes::whip::whep))
        .route(
            "/session/{stream}/{session}",
            axum::routing::patch(routes::session::patch).delete(routes::session::delete).post(routes::layer::mute),
        )
        .route(
            "/session/{stream}/{session}/layer",
            get(routes::layer::get).post(routes::layer::select).delete(routes::layer::disable),
        )
        .route("/session/{stream}/{session}/bwe_cap", post(routes::layer::bwe_cap))
        .route("/api/streams/", get(routes::streams::list))
        .route(
            "/api/streams/{id}",
            get(routes::streams::get).post(routes::streams::create).delete(routes::streams::delete),
        )
        .route("/api/sse/streams", get(routes::sse::streams))
        .route("/api/cascade/{stream}", post(routes::cascade::cascade))
        .route(
            "/api/record/{stream}",
            get(routes::record::get).post(routes::record::start).delete(routes::record::stop),
        )
        .route("/api/record/object/{*path}", get(routes::playback::object))
        .route("/api/record/export/{stream}/{y}/{m}/{d}", get(routes::playback::export))
        .route("/api/playback", get(routes::playback::streams))
        .route("/api/playback/{stream}", get(routes::playback::days))
        .route("/api/info", get(routes::info::info))
        .route("/api/strategy/", get(routes::info::strategy))
        .route("/metrics", get(routes::metrics::metrics))
        .merge(wishcast_dashboard::router())
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(state);
    wishcast_http::cors::apply(r, cors_on, &wishcast_http::cors::ALLOW_HEADERS)
}

fn relay_client() -> wishcast_client::whip::WhipClient {
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    wishcast_client::whip::WhipClient::new(http)
}

/// DELETE the remote session of every relay that ends (fire and forget).
fn spawn_relay_hangups(media: &MediaHandle, client: wishcast_client::whip::WhipClient) -> Option<AbortOnDrop> {
    let mut rx = media.take_relay_closed()?;
    Some(AbortOnDrop(tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            let c = client.clone();
            tokio::spawn(async move {
                if let Err(e) = c.delete(&r.session_url, r.token.as_deref()).await {
                    tracing::warn!(url = %r.session_url, "could not hang up upstream relay session: {e}");
                }
            });
        }
    })))
}

impl RunningNode {
    /// Graceful stop (SIGTERM, Ctrl-C): finish every recording (final segments, static
    /// manifests, sessions `Completed`) and give the mover up to 5 s to upload them.
    /// What is left stays in the spool and is uploaded at the next start.
    pub async fn shutdown(&self) {
        if let Some(r) = &self.recordings {
            r.shutdown().await;
        }
    }
}

/// Aborts its task when dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Open `[recorder]` (spool, journal, storage, mover, reporter). A failure is logged and
/// leaves recording off rather than stopping the node.
fn open_recordings(
    cfg: &NodeConfig,
    http: SocketAddr,
    media_ip: std::net::IpAddr,
) -> Option<(Arc<crate::recording::Recordings>, Option<tokio::task::JoinHandle<()>>)> {
    use wishcast_auth::{Claims, MODE_ADMIN, MODE_PUBLISH, MODE_SUBSCRIBE};
    let rc = cfg.recorder.as_ref()?;
    let static_token = cfg.auth.tokens.first().cloned();
    let auth = wishcast_auth::Authenticator::new(&cfg.auth);
    let token: Arc<dyn Fn() -> Option<String> + Send + Sync> = Arc::new(move || {
        static_token.clone().or_else(|| {
            let exp =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
                    + 300;
            auth.mint(&Claims { id: "*".into(), exp, mode: MODE_SUBSCRIBE | MODE_PUBLISH | MODE_ADMIN })
        })
    });
    let node = rc
        .node_alias
        .clone()
        .filter(|a| !a.is_empty())
        .or_else(|| Some(cfg.cluster.alias.clone()).filter(|a| !a.is_empty()))
        .unwrap_or_else(|| format!("{}-{}", crate::cluster::hostname(), http.port()));
    match crate::recording::Recordings::open(crate::recording::RecordingsSetup { cfg: rc, http, media_ip, token, node })
    {
        Ok(r) => {
            let r = Arc::new(r);
            let mut reporter = None;
            if cfg.cluster.enabled() {
                let target = crate::recording::journal::ReportTarget {
                    url: format!("{}/api/recordings/report", cfg.cluster.manager.trim_end_matches('/')),
                    token: Some(cfg.cluster.token.clone()).filter(|t| !t.is_empty()),
                };
                reporter = Some(crate::recording::journal::spawn_reporter(r.journal.clone(), target));
            }
            Some((r, reporter))
        }
        Err(e) => {
            tracing::error!("recording is off: {e}");
            None
        }
    }
}

/// Bind everything and serve in the background.
pub async fn start(cfg: NodeConfig) -> io::Result<RunningNode> {
    let addrs_cfg = cfg.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let v6 = addrs_cfg.udp.is_ipv6();
    let ifs = wishcast_sfu::interface_ips(v6);
    let udp = wishcast_sfu::plan(addrs_cfg.udp, &addrs_cfg.public_ips, &ifs);
    let tcp = match addrs_cfg.tcp {
        Some(t) => wishcast_sfu::plan(t, &addrs_cfg.public_ips, &wishcast_sfu::interface_ips(t.is_ipv6())),
        None => Vec::new(),
    };
    let media = wishcast_sfu::start(DriverConfig {
        udp,
        tcp,
        advertise_udp: cfg.webrtc.advertise_udp,
        strategy: cfg.strategy.clone(),
        workers: cfg.webrtc.workers,
    })
    .await?;
    let listener = TcpListener::bind(addrs_cfg.http)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("http.listen: cannot bind {}: {e}", addrs_cfg.http)))?;
    let http_addr = listener.local_addr()?;
    let (recordings, reporter) = match open_recordings(&cfg, http_addr, addrs_cfg.udp.ip()) {
        Some((r, rep)) => (Some(r), rep),
        None => (None, None),
    };
    let auto_record = recordings.as_ref().map(|r| r.spawn_auto(media.events.subscribe()));
    let running_recordings = recordings.clone();
    let state = AppState {
        inner: Arc::new(Inner {
            media: media.clone(),
            gate: wishcast_http::Gate::new(&cfg.auth),
            ice_links: wishcast_api::ice::link_headers(&cfg.ice_servers),
            relay_client: relay_client(),
            recordings,
            cfg,
        }),
    };
    let heartbeat = crate::cluster::spawn(&state.cfg, http_addr, media.clone());
    let hangups = spawn_relay_hangups(&media, state.relay_client.clone());
    let app = router(state);
    let task = tokio::spawn(async move {
        let _heartbeat = heartbeat;
        let _hangups = hangups;
        let _auto_record = auto_record.map(AbortOnDrop);
        let _reporter = reporter.map(AbortOnDrop);
        axum::serve(listener, app).await
    });
    Ok(RunningNode { http_addr, media, recordings: running_recordings, task })
}
