//! The embedded web dashboard. Every file under `assets/` is compiled into the
//! binary ([`assets`]) and served by [`router`] at `/` (the app shell) and
//! `/dashboard/...` (its modules, styles and the vendored dash.js), with a content
//! type by extension, an ETag (304 on `If-None-Match`) and `Cache-Control`
//! ([`serve`]). The same app runs on the manager and on a standalone node: it asks
//! `GET /api/info` which one it talks to and hides the cluster pages on a node.
//! There is no JavaScript build step, so a plain `cargo build` is enough.

pub mod assets;
pub mod serve;

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// Routes `/`, `/dashboard` (redirect), `/dashboard/` and `/dashboard/{*path}`.
/// Mount it with `Router::merge` beside the API routes; it claims no other path.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(index))
        .route("/dashboard", get(|| async { Redirect::permanent("/dashboard/") }))
        .route("/dashboard/", get(index))
        .route("/dashboard/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve::respond(assets::INDEX, &headers).into_response()
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve::respond(&path, &headers).into_response()
}
