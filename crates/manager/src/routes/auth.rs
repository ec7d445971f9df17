//! `POST /api/login` (username/password → 24-hour admin JWT; bounded and backed off,
//! see [`crate::login_gate`]) and `POST /api/token`
//! (admins mint scoped JWTs). Responses: `{"access_token": "...", "token_type": "Bearer"}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wishcast_auth::{Access, Claims, MODE_ADMIN, MODE_PUBLISH, MODE_SUBSCRIBE};
use wishcast_http::auth::now_unix;
use wishcast_http::body::json_body;
use wishcast_http::{ApiError, ApiResult, require};

use crate::login_gate::{PeerAddr, Refused, client_ip};
use crate::login_limit::retry_after_secs;
use crate::state::AppState;

/// Lifetime of a login token.
pub const LOGIN_TTL_SECS: u64 = 24 * 3600;
/// Longest token `/api/token` mints (one year).
pub const MAX_TOKEN_SECS: u64 = 366 * 24 * 3600;

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn error_json(status: StatusCode, msg: &str) -> Response {
    (status, Json(serde_json::json!({ "error": msg }))).into_response()
}

fn token_json(t: String) -> Response {
    Json(serde_json::json!({ "access_token": t, "token_type": "Bearer" })).into_response()
}

/// `POST /api/login`. Before argon2 runs: the back-off of the client address and the
/// username (429 + `Retry-After`), then a verification slot (503 + `Retry-After` when
/// all are busy); see [`crate::login_gate`].
pub async fn login(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let l: Login = json_body(&headers, &body)?;
    if l.username.is_empty() || l.password.is_empty() {
        return Ok(error_json(StatusCode::BAD_REQUEST, "Missing credentials"));
    }
    let ip = client_ip(peer, &headers, state.cfg.http.trust_forwarded_for);
    let user = state.login.user_key(&l.username);
    let slot = match state.login.admit(ip, user).await {
        Ok(s) => s,
        Err(Refused::Throttled(d)) => {
            let secs = retry_after_secs(d);
            let mut r =
                error_json(StatusCode::TOO_MANY_REQUESTS, &format!("Too many failed logins: try again in {secs} s"));
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            return Ok(r);
        }
        Err(Refused::Busy) => {
            let mut r = error_json(StatusCode::SERVICE_UNAVAILABLE, "Too many logins at once: try again shortly");
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(1u64));
            return Ok(r);
        }
    };
    let accounts = state.cfg.auth.accounts.clone();
    let (u, p) = (l.username, l.password);
    // argon2 is deliberately slow: keep it off the async workers. The slot goes with it,
    // so it stays taken until argon2 is done even if the client hangs up.
    let ok = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        crate::accounts::verify(&accounts, &u, &p)
    })
    .await
    .unwrap_or(false);
    if !ok {
        state.login.failure(ip, user);
        return Ok(error_json(StatusCode::UNAUTHORIZED, "Wrong credentials"));
    }
    state.login.success(ip, user);
    let claims =
        Claims { id: "*".into(), exp: now_unix() + LOGIN_TTL_SECS, mode: MODE_SUBSCRIBE | MODE_PUBLISH | MODE_ADMIN };
    let t = state.gate.authenticator().mint(&claims).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "login needs `[auth] secret` in the manager config to sign tokens",
        )
    })?;
    Ok(token_json(t))
}

#[derive(Deserialize)]
struct TokenRequest {
    id: String,
    duration: u64,
    #[serde(default)]
    subscribe: bool,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    admin: bool,
}

pub async fn token(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let principal = require(&state, &headers, &uri, Access::Admin)?;
    if !principal.is_admin() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden: only admins may mint tokens"));
    }
    let r: TokenRequest = json_body(&headers, &body)?;
    if r.id.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "`id` must be a stream name or `*`"));
    }
    if r.duration == 0 || r.duration > MAX_TOKEN_SECS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`duration` must be 1..={MAX_TOKEN_SECS} seconds"),
        ));
    }
    let mode = (r.subscribe as u8) * MODE_SUBSCRIBE + (r.publish as u8) * MODE_PUBLISH + (r.admin as u8) * MODE_ADMIN;
    let claims = Claims { id: r.id, exp: now_unix() + r.duration, mode };
    let t = state.gate.authenticator().mint(&claims).ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "minting tokens needs `[auth] secret` in the manager config")
    })?;
    Ok(token_json(t))
}
