//! The I/O edge of the media plane: UDP sockets, ICE-TCP listeners, worker threads
//! and their tokio runtimes, and the handle the control plane uses to reach them.
//! Each worker drives one [`crate::core::Sfu`]; nothing here makes a media decision.
//!
//! `unsafe` is confined to this side: `sendmmsg`/`setsockopt` calls and registering
//! duplicated socket descriptors with tokio ([`batch_send`], [`driver`], [`worker`]),
//! each with its `SAFETY` note.

pub mod addrs;
pub mod batch_send;
pub mod driver;
pub mod handle;
pub mod tcp;
pub mod worker;
