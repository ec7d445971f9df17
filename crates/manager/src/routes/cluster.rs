//! `POST /api/cluster/heartbeat`: self-registration and heartbeats of nodes with a
//! `[cluster]` table (admin token of the manager required).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_api::cluster::Heartbeat;
use wishcast_auth::Access;
use wishcast_http::body::json_body;
use wishcast_http::{ApiError, ApiResult, require};

use crate::metrics::ManagerMetrics;
use crate::state::AppState;

pub async fn heartbeat(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let hb: Heartbeat = json_body(&headers, &body)?;
    let url_ok = hb.url.starts_with("http://") || hb.url.starts_with("https://");
    if !url_ok {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`url` must be the node's base URL like http://10.0.0.5:7777, got `{}`", hb.url),
        ));
    }
    let alias = hb.alias.clone();
    state.registry.heartbeat(hb).map_err(|e| ApiError::new(StatusCode::CONFLICT, e))?;
    ManagerMetrics::inc(&state.metrics.heartbeats);
    let drained = state.registry.lock().nodes.get(&alias).is_some_and(|n| n.drained);
    Ok(Json(serde_json::json!({ "alias": alias, "status": "running", "drained": drained })).into_response())
}
