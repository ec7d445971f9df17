//! Path builders for the node/manager HTTP routes. Names are percent-encoded so a
//! stream called `a b` yields a valid URL.

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub fn whip(stream: &str) -> String {
    format!("/whip/{}", encode(stream))
}
pub fn whep(stream: &str) -> String {
    format!("/whep/{}", encode(stream))
}
pub fn session(stream: &str, session: &str) -> String {
    format!("/session/{}/{}", encode(stream), encode(session))
}
pub fn session_layer(stream: &str, session: &str) -> String {
    format!("/session/{}/{}/layer", encode(stream), encode(session))
}
pub fn streams() -> &'static str {
    "/api/streams/"
}
pub fn stream(stream: &str) -> String {
    format!("/api/streams/{}", encode(stream))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_encoded() {
        assert_eq!(super::session("a b/c", "x"), "/session/a%20b%2Fc/x");
        assert_eq!(super::whip("cam-1_x.y~"), "/whip/cam-1_x.y~");
    }
}
