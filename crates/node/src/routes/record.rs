//! Recorder routes of a node (Live777-compatible):
//! `POST /api/record/{stream}` (start, or return the running recording; answers at
//! once, media may come later), `GET /api/record/{stream}` → `{"recording": bool}`,
//! `DELETE /api/record/{stream}` (stop; 200 also when not recording). For node-only
//! deployments (no manager) the node also serves its own playback index from its
//! journal: `GET /api/playback`, `GET /api/playback/{stream}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use serde::Deserialize;
use wishcast_api::record::{PlaybackDay, RecordStarted, RecordState};
use wishcast_auth::Access;

use super::check_name;
use crate::error::{ApiError, ApiResult};
use crate::guard::{authenticate, require};
use crate::recording::Recordings;
use crate::state::AppState;

/// Optional body of `POST /api/record/{stream}` (Live777 sends `{}` or `{"base_dir": ...}`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    #[serde(default)]
    base_dir: Option<String>,
}

fn recordings(state: &AppState) -> ApiResult<&Recordings> {
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

/// `GET /api/playback`: streams with recordings this node made (only those the token may read).
pub async fn playback_streams(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<String>>> {
    let principal = authenticate(&state, &headers, &uri)?;
    let rec = recordings(&state)?;
    let out =
        rec.journal.streams().into_iter().filter(|s| principal.authorize(&Access::RecordRead(s)).is_ok()).collect();
    Ok(Json(out))
}

/// `GET /api/playback/{stream}`: its days, `[{"year","month","day","mpd_path"}]`.
pub async fn playback_days(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<PlaybackDay>>> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    Ok(Json(recordings(&state)?.journal.days(&stream)))
}

/// `GET /api/record/object/{*path}`: a recorded object of this node (spool first, then storage).
pub async fn object(
    State(state): State<AppState>,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<axum::response::Response> {
    // The stream is the first segment decoded (`cam~201/...` is `cam 1`'s); anything
    // else, and a day folder of the old lossy layout that several streams share, is
    // for admins only.
    match wishcast_api::record::stream_of_path(&path) {
        None => {
            require(&state, &headers, &uri, Access::Admin)?;
        }
        Some(stream) => {
            let who = require(&state, &headers, &uri, Access::RecordRead(&stream))?;
            if !who.is_admin()
                && let Some(mpd) = wishcast_api::record::day_manifest_of_object(&path)
                && recordings(&state)?.journal.folder_has_other_stream(&mpd, &stream)
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden: this day folder of the old storage layout holds several streams; only admins may read it",
                ));
            }
        }
    }
    let rec = recordings(&state)?;
    Ok(wishcast_playback::object(&rec.store, Some(&rec.spool), &path, &headers, None).await)
}

/// `GET /api/record/export/{stream}/{YYYY}/{MM}/{DD}?from=&to=` (Unix ms): one MP4.
pub async fn export(
    State(state): State<AppState>,
    Path((stream, y, m, d)): Path<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<axum::response::Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    let date = wishcast_api::record::parse_day(&y, &m, &d).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let (from, to) =
        wishcast_api::record::parse_export_range(uri.query()).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let rec = recordings(&state)?;
    Ok(wishcast_playback::export(&rec.store, Some(&rec.spool), &stream, date.0, date.1, date.2, from, to).await)
}
