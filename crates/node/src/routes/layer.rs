//! Per-subscriber controls: `GET/POST/DELETE /session/{stream}/{id}/layer` (WHEP layer
//! extension, Live777 JSON), `POST /session/{stream}/{id}` mute per kind, and the
//! `POST /session/{stream}/{id}/bwe_cap` test hook (only with `webrtc.test_hooks`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wishcast_auth::Access;
use wishcast_http::body::json_body;
use wishcast_http::{ApiError, ApiResult, SessionAuth};
use wishcast_sfu::str0m::media::MediaKind;

use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayerJson {
    encoding_id: String,
    bitrate: u64,
    active: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SelectLayer {
    #[serde(default)]
    encoding_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindSwitch {
    kind: String,
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BweCap {
    bps: Option<u64>,
}

pub async fn get(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
) -> ApiResult<Response> {
    let layers = state.media.layers(stream, session, owner).await?;
    let v: Vec<LayerJson> =
        layers.into_iter().map(|l| LayerJson { encoding_id: l.rid, bitrate: l.bitrate, active: l.active }).collect();
    Ok(Json(v).into_response())
}

pub async fn select(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req: SelectLayer = json_body(&headers, &body)?;
    let rid = req.encoding_id;
    state.media.select_layer(stream, session, rid, owner).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
) -> ApiResult<Response> {
    state.media.disable_video(stream, session, owner).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn mute(
    State(state): State<AppState>,
    SessionAuth { stream, session, owner }: SessionAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req: KindSwitch = json_body(&headers, &body)?;
    let kind = match req.kind.as_str() {
        "audio" => MediaKind::Audio,
        "video" => MediaKind::Video,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`kind` must be \"audio\" or \"video\", got \"{other}\""),
            ));
        }
    };
    state.media.set_enabled(stream, session, kind, req.enabled, owner).await?;
    Ok((StatusCode::OK, Json(serde_json::json!({}))).into_response())
}

pub async fn bwe_cap(
    State(state): State<AppState>,
    Path((stream, session)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if !state.cfg.webrtc.test_hooks {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "test hooks are off (webrtc.test_hooks = false)"));
    }
    wishcast_http::require(&state, &headers, &uri, Access::Admin)?;
    let req: BweCap = json_body(&headers, &body)?;
    let bps = req.bps;
    state.media.set_bwe_cap(stream, session, bps).await?;
    Ok(StatusCode::OK.into_response())
}
