//! The media plane of a wishcast node.
//!
//! [`core::Sfu`] is a sans-IO state machine: it owns every peer (one str0m `Rtc` per
//! WHIP/WHEP session), the streams that tie publishers to subscribers, the
//! demultiplexer that maps datagrams to peers, and a timer queue. It never touches a
//! socket or a clock: callers hand it datagrams and `Instant`s and collect
//! [`str0m::net::Transmit`]s. [`driver`] is the thin tokio edge that owns the UDP
//! sockets and the ICE-TCP listener and runs one core per media worker thread;
//! [`handle::MediaHandle`] routes control-plane calls to the right worker.

pub mod addrs;
pub mod batch_send;
pub mod codec;
pub mod core;
pub mod demux;
pub mod driver;
pub mod error;
pub mod gop;
pub mod handle;
pub mod keyframe;
pub mod layers;
pub mod merge;
pub mod metrics;
pub mod peer;
pub mod placement;
pub mod stream;
pub mod tcp_framing;
pub mod timeline;
pub mod timers;
mod worker;

pub use crate::core::{Bridge, SessionAnswer, Sfu, SfuConfig, SfuEvent, UpstreamInfo};
pub use error::SfuError;
pub use str0m;
