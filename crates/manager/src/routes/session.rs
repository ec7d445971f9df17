//! `PATCH/DELETE/POST /session/{stream}/{id}` and `GET/POST/DELETE .../layer`: routed to
//! the node that owns the session, with the node's token; the response is streamed back.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use wishcast_api::paths;
use wishcast_http::{ApiError, ApiResult, SessionAuth};

use crate::proxy::{forward_query, stream_body};
use crate::state::AppState;

pub async fn session(
    State(state): State<AppState>,
    auth: SessionAuth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let path = paths::session(&auth.stream, &auth.session);
    forward(state, auth, path, method, uri, headers, body).await
}

pub async fn layer(
    State(state): State<AppState>,
    auth: SessionAuth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let path = paths::session_layer(&auth.stream, &auth.session);
    forward(state, auth, path, method, uri, headers, body).await
}

/// Authorization happened in [`SessionAuth`] (the stream) and happens here (the
/// session: created through this manager, and by this caller unless an admin asks).
async fn forward(
    state: AppState,
    auth: SessionAuth,
    path: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let SessionAuth { stream, session, .. } = &auth;
    let Some((route, node)) = state.registry.route(stream, session) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "session `{session}` of stream `{stream}` is unknown: it has ended, or was not created through this manager"
            ),
        ));
    };
    if !auth.is_admin() && !route.indexed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden: this session was not created through this manager; use an admin token",
        ));
    }
    auth.check_owner(route.owner)?;
    let m = reqwest::Method::from_bytes(method.as_str().as_bytes())
        .map_err(|_| ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"))?;
    let mut rb = state.nodes.request(m, &node, &format!("{path}{}", forward_query(uri.query())));
    for h in ["content-type", "if-match", "if-none-match"] {
        if let Some(v) = headers.get(h) {
            rb = rb.header(h, v.as_bytes());
        }
    }
    if !body.is_empty() {
        rb = rb.body(body);
    }
    let resp = state.nodes.send(rb, &node, &state.metrics).await?;
    let status = resp.status();
    let is_session_delete = method == Method::DELETE && !path.ends_with("/layer");
    if is_session_delete && (status.is_success() || status == StatusCode::NOT_FOUND) {
        state.registry.remove_route(stream, session);
    }
    let upstream = resp.headers().clone();
    let mut r = Response::new(stream_body(resp));
    *r.status_mut() = status;
    for h in ["content-type", "etag", "content-length"] {
        if let Some(v) = upstream.get(h) {
            r.headers_mut().insert(h, v.clone());
        }
    }
    for v in upstream.get_all("link") {
        r.headers_mut().append("link", v.clone());
    }
    Ok(r)
}
