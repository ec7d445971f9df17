//! Recorder routes on the manager (Liveman-compatible): `POST /api/record/{stream}`
//! (`?node=alias` optional) starts recording on the node that holds the stream's
//! origin publisher, `GET` says whether any node records it, `DELETE` stops it on
//! every node. Recording itself happens on the node; the index arrives through the
//! nodes' reports (`/api/recordings/report`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use wishcast_api::paths;
use wishcast_api::record::{RecordStarted, RecordState};
use wishcast_auth::Access;
use wishcast_http::body::{check_name, read_limited};
use wishcast_http::{ApiError, ApiResult, require};

use crate::proxy::query_values;
use crate::registry::{NodeTarget, Registry, Status};
use crate::state::AppState;

/// The node holding the stream's origin publisher (not a cascade relay), else any holder.
pub fn origin_node(state: &AppState, stream: &str) -> Option<NodeTarget> {
    let g = state.registry.lock();
    let relay_dsts: Vec<&str> = g.relays.iter().filter(|r| r.stream == stream).map(|r| r.dst.as_str()).collect();
    let holders: Vec<_> = g
        .nodes
        .values()
        .filter(|n| n.status == Status::Running)
        .filter_map(|n| n.stream(stream).map(|s| (n, s)))
        .collect();
    holders
        .iter()
        .find(|(n, s)| !s.publish.sessions.is_empty() && !relay_dsts.contains(&n.alias.as_str()))
        .or_else(|| holders.iter().find(|(_, s)| !s.publish.sessions.is_empty()))
        .or_else(|| holders.first())
        .map(|(n, _)| n.target())
        .or_else(|| {
            // Published through this manager a moment ago: the node's next heartbeat has
            // not listed the stream yet, but the session route has.
            Registry::publish_route_alias(&g, stream)
                .and_then(|alias| g.nodes.get(&alias))
                .filter(|n| n.status == Status::Running)
                .map(|n| n.target())
        })
}

/// Nodes holding `stream`: those whose snapshot lists it, plus the node a publisher was
/// just placed on through this manager (before its next heartbeat lists the stream).
fn holders(state: &AppState, stream: &str) -> Vec<NodeTarget> {
    let g = state.registry.lock();
    let routed = Registry::publish_route_alias(&g, stream);
    g.nodes
        .values()
        .filter(|n| {
            n.status == Status::Running && (n.stream(stream).is_some() || routed.as_deref() == Some(n.alias.as_str()))
        })
        .map(|n| n.target())
        .collect()
}

/// Start recording on `node`, returning the node's answer.
pub async fn start_on(state: &AppState, node: &NodeTarget, stream: &str) -> Result<RecordStarted, ApiError> {
    let rb = state
        .nodes
        .request(Method::POST, node, &format!("/api/record/{}", paths::encode(stream)))
        .header("content-type", "application/json")
        .body("{}");
    let resp = state.nodes.send(rb, node, &state.metrics).await?;
    let status = resp.status();
    let body = read_limited(resp, 64 * 1024).await.unwrap_or_default();
    if !status.is_success() {
        let msg = String::from_utf8_lossy(&body).trim().to_string();
        return Err(ApiError::new(status, format!("node `{}`: {msg}", node.alias)));
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("node `{}` answered an unreadable record response: {e}", node.alias),
        )
    })
}

/// Is `node` recording `stream`?
pub async fn recording_on(state: &AppState, node: &NodeTarget, stream: &str) -> Result<bool, ApiError> {
    let rb = state.nodes.request(Method::GET, node, &format!("/api/record/{}", paths::encode(stream)));
    let resp = state.nodes.send(rb, node, &state.metrics).await?;
    if !resp.status().is_success() {
        return Ok(false);
    }
    let body = read_limited(resp, 4096).await.unwrap_or_default();
    Ok(serde_json::from_slice::<RecordState>(&body).is_ok_and(|s| s.recording))
}

pub async fn start(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordStart(&stream))?;
    let node = match query_values(uri.query(), "node").into_iter().next() {
        Some(alias) => state
            .registry
            .target(&alias)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("node `{alias}` is not registered")))?,
        None => origin_node(&state, &stream).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("stream `{stream}` is not on any running node; publish it first"),
            )
        })?,
    };
    let started = start_on(&state, &node, &stream).await?;
    Ok(Json(serde_json::json!({
        "started": true,
        "node": node.alias,
        "id": started.id,
        "record_id": started.record_id,
        "record_dir": started.record_dir,
        "mpd_path": started.mpd_path,
    }))
    .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    let mut recording = false;
    for n in holders(&state, &stream) {
        if recording_on(&state, &n, &stream).await.unwrap_or(false) {
            recording = true;
            break;
        }
    }
    Ok(Json(RecordState { recording }).into_response())
}

pub async fn stop(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordStop(&stream))?;
    let targets = {
        let g = state.registry.lock();
        g.nodes.values().filter(|n| n.status == Status::Running).map(|n| n.target()).collect::<Vec<_>>()
    };
    let calls = targets.iter().map(|t| {
        let rb = state.nodes.request(Method::DELETE, t, &format!("/api/record/{}", paths::encode(&stream)));
        let state = state.clone();
        async move { state.nodes.send(rb, t, &state.metrics).await.map(|r| r.status()) }
    });
    futures_util::future::join_all(calls).await;
    Ok(StatusCode::OK.into_response())
}
