//! `Store`: the configured object storage (opendal `fs`, `s3` or `oss`) behind one small
//! API keyed by [`ObjectPath`]. Reads stream (with an optional byte range) so large
//! segments are never held in memory; presigned URLs exist on s3/oss only (fs answers
//! `None`, and callers proxy instead). On fs, writes go to a temporary file inside
//! `<root>/.wishcast-tmp`, are fsynced and renamed into place, and the parent
//! directory is fsynced, so a finished write survives a crash.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use opendal::Operator;

use crate::config::{StorageConfig, StorageKind};
use crate::content_type::content_type;
use crate::error::StorageError;
use crate::path::{ObjectPath, RESERVED_TMP_DIR};
use crate::queue::is_barrier;
use crate::range::ByteRange;

/// Handle on the configured storage. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    op: Operator,
    kind: StorageKind,
    /// fs backend: the root directory (for directory fsync and cleanup).
    fs_root: Option<Arc<PathBuf>>,
}

/// A presigned HTTP request: send `method` to `url` with exactly these `headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// A streaming object read: `range` of an object of `total_len` bytes.
pub struct ObjectBody {
    /// Length of the whole object.
    pub total_len: u64,
    /// The bytes the stream yields (`0..total_len` for a whole-object read).
    pub range: Range<u64>,
    /// True when a range was asked for (answer `206` with [`ObjectBody::content_range`]).
    pub partial: bool,
    pub stream: BoxStream<'static, io::Result<Bytes>>,
}

impl ObjectBody {
    /// Number of bytes the stream yields (`Content-Length`).
    pub fn content_length(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// `Content-Range` value for a partial read, `None` for a whole-object read.
    pub fn content_range(&self) -> Option<String> {
        self.partial.then(|| crate::range::content_range(&self.range, self.total_len))
    }

    /// Collect the stream (tests, small objects).
    pub async fn into_vec(mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.content_length()).unwrap_or(0));
        while let Some(chunk) = self.stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

impl std::fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBody")
            .field("total_len", &self.total_len)
            .field("range", &self.range)
            .field("partial", &self.partial)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("type", &self.kind).field("root", &self.op.info().root()).finish()
    }
}

impl Store {
    /// Build the backend named by `cfg` (validated first). Creates the fs root if missing.
    pub fn new(cfg: &StorageConfig) -> Result<Store, StorageError> {
        cfg.validate("recorder.storage").map_err(StorageError::Config)?;
        opendal::install_default();
        let built = |e: opendal::Error| {
            StorageError::Config(format!("recorder.storage (type = \"{}\"): {e}", cfg.kind.as_str()))
        };
        let root = cfg.root_or_default();
        let (op, fs_root) = match cfg.kind {
            StorageKind::Fs => {
                let dir = PathBuf::from(root);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StorageError::Config(format!("config key `recorder.storage.root`: cannot create `{root}`: {e}"))
                })?;
                let dir = dir
                    .canonicalize()
                    .map_err(|e| StorageError::Config(format!("config key `recorder.storage.root`: `{root}`: {e}")))?;
                let dir_s = dir.to_string_lossy().into_owned();
                remove_stale_tmp(&dir.join(RESERVED_TMP_DIR), STALE_TMP_AGE);
                let tmp = dir.join(RESERVED_TMP_DIR).to_string_lossy().into_owned();
                let b = opendal::services::Fs::default().root(&dir_s).atomic_write_dir(&tmp);
                (Operator::new(b).map_err(built)?, Some(Arc::new(dir)))
            }
            StorageKind::S3 => {
                let mut b = opendal::services::S3::default().bucket(&cfg.bucket).root(root);
                if !cfg.endpoint.is_empty() {
                    b = b.endpoint(&cfg.endpoint);
                }
                let region = match (cfg.region.as_str(), cfg.endpoint.is_empty()) {
                    ("", false) => "us-east-1",
                    (r, _) => r,
                };
                b = b.region(region);
                if !cfg.access_key_id.is_empty() {
                    b = b.access_key_id(&cfg.access_key_id).secret_access_key(&cfg.secret_access_key);
                }
                if !cfg.session_token.is_empty() {
                    b = b.session_token(&cfg.session_token);
                }
                if cfg.disable_config_load {
                    b = b.disable_config_load().disable_ec2_metadata();
                }
                if cfg.enable_virtual_host_style {
                    b = b.enable_virtual_host_style();
                }
                (Operator::new(b).map_err(built)?, None)
            }
            StorageKind::Oss => {
                let mut b = opendal::services::Oss::default().bucket(&cfg.bucket).root(root).endpoint(&cfg.endpoint);
                if !cfg.access_key_id.is_empty() {
                    b = b.access_key_id(&cfg.access_key_id).access_key_secret(&cfg.access_key_secret);
                }
                (Operator::new(b).map_err(built)?, None)
            }
        };
        Ok(Store { op, kind: cfg.kind, fs_root })
    }

    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    /// Whether [`Store::presign_read`] gives URLs (s3/oss) or `None` (fs).
    pub fn can_presign(&self) -> bool {
        self.op.info().capability().presign_read
    }

    /// Write (create or replace) a whole object.
    pub async fn write(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<(), StorageError> {
        let p = path.as_str();
        let mut w = self.op.write_with(p, bytes);
        if self.op.info().capability().write_with_content_type {
            w = w.content_type(content_type(p, false));
        }
        w.await.map_err(|e| StorageError::backend("write", p, e))?;
        if let Some(root) = &self.fs_root {
            let file = root.join(p);
            tokio::task::spawn_blocking(move || sync_parent(&file))
                .await
                .map_err(|e| StorageError::io("fsync dir of", p, io::Error::other(e)))?
                .map_err(|e| StorageError::io("fsync dir of", p, e))?;
        }
        Ok(())
    }

    /// Length of the object, `None` if it does not exist.
    pub async fn stat(&self, path: &ObjectPath) -> Result<Option<u64>, StorageError> {
        match self.op.stat(path.as_str()).await {
            Ok(m) if m.is_file() => Ok(Some(m.content_length())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::backend("stat", path.as_str(), e)),
        }
    }

    /// Stream the object, or `range` of it (half-open; the end is clamped to the
    /// object's length). A missing object is [`StorageError::NotFound`]; a range that
    /// starts at or after the end is [`StorageError::RangeNotSatisfiable`]. Manifests
    /// (`.mpd`, `.m3u8`), which are rewritten in place, are read whole in one request
    /// so the length always matches the bytes; other objects are streamed after a `stat`.
    pub async fn read(&self, path: &ObjectPath, range: Option<Range<u64>>) -> Result<ObjectBody, StorageError> {
        let partial = range.is_some();
        self.read_resolved(path, partial, move |total| match range {
            None => Some(0..total),
            Some(r) if r.start < total && r.start < r.end => Some(r.start..r.end.min(total)),
            Some(_) => None,
        })
        .await
    }

    /// Like [`Store::read`] with a parsed HTTP `Range` header ([`crate::parse_range_header`]).
    pub async fn read_byte_range(
        &self,
        path: &ObjectPath,
        range: Option<ByteRange>,
    ) -> Result<ObjectBody, StorageError> {
        self.read_resolved(path, range.is_some(), move |total| match range {
            None => Some(0..total),
            Some(r) => r.resolve(total),
        })
        .await
    }

    async fn read_resolved(
        &self,
        path: &ObjectPath,
        partial: bool,
        resolve: impl FnOnce(u64) -> Option<Range<u64>>,
    ) -> Result<ObjectBody, StorageError> {
        let p = path.as_str();
        if is_barrier(p) {
            // Rewritten in place: one whole read, so the length and the bytes belong to
            // the same version (a stat-then-read could mix two).
            let bytes = self.read_all(path).await?.ok_or_else(|| StorageError::NotFound(p.to_string()))?;
            let total = bytes.len() as u64;
            let range = resolve(total).ok_or(StorageError::RangeNotSatisfiable { path: p.to_string(), total })?;
            let chunk = Bytes::from(bytes).slice(range.start as usize..range.end as usize);
            let stream = futures_util::stream::iter([Ok(chunk)]).boxed();
            return Ok(ObjectBody { total_len: total, range, partial, stream });
        }
        let total = self.stat(path).await?.ok_or_else(|| StorageError::NotFound(p.to_string()))?;
        let range = resolve(total).ok_or(StorageError::RangeNotSatisfiable { path: p.to_string(), total })?;
        if range.is_empty() {
            return Ok(ObjectBody { total_len: total, range, partial, stream: futures_util::stream::empty().boxed() });
        }
        let reader = self.op.reader(p).await.map_err(|e| StorageError::backend("read", p, e))?;
        let stream = reader.into_bytes_stream(range.clone()).await.map_err(|e| StorageError::backend("read", p, e))?;
        Ok(ObjectBody { total_len: total, range, partial, stream: stream.boxed() })
    }

    /// The whole object in memory (manifests and other small objects); `None` if missing.
    pub async fn read_all(&self, path: &ObjectPath) -> Result<Option<Vec<u8>>, StorageError> {
        match self.op.read(path.as_str()).await {
            Ok(buf) => Ok(Some(buf.to_vec())),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::backend("read", path.as_str(), e)),
        }
    }

    /// Delete one object (no error if it does not exist).
    pub async fn delete(&self, path: &ObjectPath) -> Result<(), StorageError> {
        self.op.delete(path.as_str()).await.map_err(|e| StorageError::backend("delete", path.as_str(), e))
    }

    /// Delete every object under `prefix/` (retention); returns how many were deleted.
    /// On fs the emptied directories are removed too.
    pub async fn delete_prefix(&self, prefix: &ObjectPath) -> Result<u64, StorageError> {
        let files = self.list(prefix.as_str()).await?;
        let n = files.len() as u64;
        if !files.is_empty() {
            self.op.delete_iter(files).await.map_err(|e| StorageError::backend("delete", prefix.as_str(), e))?;
        }
        if let Some(root) = &self.fs_root {
            let dir = root.join(prefix.as_str());
            let _ = tokio::task::spawn_blocking(move || remove_empty_dirs(&dir)).await;
        }
        Ok(n)
    }

    /// Storage-relative paths of every object under `prefix` (a folder path such as
    /// `cam1/2026`; `""` lists everything), sorted. A missing folder lists as empty.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let trimmed = prefix.trim_end_matches('/');
        let dir = if trimmed.is_empty() { String::new() } else { format!("{}/", ObjectPath::parse(trimmed)?) };
        let entries = match self.op.list_with(&dir).recursive(true).await {
            Ok(v) => v,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StorageError::backend("list", &dir, e)),
        };
        let tmp = format!("{RESERVED_TMP_DIR}/");
        let mut out: Vec<String> = entries
            .into_iter()
            .map(|e| e.path().trim_start_matches('/').to_string())
            .filter(|p| !p.is_empty() && !p.ends_with('/') && !p.starts_with(&tmp))
            .collect();
        out.sort();
        Ok(out)
    }

    /// A presigned GET valid for `ttl`; `None` on fs.
    pub async fn presign_read(&self, path: &ObjectPath, ttl: Duration) -> Result<Option<Presigned>, StorageError> {
        if !self.op.info().capability().presign_read {
            return Ok(None);
        }
        let r = self
            .op
            .presign_read(path.as_str(), ttl)
            .await
            .map_err(|e| StorageError::backend("presign", path.as_str(), e))?;
        Ok(Some(presigned(&r)))
    }

    /// A presigned PUT valid for `ttl`; `None` on fs. The client must send the returned
    /// headers (they include `content-type` when the backend signs it).
    pub async fn presign_write(&self, path: &ObjectPath, ttl: Duration) -> Result<Option<Presigned>, StorageError> {
        if !self.op.info().capability().presign_write {
            return Ok(None);
        }
        let r = self
            .op
            .presign_write_with(path.as_str(), ttl)
            .content_type(content_type(path.as_str(), false))
            .await
            .map_err(|e| StorageError::backend("presign", path.as_str(), e))?;
        Ok(Some(presigned(&r)))
    }

    /// Check that the storage answers (lists its root).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.op.check().await.map_err(|e| StorageError::backend("ping", "/", e))
    }
}

fn presigned(r: &opendal::raw::PresignedRequest) -> Presigned {
    Presigned {
        method: r.method().to_string(),
        url: r.uri().to_string(),
        headers: r
            .header()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
    }
}

/// fsync the directory holding `file`, so its rename is durable.
pub(crate) fn sync_parent(file: &Path) -> io::Result<()> {
    match file.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// fs temporary files older than this are leftovers of a crash (another process
/// sharing the root may be writing the younger ones).
const STALE_TMP_AGE: Duration = Duration::from_secs(3600);

/// Delete files in the fs temp folder older than `age` (best effort).
fn remove_stale_tmp(dir: &Path, age: Duration) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|d| d > age));
        if old && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Remove `dir` and its subdirectories if they hold no files (best effort).
fn remove_empty_dirs(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_empty_dirs(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
