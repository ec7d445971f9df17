//! On-disk format of one spool entry (sans-IO). A committed entry is the file
//! `<seq as 16 hex digits>.obj`; while being written it is `<seq>.tmp` and only the
//! rename makes it visible, so a crash leaves either nothing or a whole entry. The
//! file holds a small header and then the object's bytes:
//!
//! ```text
//! "WCSPOOL1"  path_len: u16 LE  data_len: u64 LE  path (UTF-8)  data
//! ```
//!
//! The sequence number in the name is the queue order; the path lives in the header
//! because object paths (up to 1024 bytes) do not fit in a file name.

use crate::path::{MAX_PATH_LEN, ObjectPath};

pub(crate) const MAGIC: &[u8; 8] = b"WCSPOOL1";
/// Bytes before the path: magic, path length, data length.
pub(crate) const FIXED_HEADER: usize = 8 + 2 + 8;
/// Largest header; reading this many bytes always covers the whole header.
pub(crate) const MAX_HEADER: usize = FIXED_HEADER + MAX_PATH_LEN;

/// What a spool directory entry's name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryName {
    /// `<seq>.obj`: a committed entry.
    Committed(u64),
    /// `<seq>.tmp`: an unfinished write (discarded on open).
    Temp(u64),
}

pub(crate) fn committed_name(seq: u64) -> String {
    format!("{seq:016x}.obj")
}

pub(crate) fn temp_name(seq: u64) -> String {
    format!("{seq:016x}.tmp")
}

pub(crate) fn parse_name(name: &str) -> Option<EntryName> {
    let (stem, ext) = name.split_once('.')?;
    if stem.len() != 16 || !stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seq = u64::from_str_radix(stem, 16).ok()?;
    match ext {
        "obj" => Some(EntryName::Committed(seq)),
        "tmp" => Some(EntryName::Temp(seq)),
        _ => None,
    }
}

/// Header bytes for an entry holding `data_len` bytes of `path`.
pub(crate) fn encode_header(path: &ObjectPath, data_len: u64) -> Vec<u8> {
    let p = path.as_str().as_bytes();
    let mut h = Vec::with_capacity(FIXED_HEADER + p.len());
    h.extend_from_slice(MAGIC);
    // ObjectPath is at most MAX_PATH_LEN (1024) bytes, so it fits in u16.
    h.extend_from_slice(&(p.len() as u16).to_le_bytes());
    h.extend_from_slice(&data_len.to_le_bytes());
    h.extend_from_slice(p);
    h
}

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub path: ObjectPath,
    pub data_len: u64,
    /// Offset of the data in the file.
    pub header_len: usize,
}

/// Decode the header from the first bytes of a file (`buf` may hold more) and check
/// that a file of `file_len` bytes is complete.
pub(crate) fn decode_header(buf: &[u8], file_len: u64) -> Result<Header, String> {
    if buf.len() < FIXED_HEADER || &buf[..8] != MAGIC {
        return Err("not a spool entry (bad magic)".into());
    }
    let path_len = usize::from(u16::from_le_bytes([buf[8], buf[9]]));
    let mut dl = [0u8; 8];
    dl.copy_from_slice(&buf[10..18]);
    let data_len = u64::from_le_bytes(dl);
    let header_len = FIXED_HEADER + path_len;
    let raw = buf.get(FIXED_HEADER..header_len).ok_or("header truncated")?;
    let s = std::str::from_utf8(raw).map_err(|_| "path is not UTF-8".to_string())?;
    let path = ObjectPath::parse(s).map_err(|e| format!("bad path in header: {e}"))?;
    let want = (header_len as u64).checked_add(data_len).ok_or("length overflow")?;
    if want != file_len {
        return Err(format!("file is {file_len} bytes, header says {want}"));
    }
    Ok(Header { path, data_len, header_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> ObjectPath {
        ObjectPath::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(committed_name(26), "000000000000001a.obj");
        assert_eq!(parse_name("000000000000001a.obj"), Some(EntryName::Committed(26)));
        assert_eq!(parse_name(&temp_name(u64::MAX)), Some(EntryName::Temp(u64::MAX)));
        for bad in ["1a.obj", "000000000000001a.bad", "000000000000001g.obj", ".lock", "000000000000001a", "x"] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn header_round_trip_and_length_check() {
        let p = path("cam1/2026/11/21/manifest.mpd");
        let data = b"<MPD/>";
        let mut file = encode_header(&p, data.len() as u64);
        let hl = file.len();
        file.extend_from_slice(data);
        let h = decode_header(&file, file.len() as u64);
        assert_eq!(h, Ok(Header { path: p, data_len: 6, header_len: hl }));
        assert_eq!(&file[hl..], data);
        // A truncated file is detected.
        assert!(decode_header(&file, file.len() as u64 - 1).is_err());
        assert!(decode_header(&file[..hl - 1], file.len() as u64).is_err());
    }

    #[test]
    fn rejects_garbage_headers() {
        let p = path("a/b");
        let good = encode_header(&p, 0);
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        let mut bad_path = good.clone();
        let n = bad_path.len();
        bad_path[n - 1] = b'/'; // "a//"
        let mut traversal = encode_header(&path("a/bc"), 0);
        let n = traversal.len();
        traversal[n - 4..].copy_from_slice(b"../x");
        let mut overflow = good.clone();
        overflow[10..18].copy_from_slice(&u64::MAX.to_le_bytes());
        for (name, buf) in [("magic", bad_magic), ("path", bad_path), ("traversal", traversal), ("overflow", overflow)]
        {
            assert!(decode_header(&buf, buf.len() as u64).is_err(), "{name}");
        }
        assert!(decode_header(b"", 0).is_err());
        assert!(decode_header(b"WCSPOOL1", 8).is_err());
    }
}
