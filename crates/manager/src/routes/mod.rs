//! HTTP routes of the manager, one file per resource.

pub mod auth;
pub mod cascade;
pub mod cluster;
pub mod info;
pub mod metrics;
pub mod nodes;
pub mod playback;
pub mod record;
pub mod recordings;
pub mod session;
pub mod sse;
pub mod streams;
pub mod whip;
