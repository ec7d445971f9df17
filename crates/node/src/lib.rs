//! The node's HTTP service (control plane of one media node): WHIP/WHEP and session
//! resources, the Live777-compatible streams/strategy/info API, SSE, Prometheus
//! metrics, CORS and auth. Media itself lives in `wishcast-sfu`; this crate only
//! translates HTTP into calls on the media task.

pub mod cluster;
pub mod config;
pub mod recording;
mod routes;
mod server;
mod state;

pub use config::NodeConfig;
pub use server::{RunningNode, start};
