//! Request-body and name checks shared by every route (415/400/422 with a message
//! naming the problem), and bounded reading of upstream (reqwest) response bodies.

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;

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

/// Parse a JSON body (`Content-Type: application/json`), with 400 (syntax) or 422
/// (shape) messages naming the field.
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

/// Read an upstream response body, failing beyond `limit` bytes (never buffers more).
pub async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, String> {
    if resp.content_length().is_some_and(|l| l > limit as u64) {
        return Err(format!("response body larger than {limit} bytes"));
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) =
        resp.chunk().await.map_err(|e| format!("reading the response failed: {}", e.without_url()))?
    {
        if buf.len() + chunk.len() > limit {
            return Err(format!("response body larger than {limit} bytes"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", v.parse().unwrap());
        h
    }

    #[test]
    fn content_types() {
        assert!(check_content_type(&ct("application/sdp"), "application/sdp").is_ok());
        assert!(check_content_type(&ct("Application/SDP; charset=utf-8"), "application/sdp").is_ok());
        let e = check_content_type(&ct("text/plain"), "application/sdp").unwrap_err();
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(e.message, "Content-Type must be application/sdp, got `text/plain`");
        let e = check_content_type(&HeaderMap::new(), "application/sdp").unwrap_err();
        assert_eq!(e.message, "Content-Type must be application/sdp, got nothing");
    }

    #[test]
    fn names() {
        assert!(check_name("stream", "cam 1").is_ok());
        assert!(check_name("stream", &"x".repeat(255)).is_ok());
        for bad in ["", "a/b", "a\nb", "\u{7f}"] {
            let e = check_name("stream", bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad:?}");
            assert!(e.message.starts_with("stream name must be"), "{}", e.message);
        }
        let e = check_name("stream", &"é".repeat(43)).unwrap_err();
        assert!(e.message.starts_with("stream name is too long: 258 bytes"), "{}", e.message);
        assert!(check_name("stream", &"x".repeat(256)).is_err());
    }

    #[test]
    fn utf8_bodies() {
        assert_eq!(utf8(b"v=0").unwrap(), "v=0");
        assert_eq!(utf8(&[0xff]).unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_bodies() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let j = ct("application/json");
        assert_eq!(json_body::<T>(&j, br#"{"n":1}"#).unwrap().n, 1);
        let e = json_body::<T>(&j, b"{").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = json_body::<T>(&j, br#"{"n":"x"}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.message.contains("at `n`"), "{}", e.message);
        assert_eq!(json_body::<T>(&ct("text/plain"), b"{}").unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
