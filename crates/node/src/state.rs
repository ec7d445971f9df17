//! Shared state of the node's HTTP handlers.

use std::sync::Arc;

use wishcast_auth::Authenticator;
use wishcast_sfu::MediaHandle;

use crate::config::NodeConfig;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub media: MediaHandle,
    pub auth: Authenticator,
    pub cfg: NodeConfig,
    /// Pre-rendered `Link: <url>; rel="ice-server"...` header values.
    pub ice_links: Vec<String>,
    /// Random keys for hashing the token that created a session (ownership checks).
    pub owner_keys: std::hash::RandomState,
    /// HTTP client for cascade relays (connect 5 s, total 30 s).
    pub relay_client: wishcast_client::whip::WhipClient,
    /// Recording (None when `[recorder]` is absent or failed to open).
    pub recordings: Option<Arc<crate::recording::Recordings>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}
