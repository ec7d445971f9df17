//! HTTP routes of a node, one file per resource.

pub mod cascade;
pub mod info;
pub mod layer;
pub mod metrics;
pub mod record;
pub mod session;
pub mod sse;
pub mod streams;
pub mod whip;

use axum::http::{HeaderMap, StatusCode};

use crate::error::ApiError;

/// Accept `expected` with optional parameters (`; charset=utf-8`), case-insensitively.
pub fn check_content_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let base = ct.split(';').next().unwrap_or("").trim();
    if base.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type must be {expected}, got {}",
                if ct.is_empty() { "nothing".to_string() } else { format!("`{ct}`") }
            ),
        ))
    }
}

/// Request bodies must be UTF-8 text.
pub fn utf8(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "body is not valid UTF-8"))
}

/// Stream names: non-empty, no control characters, no `/`, and at most 255 bytes once
/// encoded for storage (`wishcast_api::storage_name`; each byte other than
/// `A-Z a-z 0-9 . _ -` counts 3), so every later use (storage path segment, DB rows,
/// metrics labels, `Location` headers) accepts them.
pub fn check_name(what: &str, v: &str) -> Result<(), ApiError> {
    if let Some(problem) = wishcast_api::storage_name::stream_name_problem(v) {
        let problem = problem.strip_prefix("stream name ").unwrap_or(&problem);
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("{what} name {problem}")));
    }
    Ok(())
}
