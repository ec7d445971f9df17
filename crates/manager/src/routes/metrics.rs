//! `GET /metrics`: the manager's Prometheus exposition (no auth, like the node).

use axum::extract::State;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([("content-type", crate::metrics::CONTENT_TYPE)], crate::metrics::render(&state.metrics, &state.registry))
}
