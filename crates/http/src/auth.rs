//! Who is asking, and may they: the bearer token (`Authorization: Bearer` or `?token=`)
//! is authenticated by [`Gate`] and checked against the route's [`Access`]; session routes
//! extract a [`SessionAuth`], and [`may_act`] is the one session-ownership rule of both
//! servers: an admin (or auth off) may act on any session, a scoped token only on the
//! sessions it created itself.

use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use wishcast_auth::{Access, AuthConfig, AuthError, Authenticator, Principal, request_token};

use crate::error::ApiError;

/// The 403 text for a session the caller may not act on (the node's media plane answers
/// the same words).
pub const NOT_OWNER: &str =
    "forbidden: this session was created with another token; use the token that created it or an admin token";

/// Who created, or who acts on, a session: `None` = an admin (or auth off); `Some(k)` =
/// a scoped token, by a keyed hash of the token string ([`Gate::owner_key`]).
pub type Owner = Option<u64>;

/// The ownership rule: an admin (`caller = None`) may act on any session; a scoped token
/// only on a session it created itself (same key). A session created by an admin
/// (`created_by = None`) or by another token is off limits to a scoped token.
pub fn may_act(caller: Owner, created_by: Owner) -> bool {
    match (caller, created_by) {
        (None, _) => true,
        (Some(c), Some(o)) => c == o,
        (Some(_), None) => false,
    }
}

/// The server's authenticator plus the per-process key that hashes tokens into owners.
pub struct Gate {
    authenticator: Authenticator,
    owner_keys: RandomState,
}

impl AsRef<Gate> for Gate {
    fn as_ref(&self) -> &Gate {
        self
    }
}

impl Gate {
    pub fn new(cfg: &AuthConfig) -> Self {
        Gate { authenticator: Authenticator::new(cfg), owner_keys: RandomState::new() }
    }

    /// For minting tokens (`POST /api/token`, logins).
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The owner key of a token string (stable for this process only).
    pub fn owner_key(&self, token: &str) -> u64 {
        self.owner_keys.hash_one(token.as_bytes())
    }
}

pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    request_token(header, uri.query())
}

/// Authenticate the request only (401 without a valid token while auth is on).
pub fn authenticate(gate: &impl AsRef<Gate>, headers: &HeaderMap, uri: &Uri) -> Result<Principal, ApiError> {
    let gate = gate.as_ref();
    gate.authenticator.authenticate(token(headers, uri).as_deref(), now_unix()).map_err(|e| {
        let msg = match e {
            AuthError::Missing => {
                "authentication required: send `Authorization: Bearer <token>` or `?token=`".to_string()
            }
            other => other.to_string(),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, msg)
    })
}

/// Authenticate the request and check it may perform `access` (403 when not).
pub fn require(gate: &impl AsRef<Gate>, headers: &HeaderMap, uri: &Uri, access: Access) -> Result<Principal, ApiError> {
    let principal = authenticate(gate, headers, uri)?;
    principal.authorize(&access).map_err(|f| ApiError::new(StatusCode::FORBIDDEN, format!("forbidden: {}", f.0)))?;
    Ok(principal)
}

/// [`require`], plus the caller's [`Owner`]: `None` for an admin, the token's key otherwise.
pub fn require_owner(
    gate: &impl AsRef<Gate>,
    headers: &HeaderMap,
    uri: &Uri,
    access: Access,
) -> Result<(Principal, Owner), ApiError> {
    let principal = require(gate, headers, uri, access)?;
    let owner = if principal.is_admin() { None } else { token(headers, uri).map(|t| gate.as_ref().owner_key(&t)) };
    Ok((principal, owner))
}

/// A request on `/session/{stream}/{session}[/...]` that passed `Access::Session`:
/// the decoded path names and the caller's [`Owner`].
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub stream: String,
    pub session: String,
    pub owner: Owner,
}

impl SessionAuth {
    /// An admin or auth off: may act on every session.
    pub fn is_admin(&self) -> bool {
        self.owner.is_none()
    }

    /// 403 [`NOT_OWNER`] unless [`may_act`] allows the caller on a session created by `created_by`.
    pub fn check_owner(&self, created_by: Owner) -> Result<(), ApiError> {
        if may_act(self.owner, created_by) { Ok(()) } else { Err(ApiError::new(StatusCode::FORBIDDEN, NOT_OWNER)) }
    }
}

impl<S: AsRef<Gate> + Send + Sync> FromRequestParts<S> for SessionAuth {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((stream, session)) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let (_, owner) = require_owner(state, &parts.headers, &parts.uri, Access::Session(&stream))
            .map_err(IntoResponse::into_response)?;
        Ok(SessionAuth { stream, session, owner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_rule() {
        // An admin (or auth off) acts on anything.
        assert!(may_act(None, None));
        assert!(may_act(None, Some(7)));
        // A scoped token acts on its own sessions only.
        assert!(may_act(Some(7), Some(7)));
        assert!(!may_act(Some(7), Some(8)), "another token's session");
        assert!(!may_act(Some(7), None), "an admin's session");
    }

    fn gate() -> Gate {
        Gate::new(&AuthConfig { secret: "s3cret".into(), tokens: vec!["admin".into()] })
    }

    fn jwt(id: &str, mode: u8, exp: u64) -> String {
        wishcast_auth::sign_hs256(b"s3cret", &wishcast_auth::Claims { id: id.into(), exp, mode })
    }

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", format!("Bearer {t}").parse().unwrap());
        h
    }

    #[test]
    fn owners_are_keyed_by_token_string() {
        let g = gate();
        let uri: Uri = "/session/cam/x".parse().unwrap();
        let (_, admin) = require_owner(&g, &bearer("admin"), &uri, Access::Session("cam")).unwrap();
        assert_eq!(admin, None);
        let a = jwt("cam", 4, now_unix() + 60);
        let b = jwt("cam", 4, now_unix() + 120);
        let (_, oa) = require_owner(&g, &bearer(&a), &uri, Access::Session("cam")).unwrap();
        let (_, ob) = require_owner(&g, &bearer(&b), &uri, Access::Session("cam")).unwrap();
        let q: Uri = format!("/session/cam/x?token={a}").parse().unwrap();
        let (_, oq) = require_owner(&g, &HeaderMap::new(), &q, Access::Session("cam")).unwrap();
        assert!(oa.is_some() && oa != ob, "same claims, other token: another owner");
        assert_eq!(oa, oq, "header and ?token= give the same owner");
    }

    #[test]
    fn statuses() {
        let g = gate();
        let uri: Uri = "/x".parse().unwrap();
        let e = require(&g, &HeaderMap::new(), &uri, Access::Admin).unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert!(e.message.contains("Authorization: Bearer"), "{}", e.message);
        let e = require(&g, &bearer("nope"), &uri, Access::Admin).unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let e = require(&g, &bearer(&jwt("cam", 4, now_unix() + 60)), &uri, Access::Admin).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert!(e.message.starts_with("forbidden: "), "{}", e.message);
    }
}
