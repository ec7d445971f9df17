//! `GET /api/info` (no auth, like the node). `GET /` is the dashboard
//! (`wishcast-dashboard`, merged in `server.rs`).

use axum::Json;
use wishcast_api::Info;

pub async fn info() -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_hash: option_env!("WISHCAST_GIT_HASH").unwrap_or("unknown").to_string(),
        build_time: option_env!("WISHCAST_BUILD_TIME").unwrap_or("unknown").to_string(),
        features: vec!["manager".into(), "cascade".into(), "proxy".into(), "redirect".into(), "extra-ice".into()],
    })
}
