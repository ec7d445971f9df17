//! HTTP routes of the manager, one file per resource.

pub mod auth;
pub mod cascade;
pub mod cluster;
pub mod nodes;
pub mod offer;
pub mod playback;
pub mod record;
pub mod recordings;
pub mod session;
pub mod sse;
pub mod streams;
pub mod system;

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

/// Parse a JSON body, with 400/422 messages naming the problem.
pub fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    check_content_type(headers, "application/json")?;
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let status = if e.inner().is_syntax() || e.inner().is_eof() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!(" at `{path}`") };
        ApiError::new(status, format!("invalid JSON body{at}: {}", e.inner()))
    })
}
