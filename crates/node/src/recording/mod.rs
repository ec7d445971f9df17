//! Recording on the node (`[recorder]`): which streams are being recorded, starting
//! and stopping them (HTTP routes and `auto_streams` globs), and the pieces every
//! recording shares — the durable spool and its mover to `[recorder.storage]`, and the
//! journal of recording sessions reported to the manager.
//!
//! The muxing itself (fMP4/CMAF segments, DASH manifest, rotation) is the sans-IO
//! `wishcast-record` crate; storage and the mover are `wishcast-storage`.

pub mod config;
pub mod journal;
mod task;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use wishcast_api::record::RecordStarted;
use wishcast_sfu::SfuEvent;
use wishcast_storage::{MoverHandle, MoverOptions, Spool, Store};

pub use config::RecorderConfig;
use journal::Journal;
use task::{Control, Running, TaskContext};

/// All recordings of this node.
pub struct Recordings {
    ctx: Arc<TaskContext>,
    active: Arc<Mutex<HashMap<String, Running>>>,
    auto: Vec<String>,
    pub journal: Arc<Journal>,
    pub store: Store,
    pub spool: Arc<Spool>,
    mover: MoverHandle,
}

/// Everything `Recordings::open` needs from the node.
pub struct RecordingsSetup<'a> {
    pub cfg: &'a RecorderConfig,
    pub http: SocketAddr,
    pub media_ip: IpAddr,
    pub token: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    pub node: String,
}

impl Recordings {
    /// Open the spool, journal and storage and start the mover.
    pub fn open(s: RecordingsSetup<'_>) -> Result<Recordings, String> {
        let store = Store::new(&s.cfg.storage).map_err(|e| format!("recorder.storage: {e}"))?;
        let spool = Arc::new(
            Spool::open(std::path::Path::new(&s.cfg.spool_dir))
                .map_err(|e| format!("config key `recorder.spool_dir`: cannot open `{}`: {e}", s.cfg.spool_dir))?,
        );
        let journal = Arc::new(
            Journal::open(std::path::Path::new(&s.cfg.index_path))
                .map_err(|e| format!("config key `recorder.index_path`: cannot open `{}`: {e}", s.cfg.index_path))?,
        );
        journal.close_orphans();
        let mover = wishcast_storage::Mover::spawn((*spool).clone(), store.clone(), MoverOptions::default());
        let host = match s.http.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        };
        let bind_ip = if s.media_ip.is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { s.media_ip };
        let ctx = Arc::new(TaskContext {
            base_url: format!("http://{}", SocketAddr::new(host, s.http.port())),
            token: s.token,
            bind: SocketAddr::new(bind_ip, 0),
            node: s.node,
            spool: spool.clone(),
            store: store.clone(),
            journal: journal.clone(),
            mux: wishcast_record::RecorderConfig {
                segment_target: Duration::from_secs_f64(s.cfg.segment_seconds),
                max_recording_seconds: s.cfg.max_recording_seconds,
            },
        });
        Ok(Recordings {
            ctx,
            active: Arc::new(Mutex::new(HashMap::new())),
            auto: s.cfg.auto_streams.clone(),
            journal,
            store,
            spool,
            mover,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start recording `stream` (or return the running recording). Never waits for media.
    pub fn start(&self, stream: &str) -> RecordStarted {
        let mut active = self.lock();
        let r = active.entry(stream.to_string()).or_insert_with(|| {
            let map = Arc::downgrade(&self.active);
            let key = stream.to_string();
            let id_slot: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
            let slot = id_slot.clone();
            let r = task::spawn(self.ctx.clone(), stream.to_string(), move || {
                // Forget the entry when the task ends by itself (stream gone), unless a new
                // recording has replaced it meanwhile.
                if let Some(map) = map.upgrade() {
                    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
                    let mine = slot.lock().map(|s| s.clone()).unwrap_or_default();
                    if m.get(&key).is_some_and(|r| r.session_id == mine) {
                        m.remove(&key);
                    }
                }
            });
            if let Ok(mut s) = id_slot.lock() {
                *s = r.session_id.clone();
            }
            r
        });
        let dir = r.mpd_path.trim_end_matches("/manifest.mpd").to_string();
        RecordStarted {
            id: stream.to_string(),
            record_id: r.session_id.clone(),
            record_dir: dir,
            mpd_path: r.mpd_path.clone(),
        }
    }

    pub fn is_recording(&self, stream: &str) -> bool {
        self.lock().contains_key(stream)
    }

    /// Streams being recorded.
    pub fn recording(&self) -> Vec<String> {
        let mut v: Vec<String> = self.lock().keys().cloned().collect();
        v.sort();
        v
    }

    /// Stop recording `stream`: waits (up to 10 s) until its last segment and final
    /// manifest are in the spool. Returns false if it was not recording.
    pub async fn stop(&self, stream: &str) -> bool {
        let running = self.lock().remove(stream);
        let Some(mut r) = running else { return false };
        if let Some(tx) = r.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut r.done).await;
        true
    }

    /// Stop every recording (shutdown) and give the mover a moment to drain.
    pub async fn shutdown(&self) {
        let streams = self.recording();
        for s in streams {
            self.stop(&s).await;
        }
        self.mover.flush(Duration::from_secs(5)).await;
    }

    /// Wait until every object in the spool has been moved to storage.
    pub async fn flush(&self, timeout: Duration) -> bool {
        self.mover.flush(timeout).await
    }

    fn publisher_restarted(&self, stream: &str) {
        if let Some(r) = self.lock().get(stream) {
            let _ = r.control.send(Control::PublisherRestarted);
        }
    }

    /// Follow the media plane's events: start matching streams when they get a
    /// publisher, tell running recordings about republishes, stop on stream deletion.
    pub fn spawn_auto(self: &Arc<Self>, mut events: broadcast::Receiver<SfuEvent>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(SfuEvent::PublishStarted(s)) => {
                        if me.is_recording(&s) {
                            me.publisher_restarted(&s);
                        } else if wishcast_api::glob::any(&me.auto, &s) {
                            let r = me.start(&s);
                            tracing::info!(stream = %s, mpd = %r.mpd_path, "auto-recording (recorder.auto_streams)");
                        }
                    }
                    Ok(SfuEvent::StreamDeleted { stream, .. }) => {
                        me.stop(&stream).await;
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("recorder missed {n} media events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }

    /// Streams matching `auto_streams` (for reconciling after start-up).
    pub fn wants(&self, stream: &str) -> bool {
        wishcast_api::glob::any(&self.auto, stream)
    }
}
