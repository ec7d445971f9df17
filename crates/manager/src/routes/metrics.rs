//! `GET /metrics`: the manager's Prometheus exposition (no auth, like the node).

use axum::extract::State;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = crate::metrics::render(&state.metrics, &state.registry);
    text.push_str(&crate::metrics::render_login(&state.login.counters));
    ([("content-type", crate::metrics::CONTENT_TYPE)], text)
}
