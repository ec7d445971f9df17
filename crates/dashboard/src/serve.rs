//! HTTP semantics of the embedded files: strong ETags (FNV-1a of the bytes,
//! computed once), `If-None-Match` → 304, `Cache-Control`, and a few security
//! headers. The app shell and modules are revalidated on every load (`no-cache`:
//! cheap 304s, and an upgraded binary is picked up at once); the vendored dash.js
//! may be cached for a day. Unknown paths get a plain-text 404.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::assets::{self, ASSETS};

/// Content-Security-Policy of every dashboard file. Scripts and styles come only
/// from the binary; API calls and media may go elsewhere (S3/OSS presigned
/// playback URLs), and dash.js plays from `blob:` MediaSource URLs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src *; media-src 'self' blob: *; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

static ETAGS: LazyLock<Vec<String>> =
    LazyLock::new(|| ASSETS.iter().map(|a| format!("\"{:016x}\"", fnv1a(a.body))).collect());

/// 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, lists, `*`).
pub fn none_match(header_value: &str, etag: &str) -> bool {
    header_value.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

fn cache_control(path: &str) -> &'static str {
    if path.starts_with("vendor/") { "public, max-age=86400" } else { "no-cache" }
}

/// The response for the asset at `path` (below `assets/`).
pub fn respond(path: &str, req: &HeaderMap) -> Response<Body> {
    let Some((i, asset)) = assets::find(path) else {
        let mut r = Response::new(Body::from(format!(
            "no dashboard file `/dashboard/{path}`: the dashboard is at `/` (a newer or older binary may have other files)\n"
        )));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        return r;
    };
    let etag = &ETAGS[i];
    let fresh = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| none_match(v, etag));
    let mut r = if fresh {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::from(asset.body));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control(path)));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response<Body>) -> Vec<u8> {
        axum::body::to_bytes(r.into_body(), usize::MAX).await.expect("body").to_vec()
    }

    fn with_inm(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[tokio::test]
    async fn serves_bytes_with_type_etag_and_cache_control() {
        let r = respond("js/app.js", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = r.headers()[header::ETAG].to_str().expect("etag").to_string();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 18, "{etag}");
        let expected = assets::find("js/app.js").expect("listed").1.body;
        assert_eq!(body(r).await, expected);
    }

    #[tokio::test]
    async fn matching_if_none_match_gives_304_without_body() {
        let etag = respond("index.html", &HeaderMap::new()).headers()[header::ETAG].to_str().expect("etag").to_string();
        for v in [etag.clone(), format!("W/{etag}"), format!("\"nope\", {etag}"), "*".to_string()] {
            let r = respond("index.html", &with_inm(&v));
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "If-None-Match: {v}");
            assert_eq!(r.headers()[header::ETAG], etag.as_str());
            assert!(body(r).await.is_empty());
        }
        let r = respond("index.html", &with_inm("\"0000000000000000\""));
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn vendor_files_are_cacheable_and_unknown_paths_404() {
        let r = respond("vendor/dash.all.min.js", &HeaderMap::new());
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=86400");
        for p in ["nope.js", "../Cargo.toml", "js/../index.html", "", "js/"] {
            let r = respond(p, &HeaderMap::new());
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{p}");
            assert!(String::from_utf8(body(r).await).expect("utf-8").contains("no dashboard file"));
        }
    }

    #[test]
    fn etags_differ_between_files() {
        let mut e: Vec<&String> = ETAGS.iter().collect();
        e.sort();
        e.dedup();
        assert_eq!(e.len(), ASSETS.len());
    }

    #[test]
    fn none_match_parsing() {
        assert!(none_match("\"a\"", "\"a\""));
        assert!(none_match(" W/\"a\" ", "\"a\""));
        assert!(!none_match("\"b\"", "\"a\""));
        assert!(!none_match("", "\"a\""));
        assert!(!none_match("a", "\"a\""));
    }
}
