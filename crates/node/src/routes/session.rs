//! `PATCH /session/{stream}/{id}` (trickle ICE, ICE restart) and `DELETE` (hang up).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wishcast_http::body::{check_content_type, utf8};
use wishcast_http::{ApiError, ApiResult, SessionAuth};
use wishcast_sdp::SdpFrag;
use wishcast_sfu::PatchOutcome;

use crate::state::AppState;

pub async fn patch(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    check_content_type(&headers, "application/trickle-ice-sdpfrag")?;
    let frag = SdpFrag::parse(utf8(&body)?)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid sdpfrag: {e}")))?;
    let if_match = headers.get("if-match").and_then(|v| v.to_str().ok()).map(str::to_string);
    let outcome = state.media.patch(stream, session, frag, if_match, owner).await?;
    Ok(match outcome {
        PatchOutcome::Trickled => StatusCode::NO_CONTENT.into_response(),
        PatchOutcome::Restarted { frag, etag } => {
            let mut r = (StatusCode::OK, frag).into_response();
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/trickle-ice-sdpfrag"));
            if let Ok(v) = HeaderValue::from_str(&etag) {
                r.headers_mut().insert("etag", v);
            }
            r
        }
    })
}

pub async fn delete(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
) -> ApiResult<Response> {
    state.media.delete_session(stream, session, owner).await?;
    Ok(StatusCode::OK.into_response())
}
