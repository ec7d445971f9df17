//! HTTP routes of a node, one file per resource.

pub mod cascade;
pub mod info;
pub mod layer;
pub mod metrics;
pub mod playback;
pub mod record;
pub mod session;
pub mod sse;
pub mod streams;
pub mod whip;
