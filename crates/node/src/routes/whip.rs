//! `POST /whip/{stream}` and `POST /whep/{stream}`: offer in, 201 + answer out.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_auth::Access;
use wishcast_http::body::{check_content_type, check_name, utf8};
use wishcast_http::{ApiError, ApiResult, require_owner};

use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Whip,
    Whep,
}

pub async fn whip(
    state: State<AppState>,
    path: Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state, path, uri, headers, body, Kind::Whip).await
}

pub async fn whep(
    state: State<AppState>,
    path: Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state, path, uri, headers, body, Kind::Whep).await
}

async fn offer(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    kind: Kind,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    let access = if kind == Kind::Whip { Access::Publish(&stream) } else { Access::Subscribe(&stream) };
    let (principal, owner) = require_owner(&state, &headers, &uri, access)?;
    let relay = kind == Kind::Whep && principal.is_admin() && headers.contains_key(wishcast_api::RELAY_HEADER);
    check_content_type(&headers, "application/sdp")?;
    let sdp = utf8(&body)?.to_string();
    if sdp.trim().is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "empty body: POST the SDP offer"));
    }
    let s = stream.clone();
    let answer = match kind {
        Kind::Whip => state.media.publish(s, sdp, owner).await?,
        Kind::Whep => state.media.subscribe(s, sdp, owner, relay).await?,
    };
    let location = wishcast_api::paths::session(&stream, &answer.session_id);
    let mut resp = (StatusCode::CREATED, answer.sdp).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/sdp"));
    h.insert("accept-patch", HeaderValue::from_static("application/trickle-ice-sdpfrag"));
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert("location", v);
    }
    if let Ok(v) = HeaderValue::from_str(&answer.etag) {
        h.insert("etag", v);
    }
    for l in &state.ice_links {
        if let Ok(v) = HeaderValue::from_str(l) {
            h.append("link", v);
        }
    }
    if kind == Kind::Whep && answer.simulcast {
        let layer = format!(
            "<{}>; rel=\"urn:ietf:params:whep:ext:core:layer\"",
            wishcast_api::paths::session_layer(&stream, &answer.session_id)
        );
        if let Ok(v) = HeaderValue::from_str(&layer) {
            resp.headers_mut().append("link", v);
        }
    }
    Ok(resp)
}
