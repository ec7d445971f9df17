//! Shared helpers for the node's in-process integration tests: start a node on
//! loopback with ephemeral ports, raw HTTP helpers, wait-until loops, and a
//! synthetic media sender / receiver check built on `wishcast-client`.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use wishcast_client::synth::{self, FrameKind};
use wishcast_client::{Kind, MediaFrame, Publisher, Subscriber, VideoCodec};
use wishcast_node::{NodeConfig, RunningNode};

/// Generous: the suite runs on a loaded 2-core machine.
pub const CONNECT: Duration = Duration::from_secs(20);

pub struct TestNode {
    pub node: RunningNode,
    pub base: String,
    pub http: reqwest::Client,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.node.task.abort();
    }
}

/// A config with everything on 127.0.0.1 and port 0.
pub fn loopback_config() -> NodeConfig {
    let mut cfg = NodeConfig::default();
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.webrtc.listen = "127.0.0.1:0".into();
    cfg.webrtc.tcp_listen = "127.0.0.1:0".into();
    cfg
}

pub async fn start_with(edit: impl FnOnce(&mut NodeConfig)) -> TestNode {
    let mut cfg = loopback_config();
    edit(&mut cfg);
    let node = wishcast_node::start(cfg).await.expect("node starts");
    let base = format!("http://{}", node.http_addr);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    TestNode { node, base, http }
}

pub async fn start() -> TestNode {
    start_with(|_| {}).await
}

impl TestNode {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn whip(&self, stream: &str) -> String {
        self.url(&format!("/whip/{stream}"))
    }
    pub fn whep(&self, stream: &str) -> String {
        self.url(&format!("/whep/{stream}"))
    }

    /// `GET /api/streams/{id}` as JSON (None on 404).
    pub async fn stream_json(&self, id: &str, token: Option<&str>) -> Option<serde_json::Value> {
        let mut rq = self.http.get(self.url(&format!("/api/streams/{id}")));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        let r = rq.send().await.expect("GET stream");
        if r.status().as_u16() == 404 {
            return None;
        }
        assert_eq!(r.status().as_u16(), 200, "GET /api/streams/{id}");
        Some(r.json().await.expect("stream JSON"))
    }

    /// Value of one `wishcast_rtp_packets_total{direction=...}` sample.
    pub async fn rtp_packets(&self, direction: &str) -> u64 {
        let text = self.http.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        metric(&text, &format!("wishcast_rtp_packets_total{{direction=\"{direction}\"}}"))
            .unwrap_or_else(|| panic!("no wishcast_rtp_packets_total{{direction=\"{direction}\"}} in:\n{text}"))
    }
}

/// Parse one sample line `name{labels} value` from Prometheus text.
pub fn metric(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).map(str::trim))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
}

/// Poll `f` every 50 ms until it returns true; panic after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    loop {
        if f().await {
            return;
        }
        if Instant::now() >= end {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until every session of `stream` reports an open data channel.
pub async fn wait_data_channels(node: &TestNode, stream: &str, publishers: usize, subscribers: usize) {
    wait_until("server-side data channels open", CONNECT, || async {
        let Some(s) = node.stream_json(stream, None).await else { return false };
        let open = |side: &str, n: usize| {
            let sessions = s[side]["sessions"].as_array().cloned().unwrap_or_default();
            sessions.len() == n && sessions.iter().all(|x| x["hasDataChannel"] == true)
        };
        open("publish", publishers) && open("subscribe", subscribers)
    })
    .await;
}

/// What a publisher sent.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub seq: u32,
    pub keyframe: bool,
}

/// Frame sizes: keyframes 6-9 KB, delta frames 1.5-4 KB (several RTP packets each).
pub fn frame_size(seq: u32, keyframe: bool) -> usize {
    if keyframe { 6000 + (seq as usize * 397) % 3000 } else { 1500 + (seq as usize * 211) % 2500 }
}

/// Send `count` video frames (seq `first..first+count`; seq % `gop` == 0 is a
/// keyframe) at `fps`, with one audio frame per video frame.
pub async fn send_frames(p: &mut Publisher, first: u32, count: u32, fps: u32, gop: u32, audio: bool) -> Vec<Sent> {
    let codec = p.video_codec().unwrap_or(VideoCodec::Vp8);
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / fps as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0..count {
        tick.tick().await;
        let seq = first + i;
        let keyframe = seq.is_multiple_of(gop);
        let data = synth::video_frame(codec, seq, frame_size(seq, keyframe), keyframe);
        p.send_video_frame(data, keyframe).await.expect("write video");
        if audio {
            p.send_audio(synth::audio_frame(seq, 160)).await.expect("write audio");
        }
        out.push(Sent { seq, keyframe });
    }
    out
}

/// Received frames split by kind, with their checked markers.
#[derive(Debug, Default)]
pub struct Received {
    pub video: Vec<(MediaFrame, synth::FrameCheck)>,
    pub audio: Vec<(MediaFrame, synth::FrameCheck)>,
    /// Frames without a readable marker.
    pub unreadable: usize,
}

impl Received {
    pub fn push(&mut self, f: MediaFrame) {
        match synth::check_frame(&f.data) {
            None => self.unreadable += 1,
            Some(c) if f.kind == Kind::Audio => self.audio.push((f, c)),
            Some(c) => self.video.push((f, c)),
        }
    }

    pub fn last_video_seq(&self) -> Option<u32> {
        self.video.last().map(|(_, c)| c.seq)
    }

    pub fn video_seqs(&self) -> Vec<u32> {
        self.video.iter().map(|(_, c)| c.seq).collect()
    }

    /// Pull everything queued on the subscriber without waiting.
    pub fn drain_from(&mut self, s: &mut Subscriber) {
        while let Some(f) = s.try_recv_media() {
            self.push(f);
        }
    }

    /// Receive until a video frame with `seq >= last` arrived, or `timeout`.
    pub async fn collect_until(&mut self, s: &mut Subscriber, last: u32, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.last_video_seq().map(|x| x < last).unwrap_or(true) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match s.recv_media(left).await {
                Some(f) => self.push(f),
                None => break,
            }
        }
        // Audio sent alongside the last frames may still be in flight: a short grace.
        let grace = Instant::now() + Duration::from_millis(300);
        while let Some(f) = s.recv_media(grace.saturating_duration_since(Instant::now())).await {
            self.push(f);
        }
    }

    /// Assert the video is intact, in order, starts with a keyframe, has no gaps
    /// and ends with `last`; keyframe flags must match what was sent.
    pub fn assert_video(&self, who: &str, sent: &[Sent], last: u32) {
        eprintln!(
            "{who}: {} video frames (seq {:?}..={:?}, rtp {:?}..={:?}), {} audio frames",
            self.video.len(),
            self.video.first().map(|v| v.1.seq),
            self.video.last().map(|v| v.1.seq),
            self.video.first().map(|v| v.0.rtp_time),
            self.video.last().map(|v| v.0.rtp_time),
            self.audio.len()
        );
        assert_eq!(self.unreadable, 0, "{who}: frames without marker");
        assert!(!self.video.is_empty(), "{who}: no video received");
        let seqs = self.video_seqs();
        for (f, c) in &self.video {
            assert!(c.intact, "{who}: video frame {} corrupted ({} bytes)", c.seq, f.data.len());
            let sent_kf = sent.iter().find(|s| s.seq == c.seq).map(|s| s.keyframe);
            assert_eq!(sent_kf, Some(c.kind == FrameKind::Keyframe), "{who}: frame {} kind", c.seq);
            assert_eq!(f.keyframe, c.kind == FrameKind::Keyframe, "{who}: str0m keyframe flag of frame {}", c.seq);
        }
        let (first, fc) = &self.video[0];
        assert!(first.keyframe && fc.kind == FrameKind::Keyframe, "{who}: first frame {} is not a keyframe", fc.seq);
        for w in seqs.windows(2) {
            assert!(w[1] > w[0], "{who}: out of order: {} after {} in {seqs:?}", w[1], w[0]);
            assert_eq!(w[1], w[0] + 1, "{who}: frames missing between {} and {} in {seqs:?}", w[0], w[1]);
        }
        assert_eq!(*seqs.last().unwrap(), last, "{who}: last frame; got {seqs:?}");
        for w in self.video.windows(2) {
            assert!(
                w[1].0.rtp_time > w[0].0.rtp_time,
                "{who}: RTP time not increasing: {} then {} (frames {} and {})",
                w[0].0.rtp_time,
                w[1].0.rtp_time,
                w[0].1.seq,
                w[1].1.seq
            );
        }
    }

    /// Assert at least `min` audio frames arrived intact, in increasing order.
    pub fn assert_audio(&self, who: &str, min: usize) {
        assert!(self.audio.len() >= min, "{who}: only {} audio frames (want >= {min})", self.audio.len());
        for (_, c) in &self.audio {
            assert!(c.intact && c.kind == FrameKind::Audio, "{who}: audio frame {} corrupted", c.seq);
        }
        for w in self.audio.windows(2) {
            assert!(w[1].1.seq > w[0].1.seq, "{who}: audio out of order ({} after {})", w[1].1.seq, w[0].1.seq);
            assert!(w[1].0.rtp_time > w[0].0.rtp_time, "{who}: audio RTP time not increasing");
        }
    }
}
