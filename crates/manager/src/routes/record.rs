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
use wishcast_api::record::RecordState;
use wishcast_auth::Access;
use wishcast_http::body::check_name;
use wishcast_http::{ApiError, ApiResult, require};

use crate::proxy::query_values;
use crate::recording::{holders, origin_node, recording_on, start_on, stop_everywhere};
use crate::state::AppState;

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
        None => origin_node(&state.registry, &stream).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("stream `{stream}` is not on any running node; publish it first"),
            )
        })?,
    };
    let started = start_on(&state.cluster(), &node, &stream).await?;
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
    let cluster = state.cluster();
    for n in holders(&state.registry, &stream) {
        if recording_on(&cluster, &n, &stream).await.unwrap_or(false) {
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
    stop_everywhere(&state.cluster(), &stream).await;
    Ok(StatusCode::OK.into_response())
}
