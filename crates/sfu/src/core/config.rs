//! How a core is configured ([`SfuConfig`]) and what it reports to the control
//! plane ([`SfuEvent`]).

use std::net::SocketAddr;
use std::time::Duration;

use wishcast_api::Strategy;

/// What the media plane needs to know about its sockets and policy.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Advertised UDP addresses (one candidate each).
    pub udp_candidates: Vec<SocketAddr>,
    /// Advertised passive ICE-TCP addresses.
    pub tcp_candidates: Vec<SocketAddr>,
    pub strategy: Strategy,
    /// How long a disconnected peer may recover before it is closed.
    pub disconnect_grace: Duration,
    /// This core's worker index (0-based) and the node's number of workers.
    pub worker: usize,
    pub workers: usize,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            udp_candidates: Vec::new(),
            tcp_candidates: Vec::new(),
            strategy: Strategy::default(),
            disconnect_grace: Duration::from_secs(5),
            worker: 0,
            workers: 1,
        }
    }
}

/// Lifecycle events for the control plane (SSE, hooks, cluster reporting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    StreamCreated(String),
    StreamDeleted {
        stream: String,
        reason: &'static str,
    },
    PublishStarted(String),
    PublishStopped {
        stream: String,
        reason: &'static str,
    },
    SubscribeStarted(String),
    SubscribeStopped(String),
    /// A session changed state (connected, disconnected...).
    SessionChanged(String),
}
