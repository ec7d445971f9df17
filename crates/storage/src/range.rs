//! HTTP `Range: bytes=...` for object reads (RFC 9110 §14). Parsing is separate from
//! resolving against the object's length: [`parse_range_header`] turns the header
//! into a [`ByteRange`] (or `None` when the header must be ignored: bad syntax, other
//! units, several ranges), and [`ByteRange::resolve`] gives the byte span, or `None`
//! when the range is unsatisfiable (answer 416 with `Content-Range: bytes */len`).

use std::ops::Range;

/// One byte range as written in the header (positions inclusive, like the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`
    FromTo(u64, u64),
    /// `bytes=first-`
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

/// Parse a `Range` header value. `None` means "ignore it and send the whole object"
/// (what RFC 9110 asks for invalid or unsupported range headers).
pub fn parse_range_header(value: &str) -> Option<ByteRange> {
    let spec = value.trim();
    let (unit, set) = spec.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let set = set.trim();
    if set.contains(',') {
        return None; // multipart/byteranges is not supported
    }
    let (a, b) = set.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => None,
        (true, false) => num(b).map(ByteRange::Suffix),
        (false, true) => num(a).map(ByteRange::From),
        (false, false) => {
            let (first, last) = (num(a)?, num(b)?);
            (first <= last).then_some(ByteRange::FromTo(first, last))
        }
    }
}

impl ByteRange {
    /// The half-open byte span of an object of `total` bytes, or `None` if unsatisfiable.
    pub fn resolve(self, total: u64) -> Option<Range<u64>> {
        match self {
            ByteRange::FromTo(first, last) if first < total => Some(first..last.saturating_add(1).min(total)),
            ByteRange::From(first) if first < total => Some(first..total),
            ByteRange::Suffix(n) if n > 0 && total > 0 => Some(total.saturating_sub(n)..total),
            _ => None,
        }
    }
}

/// `Content-Range` value for a partial answer: `bytes first-last/total`.
pub fn content_range(range: &Range<u64>, total: u64) -> String {
    format!("bytes {}-{}/{}", range.start, range.end.saturating_sub(1), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(parse_range_header("bytes=0-99"), Some(ByteRange::FromTo(0, 99)));
        assert_eq!(parse_range_header("bytes=100-"), Some(ByteRange::From(100)));
        assert_eq!(parse_range_header("bytes=-500"), Some(ByteRange::Suffix(500)));
        assert_eq!(parse_range_header(" Bytes = 5 - 6 "), Some(ByteRange::FromTo(5, 6)));
    }

    #[test]
    fn ignores_malformed_or_unsupported() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-4",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=99999999999999999999999-",
            "bytes=0x10-",
            "bytes=--1",
            "bytes=1-2-3",
        ] {
            assert_eq!(parse_range_header(h), None, "{h:?}");
        }
    }

    #[test]
    fn resolves_against_length() {
        assert_eq!(ByteRange::FromTo(0, 99).resolve(1000), Some(0..100));
        assert_eq!(ByteRange::FromTo(900, 5000).resolve(1000), Some(900..1000));
        assert_eq!(ByteRange::FromTo(1000, 1001).resolve(1000), None);
        assert_eq!(ByteRange::FromTo(0, u64::MAX).resolve(10), Some(0..10));
        assert_eq!(ByteRange::From(999).resolve(1000), Some(999..1000));
        assert_eq!(ByteRange::From(1000).resolve(1000), None);
        assert_eq!(ByteRange::Suffix(10).resolve(1000), Some(990..1000));
        assert_eq!(ByteRange::Suffix(5000).resolve(1000), Some(0..1000));
        assert_eq!(ByteRange::Suffix(0).resolve(1000), None);
        assert_eq!(ByteRange::Suffix(5).resolve(0), None);
        assert_eq!(ByteRange::From(0).resolve(0), None);
        assert_eq!(content_range(&(0..100), 1000), "bytes 0-99/1000");
    }
}
