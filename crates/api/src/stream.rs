//! `Stream` and `Session` JSON as served by `GET /api/streams/` (Live777 shape, camelCase).

use serde::{Deserialize, Serialize};

/// One stream on a node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stream {
    pub id: String,
    /// Unix milliseconds.
    pub created_at: u64,
    pub publish: PubSub,
    pub subscribe: PubSub,
    #[serde(default)]
    pub codecs: Vec<Codec>,
    #[serde(default)]
    pub provisioned: bool,
    #[serde(default)]
    pub on_demand: bool,
    #[serde(default)]
    pub stats: StreamStats,
    #[serde(default = "node_scope")]
    pub stats_scope: String,
}

fn node_scope() -> String {
    "node".into()
}

/// The publish or subscribe side of a stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PubSub {
    /// Unix ms when the side became empty; 0 while someone is there.
    pub leave_at: u64,
    pub sessions: Vec<Session>,
}

/// A codec in use by a stream's publisher.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Codec {
    /// `audio` or `video`.
    pub kind: String,
    /// Lowercase codec name: `h264`, `vp8`, `opus`, ...
    pub codec: String,
    /// The fmtp line, e.g. `profile-level-id=42e01f;packetization-mode=1`.
    #[serde(default)]
    pub fmtp: String,
}

/// Counters of a session or one side of a stream.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// RTP wire bytes.
    pub bytes: u64,
    pub packets: u64,
    /// bit/s averaged over the last stats period.
    pub bitrate: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct StreamStats {
    pub publish: Stats,
    pub subscribe: Stats,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// One WHIP or WHEP session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub created_at: u64,
    #[serde(default)]
    pub leave_at: u64,
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<Cascade>,
    #[serde(default)]
    pub has_data_channel: bool,
    #[serde(default)]
    pub stats: Stats,
}

/// Cascade info of a relay session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cascade {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_url: Option<String>,
}

/// `GET /api/info`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub version: String,
    pub git_hash: String,
    pub build_time: String,
    pub features: Vec<String>,
}
