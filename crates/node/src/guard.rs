//! Per-request authentication and authorization: token from `Authorization: Bearer`
//! or `?token=`, checked against the route's [`Access`] requirement.

use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, Uri};
use wishcast_auth::{Access, AuthError, Principal, request_token};

use crate::error::ApiError;
use crate::state::AppState;

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Who is asking, for session ownership: `None` = an admin (or auth off), who may
/// change any session; `Some(h)` = a scoped token (keyed hash), which may change only
/// the sessions it created (sessions created by admins are off limits to it).
pub type Owner = Option<u64>;

/// Authenticate, authorize, and compute the session-owner key for scoped tokens.
pub fn require_owner(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    access: Access,
) -> Result<(Principal, Owner), ApiError> {
    let principal = require(state, headers, uri, access)?;
    let owner = if principal.is_admin() {
        None
    } else {
        let header = headers.get("authorization").and_then(|v| v.to_str().ok());
        request_token(header, uri.query()).map(|t| state.owner_keys.hash_one(t.as_bytes()))
    };
    Ok((principal, owner))
}

/// Authenticate the request and check it may perform `access`.
pub fn require(state: &AppState, headers: &HeaderMap, uri: &Uri, access: Access) -> Result<Principal, ApiError> {
    let principal = authenticate(state, headers, uri)?;
    principal.authorize(&access).map_err(|f| ApiError::new(StatusCode::FORBIDDEN, format!("forbidden: {}", f.0)))?;
    Ok(principal)
}

/// Authenticate the request only (401 without a valid token while auth is on).
pub fn authenticate(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Principal, ApiError> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = request_token(header, uri.query());
    let principal = state.auth.authenticate(token.as_deref(), now_unix()).map_err(|e| {
        let msg = match e {
            AuthError::Missing => {
                "authentication required: send `Authorization: Bearer <token>` or `?token=`".to_string()
            }
            other => other.to_string(),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, msg)
    })?;
    Ok(principal)
}
