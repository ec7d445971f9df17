//! Recorder routes of a node (Live777-compatible):
//! `POST /api/record/{stream}` (start, or return the running recording; answers at
//! once, media may come later), `GET /api/record/{stream}` → `{"recording": bool}`,
//! `DELETE /api/record/{stream}` (stop; 200 also when not recording). Reading what was
//! recorded is in `playback.rs`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use serde::Deserialize;
use wishcast_api::record::{RecordStarted, RecordState};
use wishcast_auth::Access;
use wishcast_http::body::check_name;
use wishcast_http::{ApiError, ApiResult, require};

use crate::recording::Recordings;
use crate::state::AppState;

/// Optional body of `POST /api/record/{stream}` (Live777 sends `{}` or `{"base_dir": ...}`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    #[serde(default)]
    base_dir: Option<String>,
}

pub(super) fn recordings(state: &AppState) -> ApiResult<&Recordings> {
    state.recordings.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "recording is not available on this node (see the log: `[recorder]` failed to start)",
        )
    })
}

pub async fn start(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<RecordStarted>> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordStart(&stream))?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let req: StartRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body (send `{{}}` or nothing): {e}"))
        })?;
        if req.base_dir.is_some_and(|b| !b.is_empty()) {
            tracing::info!(%stream, "`base_dir` ignored: wishcast lays recordings out by day ({stream}/YYYY/MM/DD)");
        }
    }
    let rec = recordings(&state)?;
    let key = stream.clone();
    if state.media.stream_view(key).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("stream `{stream}` does not exist on this node; publish to it (or create it) first"),
        ));
    }
    Ok(Json(rec.start(&stream)))
}

pub async fn get(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<RecordState>> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    Ok(Json(RecordState { recording: recordings(&state)?.is_recording(&stream) }))
}

pub async fn stop(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordStop(&stream))?;
    recordings(&state)?.stop(&stream).await;
    Ok(StatusCode::OK)
}
