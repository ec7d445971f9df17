//! `StorageError`: every failure of the store, spool and mover, with a message that
//! says what failed on which object. Backend errors keep the opendal error as text.

use std::fmt;

use crate::path::PathError;

#[derive(Debug)]
pub enum StorageError {
    /// The configuration cannot build a backend (message names the key).
    Config(String),
    /// An object path was rejected.
    Path(PathError),
    /// The object does not exist.
    NotFound(String),
    /// A read range starts at or after the end of the object.
    RangeNotSatisfiable { path: String, total: u64 },
    /// The backend (fs, S3, OSS) failed; `temporary` errors are worth retrying.
    Backend { op: &'static str, path: String, message: String, temporary: bool },
    /// Local disk I/O (spool) failed.
    Io { op: &'static str, path: String, source: std::io::Error },
    /// The spool directory is locked by another process.
    Locked(String),
    /// A spool file is damaged (bad header or length).
    Corrupt(String),
    /// The operation timed out.
    Timeout { op: &'static str, path: String },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Config(m) => write!(f, "{m}"),
            StorageError::Path(e) => write!(f, "{e}"),
            StorageError::NotFound(p) => write!(f, "object `{p}` not found"),
            StorageError::RangeNotSatisfiable { path, total } => {
                write!(f, "range not satisfiable: object `{path}` has {total} bytes")
            }
            StorageError::Backend { op, path, message, .. } => write!(f, "storage {op} `{path}` failed: {message}"),
            StorageError::Io { op, path, source } => write!(f, "{op} `{path}`: {source}"),
            StorageError::Locked(dir) => {
                write!(f, "spool directory `{dir}` is in use by another process (its `.lock` is held)")
            }
            StorageError::Corrupt(m) => write!(f, "damaged spool file: {m}"),
            StorageError::Timeout { op, path } => write!(f, "storage {op} `{path}` timed out"),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Path(e) => Some(e),
            StorageError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<PathError> for StorageError {
    fn from(e: PathError) -> Self {
        StorageError::Path(e)
    }
}

impl StorageError {
    pub(crate) fn backend(op: &'static str, path: &str, e: opendal::Error) -> StorageError {
        if e.kind() == opendal::ErrorKind::NotFound {
            return StorageError::NotFound(path.to_string());
        }
        StorageError::Backend { op, path: path.to_string(), message: e.to_string(), temporary: e.is_temporary() }
    }

    pub(crate) fn io(op: &'static str, path: impl fmt::Display, source: std::io::Error) -> StorageError {
        StorageError::Io { op, path: path.to_string(), source }
    }

    /// True for "the object is not there".
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound(_))
    }
}
