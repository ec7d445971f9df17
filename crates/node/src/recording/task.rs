//! One stream's recording: a WHEP viewer of this node (a str0m peer on loopback that
//! offers every codec) feeds the sans-IO `wishcast_record::Recorder`, whose objects go
//! to the durable spool (the mover uploads them) and whose session changes go to the
//! journal (reported to the manager).
//!
//! Recording through the node's own WHEP endpoint means the recorder gets exactly what
//! a viewer gets — GOP-cache start, keyframe requests, republish continuity, simulcast
//! top layer — whatever worker owns the publisher, and a slow disk can never stall the
//! media plane (frames queue in the recorder's channel, not in the fan-out).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};
use wishcast_api::record::{RecordingReport, RecordingStatus};
use wishcast_client::{Kind, MediaFrame, RtpCodec, SubscribeOptions, Subscriber, VideoCodec};
use wishcast_record::{Codec, Frame, ObjectKind, Output, Recorder, TrackKind};
use wishcast_storage::{ObjectPath, Spool, Store};

use super::journal::{Journal, unix_ms};

/// What every recording task needs.
pub struct TaskContext {
    /// `http://127.0.0.1:{port}` of this node.
    pub base_url: String,
    /// Mints an admin token for this node's WHEP endpoint (None with auth off).
    pub token: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    /// Local address the recorder's peer binds to.
    pub bind: SocketAddr,
    pub node: String,
    pub spool: Arc<Spool>,
    pub store: Store,
    pub journal: Arc<Journal>,
    pub mux: wishcast_record::RecorderConfig,
}

/// Commands to a running recording.
pub enum Control {
    /// The publisher went away and came back (possibly with another codec).
    PublisherRestarted,
}

pub struct Running {
    pub session_id: String,
    pub mpd_path: String,
    pub stop: Option<oneshot::Sender<()>>,
    pub control: mpsc::UnboundedSender<Control>,
    pub done: tokio::task::JoinHandle<()>,
}

fn codec_of(c: RtpCodec) -> Codec {
    match c {
        RtpCodec::H264 => Codec::H264,
        RtpCodec::H265 => Codec::H265,
        RtpCodec::Vp8 => Codec::Vp8,
        RtpCodec::Vp9 => Codec::Vp9,
        RtpCodec::Av1 => Codec::Av1,
        RtpCodec::Opus => Codec::Opus,
        _ => Codec::Other,
    }
}

/// The day's manifest path for `stream` at `now` (UTC).
pub fn day_manifest(stream: &str, now: SystemTime) -> (i32, u32, u32, String) {
    let (y, m, d) = wishcast_api::record::utc_day(now);
    (y, m, d, wishcast_api::record::day_manifest_path(stream, y, m, d))
}

/// Start recording `stream` in the background. Returns at once.
pub fn spawn(ctx: Arc<TaskContext>, stream: String, on_exit: impl FnOnce() + Send + 'static) -> Running {
    let session_id = uuid::Uuid::new_v4().to_string();
    let now = SystemTime::now();
    let (_, _, _, mpd_path) = day_manifest(&stream, now);
    let (stop_tx, stop_rx) = oneshot::channel();
    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    let sid = session_id.clone();
    let done = tokio::spawn(async move {
        run(ctx, stream, sid, stop_rx, ctl_rx).await;
        on_exit();
    });
    Running { session_id, mpd_path, stop: Some(stop_tx), control: ctl_tx, done }
}

async fn existing_manifest(ctx: &TaskContext, path: &str) -> Option<String> {
    let p = ObjectPath::parse(path).ok()?;
    if let Ok(Some(b)) = ctx.spool.read_pending(&p).await {
        return String::from_utf8(b).ok();
    }
    match ctx.store.read_all(&p).await {
        Ok(Some(b)) => String::from_utf8(b).ok(),
        _ => None,
    }
}

async fn connect(ctx: &TaskContext, stream: &str) -> Result<Subscriber, String> {
    let url = format!("{}/whep/{}", ctx.base_url, wishcast_api::paths::encode(stream));
    let opts = SubscribeOptions { video: Some(VideoCodec::Vp8), audio: true, data_channel: false, bind: ctx.bind };
    let token = (ctx.token)();
    let sub = Subscriber::connect_any_codec(&url, token.as_deref(), opts, &[(wishcast_api::RELAY_HEADER, "recorder")])
        .await
        .map_err(|e| e.to_string())?;
    sub.wait_connected(Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
    Ok(sub)
}

struct Sessions {
    node: String,
    stream: String,
    open: HashMap<String, RecordingReport>,
}

impl Sessions {
    fn apply(&mut self, out: &Output, journal: &Journal) {
        match out {
            Output::SessionStarted { session_id, year, month, day, mpd_path, started_at } => {
                let r = RecordingReport {
                    id: session_id.clone(),
                    node: self.node.clone(),
                    stream: self.stream.clone(),
                    year: *year,
                    month: *month,
                    day: *day,
                    mpd_path: mpd_path.clone(),
                    started_at: unix_ms(*started_at),
                    ended_at: None,
                    duration_ms: 0,
                    bytes: 0,
                    segments: 0,
                    status: RecordingStatus::Active,
                };
                journal.update(r.clone());
                self.open.insert(session_id.clone(), r);
            }
            Output::SessionEnded { session_id, ended_at, duration_ms, bytes, segments } => {
                if let Some(mut r) = self.open.remove(session_id) {
                    r.ended_at = Some(unix_ms(*ended_at));
                    r.duration_ms = r.duration_ms.max(*duration_ms);
                    r.bytes = r.bytes.max(*bytes);
                    r.segments = r.segments.max(*segments);
                    r.status = RecordingStatus::Completed;
                    journal.update(r);
                }
            }
            _ => {}
        }
    }

    /// A media segment of the newest open session finished.
    fn segment(&mut self, path: &str, len: usize, end_ms: u64) {
        // Segments live in `{day}/{session}/...`; fall back to the only open session.
        let single = self.open.len() == 1;
        if let Some(r) = self.open.values_mut().find(|r| single || path.contains(&format!("/{}/", r.id))) {
            r.segments += 1;
            r.bytes += len as u64;
            r.duration_ms = r.duration_ms.max(end_ms);
        }
    }

    fn flush(&self, journal: &Journal) {
        for r in self.open.values() {
            journal.update(r.clone());
        }
    }

    fn fail_all(&mut self, journal: &Journal) {
        for (_, mut r) in self.open.drain() {
            r.status = RecordingStatus::Failed;
            r.ended_at = Some(unix_ms(SystemTime::now()));
            journal.update(r);
        }
    }
}

/// Write outputs in order; returns false if the spool refused (disk full...).
async fn emit(ctx: &TaskContext, sessions: &mut Sessions, outs: &mut Vec<Output>) -> bool {
    let mut segment_done = false;
    for out in outs.drain(..) {
        match &out {
            Output::Object { path, bytes, kind } => {
                let p = match ObjectPath::parse(path) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(%path, "recorder produced an invalid object path: {e}");
                        return false;
                    }
                };
                if let ObjectKind::Segment { start_ms, duration_ms, .. } = kind {
                    sessions.segment(path, bytes.len(), start_ms + duration_ms);
                    segment_done = true;
                }
                if let Err(e) = ctx.spool.put(&p, bytes.clone()).await {
                    tracing::error!(%path, "cannot write recording to the spool: {e}");
                    return false;
                }
            }
            Output::Warning(w) => tracing::warn!(stream = %sessions.stream, "recorder: {w}"),
            _ => sessions.apply(&out, &ctx.journal),
        }
    }
    if segment_done {
        sessions.flush(&ctx.journal);
    }
    true
}

async fn run(
    ctx: Arc<TaskContext>,
    stream: String,
    session_id: String,
    mut stop: oneshot::Receiver<()>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let now = SystemTime::now();
    let (_, _, _, mpd) = day_manifest(&stream, now);
    let existing = existing_manifest(&ctx, &mpd).await;
    let mut rec = Recorder::new(&stream, &session_id, ctx.mux.clone(), now, existing.as_deref());
    let mut sessions = Sessions { node: ctx.node.clone(), stream: stream.clone(), open: HashMap::new() };
    let mut outs = Vec::new();
    tracing::info!(%stream, session = %session_id, "recording started");

    let mut backoff = Duration::from_millis(250);
    let mut sub = loop {
        tokio::select! {
            _ = &mut stop => {
                rec.finish(SystemTime::now(), &mut outs);
                emit(&ctx, &mut sessions, &mut outs).await;
                return;
            }
            r = connect(&ctx, &stream) => match r {
                Ok(s) => break s,
                Err(e) => {
                    tracing::warn!(%stream, "recorder cannot subscribe yet (retrying in {backoff:?}): {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    };
    let mut last_pli = Instant::now() - Duration::from_secs(10);
    let mut ok = true;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(c) = control.recv() => match c {
                Control::PublisherRestarted => rec.publisher_restarted(SystemTime::now(), &mut outs),
            },
            f = sub.recv_media(Duration::from_secs(1)) => match f {
                Some(f) => {
                    if !f.contiguous && f.kind == Kind::Video {
                        // Lost video packets: the decoder needs the next keyframe.
                        rec.video_discontinuity();
                    }
                    push(&mut rec, &f, &mut outs)
                }
                None => {
                    if sub.state().closed {
                        tracing::info!(%stream, "recorder's viewer session ended (stream gone?)");
                        break;
                    }
                    // No media: give the recorder a chance to rotate at midnight.
                }
            },
        }
        if !outs.is_empty() && !emit(&ctx, &mut sessions, &mut outs).await {
            ok = false;
            break;
        }
        if rec.wants_keyframe() && last_pli.elapsed() >= Duration::from_secs(1) {
            last_pli = Instant::now();
            let _ = sub.request_keyframe().await;
        }
    }
    if ok {
        rec.finish(SystemTime::now(), &mut outs);
        ok = emit(&ctx, &mut sessions, &mut outs).await;
    }
    if !ok {
        sessions.fail_all(&ctx.journal);
    }
    let _ = sub.close().await;
    tracing::info!(%stream, session = %session_id, "recording stopped");
}

fn push(rec: &mut Recorder, f: &MediaFrame, outs: &mut Vec<Output>) {
    let frame = Frame {
        kind: if f.kind == Kind::Video { TrackKind::Video } else { TrackKind::Audio },
        codec: codec_of(f.codec),
        rtp_time: f.rtp_time,
        clock_rate: f.clock_rate,
        keyframe: f.keyframe,
        data: &f.data,
    };
    rec.push(frame, SystemTime::now(), outs);
}
