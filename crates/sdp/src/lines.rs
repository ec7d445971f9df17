//! Splitting input into `<type>=<value>` lines, with the shared line rules:
//! CRLF or LF endings, trailing whitespace and trailing empty lines tolerated;
//! over-long lines, blank lines in the middle, control characters and lines
//! not of the form `<letter>=<value>` refused.

use crate::error::{SdpError, snippet};

/// Longest accepted line, in bytes, not counting the line ending.
pub const MAX_LINE_LEN: usize = 4096;

/// The line types defined by RFC 8866.
const KNOWN_TYPES: &str = "vosiuepcbtrzkam";

/// One non-blank SDP line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based line number in the input.
    pub no: usize,
    /// The type letter, e.g. `'a'`.
    pub kind: char,
    /// Everything after `=`, trailing whitespace removed.
    pub value: &'a str,
    /// The whole line, trailing whitespace removed (for error messages).
    pub text: &'a str,
}

/// Splits `input` into lines. Returns an empty vector when the input holds no
/// line at all (only whitespace); callers turn that into their own message.
pub(crate) fn split_lines(input: &str) -> Result<Vec<Line<'_>>, SdpError> {
    if input.starts_with('\u{feff}') {
        return Err(SdpError::at(1, "input starts with a byte-order mark (U+FEFF); send plain UTF-8 without a BOM"));
    }
    let mut out = Vec::new();
    let mut pending_blank: Option<usize> = None;
    for (idx, raw) in input.split('\n').enumerate() {
        let no = idx + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.len() > MAX_LINE_LEN {
            return Err(SdpError::at(
                no,
                format!(
                    "line is {} bytes long, the limit is {MAX_LINE_LEN}; starts with `{}`",
                    raw.len(),
                    snippet(raw)
                ),
            ));
        }
        let text = raw.trim_end_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            pending_blank.get_or_insert(no);
            continue;
        }
        if let Some(blank) = pending_blank {
            return Err(SdpError::at(
                blank,
                "empty line inside the SDP; remove blank lines (only a trailing newline is allowed)",
            ));
        }
        out.push(parse_line(no, text)?);
    }
    Ok(out)
}

fn parse_line(no: usize, text: &str) -> Result<Line<'_>, SdpError> {
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\t') {
        let what = if c == '\r' {
            "a stray carriage return (\\r) inside the line; end lines with CRLF or LF".to_string()
        } else {
            format!("control character U+{:04X}; SDP lines are plain text", c as u32)
        };
        return Err(SdpError::at(no, format!("line contains {what}")));
    }
    let bytes = text.as_bytes();
    let (Some(&t), Some(&b'=')) = (bytes.first(), bytes.get(1)) else {
        let hint = if text.starts_with([' ', '\t']) { " (leading whitespace is not allowed)" } else { "" };
        return Err(SdpError::at(no, format!("expected `<letter>=<value>`, got `{}`{hint}", snippet(text))));
    };
    let kind = char::from(t);
    if !t.is_ascii_alphabetic() {
        return Err(SdpError::at(no, format!("expected `<letter>=<value>`, got `{}`", snippet(text))));
    }
    if !KNOWN_TYPES.contains(kind) {
        let hint = if t.is_ascii_uppercase() { " (line types are lower-case)" } else { "" };
        return Err(SdpError::at(
            no,
            format!(
                "unknown SDP line type `{kind}=`{hint}; SDP lines start with one of v= o= s= i= u= e= p= c= b= t= r= z= k= m= a="
            ),
        ));
    }
    // The first two bytes are ASCII, so byte 2 is a char boundary.
    let value = text.get(2..).unwrap_or("");
    Ok(Line { no, kind, value, text })
}

/// Splits `value` on single spaces; `None` if two spaces are adjacent or the
/// value starts with a space (an empty field).
pub(crate) fn fields(value: &str) -> Option<Vec<&str>> {
    let v: Vec<&str> = value.split(' ').collect();
    if v.iter().any(|f| f.is_empty()) { None } else { Some(v) }
}

/// Splits an `a=` value into attribute name and optional value (after `:`).
pub(crate) fn attribute(value: &str) -> (&str, Option<&str>) {
    match value.split_once(':') {
        Some((name, v)) => (name, Some(v)),
        None => (value, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(usize, char, String)> {
        split_lines(input).unwrap().into_iter().map(|l| (l.no, l.kind, l.value.to_string())).collect()
    }

    #[test]
    fn crlf_lf_mixed_and_trailing_whitespace() {
        let want = vec![(1, 'v', "0".to_string()), (2, 'a', "x:y".to_string())];
        assert_eq!(kinds("v=0\r\na=x:y\r\n"), want);
        assert_eq!(kinds("v=0\na=x:y\n"), want);
        assert_eq!(kinds("v=0\r\na=x:y"), want);
        assert_eq!(kinds("v=0 \t\r\na=x:y  \r\n\r\n\n  \n"), want);
    }

    #[test]
    fn whitespace_only_is_no_lines() {
        assert!(split_lines("").unwrap().is_empty());
        assert!(split_lines(" \r\n\t\n").unwrap().is_empty());
    }

    #[test]
    fn blank_line_in_middle() {
        let e = split_lines("v=0\r\n\r\no=x\r\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.message().contains("empty line"), "{e}");
        let e = split_lines("\nv=0\n").unwrap_err();
        assert_eq!(e.line(), Some(1));
    }

    #[test]
    fn long_line() {
        let ok = format!("a={}", "x".repeat(MAX_LINE_LEN - 2));
        assert!(split_lines(&ok).is_ok());
        let bad = format!("v=0\na={}", "x".repeat(MAX_LINE_LEN - 1));
        let e = split_lines(&bad).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.message().contains("4097 bytes"), "{e}");
        assert!(e.to_string().len() < 300);
    }

    #[test]
    fn bad_forms() {
        for (input, needle) in [
            ("hello", "expected `<letter>=<value>`"),
            ("=x", "expected `<letter>=<value>`"),
            ("a", "expected `<letter>=<value>`"),
            ("1=x", "expected `<letter>=<value>`"),
            ("é=x", "expected `<letter>=<value>`"),
            (" a=x", "leading whitespace"),
            ("x=1", "unknown SDP line type `x=`"),
            ("V=0", "lower-case"),
            ("a=x\0y", "U+0000"),
            ("a=x\ry", "carriage return"),
            ("a=x\u{85}y", "U+0085"),
        ] {
            let e = split_lines(input).unwrap_err();
            assert!(e.message().contains(needle), "{input:?}: {e}");
            assert_eq!(e.line(), Some(1));
        }
    }

    #[test]
    fn bom_rejected() {
        let e = split_lines("\u{feff}v=0").unwrap_err();
        assert!(e.message().contains("byte-order mark"));
    }

    #[test]
    fn empty_value_and_unicode_value() {
        assert_eq!(kinds("s=\ni=Ünïcødé ✓"), vec![(1, 's', String::new()), (2, 'i', "Ünïcødé ✓".into())]);
    }

    #[test]
    fn fields_and_attribute() {
        assert_eq!(fields("a b c"), Some(vec!["a", "b", "c"]));
        assert_eq!(fields("a  b"), None);
        assert_eq!(fields(" a"), None);
        assert_eq!(fields(""), None);
        assert_eq!(attribute("mid:0"), ("mid", Some("0")));
        assert_eq!(attribute("fmtp:96 a=b:c"), ("fmtp", Some("96 a=b:c")));
        assert_eq!(attribute("sendonly"), ("sendonly", None));
    }
}
