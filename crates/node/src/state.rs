//! Shared state of the node's HTTP handlers.

use std::sync::Arc;

use wishcast_http::Gate;
use wishcast_sfu::MediaHandle;

use crate::config::NodeConfig;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub media: MediaHandle,
    /// Authentication and the session-owner keys.
    pub gate: Gate,
    pub cfg: NodeConfig,
    /// Pre-rendered `Link: <url>; rel="ice-server"...` header values.
    pub ice_links: Vec<String>,
    /// HTTP client for cascade relays (connect 5 s, total 30 s).
    pub relay_client: wishcast_client::whip::WhipClient,
    /// Recording (None when `[recorder]` is absent or failed to open).
    pub recordings: Option<Arc<crate::recording::Recordings>>,
}

impl AsRef<Gate> for AppState {
    fn as_ref(&self) -> &Gate {
        &self.gate
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}
