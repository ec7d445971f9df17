//! Shared state of the manager's HTTP handlers and background tasks.

use std::sync::Arc;

use wishcast_http::Gate;

use crate::config::ManagerConfig;
use crate::extra_ice::ExtraIce;
use crate::metrics::ManagerMetrics;
use crate::proxy::{Cluster, NodeClient};
use crate::registry::Registry;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub cfg: ManagerConfig,
    pub registry: Arc<Registry>,
    /// Authentication, token minting and the session-owner keys.
    pub gate: Gate,
    pub nodes: NodeClient,
    pub extra_ice: ExtraIce,
    pub metrics: Arc<ManagerMetrics>,
    /// URL clients and nodes use to reach this manager.
    pub public_url: String,
    /// The recordings index (`[database]`).
    pub index: wishcast_index::Index,
    /// Recording storage (`[recorder.storage]`); None if it cannot be opened (logged).
    pub store: Option<wishcast_storage::Store>,
    /// Back-off and concurrency bound of `POST /api/login`.
    pub login: crate::login_gate::LoginGate,
}

impl AsRef<Gate> for AppState {
    fn as_ref(&self) -> &Gate {
        &self.gate
    }
}

impl Inner {
    /// The registry, node client and counters, for logic that needs nothing else.
    pub fn cluster(&self) -> Cluster {
        Cluster { registry: self.registry.clone(), nodes: self.nodes.clone(), metrics: self.metrics.clone() }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}
