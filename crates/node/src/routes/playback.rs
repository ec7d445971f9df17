//! Playback of this node's recordings, for node-only deployments (no manager): the
//! index from its journal (`GET /api/playback`, `GET /api/playback/{stream}`), recorded
//! objects (`GET /api/record/object/{*path}`, spool first, then storage) and MP4 export
//! (`GET /api/record/export/{stream}/{YYYY}/{MM}/{DD}`). The manager serves the same
//! routes for the whole cluster.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use wishcast_api::record::PlaybackDay;
use wishcast_auth::Access;
use wishcast_http::body::check_name;
use wishcast_http::{ApiError, ApiResult, authenticate, require};

use super::record::recordings;
use crate::state::AppState;

/// `GET /api/playback`: streams with recordings this node made (only those the token may read).
pub async fn streams(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Json<Vec<String>>> {
    let principal = authenticate(&state, &headers, &uri)?;
    let rec = recordings(&state)?;
    let out =
        rec.journal.streams().into_iter().filter(|s| principal.authorize(&Access::RecordRead(s)).is_ok()).collect();
    Ok(Json(out))
}

/// `GET /api/playback/{stream}`: its days, `[{"year","month","day","mpd_path"}]`.
pub async fn days(
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
