//! `GET /api/info` and `GET /metrics` (no auth, like the node). `GET /` is the
//! dashboard (`wishcast-dashboard`, merged in `server.rs`).

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use wishcast_api::Info;

use crate::state::AppState;

pub async fn info() -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_hash: option_env!("WISHCAST_GIT_HASH").unwrap_or("unknown").to_string(),
        build_time: option_env!("WISHCAST_BUILD_TIME").unwrap_or("unknown").to_string(),
        features: vec!["manager".into(), "cascade".into(), "proxy".into(), "redirect".into(), "extra-ice".into()],
    })
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = crate::metrics::render(&state.metrics, &state.registry);
    text.push_str(&crate::metrics::render_login(&state.login.counters));
    ([("content-type", crate::metrics::CONTENT_TYPE)], text)
}
