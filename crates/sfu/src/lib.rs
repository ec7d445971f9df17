//! The media plane of a wishcast node.
//!
//! Two halves, one folder each:
//! * `core/` is sans-IO (`#![forbid(unsafe_code)]`): [`Sfu`] owns every peer (one
//!   str0m `Rtc` per WHIP/WHEP session), the streams that tie publishers to
//!   subscribers, the demultiplexer that maps datagrams to peers and a timer queue. It
//!   never touches a socket or a clock: callers hand it datagrams, bridge messages,
//!   [`Command`]s and `Instant`s and collect [`str0m::net::Transmit`]s.
//! * `io/` is the thin tokio edge: [`start`] binds the UDP sockets and the ICE-TCP
//!   listeners and runs one core per media worker thread; [`MediaHandle`] sends the
//!   control plane's typed commands to the right worker.
//!
//! What is exported here is what the node, the bench, the tests and the fuzz targets
//! use; everything else is private to the crate.

mod core;
mod io;

pub use crate::core::Sfu;
pub use crate::core::bridge::{Bridge, RouteHint, UpstreamInfo};
pub use crate::core::command::{Command, LayerView, PatchOutcome, Reply, SessionAnswer};
pub use crate::core::config::{SfuConfig, SfuEvent};
pub use crate::core::error::SfuError;
pub use crate::core::merge::merge_streams;
pub use crate::core::metrics::{KEYFRAME_WAIT_BUCKETS_MS, Metrics};
pub use crate::core::placement::{MAX_WORKERS, home_of, session_worker, worker_of_stun, worker_of_ufrag};
pub use crate::core::relay::{RelayClosed, RelayKind};
pub use crate::core::tcp_framing::{FrameReader, frame};
pub use crate::io::addrs::{Binding, interface_ips, plan};
pub use crate::io::driver::{DriverConfig, start};
pub use crate::io::handle::MediaHandle;
pub use str0m;
