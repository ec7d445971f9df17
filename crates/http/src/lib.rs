//! The HTTP layer the node and the manager share, so a rule fixed here holds on both
//! servers: [`ApiError`] (a status and one plain-text line), the CORS layer, token
//! authentication and the session-ownership rule ([`auth`]), request-body checks and
//! bounded reading of upstream bodies ([`body`]), and the `[http]`/`[log]` config with a
//! TOML loader that names the bad key ([`config`]), and [`serve`], which bounds header
//! and body reading and the number of connections. No media types: media errors reach
//! [`ApiError`] through [`wishcast_api::HttpStatus`].

pub mod auth;
pub mod body;
pub mod config;
pub mod cors;
pub mod error;
pub mod metrics;
pub mod serve;

pub use auth::{Gate, Owner, SessionAuth, authenticate, may_act, require, require_owner};
pub use error::{ApiError, ApiResult};
