//! `ObjectPath`: a validated storage-relative object key such as
//! `cam1/2026/11/21/manifest.mpd`. Every path that reaches a backend or the spool goes
//! through [`ObjectPath::parse`], so no request can name something outside the
//! storage root: absolute paths, `.`/`..` segments, backslashes, empty segments,
//! control characters and over-long keys are all rejected. Callers pass the path
//! *after* percent-decoding, so `%2e%2e` arrives here as `..` and is rejected too.

use std::fmt;

/// Longest accepted key, in bytes (S3 allows 1024).
pub const MAX_PATH_LEN: usize = 1024;

/// Longest accepted segment, in bytes (most file systems allow 255).
pub const MAX_SEGMENT_LEN: usize = 255;

/// First segment reserved for the fs backend's temporary files; no object may live there.
pub(crate) const RESERVED_TMP_DIR: &str = ".wishcast-tmp";

/// A storage-relative object key that is safe to hand to any backend.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectPath(String);

/// Why a path was rejected. `Display` says what is wrong and what a valid path looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    Empty,
    TooLong(usize),
    Absolute,
    Backslash,
    ControlChar,
    EmptySegment,
    DotSegment,
    SegmentTooLong(usize),
    Reserved,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HINT: &str = "use a relative path like `cam1/2026/11/21/manifest.mpd`";
        match self {
            PathError::Empty => write!(f, "object path is empty; {HINT}"),
            PathError::TooLong(n) => write!(f, "object path is {n} bytes long; the limit is {MAX_PATH_LEN}"),
            PathError::Absolute => write!(f, "object path is absolute; {HINT}"),
            PathError::Backslash => write!(f, "object path contains a backslash; separate segments with `/`"),
            PathError::ControlChar => write!(f, "object path contains a NUL or control character"),
            PathError::EmptySegment => write!(f, "object path has an empty segment (`//`, or a leading/trailing `/`)"),
            PathError::DotSegment => write!(f, "object path has a `.` or `..` segment; {HINT}"),
            PathError::SegmentTooLong(n) => {
                write!(f, "object path has a {n}-byte segment; the limit is {MAX_SEGMENT_LEN}")
            }
            PathError::Reserved => write!(f, "object path starts with the reserved folder `{RESERVED_TMP_DIR}`"),
        }
    }
}

impl std::error::Error for PathError {}

impl ObjectPath {
    /// Validate a decoded storage-relative path.
    pub fn parse(s: &str) -> Result<ObjectPath, PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        if s.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong(s.len()));
        }
        if s.contains('\\') {
            return Err(PathError::Backslash);
        }
        if s.chars().any(char::is_control) {
            return Err(PathError::ControlChar);
        }
        if s.starts_with('/') || is_windows_drive(s) {
            return Err(PathError::Absolute);
        }
        for (i, seg) in s.split('/').enumerate() {
            match seg {
                "" => return Err(PathError::EmptySegment),
                "." | ".." => return Err(PathError::DotSegment),
                RESERVED_TMP_DIR if i == 0 => return Err(PathError::Reserved),
                _ if seg.len() > MAX_SEGMENT_LEN => return Err(PathError::SegmentTooLong(seg.len())),
                _ => {}
            }
        }
        Ok(ObjectPath(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment (file name).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// `self` followed by `/` and `rest`, validated.
    pub fn join(&self, rest: &str) -> Result<ObjectPath, PathError> {
        ObjectPath::parse(&format!("{}/{rest}", self.0))
    }
}

/// `C:` / `c:\...` / `C:/...`: a drive-letter prefix is absolute on Windows.
fn is_windows_drive(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectPath({:?})", self.0)
    }
}

impl AsRef<str> for ObjectPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ObjectPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal_and_malformed() {
        let long = "a/".repeat(600) + "b";
        let long_seg = "x".repeat(256);
        let cases: &[(&str, PathError)] = &[
            ("", PathError::Empty),
            ("../x", PathError::DotSegment),
            ("a/../../b", PathError::DotSegment),
            ("a/..", PathError::DotSegment),
            ("./a", PathError::DotSegment),
            ("a/./b", PathError::DotSegment),
            ("..", PathError::DotSegment),
            ("/etc/passwd", PathError::Absolute),
            ("/", PathError::Absolute),
            ("C:\\Windows", PathError::Backslash),
            ("C:/Windows", PathError::Absolute),
            ("c:", PathError::Absolute),
            ("a\\..\\b", PathError::Backslash),
            ("a/b\\c", PathError::Backslash),
            ("a\0b", PathError::ControlChar),
            ("a/b\n", PathError::ControlChar),
            ("a\x7f", PathError::ControlChar),
            ("a//b", PathError::EmptySegment),
            ("a/", PathError::EmptySegment),
            (&long, PathError::TooLong(long.len())),
            (&long_seg, PathError::SegmentTooLong(256)),
            (".wishcast-tmp/x", PathError::Reserved),
        ];
        for (input, want) in cases {
            assert_eq!(ObjectPath::parse(input).as_ref().err(), Some(want), "input {input:?}");
        }
        // `%2e%2e` decoded by the caller becomes `..`, which is rejected; the literal
        // (undecoded) text is a harmless name.
        let decoded = "a/%2e%2e/b".replace("%2e", ".");
        assert_eq!(ObjectPath::parse(&decoded).err(), Some(PathError::DotSegment));
    }

    #[test]
    fn accepts_good_paths() {
        for p in [
            "cam1/2026/11/21/manifest.mpd",
            "cam1/2026/11/21/0b1c/v_0001.m4s",
            "a",
            "a..b/c...d",
            "x/.hidden",
            "a/.wishcast-tmp",
            "名前/ファイル.mp4",
            "with space/and%2e%2e literal",
        ] {
            let op = ObjectPath::parse(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert_eq!(op.as_str(), p);
        }
        let p = ObjectPath::parse(&"x".repeat(255)).map(|p| p.as_str().len());
        assert_eq!(p, Ok(255));
        let p = ObjectPath::parse("cam1/2026").and_then(|p| p.join("v_0001.m4s"));
        assert_eq!(p.as_ref().map(ObjectPath::as_str), Ok("cam1/2026/v_0001.m4s"));
        assert_eq!(p.map(|p| p.file_name().to_string()), Ok("v_0001.m4s".to_string()));
    }

    #[test]
    fn errors_explain_the_fix() {
        let e = ObjectPath::parse("../x").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("`..`") && e.contains("relative path like"), "{e}");
    }
}
