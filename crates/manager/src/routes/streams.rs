//! `GET /api/streams/` (merged over the cluster), `GET /api/streams/{id}` (per node),
//! `POST /api/streams/{id}` (create on a chosen or the least-loaded node) and
//! `DELETE /api/streams/{id}` (on every node).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use wishcast_api::paths;
use wishcast_auth::Access;
use wishcast_http::body::{check_name, read_limited};
use wishcast_http::{ApiError, ApiResult, require};

use crate::placement::{Request, Want};
use crate::proxy::query_values;
use crate::registry::Status;
use crate::state::AppState;
use crate::views;

pub async fn list(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let nodes = query_values(uri.query(), "nodes");
    let streams = query_values(uri.query(), "streams");
    let v = views::merged_streams(&state.registry.lock(), &nodes, &streams);
    Ok(Json(v).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::StreamRead(&id))?;
    let v = views::per_node(&state.registry.lock(), &id);
    Ok(Json(v).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    check_name("stream", &id)?;
    if let Some(alias) = views::per_node(&state.registry.lock(), &id).keys().next() {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("stream `{id}` already exists on node `{alias}`")));
    }
    let only = query_values(uri.query(), "nodes");
    let req = Request { want: Want::Publish, stream: &id, region: &state.cfg.placement.region, only: &only };
    let p = state.registry.place(&req).map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let rb = state.nodes.request(Method::POST, &p.node, &paths::stream(&id));
    let resp = state.nodes.send(rb, &p.node, &state.metrics).await?;
    let status = resp.status();
    let body = read_limited(resp, 64 * 1024).await.unwrap_or_default();
    drop(p.reservation);
    if status.is_success() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let msg = String::from_utf8_lossy(&body).trim().to_string();
    Err(ApiError::new(status, format!("node `{}`: {msg}", p.node.alias)))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::StreamDelete(&id))?;
    let targets: Vec<_> = {
        let g = state.registry.lock();
        g.nodes.values().filter(|n| n.status == Status::Running).map(|n| n.target()).collect()
    };
    let calls = targets.iter().map(|t| {
        let rb = state.nodes.request(Method::DELETE, t, &paths::stream(&id));
        let state = state.clone();
        async move { state.nodes.send(rb, t, &state.metrics).await.map(|r| r.status()) }
    });
    let results = futures_util::future::join_all(calls).await;
    {
        let mut g = state.registry.lock();
        g.relays.retain(|r| r.stream != id);
    }
    let deleted = results.iter().any(|r| r.as_ref().is_ok_and(|s| s.is_success()));
    if deleted {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        return Err(e);
    }
    Err(ApiError::new(StatusCode::NOT_FOUND, format!("stream `{id}` does not exist on any running node")))
}
