//! The recordings index, fed over HTTP: `POST /api/recordings/report` (nodes push their
//! recording sessions; admin/cluster token). Reading it (`GET /api/playback...`) is in
//! `playback.rs`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_api::record::{RecordingReports, ReportAck};
use wishcast_auth::Access;
use wishcast_http::body::json_body;
use wishcast_http::{ApiError, ApiResult, require};
use wishcast_index::{IndexError, validate};

use crate::state::AppState;

/// Largest report batch body (10 000 reports of ~400 bytes fit).
pub const MAX_REPORT_BODY: usize = 8 * 1024 * 1024;

pub(super) fn index_error(e: IndexError) -> ApiError {
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
