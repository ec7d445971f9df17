//! Cross-worker messages: what one worker's core tells another's.
//!
//! A stream's publisher lives on its home worker ([`crate::core::placement::home_of`]);
//! its subscribers may live on any worker. The home worker hands every publisher frame
//! to every other worker as an `Arc` (no payload copy); keyframe requests, DataChannel
//! messages from subscribers and subscriber counts travel back to the home worker.

use std::net::SocketAddr;
use std::sync::Arc;

use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, Rid};
use str0m::net::Protocol;

/// One message from one worker to another.
#[derive(Debug, Clone)]
pub enum Bridge {
    /// A publisher frame (home → others). `generation` changes with each publisher.
    Frame { stream: String, generation: u64, kind: MediaKind, data: Arc<MediaData> },
    /// The stream's publisher left (home → others).
    Unpublished { stream: String },
    /// The stream was deleted on its home worker (home → others): close local sessions.
    Destroyed { stream: String, reason: &'static str },
    /// Subscribers on the sender want a keyframe (→ home, which coalesces).
    Keyframe { stream: String, kind: Option<KeyframeRequestKind>, only: Option<Option<Rid>> },
    /// A DataChannel message from the publisher (home → others).
    ChannelDown { stream: String, binary: bool, data: Vec<u8> },
    /// A DataChannel message from a subscriber (→ home).
    ChannelUp { stream: String, binary: bool, data: Vec<u8> },
    /// The sender now has `count` subscribers of `stream` (→ home).
    Subscribers { stream: String, count: u32 },
}

/// What a stream's home worker tells a worker about to accept a subscriber.
#[derive(Debug, Clone, Default)]
pub struct UpstreamInfo {
    /// The stream exists on the home worker.
    pub exists: bool,
    /// Its publisher's codecs.
    pub codecs: Vec<(MediaKind, PayloadParams)>,
    /// Its publisher sends simulcast.
    pub simulcast: bool,
    /// Viewers on every worker (as last reported).
    pub viewers: usize,
}

/// An address a worker learned or forgot: the socket reader routes non-STUN
/// datagrams from it to that worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteHint {
    pub proto: Protocol,
    pub addr: SocketAddr,
    /// `false`: the address no longer belongs to this worker.
    pub add: bool,
}
