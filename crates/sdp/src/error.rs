//! The one error type of this crate: what was wrong, where, and how to fix it.

use std::fmt;

/// Why an SDP offer or trickle-ice-sdpfrag was refused.
///
/// The message is meant to be returned to the client as-is (e.g. in a 400 or
/// 422 body): it names the offending line and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpError {
    line: Option<usize>,
    message: String,
}

impl SdpError {
    /// An error tied to a 1-based line number.
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        SdpError { line: Some(line), message: message.into() }
    }

    /// An error about the document as a whole.
    pub(crate) fn whole(message: impl Into<String>) -> Self {
        SdpError { line: None, message: message.into() }
    }

    /// The 1-based line the error is about, if it is about one line.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The message without the `line N: ` prefix.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(n) => write!(f, "line {n}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SdpError {}

/// Longest excerpt of client input quoted back in an error message, in chars.
const SNIPPET_CHARS: usize = 80;

/// A short, safe excerpt of `s` for quoting in an error message.
pub(crate) fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(SNIPPET_CHARS).collect();
    if s.chars().nth(SNIPPET_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_line() {
        assert_eq!(SdpError::at(3, "bad").to_string(), "line 3: bad");
        assert_eq!(SdpError::whole("bad").to_string(), "bad");
        assert_eq!(SdpError::at(3, "bad").line(), Some(3));
        assert_eq!(SdpError::at(3, "bad").message(), "bad");
    }

    #[test]
    fn snippet_truncates_on_char_boundaries() {
        let long = "é".repeat(200);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet("short"), "short");
    }

    #[test]
    fn is_std_error() {
        fn takes(_: &dyn std::error::Error) {}
        takes(&SdpError::whole("x"));
    }
}
