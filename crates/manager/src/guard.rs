//! Per-request authentication and authorization of the manager's clients, with the
//! shared `wishcast-auth` rules: token from `Authorization: Bearer` or `?token=`.
//! Nodes never see the client's token; the manager talks to them with the node token.

use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, Uri};
use wishcast_auth::{Access, AuthError, Principal, request_token};

use crate::error::ApiError;
use crate::state::AppState;

pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Who may later PATCH/DELETE a session: `None` = anyone allowed on the stream;
/// `Some(h)` = only a request bearing the same (scoped) token.
pub type Owner = Option<u64>;

fn token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    request_token(header, uri.query())
}

/// Authenticate the request and check it may perform `access`.
pub fn require(state: &AppState, headers: &HeaderMap, uri: &Uri, access: Access) -> Result<Principal, ApiError> {
    let principal = state.auth.authenticate(token(headers, uri).as_deref(), now_unix()).map_err(|e| {
        let msg = match e {
            AuthError::Missing => {
                "authentication required: send `Authorization: Bearer <token>` or `?token=`".to_string()
            }
            other => other.to_string(),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, msg)
    })?;
    principal.authorize(&access).map_err(|f| ApiError::new(StatusCode::FORBIDDEN, format!("forbidden: {}", f.0)))?;
    Ok(principal)
}

/// [`require`], plus the owner key of a scoped token.
pub fn require_owner(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    access: Access,
) -> Result<(Principal, Owner), ApiError> {
    let principal = require(state, headers, uri, access)?;
    let owner =
        if principal.is_admin() { None } else { token(headers, uri).map(|t| state.owner_keys.hash_one(t.as_bytes())) };
    Ok((principal, owner))
}
