//! `GET /api/cascade/`: the cascade relays the manager maintains.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_auth::Access;
use wishcast_http::{ApiResult, require};

use crate::state::AppState;

pub async fn list(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let relays = state.registry.lock().relays.clone();
    Ok(Json(relays).into_response())
}
