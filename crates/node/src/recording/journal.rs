//! The node's local journal of recording sessions (`[recorder] index_path`, JSON lines,
//! last line per id wins) and the reporter that pushes it to the manager.
//!
//! Every change of a session (started, segment finished, ended) is appended to the file
//! before it is reported, and a report counts as delivered only when the manager has
//! answered 2xx (after its database commit). Unacknowledged reports are resent every
//! few seconds, and every minute all sessions of the last two days are resent (the
//! manager's upserts are idempotent), so neither a manager restart nor a database
//! outage loses index rows. A node restart re-reads the file and resends everything.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use wishcast_api::record::{PlaybackDay, RecordingReport, RecordingReports, RecordingStatus};

struct Entry {
    report: RecordingReport,
    version: u64,
    acked: u64,
}

pub struct Journal {
    path: PathBuf,
    state: Mutex<State>,
    pub(crate) changed: Notify,
}

struct State {
    entries: BTreeMap<String, Entry>,
    file: Option<std::fs::File>,
    version: u64,
    appended: usize,
}

impl Journal {
    /// Read the journal (a missing file is an empty journal; unreadable lines are
    /// skipped with a warning) and rewrite it compacted.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut entries = BTreeMap::new();
        let mut version = 0;
        if let Ok(f) = std::fs::File::open(path) {
            for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<RecordingReport>(&line) {
                    Ok(r) => {
                        version += 1;
                        entries.insert(r.id.clone(), Entry { report: r, version, acked: 0 });
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), line = i + 1, "skipping unreadable journal line: {e}")
                    }
                }
            }
        }
        let j = Journal {
            path: path.to_path_buf(),
            state: Mutex::new(State { entries, file: None, version, appended: 0 }),
            changed: Notify::new(),
        };
        j.compact()?;
        Ok(j)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rewrite the file with one line per session (atomically: temp file + rename).
    fn compact(&self) -> std::io::Result<()> {
        let mut st = self.lock();
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for e in st.entries.values() {
                serde_json::to_writer(&mut f, &e.report)?;
                f.write_all(b"\n")?;
            }
            f.flush()?;
            f.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        st.file = Some(std::fs::OpenOptions::new().append(true).open(&self.path)?);
        st.appended = 0;
        Ok(())
    }

    /// Record a new state of a session: appended to the file, then queued for the manager.
    pub fn update(&self, report: RecordingReport) {
        let compact = {
            let mut st = self.lock();
            st.version += 1;
            let v = st.version;
            if let Some(f) = st.file.as_mut() {
                let mut line = serde_json::to_vec(&report).unwrap_or_default();
                line.push(b'\n');
                if let Err(e) = f.write_all(&line).and_then(|_| f.sync_data()) {
                    tracing::warn!(path = %self.path.display(), "cannot append to the recordings journal: {e}");
                }
            }
            st.appended += 1;
            let acked = st.entries.get(&report.id).map(|e| e.acked).unwrap_or(0);
            st.entries.insert(report.id.clone(), Entry { report, version: v, acked });
            st.appended > 1000
        };
        if compact && let Err(e) = self.compact() {
            tracing::warn!(path = %self.path.display(), "cannot compact the recordings journal: {e}");
        }
        self.changed.notify_one();
    }

    /// Sessions the manager has not acknowledged in their latest version.
    pub fn unacked(&self) -> Vec<(RecordingReport, u64)> {
        self.lock().entries.values().filter(|e| e.acked < e.version).map(|e| (e.report.clone(), e.version)).collect()
    }

    /// Sessions started in the last `within`, or still active.
    pub fn recent(&self, within: Duration) -> Vec<(RecordingReport, u64)> {
        let now = unix_ms(SystemTime::now());
        let cut = now - within.as_millis() as i64;
        self.lock()
            .entries
            .values()
            .filter(|e| e.report.status == RecordingStatus::Active || e.report.started_at >= cut)
            .map(|e| (e.report.clone(), e.version))
            .collect()
    }

    pub fn ack(&self, delivered: &[(String, u64)]) {
        let mut st = self.lock();
        for (id, v) in delivered {
            if let Some(e) = st.entries.get_mut(id) {
                e.acked = e.acked.max(*v);
            }
        }
    }

    /// Mark sessions left `Active` by a previous process (crash, kill -9) as `Failed`,
    /// keeping what they wrote. Called once at start-up.
    pub fn close_orphans(&self) {
        let orphans: Vec<RecordingReport> = self
            .lock()
            .entries
            .values()
            .filter(|e| e.report.status == RecordingStatus::Active)
            .map(|e| e.report.clone())
            .collect();
        for mut r in orphans {
            r.status = RecordingStatus::Failed;
            r.ended_at = Some(r.started_at + r.duration_ms as i64);
            self.update(r);
        }
    }

    /// Streams with at least one session (node-only playback).
    pub fn streams(&self) -> Vec<String> {
        let mut v: Vec<String> = self.lock().entries.values().map(|e| e.report.stream.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Days of one stream (node-only playback).
    pub fn days(&self, stream: &str) -> Vec<PlaybackDay> {
        let mut v: Vec<PlaybackDay> = self
            .lock()
            .entries
            .values()
            .filter(|e| e.report.stream == stream)
            .map(|e| PlaybackDay {
                year: e.report.year,
                month: e.report.month,
                day: e.report.day,
                mpd_path: e.report.mpd_path.clone(),
            })
            .collect();
        v.sort_by_key(|d| (d.year, d.month, d.day));
        v.dedup();
        v
    }

    /// True if a session of a stream other than `stream` writes into the day folder
    /// of `mpd_path` (a folder of the old, lossy layout that several streams share).
    pub fn folder_has_other_stream(&self, mpd_path: &str, stream: &str) -> bool {
        self.lock().entries.values().any(|e| e.report.mpd_path == mpd_path && e.report.stream != stream)
    }

    pub fn sessions(&self) -> Vec<RecordingReport> {
        self.lock().entries.values().map(|e| e.report.clone()).collect()
    }
}

pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Where and how to report: `{manager}/api/recordings/report` with the cluster token.
pub struct ReportTarget {
    pub url: String,
    pub token: Option<String>,
}

/// Push unacknowledged reports to the manager until the process ends.
pub fn spawn_reporter(journal: std::sync::Arc<Journal>, target: ReportTarget) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        let mut last_full = Instant::now() - Duration::from_secs(3600);
        let mut failing = false;
        loop {
            let full = last_full.elapsed() >= Duration::from_secs(60);
            let batch = if full { journal.recent(Duration::from_secs(2 * 86_400)) } else { journal.unacked() };
            if !batch.is_empty() {
                let body = RecordingReports { reports: batch.iter().map(|(r, _)| r.clone()).collect() };
                let mut rq = http.post(&target.url).json(&body);
                if let Some(t) = &target.token {
                    rq = rq.bearer_auth(t);
                }
                match rq.send().await {
                    Ok(r) if r.status().is_success() => {
                        let delivered: Vec<(String, u64)> = batch.iter().map(|(r, v)| (r.id.clone(), *v)).collect();
                        journal.ack(&delivered);
                        if full {
                            last_full = Instant::now();
                        }
                        if failing {
                            tracing::info!("recording reports delivered to the manager again");
                            failing = false;
                        }
                    }
                    Ok(r) if matches!(r.status().as_u16(), 400 | 409 | 413 | 422) => {
                        // One invalid report rejects its whole batch: find it by sending
                        // one at a time, and drop what the manager will never accept
                        // (resending it forever would block every later report).
                        let text = r.text().await.unwrap_or_default();
                        tracing::warn!(
                            "manager rejected a batch of recording reports, retrying one by one: {}",
                            text.trim()
                        );
                        let mut delivered = Vec::new();
                        for (report, v) in &batch {
                            let mut rq =
                                http.post(&target.url).json(&RecordingReports { reports: vec![report.clone()] });
                            if let Some(t) = &target.token {
                                rq = rq.bearer_auth(t);
                            }
                            match rq.send().await {
                                Ok(r) if r.status().is_success() => delivered.push((report.id.clone(), *v)),
                                Ok(r)
                                    if r.status().is_client_error()
                                        && r.status().as_u16() != 401
                                        && r.status().as_u16() != 403 =>
                                {
                                    let why = r.text().await.unwrap_or_default();
                                    tracing::error!(id = %report.id, stream = %report.stream, "manager refuses this recording report; dropping it: {}", why.trim());
                                    delivered.push((report.id.clone(), *v));
                                }
                                _ => {}
                            }
                        }
                        journal.ack(&delivered);
                    }
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        if !failing {
                            tracing::warn!(%status, "manager refused recording reports (will retry): {}", text.trim());
                        }
                        failing = true;
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!("cannot reach the manager for recording reports (will retry): {e}");
                        }
                        failing = true;
                    }
                }
            } else if full {
                last_full = Instant::now();
            }
            let wait = if failing { Duration::from_secs(2) } else { Duration::from_secs(5) };
            let _ = tokio::time::timeout(wait, journal.changed.notified()).await;
            // Coalesce bursts (a segment of each track finishing together).
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, status: RecordingStatus, segments: u32) -> RecordingReport {
        RecordingReport {
            id: id.into(),
            node: "n1".into(),
            stream: "cam".into(),
            year: 2026,
            month: 11,
            day: 21,
            mpd_path: "cam/2026/11/21/manifest.mpd".into(),
            started_at: unix_ms(SystemTime::now()),
            ended_at: None,
            duration_ms: 1000 * segments as u64,
            bytes: 10 * segments as u64,
            segments,
            status,
        }
    }

    #[test]
    fn survives_reopen_and_acks_by_version() {
        let dir = std::env::temp_dir().join(format!("wishcast-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("index.jsonl");
        let j = Journal::open(&path).unwrap();
        j.update(report("a", RecordingStatus::Active, 1));
        j.update(report("a", RecordingStatus::Active, 2));
        j.update(report("b", RecordingStatus::Completed, 5));
        let un = j.unacked();
        assert_eq!(un.len(), 2);
        j.ack(&un.iter().map(|(r, v)| (r.id.clone(), *v)).collect::<Vec<_>>());
        assert!(j.unacked().is_empty());
        j.update(report("a", RecordingStatus::Active, 3));
        assert_eq!(j.unacked().len(), 1);
        drop(j);
        // A torn last line (crash mid-append) is skipped, the rest survives.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"id\":\"tor").unwrap();
        let j = Journal::open(&path).unwrap();
        let mut all = j.sessions();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].segments, 3);
        assert_eq!(all[1].segments, 5);
        // Everything is resent after a restart; orphans become Failed.
        j.close_orphans();
        let a = j.sessions().into_iter().find(|r| r.id == "a").unwrap();
        assert_eq!(a.status, RecordingStatus::Failed);
        assert_eq!(j.unacked().len(), 2);
        assert_eq!(j.days("cam").len(), 1);
        assert_eq!(j.streams(), vec!["cam".to_string()]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
