//! `POST /whip/{stream}` and `POST /whep/{stream}`: place the client, cascade the stream
//! if needed, and proxy the offer to the chosen node (or answer `307` in redirect
//! mode). Also Liveman's `POST /api/whip|whep/{alias}/{stream}`, which targets one node.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use wishcast_api::paths;
use wishcast_auth::Access;
use wishcast_http::body::{check_content_type, check_name, read_limited};
use wishcast_http::{ApiError, ApiResult, require_owner};

use crate::config::ProxyMode;
use crate::metrics::ManagerMetrics;
use crate::placement::{Request, Want};
use crate::proxy::{GuardedBody, MAX_SDP, OrphanGuard, forward_query, query_values};
use crate::registry::{NodeTarget, Reservation, SessionKind};
use crate::state::AppState;

pub async fn whip(
    state: State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state.0, stream, None, uri, headers, body, Want::Publish).await
}

pub async fn whep(
    state: State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state.0, stream, None, uri, headers, body, Want::Subscribe).await
}

pub async fn whip_on(
    state: State<AppState>,
    Path((alias, stream)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state.0, stream, Some(alias), uri, headers, body, Want::Publish).await
}

pub async fn whep_on(
    state: State<AppState>,
    Path((alias, stream)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    offer(state.0, stream, Some(alias), uri, headers, body, Want::Subscribe).await
}

/// The client's region: `?region=`, else `X-Region`, else the manager's own.
fn client_region(state: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    query_values(uri.query(), "region")
        .into_iter()
        .next()
        .or_else(|| headers.get("x-region").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| state.cfg.placement.region.clone())
}

/// The session id in a node's `Location` (its last path segment, decoded).
fn session_of(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?;
    let id = paths::decode(last);
    (!id.is_empty()).then_some(id)
}

async fn offer(
    state: AppState,
    stream: String,
    fixed: Option<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    want: Want,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    let access = if want == Want::Publish { Access::Publish(&stream) } else { Access::Subscribe(&stream) };
    let (_, owner) = require_owner(&state, &headers, &uri, access)?;
    check_content_type(&headers, "application/sdp")?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "empty body: POST the SDP offer"));
    }
    ManagerMetrics::inc(if want == Want::Publish {
        &state.metrics.whip_requests
    } else {
        &state.metrics.whep_requests
    });
    let redirect = fixed.is_none() && state.cfg.placement.mode == ProxyMode::Redirect;

    // Extra ICE servers first: if they cannot be had, no node session exists yet.
    let extra_links = if fixed.is_none() && !redirect && !state.extra_ice.is_noop() {
        Some(state.extra_ice.links().await.map_err(|e| {
            tracing::warn!("extra ICE servers: {e}");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("extra ICE servers unavailable, no session was created: {e}"),
            )
        })?)
    } else {
        None
    };

    let kind = if want == Want::Publish { SessionKind::Publish } else { SessionKind::Subscribe };
    let (node, cascade, reservation) = match &fixed {
        Some(alias) => {
            let (t, r) = state.registry.reserve_on(alias, &stream, kind).ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("unknown node `{alias}`: see GET /api/nodes/"))
            })?;
            (t, None, r)
        }
        None => {
            let region = client_region(&state, &uri, &headers);
            let only = query_values(uri.query(), "nodes");
            let req = Request { want, stream: &stream, region: &region, only: &only };
            let p = state.registry.place(&req).map_err(|e| {
                ManagerMetrics::inc(&state.metrics.placement_failures);
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("{e} (stream `{stream}`)"))
            })?;
            (p.node, p.cascade, p.reservation)
        }
    };
    let node_path = if want == Want::Publish { paths::whip(&stream) } else { paths::whep(&stream) };

    if redirect {
        // The client re-sends the offer to the node; keep `?token=` for it (a cross-origin
        // redirect drops the Authorization header in browsers).
        let query: Vec<&str> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("region=") && !p.starts_with("nodes="))
            .collect();
        let q = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        let location = format!("{}{}{}", node.url, node_path, q);
        reservation.commit(None);
        ManagerMetrics::inc(&state.metrics.redirects);
        let mut r = (StatusCode::TEMPORARY_REDIRECT, format!("use node `{}`\n", node.alias)).into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert("location", v);
        }
        return Ok(r);
    }

    if let Some((src, relay_id)) = cascade {
        let cfg = state.cfg.cascade.clone();
        tokio::spawn(crate::cascade::establish(state.cluster(), cfg, relay_id, stream.clone(), src, node.clone()));
    }

    // The node exchange runs on its own task: if the client goes away meanwhile, the
    // task still finishes, and the unsent answer's guard deletes the node session.
    let query = forward_query(uri.query());
    let task =
        tokio::spawn(forward_offer(state, node, node_path, query, stream, body, kind, owner, reservation, extra_links));
    task.await
        .unwrap_or_else(|e| Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("proxy task failed: {e}"))))
}

#[allow(clippy::too_many_arguments)]
async fn forward_offer(
    state: AppState,
    node: NodeTarget,
    node_path: String,
    query: String,
    stream: String,
    body: Bytes,
    kind: SessionKind,
    owner: Option<u64>,
    reservation: Reservation,
    extra_links: Option<Vec<String>>,
) -> ApiResult<Response> {
    let rb = state
        .nodes
        .request(Method::POST, &node, &format!("{node_path}{query}"))
        .header("content-type", "application/sdp")
        .body(body);
    let resp = match state.nodes.send(rb, &node, &state.metrics).await {
        Ok(r) => r,
        Err(e) => {
            if e.status == StatusCode::BAD_GATEWAY {
                state.registry.poll_failed(&node.alias, "proxied request failed");
            }
            tracing::warn!(node = %node.alias, "offer for `{stream}` failed: {}", e.message);
            return Err(e);
        }
    };
    let status = resp.status();
    let upstream = resp.headers().clone();
    let session = upstream.get("location").and_then(|v| v.to_str().ok()).and_then(session_of);
    let mut guard = session.as_ref().filter(|_| status.is_success()).map(|id| OrphanGuard {
        cluster: state.cluster(),
        node: node.clone(),
        path: paths::session(&stream, id),
        stream: stream.clone(),
        session: id.clone(),
        armed: true,
    });
    let body = read_limited(resp, MAX_SDP).await.map_err(|e| {
        ManagerMetrics::inc(&state.metrics.proxy_bad_gateway);
        ApiError::new(StatusCode::BAD_GATEWAY, format!("node `{}` answered {status} but {e}", node.alias))
    })?;

    if !status.is_success() {
        // The node refused (409 publisher exists, 422 codecs, ...): pass its answer on.
        drop(reservation);
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = status;
        for h in ["content-type", "retry-after"] {
            if let Some(v) = upstream.get(h) {
                r.headers_mut().insert(h, v.clone());
            }
        }
        return Ok(r);
    }
    let (Some(session), Some(mut guard)) = (session, guard.take()) else {
        ManagerMetrics::inc(&state.metrics.proxy_bad_gateway);
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("node `{}` answered {status} without a Location header", node.alias),
        ));
    };
    state.registry.add_route(&stream, &session, &node.alias, kind, owner);
    reservation.commit(Some(&session));

    let mut out = HeaderMap::new();
    for h in ["content-type", "etag", "accept-patch"] {
        if let Some(v) = upstream.get(h) {
            out.insert(h, v.clone());
        }
    }
    for v in upstream.get_all("link") {
        out.append("link", v.clone());
    }
    if let Some(extra) = &extra_links {
        crate::extra_ice::merge(&mut out, extra, state.extra_ice.override_upstream());
    }
    match HeaderValue::from_str(&paths::session(&stream, &session)) {
        Ok(v) => {
            out.insert("location", v);
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "node returned a session id that is not a valid header",
            ));
        }
    }
    guard.armed = true;
    out.insert("content-length", HeaderValue::from(body.len()));
    let mut r = Response::new(GuardedBody::body(body, guard));
    *r.status_mut() = status;
    *r.headers_mut() = out;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::session_of;

    #[test]
    fn session_ids_come_from_location() {
        assert_eq!(session_of("/session/cam/abc-1").as_deref(), Some("abc-1"));
        assert_eq!(session_of("http://n:7777/session/a%20b/x%2Fy?z").as_deref(), Some("x/y"));
        assert_eq!(session_of("/session/cam/").as_deref(), None);
    }
}
