//! Node ↔ manager wire types: the self-registration heartbeat a node with a `[cluster]`
//! table POSTs to `{manager}/api/cluster/heartbeat` at least every second.

use serde::{Deserialize, Serialize};

use crate::{Strategy, Stream};

/// Path of the manager's heartbeat route.
pub const HEARTBEAT_PATH: &str = "/api/cluster/heartbeat";

/// Registration and heartbeat in one: every POST carries the full registration, so a
/// restarted manager learns the node again from the next heartbeat.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Heartbeat {
    pub alias: String,
    /// Base URL the manager uses to reach the node's HTTP API.
    pub url: String,
    pub region: String,
    /// Token the manager presents to the node (`None` when the node has auth off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub pub_max: Option<u32>,
    pub sub_max: Option<u32>,
    /// How often the node heartbeats, ms.
    pub interval_ms: u64,
    pub load: Load,
    pub strategy: Option<Strategy>,
    /// The node's `GET /api/streams/` view.
    pub streams: Vec<Stream>,
}

impl std::fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("alias", &self.alias)
            .field("url", &self.url)
            .field("region", &self.region)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("load", &self.load)
            .field("streams", &self.streams.len())
            .finish()
    }
}

/// A node's load, as reported in heartbeats and shown by the manager's `GET /api/nodes/`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Load {
    pub streams: u64,
    pub publishers: u64,
    pub subscribers: u64,
    /// RTP packets in + out per second.
    pub packets_per_sec: u64,
    /// RTP bytes in + out per second.
    pub bytes_per_sec: u64,
    /// Process CPU use, percent of one core (200 = two cores busy).
    pub cpu: f32,
}
