//! wishcast object storage for recordings.
//!
//! * [`StorageConfig`] — `[recorder.storage]` (Live777 keys: `fs`, `s3`, `oss`).
//! * [`ObjectPath`] — a validated storage-relative key; nothing outside the root is nameable.
//! * [`Store`] — opendal-backed read (streaming, ranges) / write / list / delete /
//!   presign / ping.
//! * [`Spool`] + [`Mover`] — segments and manifests are first made durable on local
//!   disk, then uploaded in order by a crash-safe mover (see `docs/storage.md`).
//! * [`content_type`], [`parse_range_header`] — HTTP helpers for serving objects.

mod config;
mod content_type;
mod error;
mod mover;
mod path;
mod queue;
mod range;
mod spool;
mod spool_file;
mod store;

pub use config::{StorageConfig, StorageKind};
pub use content_type::content_type;
pub use error::StorageError;
pub use mover::{Mover, MoverHandle, MoverOptions, MoverStats};
pub use path::{MAX_PATH_LEN, ObjectPath, PathError};
pub use queue::is_barrier;
pub use range::{ByteRange, content_range, parse_range_header};
pub use spool::{RecoveryReport, Spool};
pub use store::{ObjectBody, Presigned, Store};
