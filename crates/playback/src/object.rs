//! `GET /api/record/object/{*path}`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wishcast_storage::{ObjectPath, Spool, StorageError, Store, content_range, content_type, parse_range_header};

fn text(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{msg}\n")).into_response()
}

/// Map a storage failure to a status and a message for the client.
pub(crate) fn storage_error(e: StorageError) -> Response {
    match e {
        StorageError::NotFound(p) => text(StatusCode::NOT_FOUND, format!("recording object `{p}` not found")),
        StorageError::Path(p) => text(StatusCode::BAD_REQUEST, format!("invalid object path: {p}")),
        StorageError::RangeNotSatisfiable { total, .. } => {
            let mut r =
                text(StatusCode::RANGE_NOT_SATISFIABLE, format!("range not satisfiable: the object has {total} bytes"));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
        other => {
            tracing::warn!("storage read failed: {other}");
            text(StatusCode::BAD_GATEWAY, format!("storage failed: {other}"))
        }
    }
}

fn cache_control(path: &str) -> &'static str {
    // Manifests change while recording; segments never change once written.
    if path.ends_with(".mpd") { "no-cache" } else { "public, max-age=86400, immutable" }
}

/// Serve one stored object. `raw` is the decoded path after `/api/record/object/`.
/// `redirect`: answer media segments with a 307 to a presigned URL valid this long
/// (S3/OSS only; manifests are always proxied so their relative URLs keep working).
pub async fn object(
    store: &Store,
    spool: Option<&Spool>,
    raw: &str,
    headers: &HeaderMap,
    redirect: Option<Duration>,
) -> Response {
    let path = match ObjectPath::parse(raw) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid object path `{}`: {e}", raw.escape_debug())),
    };
    let ct = content_type(path.as_str(), false);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(parse_range_header);

    // Not moved yet: serve the spool's copy (small, in memory).
    if let Some(spool) = spool
        && let Ok(Some(bytes)) = spool.read_pending(&path).await
    {
        let total = bytes.len() as u64;
        return match range {
            None => ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")], bytes).into_response(),
            Some(r) => match r.resolve(total) {
                Some(span) => {
                    let part = bytes[span.start as usize..span.end as usize].to_vec();
                    let mut resp = (StatusCode::PARTIAL_CONTENT, [(header::CONTENT_TYPE, ct)], part).into_response();
                    if let Ok(v) = HeaderValue::from_str(&content_range(&span, total)) {
                        resp.headers_mut().insert(header::CONTENT_RANGE, v);
                    }
                    resp.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
                    resp
                }
                None => storage_error(StorageError::RangeNotSatisfiable { path: path.as_str().into(), total }),
            },
        };
    }

    if let Some(ttl) = redirect
        && !path.as_str().ends_with(".mpd")
        && store.can_presign()
    {
        match store.presign_read(&path, ttl).await {
            Ok(Some(p)) => {
                if let Ok(loc) = HeaderValue::from_str(&p.url) {
                    return (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, loc)]).into_response();
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(path = %path.as_str(), "presign failed, proxying instead: {e}"),
        }
    }

    let body = match store.read_byte_range(&path, range).await {
        Ok(b) => b,
        Err(e) => return storage_error(e),
    };
    let status = if body.partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control(path.as_str())));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.content_length()));
    if let Some(cr) = body.content_range()
        && let Ok(v) = HeaderValue::from_str(&cr)
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    (status, h, Body::from_stream(body.stream)).into_response()
}
