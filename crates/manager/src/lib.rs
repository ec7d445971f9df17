//! The wishcast cluster manager (Liveman-compatible): it knows every media node —
//! static `[[nodes]]` polled every second, and nodes that register themselves with
//! heartbeats — and their health and load; it places each WHIP publisher and WHEP
//! viewer on a node with a pure, unit-tested placement function (client region, least
//! loaded, `pub_max`/`sub_max`, capacity reserved at decision time); it proxies
//! WHIP/WHEP and session requests to that node (or redirects with `307`), cascading a
//! stream onto another node with the node's `POST /api/cascade/{stream}` when every
//! node serving it is full, and tearing idle relays down; and it serves cluster views
//! (merged streams, SSE, nodes, metrics), logins and token minting, and adds
//! `[extra_ice]` servers to answers. It also keeps the recordings index (nodes report
//! their recording sessions; `wishcast-index`), serves playback and MP4 export from
//! the recording storage, records `auto_streams` and enforces retention. Start one
//! with [`start`].

pub mod accounts;
mod auto_record;
pub mod cascade;
pub mod config;
pub mod extra_ice;
pub mod health;
pub mod login_gate;
pub mod login_limit;
pub mod metrics;
pub mod placement;
pub mod proxy;
pub mod recording;
pub mod registry;
mod retention;
mod routes;
mod server;
pub mod state;
pub mod views;

pub use config::ManagerConfig;
pub use server::{RunningManager, router, start};
