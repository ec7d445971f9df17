//! One str0m `Rtc` on one UDP socket, driven by one tokio task.
//!
//! The task obeys str0m's rule: every mutation (an input, a write, a channel send)
//! is followed by draining `poll_output` until it yields `Output::Timeout`. The
//! datagrams produced while draining are collected and sent afterwards, so the
//! engine is never left with queued output while the task waits on I/O.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use str0m::channel::ChannelId;
use str0m::media::{KeyframeRequestKind, MediaKind, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use crate::ClientError;

/// Connection state of a peer, as a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerState {
    /// The last ICE connection state str0m reported.
    pub ice: IceConnectionState,
    /// DTLS (and SRTP) is up: media can flow.
    pub connected: bool,
    /// The data channel (if any) is open.
    pub channel_open: bool,
    /// The run loop has ended (closed, or the `Rtc` died).
    pub closed: bool,
}

impl Default for PeerState {
    fn default() -> Self {
        PeerState { ice: IceConnectionState::New, connected: false, channel_open: false, closed: false }
    }
}

/// One received audio or video frame.
#[derive(Debug, Clone)]
pub struct MediaFrame {
    pub kind: MediaKind,
    /// The negotiated codec of this frame.
    pub codec: str0m::format::Codec,
    pub mid: Mid,
    /// The depacketized frame.
    pub data: Arc<[u8]>,
    /// RTP time, extended to 64 bits by str0m (90 kHz video, 48 kHz audio).
    pub rtp_time: u64,
    /// The clock rate of `rtp_time`.
    pub clock_rate: u32,
    pub keyframe: bool,
    /// False if str0m saw a gap in RTP sequence numbers before this frame.
    pub contiguous: bool,
    pub received_at: Instant,
}

/// One received DataChannel message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMessage {
    pub binary: bool,
    pub data: Vec<u8>,
}

impl DataMessage {
    /// The message as text (lossy), for assertions.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Counters shared with the owner of the peer.
#[derive(Debug, Default)]
pub struct Counters {
    pub video_frames_sent: AtomicU64,
    pub audio_frames_sent: AtomicU64,
    pub keyframe_requests_received: AtomicU64,
    pub datagrams_in: AtomicU64,
    pub datagrams_out: AtomicU64,
    /// Received frames str0m could not depacketize (dropped; the peer stays up).
    pub bad_packets: AtomicU64,
}

pub(crate) enum Cmd {
    Write { kind: MediaKind, time: MediaTime, data: Vec<u8>, reply: oneshot::Sender<Result<(), ClientError>> },
    Data { binary: bool, data: Vec<u8>, reply: oneshot::Sender<Result<(), ClientError>> },
    RequestKeyframe { reply: oneshot::Sender<Result<(), ClientError>> },
    Close,
}

/// Negotiated send parameters per kind.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tracks {
    pub video: Option<(Mid, Pt)>,
    pub audio: Option<(Mid, Pt)>,
    /// The receive mid of video (subscriber), for keyframe requests.
    pub video_recv: Option<Mid>,
}

/// What the run loop needs besides the `Rtc`.
pub(crate) struct Driver {
    pub rtc: Rtc,
    pub tracks: Tracks,
    pub channel: Option<ChannelId>,
    pub state: watch::Sender<PeerState>,
    pub media_tx: mpsc::UnboundedSender<MediaFrame>,
    pub data_tx: mpsc::UnboundedSender<DataMessage>,
    pub counters: Arc<Counters>,
    pub pending: Vec<(SocketAddr, Vec<u8>)>,
}

impl Driver {
    /// Poll until `Timeout`; collect datagrams, dispatch events. `None` when the
    /// `Rtc` is no longer alive.
    pub fn drain(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                return None;
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return Some(t),
                Ok(Output::Transmit(t)) => self.pending.push((t.destination, t.contents.to_vec())),
                Ok(Output::Event(e)) => self.on_event(e),
                // One frame that cannot be depacketized (truncated or malformed, e.g. a
                // payload the negotiated packetization does not describe) loses that
                // frame, not the connection.
                Err(str0m::RtcError::Packet(mid, pt, e)) => {
                    self.counters.bad_packets.fetch_add(1, Relaxed);
                    tracing::debug!(%mid, %pt, "dropping a frame that cannot be depacketized: {e}");
                }
                Err(e) => {
                    tracing::debug!("poll_output failed: {e}");
                    self.rtc.disconnect();
                    return None;
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Connected => self.state.send_modify(|s| s.connected = true),
            Event::IceConnectionStateChange(ice) => self.state.send_modify(|s| s.ice = ice),
            Event::MediaData(d) => {
                let frame = MediaFrame {
                    kind: if d.params.spec().codec.is_audio() { MediaKind::Audio } else { MediaKind::Video },
                    codec: d.params.spec().codec,
                    mid: d.mid,
                    keyframe: d.is_keyframe(),
                    rtp_time: d.time.numer(),
                    clock_rate: d.time.frequency().get(),
                    contiguous: d.contiguous,
                    data: d.data,
                    received_at: Instant::now(),
                };
                let _ = self.media_tx.send(frame);
            }
            Event::ChannelOpen(id, _label) => {
                self.channel = Some(id);
                self.state.send_modify(|s| s.channel_open = true);
            }
            Event::ChannelClose(id) if self.channel == Some(id) => {
                self.state.send_modify(|s| s.channel_open = false);
            }
            Event::ChannelData(d) => {
                let _ = self.data_tx.send(DataMessage { binary: d.binary, data: d.data });
            }
            Event::KeyframeRequest(_) => {
                self.counters.keyframe_requests_received.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }

    fn apply(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Write { kind, time, data, reply } => {
                let track = if kind == MediaKind::Video { self.tracks.video } else { self.tracks.audio };
                let r = match track {
                    None => Err(ClientError::NotNegotiated(if kind == MediaKind::Video { "video" } else { "audio" })),
                    Some((mid, pt)) => match self.rtc.writer(mid) {
                        None => Err(ClientError::NotNegotiated("media writer")),
                        Some(w) => w.write(pt, Instant::now(), time, data).map_err(|e| ClientError::Rtc(e.to_string())),
                    },
                };
                if r.is_ok() {
                    let c = if kind == MediaKind::Video {
                        &self.counters.video_frames_sent
                    } else {
                        &self.counters.audio_frames_sent
                    };
                    c.fetch_add(1, Relaxed);
                }
                let _ = reply.send(r);
            }
            Cmd::Data { binary, data, reply } => {
                let r = match self.channel.and_then(|id| self.rtc.channel(id)) {
                    None => Err(ClientError::NotNegotiated("open data channel")),
                    Some(mut ch) => match ch.write(binary, &data) {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(ClientError::Rtc("data channel buffer full".into())),
                        Err(e) => Err(ClientError::Rtc(e.to_string())),
                    },
                };
                let _ = reply.send(r);
            }
            Cmd::RequestKeyframe { reply } => {
                let r = match self.tracks.video_recv.and_then(|mid| self.rtc.writer(mid)) {
                    None => Err(ClientError::NotNegotiated("video")),
                    Some(mut w) => {
                        w.request_keyframe(None, KeyframeRequestKind::Pli).map_err(|e| ClientError::Rtc(e.to_string()))
                    }
                };
                let _ = reply.send(r);
            }
            Cmd::Close => self.rtc.disconnect(),
        }
    }

    async fn flush(&mut self, socket: &UdpSocket) {
        for (dest, data) in self.pending.drain(..) {
            if socket.send_to(&data, dest).await.is_ok() {
                self.counters.datagrams_out.fetch_add(1, Relaxed);
            }
        }
    }

    /// The run loop: wait for a command, a datagram or the timeout; apply that ONE
    /// mutation; drain; send. Ends when the `Rtc` dies or `Close` arrives.
    pub async fn run(mut self, socket: UdpSocket, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let local = match socket.local_addr() {
            Ok(a) => a,
            Err(_) => return,
        };
        let mut buf = vec![0u8; 2048];
        while let Some(timeout) = self.drain() {
            self.flush(&socket).await;
            // str0m may report a far-away timeout; wake at least every 100 ms anyway.
            let deadline = timeout.min(Instant::now() + Duration::from_millis(100));
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Close) | None => {
                        self.rtc.disconnect();
                        break;
                    }
                    Some(c) => self.apply(c),
                },
                r = socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r {
                        self.counters.datagrams_in.fetch_add(1, Relaxed);
                        if let Ok(contents) = buf[..n].try_into() {
                            let input = Input::Receive(
                                Instant::now(),
                                Receive { proto: Protocol::Udp, source, destination: local, contents },
                            );
                            if let Err(e) = self.rtc.handle_input(input) {
                                tracing::debug!("input rejected: {e}");
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                    if let Err(e) = self.rtc.handle_input(Input::Timeout(Instant::now())) {
                        tracing::debug!("timeout input failed: {e}");
                    }
                }
            }
        }
        self.state.send_modify(|s| {
            s.closed = true;
            s.connected = false;
            s.channel_open = false;
        });
    }
}
