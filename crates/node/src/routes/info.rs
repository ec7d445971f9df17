//! `GET /api/info` (no auth) and `GET /api/strategy/`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_api::Info;
use wishcast_auth::Access;
use wishcast_http::{ApiResult, require};

use crate::state::AppState;

pub async fn info() -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_hash: option_env!("WISHCAST_GIT_HASH").unwrap_or("unknown").to_string(),
        build_time: option_env!("WISHCAST_BUILD_TIME").unwrap_or("unknown").to_string(),
        features: vec!["whip".into(), "whep".into(), "ice-tcp".into(), "datachannel".into()],
    })
}

pub async fn strategy(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    Ok(Json(state.cfg.strategy.clone()).into_response())
}
