//! `[strategy]`: per-node stream admission and lifecycle policy (`GET /api/strategy/`).

use serde::{Deserialize, Serialize};

/// Live777's `[strategy]` table, snake_case on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Strategy {
    /// Maximum subscribers per stream on this node. Enforced: WHEP answers 409 when full.
    pub each_stream_max_sub: u32,
    pub cascade_push_close_sub: bool,
    /// WHIP may create a missing stream.
    pub auto_create_whip: bool,
    /// WHEP may create a missing stream.
    pub auto_create_whep: bool,
    /// ms after the publisher left before the stream is deleted; -1 = never.
    pub auto_delete_whip: i64,
    /// ms after the last subscriber left (or the stream was created, if nobody ever
    /// subscribed) before the stream is deleted, publisher or not; -1 = never.
    pub auto_delete_whep: i64,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            each_stream_max_sub: 65535,
            cascade_push_close_sub: false,
            auto_create_whip: true,
            auto_create_whep: true,
            auto_delete_whip: -1,
            auto_delete_whep: -1,
        }
    }
}
