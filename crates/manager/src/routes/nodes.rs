//! `GET /api/nodes/` (Liveman's shape plus wishcast's fields) and
//! `POST /api/nodes/{alias}/drain|undrain`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_auth::Access;
use wishcast_http::{ApiError, ApiResult, require};

use crate::state::AppState;
use crate::views;

pub async fn list(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let v = views::nodes(&state.registry.lock());
    Ok(Json(v).into_response())
}

async fn set(state: AppState, alias: String, uri: Uri, headers: HeaderMap, drained: bool) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    if !state.registry.set_drained(&alias, drained) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("unknown node `{alias}`: see GET /api/nodes/")));
    }
    tracing::info!(node = %alias, "node {}", if drained { "drained: no new placements" } else { "undrained" });
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn drain(
    State(state): State<AppState>,
    Path(alias): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    set(state, alias, uri, headers, true).await
}

pub async fn undrain(
    State(state): State<AppState>,
    Path(alias): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    set(state, alias, uri, headers, false).await
}
