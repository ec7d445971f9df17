//! `POST /api/cascade/{stream}` (Live777 body): make this node pull a stream from
//! another server's WHEP endpoint (`sourceUrl`) or push its stream to a WHIP endpoint
//! (`targetUrl`). Answers once the remote HTTP exchange is done; media follows.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wishcast_auth::Access;
use wishcast_http::body::{check_name, json_body};
use wishcast_http::{ApiError, ApiResult, require};
use wishcast_sfu::RelayKind;

use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CascadeRequest {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    source_url: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
}

pub async fn cascade(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    check_name("stream", &stream)?;
    require(&state, &headers, &uri, Access::Cascade(&stream))?;
    let req: CascadeRequest = json_body(&headers, &body)?;
    let (kind, url) = match (req.source_url.filter(|s| !s.is_empty()), req.target_url.filter(|s| !s.is_empty())) {
        (Some(s), None) => (RelayKind::Pull, s),
        (None, Some(t)) => (RelayKind::Push, t),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "give exactly one of `sourceUrl` (pull via WHEP) or `targetUrl` (push via WHIP)",
            ));
        }
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("`{url}` is not an http(s) URL")));
    }
    let token = req.token.filter(|t| !t.is_empty());
    let (session, offer) = state.media.relay_offer(stream.clone(), kind, url.clone(), token.clone()).await?;
    let extra: &[(&str, &str)] = if kind == RelayKind::Pull { &[(wishcast_api::RELAY_HEADER, "1")] } else { &[] };
    let answer = match state.relay_client.offer_with(&url, &offer, token.as_deref(), extra).await {
        Ok(a) => a,
        Err(e) => {
            let _ = state.media.relay_abort(session.clone()).await;
            let status = if e.status.is_some() { StatusCode::BAD_GATEWAY } else { StatusCode::GATEWAY_TIMEOUT };
            return Err(ApiError::new(status, format!("cascade to {url} failed: {e}")));
        }
    };
    let location = answer.location.clone();
    let remote_session = location.clone();
    let result = state.media.relay_answer(session.clone(), answer.sdp, location).await;
    if let Err(e) = result {
        // The remote session exists but we could not use it: hang it up.
        let _ = state.relay_client.delete(&remote_session, token.as_deref()).await;
        return Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("cascade to {url} failed: {e}")));
    }
    Ok(StatusCode::OK.into_response())
}
