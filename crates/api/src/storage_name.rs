//! Stream names in storage paths: the one-to-one, reversible encoding every component
//! uses wherever a stream name becomes a path segment (recorder output, manifest paths,
//! playback and object authorization, export, retention), and the stream-name limit
//! that follows from it. Pure.
//!
//! Encoding: the bytes `A-Z a-z 0-9 _ -` stay, and so does `.` except as the first
//! byte; every other byte (of the UTF-8 name) becomes `~XX` with two uppercase hex
//! digits. `cam01` stays `cam01`, `cam 1` is `cam~201`, `cam_1` is `cam_1`, `camé1` is
//! `cam~C3~A91`, `.hidden` is `~2Ehidden`. `~` is unreserved in URLs (RFC 3986), so a
//! key never needs percent-encoding to be sent to S3/OSS or put in an HTTP path, and no
//! encoded segment is empty, `.`, `..` or starts with `.` (so never the fs backend's
//! reserved `.wishcast-tmp`). [`decode_segment`] accepts only canonical encodings, so
//! `decode(encode(s)) == s` for every name and `encode(decode(x)) == x` for every
//! segment it accepts: one segment, one stream.

/// Longest storage path segment, in bytes (the storage layer's limit: most file
/// systems allow 255).
pub const MAX_SEGMENT_LEN: usize = 255;

/// Longest stream name once encoded by [`encode_segment`]: the storage segment limit.
/// A name of plain `A-Z a-z 0-9 . _ -` may be 255 bytes; every other byte counts 3.
pub const MAX_ENCODED_NAME_LEN: usize = MAX_SEGMENT_LEN;

fn kept(b: u8, first: bool) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && !first)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `s` as a storage path segment (see the module docs).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if kept(b, i == 0) {
            out.push(b as char);
        } else {
            out.push('~');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Length of [`encode_segment`]`(s)` without building it.
pub fn encoded_len(s: &str) -> usize {
    s.as_bytes().iter().enumerate().map(|(i, &b)| if kept(b, i == 0) { 1 } else { 3 }).sum()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The stream name a segment encodes, or None if it is not exactly what
/// [`encode_segment`] produces for some name (lowercase hex, an escaped byte that would
/// have been kept, a bare `~`, `%`, a leading `.`, invalid UTF-8, empty...).
pub fn decode_segment(seg: &str) -> Option<String> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let first = out.is_empty();
        if b[i] == b'~' {
            let hi = hex_val(*b.get(i + 1)?)?;
            let lo = hex_val(*b.get(i + 2)?)?;
            let v = (hi << 4) | lo;
            if kept(v, first) {
                return None;
            }
            out.push(v);
            i += 3;
        } else if kept(b[i], first) {
            out.push(b[i]);
            i += 1;
        } else {
            return None;
        }
    }
    if out.is_empty() {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Why a stream name is refused, or None if every later use accepts it: 1 byte or more,
/// no `/` or control characters, and at most [`MAX_ENCODED_NAME_LEN`] bytes once encoded
/// (so it fits a storage path segment, and with it a DB row, a metrics label and a
/// `Location` header).
pub fn stream_name_problem(v: &str) -> Option<String> {
    if v.is_empty() || v.chars().any(|c| c.is_control() || c == '/') {
        return Some("stream name must be non-empty, without `/` or control characters".into());
    }
    let n = encoded_len(v);
    if n > MAX_ENCODED_NAME_LEN {
        return Some(format!(
            "stream name is too long: {n} bytes as a storage path segment, the limit is {MAX_ENCODED_NAME_LEN} \
             (each byte other than A-Z a-z 0-9 . _ - counts 3)"
        ));
    }
    None
}

/// The lossy rule of the first storage layout (before names were encoded): keeps
/// `[A-Za-z0-9._~-]`, replaces anything else with `_`, and never returns an empty
/// string, `.` or `..`. `cam 1`, `cam#1` and `camé1` all became `cam_1`. Only used to
/// recognise old folders (see docs/recording.md, "Old layout").
pub fn legacy_path_component(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-') { c } else { '_' })
        .collect();
    if out.chars().all(|c| c == '.') {
        out = format!("_{}", out.replace('.', "_"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert_eq!(encode_segment("cam01"), "cam01");
        assert_eq!(encode_segment("cam 1"), "cam~201");
        assert_eq!(encode_segment("cam_1"), "cam_1");
        assert_eq!(encode_segment("cam#1"), "cam~231");
        assert_eq!(encode_segment("camé1"), "cam~C3~A91");
        assert_eq!(encode_segment("cam~1"), "cam~7E1");
        assert_eq!(encode_segment("cam%1"), "cam~251");
        assert_eq!(encode_segment("."), "~2E");
        assert_eq!(encode_segment(".."), "~2E.");
        assert_eq!(encode_segment(".wishcast-tmp"), "~2Ewishcast-tmp");
        assert_eq!(encode_segment("a.b"), "a.b");
        assert_eq!(encode_segment("C:"), "C~3A");
        assert_eq!(encode_segment("a\\b"), "a~5Cb");
        assert_eq!(decode_segment("cam~201").as_deref(), Some("cam 1"));
        assert_eq!(decode_segment("cam_1").as_deref(), Some("cam_1"));
        assert_eq!(decode_segment("~2E.").as_deref(), Some(".."));
    }

    #[test]
    fn non_canonical_segments_are_refused() {
        for bad in
            ["", "cam~2", "cam~", "cam~zz", "cam~2e1", "~41", "cam~5F1", ".x", "..", "a b", "a%20b", "~FF", "~C3"]
        {
            assert_eq!(decode_segment(bad), None, "{bad:?}");
        }
    }

    /// Every name of up to 3 bytes over an alphabet that covers every class (kept,
    /// kept-but-not-first, escaped ASCII, `~`, multi-byte UTF-8) round-trips, and
    /// distinct names give distinct segments.
    #[test]
    fn round_trip_exhaustive() {
        let alphabet = ["a", "Z", "0", "_", "-", ".", "~", " ", "#", "%", "/", "\\", "é", "€", "😀", "A"];
        let mut names = vec![String::new()];
        for _ in 0..3 {
            let mut next = Vec::new();
            for n in &names {
                for c in alphabet {
                    next.push(format!("{n}{c}"));
                }
            }
            names.extend(next);
            names.sort();
            names.dedup();
        }
        let mut seen = std::collections::HashMap::new();
        for n in names.iter().filter(|n| !n.is_empty()) {
            let e = encode_segment(n);
            assert_eq!(e.len(), encoded_len(n));
            assert!(!e.is_empty() && !e.starts_with('.') && e != "..");
            assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-~".contains(&b)), "{e}");
            assert_eq!(decode_segment(&e).as_deref(), Some(n.as_str()), "{n:?} -> {e}");
            assert!(seen.insert(e.clone(), n.clone()).is_none(), "{n:?} and {:?} collide", seen[&e]);
        }
        assert!(seen.len() > 4000);
    }

    /// Every segment of up to 4 bytes over the encoded alphabet that decodes, encodes back
    /// to itself.
    #[test]
    fn decode_is_canonical() {
        let alphabet = b"a.-_~2E7F0C3A9";
        let mut segs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut all = Vec::new();
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &segs {
                for &c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            all.extend(next.iter().cloned());
            segs = next;
        }
        let mut accepted = 0;
        for s in all {
            let s = String::from_utf8(s).unwrap();
            if let Some(name) = decode_segment(&s) {
                accepted += 1;
                assert_eq!(encode_segment(&name), s);
            }
        }
        assert!(accepted > 1000, "{accepted}");
    }

    #[test]
    fn name_limits() {
        assert_eq!(stream_name_problem("cam01"), None);
        assert_eq!(stream_name_problem(&"a".repeat(255)), None);
        assert!(stream_name_problem(&"a".repeat(256)).is_some());
        assert_eq!(stream_name_problem(&"é".repeat(42)), None); // 42 * 2 bytes * 3 = 252
        assert!(stream_name_problem(&"é".repeat(43)).is_some());
        assert!(stream_name_problem(&" ".repeat(86)).is_some());
        assert!(stream_name_problem("").is_some());
        assert!(stream_name_problem("a/b").is_some());
        assert!(stream_name_problem("a\nb").is_some());
        // Whatever passes fits one storage segment.
        let long = format!("{}é", "b".repeat(249));
        assert_eq!(stream_name_problem(&long), None);
        assert!(encode_segment(&long).len() <= MAX_SEGMENT_LEN);
    }

    #[test]
    fn legacy_rule() {
        assert_eq!(legacy_path_component("cam 1"), "cam_1");
        assert_eq!(legacy_path_component("cam#1"), "cam_1");
        assert_eq!(legacy_path_component("camé1"), "cam_1");
        assert_eq!(legacy_path_component(".."), "___");
        assert_eq!(legacy_path_component(""), "_");
    }
}
