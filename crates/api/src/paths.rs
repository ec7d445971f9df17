//! Path builders for the node/manager HTTP routes. Names are percent-encoded so a
//! stream called `a b` yields a valid URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters gets encoded.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Percent-decode a path segment or query part, leniently: `+` stays `+`, an invalid
/// escape (`%zz`, a trailing `%4`) is kept literally and invalid UTF-8 becomes U+FFFD.
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Percent-decode strictly, for credentials: `None` on an invalid escape or invalid UTF-8.
pub fn decode_strict(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let escapes_ok = b.iter().enumerate().filter(|(_, c)| **c == b'%').all(|(i, _)| {
        b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    });
    if !escapes_ok {
        return None;
    }
    percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
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
        assert_eq!(super::encode("é+%"), "%C3%A9%2B%25");
    }

    #[test]
    fn decoding() {
        use super::{decode, decode_strict, encode};
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("a+b"), "a+b");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{fffd}");
        for s in ["cam 1", "a/b?c#d", "é€", "%41"] {
            assert_eq!(decode(&encode(s)), s);
            assert_eq!(decode_strict(&encode(s)).as_deref(), Some(s));
        }
        assert_eq!(decode_strict("x%2Fy%3d").as_deref(), Some("x/y="));
        for bad in ["%", "%4", "a%zz", "%FF", "%%41"] {
            assert_eq!(decode_strict(bad), None, "{bad}");
        }
    }
}
