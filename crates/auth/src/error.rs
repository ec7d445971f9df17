//! Error types. None of them ever carries token or secret material.

use std::fmt;

/// Authentication failed: map to HTTP 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials were presented.
    Missing,
    /// Credentials were presented but rejected; the reason is a fixed string
    /// such as `"bad signature"`, `"expired"`, `"malformed token"`, `"unsupported alg"`.
    Invalid(&'static str),
}

impl AuthError {
    pub fn status_code(&self) -> u16 {
        401
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str("missing bearer token"),
            AuthError::Invalid(reason) => write!(f, "invalid token: {reason}"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Authenticated but not allowed: map to HTTP 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden(pub &'static str);

impl Forbidden {
    pub fn status_code(&self) -> u16 {
        403
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Forbidden {}
