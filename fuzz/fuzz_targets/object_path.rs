//! `wishcast_storage::ObjectPath::parse` (object paths from HTTP requests, after
//! percent-decoding) and the spool-independent HTTP `Range` parser.
//!
//! Input: the path text (invalid UTF-8 replaced by U+FFFD). Accepted paths must keep
//! the invariants that keep objects inside the storage root; the same bytes are also
//! parsed as a `Range` header and resolved against a length taken from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_storage::{ByteRange, ObjectPath, content_type, parse_range_header};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match ObjectPath::parse(&text) {
        Ok(p) => {
            let s = p.as_str();
            assert_eq!(s, text.as_ref());
            assert!(!s.is_empty() && s.len() <= wishcast_storage::MAX_PATH_LEN);
            assert!(!s.starts_with('/') && !s.contains('\\') && !s.chars().any(char::is_control));
            assert!(!(s.len() >= 2 && s.as_bytes()[1] == b':' && s.as_bytes()[0].is_ascii_alphabetic()));
            for seg in s.split('/') {
                assert!(!seg.is_empty() && seg != "." && seg != "..", "bad segment in {s:?}");
            }
            // Joining a valid path with its own file name stays valid or is rejected (never panics).
            let _ = p.join(p.file_name());
            let _ = content_type(s, false);
        }
        Err(e) => assert!(e.to_string().len() < 200),
    }
    let total = data.iter().take(8).fold(0u64, |a, b| (a << 8) | u64::from(*b));
    if let Some(r) = parse_range_header(&text) {
        if let ByteRange::FromTo(a, b) = r {
            assert!(a <= b);
        }
        for len in [0, 1, total, u64::MAX] {
            if let Some(span) = r.resolve(len) {
                assert!(span.start < span.end && span.end <= len, "{r:?} on {len} gave {span:?}");
            }
        }
    }
});
