//! Where a bearer token comes from: the `Authorization` header or `?token=`.

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
        if percent_decode(key).as_deref() != Some("token") {
            continue;
        }
        return percent_decode(value).filter(|v| !v.is_empty());
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

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
