//! The sans-IO media plane: everything here is a pure function of its inputs
//! (offers, datagrams, bridge messages and `Instant`s handed in by the caller). No
//! sockets, threads, clocks or runtimes: those live in [`crate::io`]. That is why
//! the whole media plane runs in memory under a virtual clock in the tests and fuzz
//! targets, and why no `unsafe` is allowed below this line.
//!
//! Layering (each module imports only modules listed before it):
//! * leaves: [`error`], [`metrics`], [`placement`], [`codec`], [`keyframe`], [`layers`],
//!   [`timeline`], [`gop`], [`tcp_framing`], [`relay`], [`bridge`], [`config`], [`command`];
//! * [`peer`] (one session), then [`stream`], [`demux`], [`timers`], [`merge`];
//! * [`sfu`]: the [`Sfu`] state machine over all of them.

#![forbid(unsafe_code)]

pub mod bridge;
pub mod codec;
pub mod command;
pub mod config;
pub mod demux;
pub mod error;
pub mod gop;
pub mod keyframe;
pub mod layers;
pub mod merge;
pub mod metrics;
pub mod peer;
pub mod placement;
pub mod relay;
pub mod sfu;
pub mod stream;
pub mod tcp_framing;
pub mod timeline;
pub mod timers;

pub use sfu::Sfu;
