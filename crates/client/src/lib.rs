//! WHIP/WHEP client peers built on str0m, for integration tests, load tools and
//! cascading experiments.
//!
//! A [`Publisher`] (WHIP) or [`Subscriber`] (WHEP) is one str0m `Rtc` acting as a
//! full-ICE, controlling offerer: it binds one UDP socket (by default on 127.0.0.1,
//! port 0) and advertises it as a host candidate, builds the offer with
//! `sdp_api().add_media(...)` / `add_channel(...)`, POSTs it with
//! [`whip::WhipClient`], applies the answer, and then runs on its own
//! tokio task that feeds `Input::Receive` / `Input::Timeout` and drains `poll_output`
//! to `Timeout` after every mutation. Media is written at the frame level (str0m
//! packetizes), and received frames, DataChannel messages and the connection state are
//! exposed through channels. [`synth`] makes VP8/H.264/audio frames that carry a
//! sequence number and a checksum so a receiver can prove they arrived intact and in
//! order.

mod peer;
pub mod synth;
pub mod whip;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::{Candidate, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use whip::{Answer, WhipClient};

pub use peer::{Counters, DataMessage, MediaFrame, PeerState};
pub use str0m::IceConnectionState;
pub use str0m::format::Codec as RtpCodec;
pub use str0m::media::MediaKind as Kind;

/// Video codec a client offers (and, for a publisher, sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    Vp8,
    H264,
}

impl VideoCodec {
    fn str0m(self) -> Codec {
        match self {
            VideoCodec::Vp8 => Codec::Vp8,
            VideoCodec::H264 => Codec::H264,
        }
    }
}

/// What a [`Publisher`] offers to send.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub video: Option<VideoCodec>,
    /// Opus audio.
    pub audio: bool,
    pub data_channel: bool,
    /// Local address to bind the UDP socket on (port 0 = any).
    pub bind: SocketAddr,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions { video: Some(VideoCodec::Vp8), audio: true, data_channel: false, bind: loopback() }
    }
}

/// What a [`Subscriber`] offers to receive.
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    pub video: Option<VideoCodec>,
    pub audio: bool,
    pub data_channel: bool,
    pub bind: SocketAddr,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions { video: Some(VideoCodec::Vp8), audio: true, data_channel: false, bind: loopback() }
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
}

/// Anything that went wrong on the client side.
#[derive(Debug)]
pub enum ClientError {
    /// The server answered with a non-201 status (or the request failed: `status` None).
    Http {
        status: Option<u16>,
        body: String,
    },
    /// The answer SDP could not be parsed or applied.
    Sdp(String),
    /// str0m refused an operation.
    Rtc(String),
    Io(std::io::Error),
    /// A wait ran out of time.
    Timeout(String),
    /// The thing asked for was not negotiated (or not open yet).
    NotNegotiated(&'static str),
    /// The peer's run loop has ended.
    Closed,
}

impl ClientError {
    /// HTTP status, if the error is an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => *status,
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Http { status: Some(s), body } => write!(f, "HTTP {s}: {}", body.trim()),
            ClientError::Http { status: None, body } => write!(f, "HTTP request failed: {body}"),
            ClientError::Sdp(m) => write!(f, "answer rejected: {m}"),
            ClientError::Rtc(m) => write!(f, "str0m: {m}"),
            ClientError::Io(e) => write!(f, "I/O: {e}"),
            ClientError::Timeout(m) => write!(f, "timed out waiting for {m}"),
            ClientError::NotNegotiated(m) => write!(f, "not negotiated: {m}"),
            ClientError::Closed => write!(f, "peer is closed"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<whip::WhipError> for ClientError {
    fn from(e: whip::WhipError) -> Self {
        ClientError::Http { status: e.status, body: e.message }
    }
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// Which side of a stream an offer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// WHIP: sendonly media.
    Publish,
    /// WHEP: recvonly media.
    Subscribe,
}

struct Built {
    rtc: Rtc,
    offer: SdpOffer,
    pending: SdpPendingOffer,
    video_mid: Option<Mid>,
    audio_mid: Option<Mid>,
}

fn build_offer(
    role: Role,
    video: Option<VideoCodec>,
    audio: bool,
    data_channel: bool,
    local: Option<SocketAddr>,
) -> Result<Built, ClientError> {
    build_offer_with(role, video, audio, data_channel, local, false)
}

/// `all_codecs`: offer every video and audio codec str0m supports (recorders accept
/// whatever the publisher sends) instead of just `video` and Opus.
fn build_offer_with(
    role: Role,
    video: Option<VideoCodec>,
    audio: bool,
    data_channel: bool,
    local: Option<SocketAddr>,
    all_codecs: bool,
) -> Result<Built, ClientError> {
    let mut b = Rtc::builder().clear_codecs();
    match video {
        _ if all_codecs && video.is_some() => {
            b = b.enable_h264(true).enable_vp8(true).enable_vp9(true).enable_av1(true).enable_h265(true)
        }
        Some(VideoCodec::Vp8) => b = b.enable_vp8(true),
        Some(VideoCodec::H264) => b = b.enable_h264(true),
        None => {}
    }
    if audio {
        b = b.enable_opus(true, false);
        if all_codecs {
            b = b.enable_g722(true, false).enable_pcmu(true, false).enable_pcma(true, false);
        }
    }
    let mut rtc = b.build(Instant::now());
    if let Some(addr) = local {
        let c = Candidate::host(addr, "udp").map_err(|e| ClientError::Rtc(e.to_string()))?;
        rtc.add_local_candidate(c);
    }
    let dir = if role == Role::Publish { Direction::SendOnly } else { Direction::RecvOnly };
    let mut api = rtc.sdp_api();
    let video_mid = video.map(|_| api.add_media(MediaKind::Video, dir, None, None, None));
    let audio_mid = audio.then(|| api.add_media(MediaKind::Audio, dir, None, None, None));
    if data_channel {
        api.add_channel("wishcast".into());
    }
    let (offer, pending) =
        api.apply().ok_or(ClientError::NotNegotiated("an offer needs at least one media or channel"))?;
    Ok(Built { rtc, offer, pending, video_mid, audio_mid })
}

/// A valid offer SDP without any peer behind it (no candidates): for tests that only
/// need a well-formed WHIP/WHEP request body.
pub fn offer_sdp(role: Role, video: Option<VideoCodec>, audio: bool, data_channel: bool) -> String {
    build_offer(role, video, audio, data_channel, None).map(|b| b.offer.to_sdp_string()).unwrap_or_default()
}

/// The part shared by publishers and subscribers.
struct Peer {
    http: WhipClient,
    token: Option<String>,
    answer: Answer,
    local_addr: SocketAddr,
    cmd: mpsc::UnboundedSender<peer::Cmd>,
    state: watch::Receiver<PeerState>,
    media: mpsc::UnboundedReceiver<MediaFrame>,
    data: mpsc::UnboundedReceiver<DataMessage>,
    counters: Arc<Counters>,
    deleted: bool,
}

impl Peer {
    #[allow(clippy::too_many_arguments)]
    async fn connect(
        url: &str,
        token: Option<&str>,
        role: Role,
        video: Option<VideoCodec>,
        audio: bool,
        data_channel: bool,
        bind: SocketAddr,
        all_codecs: bool,
        headers: &[(&str, &str)],
    ) -> Result<Peer, ClientError> {
        let socket = UdpSocket::bind(bind).await?;
        let local_addr = socket.local_addr()?;
        let Built { rtc, offer, pending, video_mid, audio_mid } =
            build_offer_with(role, video, audio, data_channel, Some(local_addr), all_codecs)?;
        let (state_tx, state_rx) = watch::channel(PeerState::default());
        let (media_tx, media_rx) = mpsc::unbounded_channel();
        let (data_tx, data_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let mut d = peer::Driver {
            rtc,
            tracks: Default::default(),
            channel: None,
            state: state_tx,
            media_tx,
            data_tx,
            counters: counters.clone(),
            pending: Vec::new(),
        };
        // `add_local_candidate` and `apply` were mutations: drain before the next one.
        d.drain();

        let http = WhipClient::default();
        let answer = http.offer_with(url, &offer.to_sdp_string(), token, headers).await?;
        let sdp = SdpAnswer::from_sdp_string(&answer.sdp).map_err(|e| ClientError::Sdp(e.to_string()))?;
        d.rtc.sdp_api().accept_answer(pending, sdp).map_err(|e| ClientError::Sdp(e.to_string()))?;
        d.drain();

        let pick = |rtc: &mut Rtc, mid: Option<Mid>, codec: Codec| {
            let mid = mid?;
            let w = rtc.writer(mid)?;
            let pt = w.payload_params().find(|p| p.spec().codec == codec)?.pt();
            Some((mid, pt))
        };
        if role == Role::Publish {
            d.tracks.video = video.and_then(|v| pick(&mut d.rtc, video_mid, v.str0m()));
            d.tracks.audio = if audio { pick(&mut d.rtc, audio_mid, Codec::Opus) } else { None };
        } else {
            d.tracks.video_recv = video_mid;
        }

        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        tokio::spawn(d.run(socket, cmd_rx));
        Ok(Peer {
            http,
            token: token.map(str::to_string),
            answer,
            local_addr,
            cmd: cmd_tx,
            state: state_rx,
            media: media_rx,
            data: data_rx,
            counters,
            deleted: false,
        })
    }

    async fn wait_state(
        &self,
        what: &str,
        timeout: Duration,
        f: impl Fn(&PeerState) -> bool,
    ) -> Result<(), ClientError> {
        let mut rx = self.state.clone();
        let r = tokio::time::timeout(timeout, async {
            loop {
                {
                    let s = rx.borrow_and_update();
                    if f(&s) {
                        return Ok(());
                    }
                    if s.closed {
                        return Err(ClientError::Closed);
                    }
                }
                if rx.changed().await.is_err() {
                    return Err(ClientError::Closed);
                }
            }
        })
        .await;
        match r {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout(format!("{what} (state: {:?})", *self.state.borrow()))),
        }
    }

    async fn call(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), ClientError>>) -> peer::Cmd,
    ) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(make(tx)).map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)?
    }

    async fn close(&mut self) -> Result<u16, ClientError> {
        let status = if self.deleted {
            None
        } else {
            self.deleted = true;
            Some(self.http.delete(&self.answer.location, self.token.as_deref()).await)
        };
        let _ = self.cmd.send(peer::Cmd::Close);
        match status {
            Some(r) => Ok(r?),
            None => Err(ClientError::Closed),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.cmd.send(peer::Cmd::Close);
    }
}

macro_rules! common_methods {
    () => {
        /// Absolute URL of the WHIP/WHEP session resource (`Location`).
        pub fn session_url(&self) -> &str {
            &self.peer.answer.location
        }

        /// The session's ETag from the 201 answer.
        pub fn etag(&self) -> Option<&str> {
            self.peer.answer.etag.as_deref()
        }

        /// The answer SDP.
        pub fn answer_sdp(&self) -> &str {
            &self.peer.answer.sdp
        }

        /// `Link` headers of the 201 answer.
        pub fn links(&self) -> &[String] {
            &self.peer.answer.links
        }

        /// The local UDP address (the host candidate).
        pub fn local_addr(&self) -> SocketAddr {
            self.peer.local_addr
        }

        /// Current connection state.
        pub fn state(&self) -> PeerState {
            *self.peer.state.borrow()
        }

        /// A watch on the connection state.
        pub fn state_watch(&self) -> watch::Receiver<PeerState> {
            self.peer.state.clone()
        }

        pub fn counters(&self) -> &Counters {
            &self.peer.counters
        }

        /// Wait until DTLS is up (media can flow).
        pub async fn wait_connected(&self, timeout: Duration) -> Result<(), ClientError> {
            self.peer.wait_state("connection", timeout, |s| s.connected).await
        }

        /// Wait until the data channel is open.
        pub async fn wait_channel_open(&self, timeout: Duration) -> Result<(), ClientError> {
            self.peer.wait_state("data channel", timeout, |s| s.channel_open).await
        }

        /// Wait until the run loop has ended (e.g. the server closed the session).
        pub async fn wait_closed(&self, timeout: Duration) -> Result<(), ClientError> {
            let mut rx = self.peer.state.clone();
            tokio::time::timeout(timeout, async move {
                loop {
                    if rx.borrow_and_update().closed {
                        return;
                    }
                    if rx.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await
            .map_err(|_| ClientError::Timeout("close".into()))
        }

        /// Send a DataChannel message (the channel must be open).
        pub async fn send_data(&self, binary: bool, data: &[u8]) -> Result<(), ClientError> {
            let data = data.to_vec();
            self.peer.call(|reply| peer::Cmd::Data { binary, data, reply }).await
        }

        pub async fn send_text(&self, text: &str) -> Result<(), ClientError> {
            self.send_data(false, text.as_bytes()).await
        }

        pub async fn send_binary(&self, data: &[u8]) -> Result<(), ClientError> {
            self.send_data(true, data).await
        }

        /// The next DataChannel message, or `None` after `timeout` / when closed.
        pub async fn recv_data(&mut self, timeout: Duration) -> Option<DataMessage> {
            tokio::time::timeout(timeout, self.peer.data.recv()).await.ok().flatten()
        }

        /// PATCH a trickle-ice-sdpfrag to the session (returns status and body).
        pub async fn patch(&self, frag: &str, if_match: Option<&str>) -> Result<(u16, String), ClientError> {
            Ok(self.peer.http.patch(&self.peer.answer.location, frag, if_match, self.peer.token.as_deref()).await?)
        }

        /// DELETE the session and stop the peer; returns the DELETE status.
        pub async fn close(&mut self) -> Result<u16, ClientError> {
            self.peer.close().await
        }
    };
}

/// A WHIP publisher.
pub struct Publisher {
    peer: Peer,
    video_codec: Option<VideoCodec>,
    started: Instant,
    last_video: Option<u64>,
    last_audio: Option<u64>,
}

impl Publisher {
    /// POST an offer to `whip_url` and start the peer. Returns once the answer is
    /// applied; use [`Publisher::wait_connected`] before sending media.
    pub async fn connect(whip_url: &str, token: Option<&str>, opts: PublishOptions) -> Result<Publisher, ClientError> {
        let peer = Peer::connect(
            whip_url,
            token,
            Role::Publish,
            opts.video,
            opts.audio,
            opts.data_channel,
            opts.bind,
            false,
            &[],
        )
        .await?;
        Ok(Publisher { peer, video_codec: opts.video, started: Instant::now(), last_video: None, last_audio: None })
    }

    common_methods!();

    /// The negotiated video codec.
    pub fn video_codec(&self) -> Option<VideoCodec> {
        self.video_codec
    }

    fn clock(&self, rate: u64, last: Option<u64>) -> u64 {
        let t = (self.started.elapsed().as_micros() as u64).saturating_mul(rate) / 1_000_000;
        // Strictly increasing, or str0m would merge two frames into one.
        match last {
            Some(l) if t <= l => l + 1,
            _ => t,
        }
    }

    /// Send one video frame (a complete access unit); RTP time is the 90 kHz
    /// wallclock since the publisher started. `keyframe` is informational: the
    /// bitstream itself says what it is (see [`synth`]).
    pub async fn send_video_frame(&mut self, data: Vec<u8>, keyframe: bool) -> Result<(), ClientError> {
        let _ = keyframe;
        let t = self.clock(90_000, self.last_video);
        self.last_video = Some(t);
        self.send_video_at(data, t).await
    }

    /// Send one video frame at an explicit 90 kHz RTP time.
    pub async fn send_video_at(&self, data: Vec<u8>, rtp_90k: u64) -> Result<(), ClientError> {
        let time = MediaTime::from_90khz(rtp_90k);
        self.peer.call(|reply| peer::Cmd::Write { kind: MediaKind::Video, time, data, reply }).await
    }

    /// Send one audio frame (an Opus packet); RTP time is the 48 kHz wallclock.
    pub async fn send_audio(&mut self, data: Vec<u8>) -> Result<(), ClientError> {
        let t = self.clock(48_000, self.last_audio);
        self.last_audio = Some(t);
        let time = MediaTime::new(t, str0m::media::Frequency::FORTY_EIGHT_KHZ);
        self.peer.call(|reply| peer::Cmd::Write { kind: MediaKind::Audio, time, data, reply }).await
    }

    /// How many keyframe requests (PLI/FIR) the server sent.
    pub fn keyframe_requests(&self) -> u64 {
        self.peer.counters.keyframe_requests_received.load(Relaxed)
    }
}

/// A WHEP subscriber.
pub struct Subscriber {
    peer: Peer,
}

impl Subscriber {
    /// POST an offer to `whep_url` and start the peer.
    pub async fn connect(
        whep_url: &str,
        token: Option<&str>,
        opts: SubscribeOptions,
    ) -> Result<Subscriber, ClientError> {
        let peer = Peer::connect(
            whep_url,
            token,
            Role::Subscribe,
            opts.video,
            opts.audio,
            opts.data_channel,
            opts.bind,
            false,
            &[],
        )
        .await?;
        Ok(Subscriber { peer })
    }

    /// Like [`Subscriber::connect`] but offering every codec str0m supports (H.264,
    /// H.265, VP8, VP9, AV1; Opus, G.722, PCMU, PCMA) so that whatever the publisher
    /// sends is negotiated; each [`MediaFrame`] says which codec it carries. Used by
    /// the recorder. `opts.video`/`opts.audio` only say whether to offer each kind;
    /// `headers` go with the WHEP POST (e.g. the relay marker).
    pub async fn connect_any_codec(
        whep_url: &str,
        token: Option<&str>,
        opts: SubscribeOptions,
        headers: &[(&str, &str)],
    ) -> Result<Subscriber, ClientError> {
        let peer = Peer::connect(
            whep_url,
            token,
            Role::Subscribe,
            opts.video,
            opts.audio,
            opts.data_channel,
            opts.bind,
            true,
            headers,
        )
        .await?;
        Ok(Subscriber { peer })
    }

    common_methods!();

    /// The next received media frame, or `None` after `timeout` / when closed.
    pub async fn recv_media(&mut self, timeout: Duration) -> Option<MediaFrame> {
        tokio::time::timeout(timeout, self.peer.media.recv()).await.ok().flatten()
    }

    /// A received frame if one is queued, without waiting.
    pub fn try_recv_media(&mut self) -> Option<MediaFrame> {
        self.peer.media.try_recv().ok()
    }

    /// Ask the server for a keyframe (PLI).
    pub async fn request_keyframe(&self) -> Result<(), ClientError> {
        self.peer.call(|reply| peer::Cmd::RequestKeyframe { reply }).await
    }
}
