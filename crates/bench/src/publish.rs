//! The synthetic publisher: one `wishcast_client::Publisher` (WHIP) sending a
//! 720p-like stream — constant bitrate, keyframes ~10x the size of delta frames,
//! sizes jittered ±10% — plus 20 ms Opus-sized audio packets at 48 kHz.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval};
use wishcast_client::{PeerState, PublishOptions, Publisher, VideoCodec, synth};

use crate::args::BenchArgs;

/// Opus at ~48 kbit/s: 120 bytes per 20 ms packet.
pub const AUDIO_BYTES: usize = 120;
pub const AUDIO_PTIME: Duration = Duration::from_millis(20);

/// Frame sizes of the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub fps: u32,
    /// Frames per GOP (a keyframe starts each).
    pub gop: u32,
    pub keyframe_bytes: usize,
    pub delta_bytes: usize,
}

impl Shape {
    /// Split `kbps` over a GOP so that a keyframe is 10 delta frames.
    pub fn new(kbps: u32, fps: u32, keyframe_ms: u64) -> Shape {
        let gop = ((keyframe_ms * fps as u64 / 1000).max(1)) as u32;
        let gop_bytes = kbps as f64 * 1000.0 / 8.0 * gop as f64 / fps as f64;
        let delta = gop_bytes / (gop as f64 - 1.0 + 10.0);
        Shape { fps, gop, keyframe_bytes: (delta * 10.0) as usize, delta_bytes: delta as usize }
    }

    /// Size of frame `seq`: nominal ±10%, deterministic.
    pub fn size(&self, seq: u32) -> (usize, bool) {
        let key = seq.is_multiple_of(self.gop);
        let nominal = if key { self.keyframe_bytes } else { self.delta_bytes };
        let jitter = (seq.wrapping_mul(2_654_435_761) >> 22) as f64 / 1024.0; // 0..1
        (((nominal as f64) * (0.9 + 0.2 * jitter)) as usize, key)
    }
}

/// What the publisher sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct PubStats {
    pub video_frames: u64,
    pub keyframes: u64,
    pub video_bytes: u64,
    pub audio_frames: u64,
    pub datagrams_out: u64,
    pub keyframe_requests: u64,
    pub write_errors: u64,
}

pub struct RunningPublisher {
    stop: watch::Sender<bool>,
    task: JoinHandle<(Publisher, PubStats)>,
    state: watch::Receiver<PeerState>,
}

/// Connect, wait for DTLS, and start sending.
pub async fn start(args: &BenchArgs) -> Result<RunningPublisher, String> {
    let codec = args.codec.client();
    let opts =
        PublishOptions { video: Some(codec), audio: true, data_channel: false, bind: SocketAddr::new(args.bind, 0) };
    let p = Publisher::connect(&args.whip, args.token.as_deref(), opts)
        .await
        .map_err(|e| format!("WHIP publish to {}: {e}", args.whip))?;
    p.wait_connected(Duration::from_secs(10)).await.map_err(|e| format!("publisher: {e}"))?;
    let shape = Shape::new(args.video_kbps, args.fps, args.keyframe_ms);
    let (stop, rx) = watch::channel(false);
    let state = p.state_watch();
    let task = tokio::spawn(send_loop(p, codec, shape, rx));
    Ok(RunningPublisher { stop, task, state })
}

async fn send_loop(
    mut p: Publisher,
    codec: VideoCodec,
    shape: Shape,
    mut stop: watch::Receiver<bool>,
) -> (Publisher, PubStats) {
    let mut st = PubStats::default();
    let mut video = interval(Duration::from_secs(1) / shape.fps);
    let mut audio = interval(AUDIO_PTIME);
    // Burst keeps the schedule anchored: a late tick does not slow the stream down.
    video.set_missed_tick_behavior(MissedTickBehavior::Burst);
    audio.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut vseq, mut aseq) = (0u32, 0u32);
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = video.tick() => {
                let (size, key) = shape.size(vseq);
                let frame = synth::video_frame(codec, vseq, size, key);
                vseq += 1;
                match p.send_video_frame(frame, key).await {
                    Ok(()) => {
                        st.video_frames += 1;
                        st.keyframes += u64::from(key);
                        st.video_bytes += size as u64;
                    }
                    Err(_) => st.write_errors += 1,
                }
            }
            _ = audio.tick() => {
                let frame = synth::audio_frame(aseq, AUDIO_BYTES);
                aseq += 1;
                match p.send_audio(frame).await {
                    Ok(()) => st.audio_frames += 1,
                    Err(_) => st.write_errors += 1,
                }
            }
        }
    }
    st.datagrams_out = p.counters().datagrams_out.load(Relaxed);
    st.keyframe_requests = p.keyframe_requests();
    (p, st)
}

impl RunningPublisher {
    /// Stop sending, DELETE the WHIP session, return what was sent.
    /// The publisher's connection state now (did the server drop it?).
    pub fn state(&self) -> PeerState {
        *self.state.borrow()
    }

    pub async fn finish(self) -> PubStats {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok((mut p, st)) => {
                let _ = p.close().await;
                st
            }
            Err(_) => PubStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;

    #[test]
    fn default_shape_is_2_mbps_with_10x_keyframes() {
        let s = Shape::new(2000, 30, 2000);
        assert_eq!(s.gop, 60);
        assert!((s.keyframe_bytes as f64 / s.delta_bytes as f64 - 10.0).abs() < 0.01);
        let bytes: usize = (0..600).map(|i| s.size(i).0).sum();
        let kbps = bytes as f64 * 8.0 / 20.0 / 1000.0;
        assert!((kbps - 2000.0).abs() < 100.0, "{kbps} kbit/s");
        assert!(s.size(0).1 && s.size(60).1 && !s.size(59).1);
    }
}
