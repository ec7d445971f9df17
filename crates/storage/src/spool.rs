//! `Spool`: the local, crash-safe holding area for objects on their way to storage.
//! The directory *is* the durable queue: each object is one file named by a sequence
//! number (see `spool_file`), written as `<seq>.tmp`, fsynced, renamed to
//! `<seq>.obj` and the directory fsynced before `put` returns. Nothing else is
//! persisted, so there is no journal that could disagree with the files: on open the
//! directory is rescanned, `.tmp` leftovers (a write cut short) are deleted, damaged
//! `.obj` files are set aside as `.bad`, and the rest is queued in sequence order.
//! A `.lock` file (flock) keeps a second process off the same directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, watch};

use crate::error::StorageError;
use crate::path::ObjectPath;
use crate::queue::{Backoff, Queue};
use crate::spool_file::{self, EntryName, Header};
use crate::store::sync_parent;

/// The local spool. Cheap to clone; all clones share one queue.
#[derive(Clone)]
pub struct Spool {
    pub(crate) inner: Arc<SpoolInner>,
}

pub(crate) struct SpoolInner {
    dir: PathBuf,
    queue: Mutex<Queue>,
    next_seq: AtomicU64,
    /// Wakes the mover when an entry commits.
    pub(crate) changed: Notify,
    /// Number of entries not yet uploaded.
    pending_tx: watch::Sender<usize>,
    _lock: File,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool").field("dir", &self.inner.dir).field("pending", &self.pending()).finish()
    }
}

/// What `Spool::open` found in the directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Committed entries queued again.
    pub queued: usize,
    /// Unfinished `.tmp` writes deleted.
    pub discarded_tmp: usize,
    /// Older entries of a path that a newer entry superseded (deleted).
    pub superseded: usize,
    /// Damaged entries renamed to `.bad`.
    pub damaged: usize,
}

pub(crate) const DEFAULT_BACKOFF: Backoff =
    Backoff { base: std::time::Duration::from_millis(500), max: std::time::Duration::from_secs(30) };

impl Spool {
    /// Open (creating if needed) the spool directory and queue what it holds.
    /// Blocking file I/O: call it at start-up (or in `spawn_blocking`).
    pub fn open(dir: &Path) -> Result<Spool, StorageError> {
        Spool::open_with_report(dir).map(|(s, _)| s)
    }

    /// [`Spool::open`], also saying what recovery found.
    pub fn open_with_report(dir: &Path) -> Result<(Spool, RecoveryReport), StorageError> {
        let shown = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io("create spool directory", &shown, e))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StorageError::io("open", lock_path.display(), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StorageError::Locked(shown)),
            Err(std::fs::TryLockError::Error(e)) => return Err(StorageError::io("lock", lock_path.display(), e)),
        }
        let mut report = RecoveryReport::default();
        let mut found: Vec<(u64, ObjectPath)> = Vec::new();
        let mut max_seq = 0u64;
        let rd = std::fs::read_dir(dir).map_err(|e| StorageError::io("read spool directory", &shown, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| StorageError::io("read spool directory", &shown, e))?;
            let name = ent.file_name();
            let Some(kind) = name.to_str().and_then(spool_file::parse_name) else { continue };
            let path = ent.path();
            match kind {
                EntryName::Temp(seq) => {
                    max_seq = max_seq.max(seq);
                    std::fs::remove_file(&path).map_err(|e| StorageError::io("remove", path.display(), e))?;
                    report.discarded_tmp += 1;
                }
                EntryName::Committed(seq) => {
                    max_seq = max_seq.max(seq);
                    match read_header(&path) {
                        Ok(h) => found.push((seq, h.path)),
                        Err(why) => {
                            tracing::error!(file = %path.display(), "spool: damaged entry set aside as .bad: {why}");
                            let bad = path.with_extension("bad");
                            std::fs::rename(&path, &bad).map_err(|e| StorageError::io("rename", path.display(), e))?;
                            report.damaged += 1;
                        }
                    }
                }
            }
        }
        found.sort_by_key(|(seq, _)| *seq);
        let mut queue = Queue::new(DEFAULT_BACKOFF);
        let mut superseded = Vec::new();
        for (seq, path) in found {
            queue.begin(seq, path);
            superseded.extend(queue.commit(seq));
        }
        for seq in &superseded {
            let p = dir.join(spool_file::committed_name(*seq));
            std::fs::remove_file(&p).map_err(|e| StorageError::io("remove", p.display(), e))?;
        }
        report.superseded = superseded.len();
        report.queued = queue.len();
        if report.discarded_tmp + report.superseded > 0 {
            File::open(dir).and_then(|d| d.sync_all()).map_err(|e| StorageError::io("fsync", &shown, e))?;
        }
        let (pending_tx, _) = watch::channel(queue.len());
        let inner = SpoolInner {
            dir: dir.to_path_buf(),
            queue: Mutex::new(queue),
            next_seq: AtomicU64::new(max_seq.saturating_add(1)),
            changed: Notify::new(),
            pending_tx,
            _lock: lock,
        };
        Ok((Spool { inner: Arc::new(inner) }, report))
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Store `bytes` as `path` on local disk and queue it for upload. Returns once the
    /// entry is durable (file and directory fsynced). Completes even if the returned
    /// future is dropped half-way.
    pub async fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<(), StorageError> {
        let inner = self.inner.clone();
        let seq = inner.next_seq.fetch_add(1, Ordering::SeqCst);
        inner.with_queue(|q| q.begin(seq, path.clone()));
        let path = path.clone();
        let shown = path.to_string();
        tokio::task::spawn_blocking(move || inner.write_entry(seq, &path, &bytes))
            .await
            .map_err(|e| StorageError::io("spool put", shown, std::io::Error::other(e)))?
    }

    /// The bytes of `path` if it is still waiting in the spool (newest put wins), so
    /// playback works before the upload finishes. `None` once uploaded (read storage).
    pub async fn read_pending(&self, path: &ObjectPath) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(seq) = self.inner.lock_queue().newest_committed(path) else { return Ok(None) };
        let inner = self.inner.clone();
        let want = path.clone();
        let shown = path.to_string();
        tokio::task::spawn_blocking(move || match inner.read_entry(seq) {
            Ok((h, data)) if h.path == want => Ok(Some(data)),
            Ok(_) => Ok(None),
            Err(StorageError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
        .map_err(|e| StorageError::io("spool read", shown, std::io::Error::other(e)))?
    }

    /// Entries not yet uploaded (including puts still writing).
    pub fn pending(&self) -> usize {
        self.inner.lock_queue().len()
    }

    /// Watch the pending count (the mover's `flush` waits on it).
    pub fn watch_pending(&self) -> watch::Receiver<usize> {
        self.inner.pending_tx.subscribe()
    }
}

impl SpoolInner {
    pub(crate) fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock cannot leave the queue half-updated in a way
        // that matters more than stopping; keep going with the inner value.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` on the queue and publish the new pending count.
    pub(crate) fn with_queue<R>(&self, f: impl FnOnce(&mut Queue) -> R) -> R {
        let mut q = self.lock_queue();
        let r = f(&mut q);
        let n = q.len();
        drop(q);
        self.pending_tx.send_replace(n);
        r
    }

    pub(crate) fn entry_path(&self, seq: u64) -> PathBuf {
        self.dir.join(spool_file::committed_name(seq))
    }

    /// Blocking: write, fsync and rename the entry, then commit it to the queue.
    fn write_entry(&self, seq: u64, path: &ObjectPath, bytes: &[u8]) -> Result<(), StorageError> {
        let tmp = self.dir.join(spool_file::temp_name(seq));
        let fin = self.entry_path(seq);
        let res = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(&spool_file::encode_header(path, bytes.len() as u64))?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &fin)?;
            sync_parent(&fin)
        })();
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            self.with_queue(|q| q.abort(seq));
            self.changed.notify_one();
            return Err(StorageError::io("spool write", path, e));
        }
        let superseded = self.with_queue(|q| q.commit(seq));
        for s in superseded {
            // Best effort: a leftover is superseded again by the rescan on open.
            let _ = std::fs::remove_file(self.entry_path(s));
        }
        self.changed.notify_one();
        Ok(())
    }

    /// Blocking: read a committed entry (header checked) into memory.
    pub(crate) fn read_entry(&self, seq: u64) -> Result<(Header, Vec<u8>), StorageError> {
        let p = self.entry_path(seq);
        let mut f = File::open(&p).map_err(|e| StorageError::io("open", p.display(), e))?;
        let len = f.metadata().map_err(|e| StorageError::io("stat", p.display(), e))?.len();
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        f.read_to_end(&mut buf).map_err(|e| StorageError::io("read", p.display(), e))?;
        let h = spool_file::decode_header(&buf, buf.len() as u64)
            .map_err(|why| StorageError::Corrupt(format!("{}: {why}", p.display())))?;
        let data = buf.split_off(h.header_len);
        Ok((h, data))
    }

    /// Blocking: delete an uploaded entry and make the deletion durable, so a crash
    /// cannot bring back (and re-upload) an older version of a rewritten object.
    pub(crate) fn remove_entry(&self, seq: u64) -> std::io::Result<()> {
        let p = self.entry_path(seq);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        sync_parent(&p)
    }

    /// Blocking: set a damaged entry aside.
    pub(crate) fn quarantine(&self, seq: u64) {
        let p = self.entry_path(seq);
        let _ = std::fs::rename(&p, p.with_extension("bad"));
    }
}

/// Read and check the header of a committed entry without reading its data.
fn read_header(path: &Path) -> Result<Header, String> {
    let mut f = File::open(path).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut buf = vec![0u8; spool_file::MAX_HEADER.min(usize::try_from(len).unwrap_or(usize::MAX))];
    f.read_exact(&mut buf).map_err(|e| e.to_string())?;
    spool_file::decode_header(&buf, len)
}
