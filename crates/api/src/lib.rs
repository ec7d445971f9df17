//! Wire types shared by every wishcast component: the JSON shapes of the node and
//! manager HTTP APIs (Live777-compatible field names) and the path builders. Serde
//! only: the WHIP/WHEP HTTP client lives in `wishcast-client` (`whip`).

/// Header a wishcast node sends when it pulls a stream for a cascade relay. Honoured
/// only from admin principals: relays do not count against `each_stream_max_sub`.
pub const RELAY_HEADER: &str = "x-wishcast-relay";
pub mod cluster;
pub mod glob;
pub mod ice;
pub mod paths;
pub mod record;
pub mod status;
pub mod storage_name;
pub mod strategy;
pub mod stream;

pub use status::HttpStatus;
pub use strategy::Strategy;
pub use stream::{Codec, Info, PubSub, Session, SessionState, Stats, Stream, StreamStats};
