//! Permissive CORS when `[http] cors = true`: preflights are answered before auth and
//! the WHIP/WHEP headers are exposed to scripts.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

const EXPOSE: &str = "Location, ETag, Link, Accept-Patch, Content-Type";
const METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";

pub async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get("origin").cloned();
    let req_headers = req.headers().get("access-control-request-headers").cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        r
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert("access-control-allow-origin", origin.unwrap_or(HeaderValue::from_static("*")));
    h.insert("vary", HeaderValue::from_static("Origin"));
    h.insert("access-control-allow-methods", HeaderValue::from_static(METHODS));
    h.insert(
        "access-control-allow-headers",
        req_headers.unwrap_or(HeaderValue::from_static("Authorization, Content-Type, If-Match, X-Region")),
    );
    h.insert("access-control-expose-headers", HeaderValue::from_static(EXPOSE));
    h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    resp
}
