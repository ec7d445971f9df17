//! Authentication and authorization for wishcast (Live777-compatible).
//!
//! This crate owns everything about *who* a request is and *what* it may do:
//! the `[auth]` config section ([`AuthConfig`]), extraction of the bearer token
//! from an `Authorization` header or a `?token=` query parameter
//! ([`bearer_token`], [`query_token`]), validation of static tokens and
//! HS256 JWTs (on `jsonwebtoken`) ([`Authenticator`], [`sign_hs256`], [`verify_hs256`]),
//! and the per-route permission rules ([`Principal::authorize`] over [`Access`]).
//! It does no I/O and knows nothing about HTTP frameworks: callers map
//! [`AuthError`] to `401` and [`Forbidden`] to `403`.
//!
//! Differences from Live777 (deliberate hardening):
//! * auth is off only when there are no static tokens **and** the secret is empty;
//!   a secret alone turns auth on, and JWTs are only accepted with a non-empty secret;
//! * `id = "*"` tokens still obey their mode bits; a full admin is a static token or
//!   a `*` JWT with the `x` bit;
//! * stream-scoped tokens may use `/session/{stream}/...` (trickle ICE, hang up, layers);
//! * all secret comparisons are constant-time and secrets never appear in errors or `Debug`.

mod access;
mod config;
mod error;
mod jwt;
mod principal;
mod token_source;

pub use access::Access;
pub use config::AuthConfig;
pub use error::{AuthError, Forbidden};
pub use jwt::{Claims, JWT_LEEWAY_SECS, MODE_ADMIN, MODE_PUBLISH, MODE_SUBSCRIBE, sign_hs256, verify_hs256};
pub use principal::{Authenticator, Principal};
pub use token_source::{bearer_token, query_token, request_token};

#[cfg(test)]
mod tests;
