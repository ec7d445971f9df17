//! The recordings index over HTTP: `POST /api/recordings/report` (nodes push their
//! recording sessions; admin/cluster token) and the playback lists
//! `GET /api/playback` (streams the caller may read), `GET /api/playback/{stream}`
//! (its days, the seed's shape) and `GET /api/playback/{stream}/{YYYY}/{MM}/{DD}`
//! (that day's sessions). Reading a stream's recordings needs `r` on it, so a scoped
//! token `{id: stream, mode: r}` grants one stream's recordings.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_api::record::{RecordingReports, ReportAck};
use wishcast_auth::Access;
use wishcast_index::{IndexError, validate};

use crate::state::AppState;
use wishcast_http::body::json_body;
use wishcast_http::{ApiError, ApiResult, authenticate, require};

/// Largest report batch body (10 000 reports of ~400 bytes fit).
pub const MAX_REPORT_BODY: usize = 8 * 1024 * 1024;

fn index_error(e: IndexError) -> ApiError {
    let status = match &e {
        IndexError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        IndexError::Conflict(_) => StatusCode::CONFLICT,
        e if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return ApiError::new(status, format!("recordings index unavailable, retry later: {e}"));
    }
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(error = %e, "recordings index");
    }
    ApiError::new(status, e.to_string())
}

pub async fn report(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let batch: RecordingReports = json_body(&headers, &body)?;
    validate::check_reports(&batch.reports).map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let stored = state.index.upsert_reports(&batch.reports).await.map_err(index_error)?;
    Ok(Json(ReportAck { stored }).into_response())
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
