//! `Mover`: the tokio task that drains a [`Spool`] into a [`Store`]. It asks the
//! queue (`queue.rs`) what may start, runs up to `concurrency` uploads, deletes a spool
//! file only after the store confirmed the write, and on failure leaves the entry
//! queued with backoff. It keeps no state of its own that matters for safety: killing
//! it at any instant leaves the spool directory to be rescanned by the next start.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::error::StorageError;
use crate::queue::{Backoff, Job};
use crate::spool::Spool;
use crate::store::Store;

/// Mover settings.
#[derive(Debug, Clone)]
pub struct MoverOptions {
    /// Uploads at once (default 2).
    pub concurrency: usize,
    /// First retry delay (default 500 ms); doubles per failure.
    pub backoff_base: Duration,
    /// Longest retry delay (default 30 s).
    pub backoff_max: Duration,
    /// Give up one upload attempt after this long (default 120 s).
    pub upload_timeout: Duration,
}

impl Default for MoverOptions {
    fn default() -> Self {
        MoverOptions {
            concurrency: 2,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(120),
        }
    }
}

/// Counters since the mover started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoverStats {
    /// Objects stored.
    pub uploaded: u64,
    /// Bytes stored.
    pub uploaded_bytes: u64,
    /// Upload attempts that failed (each is retried).
    pub failed_attempts: u64,
    /// Spool entries that could not be uploaded at all (file missing or damaged).
    pub dropped: u64,
    /// Entries not yet uploaded.
    pub pending: usize,
    /// The most recent failure.
    pub last_error: Option<String>,
}

pub struct Mover;

/// Control of a running mover.
pub struct MoverHandle {
    spool: Spool,
    stats: Arc<Mutex<MoverStats>>,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Mover {
    /// Start moving `spool` into `store` on the current tokio runtime. Run one mover
    /// per spool. Dropping the handle leaves the task running; call
    /// [`MoverHandle::shutdown`] to stop it.
    pub fn spawn(spool: Spool, store: Store, opts: MoverOptions) -> MoverHandle {
        let opts = MoverOptions { concurrency: opts.concurrency.max(1), ..opts };
        spool.inner.with_queue(|q| q.set_backoff(Backoff { base: opts.backoff_base, max: opts.backoff_max }));
        let stats = Arc::new(Mutex::new(MoverStats::default()));
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(spool.clone(), store, opts, stats.clone(), stop.clone()));
        MoverHandle { spool, stats, stop, task }
    }
}

impl MoverHandle {
    /// Wait until the spool is empty; `true` if it drained within `timeout`.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let mut rx = self.spool.watch_pending();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0)).await.is_ok_and(|r| r.is_ok())
    }

    pub fn stats(&self) -> MoverStats {
        let mut s = lock(&self.stats).clone();
        s.pending = self.spool.pending();
        s
    }

    /// Stop after the uploads in flight finish (at most `upload_timeout`); what is
    /// still queued stays in the spool for the next start.
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

enum Outcome {
    Stored(u64),
    Failed(StorageError),
    /// The spool file is gone or damaged: nothing to upload.
    Unusable(StorageError),
}

async fn run(spool: Spool, store: Store, opts: MoverOptions, stats: Arc<Mutex<MoverStats>>, stop: Arc<Notify>) {
    let inner = spool.inner.clone();
    let mut tasks: JoinSet<(Job, Outcome)> = JoinSet::new();
    let mut stopping = false;
    loop {
        if !stopping {
            let now = Instant::now();
            while let Some(job) = inner.with_queue(|q| q.next_ready(now, opts.concurrency)) {
                tasks.spawn(upload(spool.clone(), store.clone(), job, opts.upload_timeout));
            }
        } else if tasks.is_empty() {
            return;
        }
        let wake = if stopping { None } else { inner.with_queue(|q| q.next_wakeup()) };
        tokio::select! {
            _ = stop.notified(), if !stopping => stopping = true,
            Some(res) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((job, outcome)) = res {
                    finish(&spool, &stats, job, outcome);
                }
            }
            _ = inner.changed.notified(), if !stopping => {}
            _ = sleep_until(wake), if wake.is_some() => {}
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

/// One attempt: read the spool file, write it to the store, delete the spool file.
async fn upload(spool: Spool, store: Store, job: Job, timeout: Duration) -> (Job, Outcome) {
    let inner = spool.inner.clone();
    let seq = job.seq;
    let read = tokio::task::spawn_blocking(move || inner.read_entry(seq)).await;
    let (header, data) = match read {
        Ok(Ok(v)) => v,
        Ok(Err(e @ StorageError::Corrupt(_))) => return (job, Outcome::Unusable(e)),
        Ok(Err(StorageError::Io { source, op, path })) if source.kind() == std::io::ErrorKind::NotFound => {
            return (job, Outcome::Unusable(StorageError::Io { source, op, path }));
        }
        Ok(Err(e)) => return (job, Outcome::Failed(e)),
        Err(e) => {
            let e = StorageError::io("spool read", &job.path, std::io::Error::other(e));
            return (job, Outcome::Failed(e));
        }
    };
    if header.path != job.path {
        let e = StorageError::Corrupt(format!("entry {seq} holds `{}`, expected `{}`", header.path, job.path));
        return (job, Outcome::Unusable(e));
    }
    let len = data.len() as u64;
    match tokio::time::timeout(timeout, store.write(&job.path, data)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return (job, Outcome::Failed(e)),
        Err(_) => {
            let e = StorageError::Timeout { op: "write", path: job.path.to_string() };
            return (job, Outcome::Failed(e));
        }
    }
    let inner = spool.inner.clone();
    match tokio::task::spawn_blocking(move || inner.remove_entry(seq)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(path = %job.path, "spool: uploaded but could not delete the local copy: {e}"),
        Err(e) => tracing::warn!(path = %job.path, "spool: uploaded but could not delete the local copy: {e}"),
    }
    (job, Outcome::Stored(len))
}

fn finish(spool: &Spool, stats: &Mutex<MoverStats>, job: Job, outcome: Outcome) {
    let inner = &spool.inner;
    match outcome {
        Outcome::Stored(len) => {
            // Count first: `succeeded` wakes `flush` waiters, who then read the stats.
            {
                let mut s = lock(stats);
                s.uploaded += 1;
                s.uploaded_bytes += len;
            }
            inner.with_queue(|q| q.succeeded(job.seq));
        }
        Outcome::Failed(e) => {
            let pause = inner.with_queue(|q| q.failed(job.seq, Instant::now()));
            tracing::warn!(path = %job.path, "upload failed, retrying in {pause:?}: {e}");
            let mut s = lock(stats);
            s.failed_attempts += 1;
            s.last_error = Some(e.to_string());
        }
        Outcome::Unusable(e) => {
            tracing::error!(path = %job.path, "spool entry cannot be uploaded, dropped: {e}");
            if matches!(e, StorageError::Corrupt(_)) {
                inner.quarantine(job.seq);
            }
            {
                let mut s = lock(stats);
                s.dropped += 1;
                s.last_error = Some(e.to_string());
            }
            inner.with_queue(|q| q.drop_entry(job.seq));
        }
    }
}
