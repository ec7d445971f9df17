//! Playback of recordings through the manager: the index lists `GET /api/playback`
//! (streams the caller may read), `GET /api/playback/{stream}` (its days, the seed's
//! shape) and `GET /api/playback/{stream}/{YYYY}/{MM}/{DD}` (that day's sessions); stored objects
//! (`GET /api/record/object/{*path}`, with Range, or a 307 to a presigned URL when
//! `[playback] signed_redirect` is on and the storage can presign), the MP4 export of
//! one day (`GET /api/record/export/{stream}/{YYYY}/{MM}/{DD}?from=&to=`), and the
//! storage helpers Liveman offers nodes (`POST /api/storage/presign`,
//! `GET /api/storage/ping`). Reading needs read access to the stream the path's first
//! segment encodes (`wishcast_api::storage_name`), so a scoped token
//! (`{"id": stream, "mode": r}`) grants one stream's recordings.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wishcast_auth::Access;
use wishcast_http::body::{check_name, json_body};
use wishcast_http::{ApiError, ApiResult, authenticate, require};
use wishcast_index::validate;
use wishcast_storage::{ObjectPath, Store};

use super::recordings::index_error;
use crate::state::AppState;

fn store(state: &AppState) -> ApiResult<&Store> {
    state.store.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "recording storage is not available (see the manager log for `[recorder.storage]`)",
        )
    })
}

pub async fn object(
    State(state): State<AppState>,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize_object(&state, &path, &uri, &headers).await?;
    let store = store(&state)?;
    let redirect =
        state.cfg.playback.signed_redirect.then(|| Duration::from_secs(state.cfg.playback.signed_ttl_seconds.max(1)));
    Ok(wishcast_playback::object(store, None, &path, &headers, redirect).await)
}

/// Who may read an object: its first segment decoded is the stream it belongs to
/// (`cam~201/...` is `cam 1`'s); a path whose first segment is not an encoded stream
/// name, or a day folder of the old lossy layout that several streams share, is for
/// admins only.
async fn authorize_object(state: &AppState, path: &str, uri: &Uri, headers: &HeaderMap) -> ApiResult<()> {
    let Some(stream) = wishcast_api::record::stream_of_path(path) else {
        require(state, headers, uri, Access::Admin)?;
        return Ok(());
    };
    let who = require(state, headers, uri, Access::RecordRead(&stream))?;
    if who.is_admin() {
        return Ok(());
    }
    if let Some(mpd) = wishcast_api::record::day_manifest_of_object(path) {
        let shared = state.index.folder_has_other_stream(&mpd, &stream).await.map_err(|e| {
            tracing::warn!("recordings index: {e}");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the recordings index is not available")
        })?;
        if shared {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden: this day folder of the old storage layout holds several streams; only admins may read it",
            ));
        }
    }
    Ok(())
}

pub async fn export(
    State(state): State<AppState>,
    Path((stream, y, m, d)): Path<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    let (year, month, day) =
        wishcast_api::record::parse_day(&y, &m, &d).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let (from, to) =
        wishcast_api::record::parse_export_range(uri.query()).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let store = store(&state)?;
    Ok(wishcast_playback::export(store, None, &stream, year, month, day, from, to).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresignRequest {
    method: String,
    path: String,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

/// `POST /api/storage/presign` (admin): `{"method":"PUT"|"GET","path":"...","ttl_seconds":300}`.
pub async fn presign(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let req: PresignRequest = json_body(&headers, &body)?;
    let path = ObjectPath::parse(&req.path)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid `path`: {e}")))?;
    let ttl = Duration::from_secs(req.ttl_seconds.unwrap_or(300).max(30));
    let store = store(&state)?;
    let r = match req.method.to_ascii_uppercase().as_str() {
        "GET" => store.presign_read(&path, ttl).await,
        "PUT" => store.presign_write(&path, ttl).await,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("unsupported method `{other}`: use GET or PUT"),
            ));
        }
    };
    match r {
        Ok(Some(p)) => {
            let headers: serde_json::Map<String, serde_json::Value> =
                p.headers.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            Ok(Json(serde_json::json!({ "url": p.url, "headers": headers })).into_response())
        }
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage cannot presign (type = \"fs\"); use GET /api/record/object/{path} instead",
        )),
        Err(e) => Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("presign failed: {e}"))),
    }
}

/// `GET /api/storage/ping`: 200 when the storage answers.
pub async fn ping(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    match store(&state)?.ping().await {
        Ok(()) => Ok((StatusCode::OK, "ok\n").into_response()),
        Err(e) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("storage does not answer: {e}"))),
    }
}

pub async fn streams(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    let who = authenticate(&state, &headers, &uri)?;
    let all = state.index.streams().await.map_err(index_error)?;
    let visible: Vec<String> = all.into_iter().filter(|s| who.authorize(&Access::RecordRead(s)).is_ok()).collect();
    Ok(Json(visible).into_response())
}

fn check_stream(stream: &str) -> ApiResult<()> {
    validate::check_stream(stream)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("stream name {}", e.message)))
}

pub async fn days(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    check_stream(&stream)?;
    let days = state.index.days(&stream).await.map_err(index_error)?;
    Ok(Json(days).into_response())
}

pub async fn sessions(
    State(state): State<AppState>,
    Path((stream, y, m, d)): Path<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::RecordRead(&stream))?;
    check_stream(&stream)?;
    let (year, month, day) =
        wishcast_api::record::parse_day(&y, &m, &d).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    validate::check_date(year, month, day).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let sessions = state.index.sessions(&stream, year, month, day).await.map_err(index_error)?;
    Ok(Json(sessions).into_response())
}
