//! Permissive CORS for `[http] cors = true`, as a `tower-http` layer: the request's
//! origin is echoed, preflights are answered 204 before auth (and before routing), the
//! WHIP/WHEP headers (`Location`, `ETag`, `Link`, `Accept-Patch`) are exposed to scripts.
//! Each server passes the request headers it accepts. `cors = false` adds nothing.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Request headers every server accepts from scripts.
pub const ALLOW_HEADERS: [HeaderName; 4] =
    [header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::IF_NONE_MATCH];

/// Wrap `router` in the CORS layer when `enabled`, allowing `allow_headers`.
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    enabled: bool,
    allow_headers: &[HeaderName],
) -> Router<S> {
    if !enabled {
        return router;
    }
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers(allow_headers.to_vec())
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::LINK,
            HeaderName::from_static("accept-patch"),
            header::CONTENT_TYPE,
        ])
        .max_age(Duration::from_secs(86400));
    router.layer(cors).layer(axum::middleware::from_fn(preflight_no_content))
}

/// tower-http answers preflights with 200; WHIP clients and our API docs say 204.
async fn preflight_no_content(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut resp = next.run(req).await;
    if preflight && resp.status() == StatusCode::OK && resp.headers().contains_key(header::ACCESS_CONTROL_ALLOW_METHODS)
    {
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    fn app(enabled: bool) -> Router {
        apply(Router::new().route("/whip/s", post(|| async { StatusCode::UNAUTHORIZED })), enabled, &ALLOW_HEADERS)
    }

    #[tokio::test]
    async fn preflight_and_actual_requests() {
        let pre = Request::builder()
            .method(Method::OPTIONS)
            .uri("/whip/s")
            .header("origin", "http://player.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .body(Body::empty())
            .unwrap();
        let r = app(true).oneshot(pre).await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "http://player.example");
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PATCH"));
        let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("if-match"), "{allowed}");
        assert_eq!(h["access-control-max-age"], "86400");

        let post = || Request::post("/whip/s").header("origin", "http://player.example").body(Body::empty()).unwrap();
        let r = app(true).oneshot(post()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()["access-control-allow-origin"], "http://player.example");
        let expose = r.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
        assert!(expose.contains("location") && expose.contains("etag") && expose.contains("accept-patch"), "{expose}");

        let r = app(false).oneshot(post()).await.unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
}
