//! Wire types shared by every wishcast component: the JSON shapes of the node and
//! manager HTTP APIs (Live777-compatible field names), the path builders, and a small
//! WHIP/WHEP HTTP client used by tests, the load tool and cascading.

pub mod client;
pub mod cluster;
pub mod paths;
pub mod strategy;
pub mod stream;

pub use strategy::Strategy;
pub use stream::{Codec, Info, PubSub, Session, SessionState, Stats, Stream, StreamStats};
