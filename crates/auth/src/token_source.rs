//! Where a bearer token comes from: the `Authorization` header or `?token=`.

use wishcast_api::paths::decode_strict;

/// Extract the token from an `Authorization` header value of the form
/// `Bearer <token>` (scheme case-insensitive, surrounding whitespace trimmed).
/// Returns `None` for other schemes, an empty token, or a token containing
/// whitespace.
pub fn bearer_token(authorization_header: &str) -> Option<&str> {
    let h = authorization_header.trim();
    let (scheme, rest) = h.split_once(|c: char| c.is_ascii_whitespace())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    if token.is_empty() || token.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    Some(token)
}

/// The first `token=` parameter of a URL query string (with or without the
/// leading `?`), percent-decoded. `+` is kept literally (not turned into a
/// space). Returns `None` if absent, empty, badly percent-encoded or not UTF-8.
pub fn query_token(query: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode_strict(key).as_deref() != Some("token") {
            continue;
        }
        return decode_strict(value).filter(|v| !v.is_empty());
    }
    None
}

/// Token for a request: the `Authorization` header wins; the query string is
/// consulted only when the header is absent (a present but malformed header
/// is not silently replaced by the query token).
pub fn request_token(authorization_header: Option<&str>, query: Option<&str>) -> Option<String> {
    match authorization_header {
        Some(h) => bearer_token(h).map(str::to_owned),
        None => query.and_then(query_token),
    }
}
