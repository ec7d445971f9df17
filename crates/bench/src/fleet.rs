//! The subscriber fleet: ONE thread owns every subscriber `Rtc` (str0m in RTP mode)
//! and its UDP socket. Readiness comes from one mio `Poll` (epoll) over all sockets,
//! str0m timeouts from one deadline heap, and commands from the async side through
//! a channel plus a mio `Waker`. Received RTP packets are only counted (per SSRC,
//! see [`crate::count`]), never depacketized.
//!
//! Heap discipline: each subscriber has at most one live heap entry (`scheduled`);
//! a later str0m deadline does not add an entry (the early one fires, sees the
//! deadline has moved and re-arms), an earlier one does (the old entry goes stale
//! and is skipped when popped).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use str0m::net::{Protocol, Receive};
use str0m::{Event, Input, Output, Rtc};
use tokio::sync::oneshot;

use crate::args::CountMode;
use crate::count::{rtp_fields, starts_keyframe, SsrcCount};

const WAKER: Token = Token(usize::MAX);

/// A subscriber whose answer is applied, handed to the loop.
pub struct NewSub {
    pub id: usize,
    pub rtc: Rtc,
    /// Non-blocking.
    pub socket: std::net::UdpSocket,
    pub posted_at: Instant,
    /// When the 201 answer arrived.
    pub answered_at: Instant,
    /// Negotiated payload types (for counting by header).
    pub video_pts: Vec<u8>,
    pub audio_pts: Vec<u8>,
    /// Resolved with the first media packet, or an error if the peer dies first.
    pub joined: oneshot::Sender<Result<(), String>>,
}

pub enum Cmd {
    Add(Box<NewSub>),
    /// The join timed out: stop the peer, count it as failed.
    Abandon(usize),
    OpenWindow,
    /// Close the window and report.
    CloseWindow(oneshot::Sender<Vec<SubStats>>),
    Stop,
}

/// What one subscriber saw.
#[derive(Debug, Clone, Default)]
pub struct SubStats {
    pub id: usize,
    pub alive: bool,
    pub connected: bool,
    /// WHEP POST → 201 answer.
    pub answer: Duration,
    /// WHEP POST → DTLS connected.
    pub connect: Option<Duration>,
    /// WHEP POST → first RTP packet (any kind).
    pub first_media: Option<Duration>,
    /// WHEP POST → first packet starting a video keyframe.
    pub first_keyframe: Option<Duration>,
    pub window_packets: u64,
    pub window_video_packets: u64,
    pub window_video_frames: u64,
    pub window_audio_packets: u64,
    /// Datagrams this subscriber sent (STUN, DTLS, RTCP feedback) in the window.
    pub window_datagrams_out: u64,
    /// Header mode: RTP packets of no negotiated media payload type (RTX, probes).
    pub window_other_packets: u64,
    pub window_bytes: u64,
    pub window_expected: u64,
    pub window_lost: u64,
    pub window_gaps: u64,
    pub window_late: u64,
    pub total_packets: u64,
    pub send_errors: u64,
}

struct Sub {
    id: usize,
    rtc: Rtc,
    socket: mio::net::UdpSocket,
    local: SocketAddr,
    posted_at: Instant,
    answered_at: Instant,
    connected_at: Option<Instant>,
    first_media: Option<Instant>,
    first_key: Option<Instant>,
    ssrcs: Vec<SsrcCount>,
    joined: Option<oneshot::Sender<Result<(), String>>>,
    video_pts: Vec<u8>,
    audio_pts: Vec<u8>,
    deadline: Instant,
    scheduled: Option<Instant>,
    alive: bool,
    send_errors: u64,
    datagrams_out: u64,
    window_datagrams_base: u64,
    window_other: u64,
}

/// The async side's handle on the loop thread.
#[derive(Clone)]
pub struct FleetHandle {
    tx: mpsc::Sender<Cmd>,
    waker: Arc<Waker>,
    /// Kernel thread id of the loop (for its CPU time), 0 until known.
    pub tid: Arc<AtomicI32>,
}

impl FleetHandle {
    pub fn send(&self, cmd: Cmd) {
        if self.tx.send(cmd).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

/// Start the loop thread. `h264`: how to recognise keyframes.
pub fn spawn(h264: bool, mode: CountMode) -> std::io::Result<(FleetHandle, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = mpsc::channel();
    let tid = Arc::new(AtomicI32::new(0));
    let t = tid.clone();
    let thread = std::thread::Builder::new().name("bench-fleet".into()).spawn(move || {
        // SAFETY: gettid has no preconditions.
        t.store(unsafe { libc::gettid() }, Ordering::Relaxed);
        Fleet { poll, rx, h264, headers: mode == CountMode::Headers, subs: Vec::new(), heap: BinaryHeap::new(), window: false }
            .run()
    })?;
    Ok((FleetHandle { tx, waker, tid }, thread))
}

struct Fleet {
    poll: Poll,
    rx: mpsc::Receiver<Cmd>,
    h264: bool,
    /// Count SRTP packets by header instead of through str0m.
    headers: bool,
    subs: Vec<Sub>,
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    window: bool,
}

impl Fleet {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut buf = vec![0u8; 2048];
        let mut due = Vec::new();
        loop {
            let now = Instant::now();
            let wait = self.heap.peek().map_or(Duration::from_millis(100), |Reverse((t, _))| {
                t.saturating_duration_since(now).min(Duration::from_millis(100))
            });
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("bench fleet: poll failed: {e}");
                return;
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {
                        if !self.commands() {
                            return;
                        }
                    }
                    Token(i) => self.readable(i, &mut buf),
                }
            }
            // Timeouts due now; entries re-armed while handling them wait for the next turn.
            let now = Instant::now();
            while let Some(&Reverse((t, i))) = self.heap.peek() {
                if t > now {
                    break;
                }
                self.heap.pop();
                due.push((t, i));
            }
            for (t, i) in due.drain(..) {
                let s = &mut self.subs[i];
                if s.scheduled != Some(t) {
                    continue; // stale
                }
                s.scheduled = None;
                if !s.alive {
                    continue;
                }
                if s.deadline <= now {
                    if let Err(e) = s.rtc.handle_input(Input::Timeout(now)) {
                        tracing::debug!("subscriber {}: timeout input: {e}", s.id);
                    }
                    self.drain(i);
                } else {
                    self.schedule(i);
                }
            }
        }
    }

    /// Apply queued commands; false on Stop.
    fn commands(&mut self) -> bool {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Cmd::Add(n) => self.add(*n),
                Cmd::Abandon(id) => {
                    if let Some(i) = self.subs.iter().position(|s| s.id == id) {
                        self.subs[i].rtc.disconnect();
                        self.kill(i, "abandoned");
                    }
                }
                Cmd::OpenWindow => {
                    self.window = true;
                    for s in &mut self.subs {
                        s.window_datagrams_base = s.datagrams_out;
                        s.window_other = 0;
                        s.ssrcs.iter_mut().for_each(SsrcCount::open_window);
                    }
                }
                Cmd::CloseWindow(reply) => {
                    self.window = false;
                    self.subs.iter_mut().flat_map(|s| s.ssrcs.iter_mut()).for_each(SsrcCount::close_window);
                    let _ = reply.send(self.subs.iter().map(Sub::stats).collect());
                }
                Cmd::Stop => return false,
            }
        }
        true
    }

    fn add(&mut self, n: NewSub) {
        let i = self.subs.len();
        let local = n.socket.local_addr();
        let mut socket = mio::net::UdpSocket::from_std(n.socket);
        let reg = local.and_then(|l| self.poll.registry().register(&mut socket, Token(i), Interest::READABLE).map(|_| l));
        let (local, err) = match reg {
            Ok(l) => (l, None),
            Err(e) => (SocketAddr::from(([0, 0, 0, 0], 0)), Some(e)),
        };
        self.subs.push(Sub {
            id: n.id,
            rtc: n.rtc,
            socket,
            local,
            posted_at: n.posted_at,
            answered_at: n.answered_at,
            connected_at: None,
            first_media: None,
            first_key: None,
            ssrcs: Vec::new(),
            joined: Some(n.joined),
            video_pts: n.video_pts,
            audio_pts: n.audio_pts,
            deadline: Instant::now(),
            scheduled: None,
            alive: true,
            send_errors: 0,
            datagrams_out: 0,
            window_datagrams_base: 0,
            window_other: 0,
        });
        match err {
            Some(e) => self.kill(i, &format!("cannot register socket: {e}")),
            None => self.drain(i),
        }
    }

    fn readable(&mut self, i: usize, buf: &mut [u8]) {
        let mut errors = 0;
        loop {
            let s = &mut self.subs[i];
            if !s.alive {
                return;
            }
            let (n, source) = match s.socket.recv_from(buf) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // e.g. ICMP port unreachable surfacing as ECONNREFUSED: keep reading.
                Err(_) if errors < 8 => {
                    errors += 1;
                    continue;
                }
                Err(_) => return,
            };
            if self.headers && s.connected_at.is_some() {
                if let Some(h) = rtp_fields(&buf[..n]) {
                    s.count_header(h, n, self.window);
                    continue;
                }
            }
            let Ok(contents) = buf[..n].try_into() else { continue };
            let input = Input::Receive(
                Instant::now(),
                Receive { proto: Protocol::Udp, source, destination: s.local, contents },
            );
            if let Err(e) = s.rtc.handle_input(input) {
                tracing::trace!("subscriber {}: input rejected: {e}", s.id);
            }
            // RTP mode keeps one pending packet: drain after every input.
            self.drain(i);
        }
    }

    /// poll_output until Timeout, sending datagrams and counting events.
    fn drain(&mut self, i: usize) {
        let (h264, window) = (self.h264, self.window);
        let s = &mut self.subs[i];
        loop {
            if !s.rtc.is_alive() {
                self.kill(i, "peer closed");
                return;
            }
            match s.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    s.deadline = t;
                    break;
                }
                Ok(Output::Transmit(t)) => match s.socket.send_to(&t.contents, t.destination) {
                    Ok(_) => s.datagrams_out += 1,
                    Err(_) => s.send_errors += 1,
                },
                Ok(Output::Event(e)) => s.on_event(e, h264, window),
                Err(e) => {
                    tracing::debug!("subscriber {}: poll_output: {e}", s.id);
                    self.kill(i, &format!("str0m: {e}"));
                    return;
                }
            }
        }
        self.schedule(i);
    }

    fn schedule(&mut self, i: usize) {
        let s = &mut self.subs[i];
        if s.alive && s.scheduled.is_none_or(|at| s.deadline < at) {
            s.scheduled = Some(s.deadline);
            self.heap.push(Reverse((s.deadline, i)));
        }
    }

    fn kill(&mut self, i: usize, why: &str) {
        let s = &mut self.subs[i];
        if !s.alive {
            return;
        }
        s.alive = false;
        let _ = self.poll.registry().deregister(&mut s.socket);
        if let Some(j) = s.joined.take() {
            let _ = j.send(Err(why.to_string()));
        }
    }
}

impl Sub {
    fn on_event(&mut self, e: Event, h264: bool, window: bool) {
        match e {
            Event::Connected => self.connected_at = Some(Instant::now()),
            Event::RtpPacket(p) => {
                let now = Instant::now();
                let ssrc = *p.header.ssrc;
                let video = p.time.frequency().get() == 90_000;
                self.ssrc(ssrc, video, window).on_packet(*p.seq_no, p.payload.len(), p.header.timestamp);
                self.got_media(now);
                if video && self.first_key.is_none() && starts_keyframe(h264, &p.payload) {
                    self.first_key = Some(now);
                }
            }
            _ => {}
        }
    }

    fn ssrc(&mut self, ssrc: u32, video: bool, window: bool) -> &mut SsrcCount {
        match self.ssrcs.iter().position(|c| c.ssrc == ssrc) {
            Some(k) => &mut self.ssrcs[k],
            None => {
                let mut c = SsrcCount::new(ssrc, video);
                if window {
                    c.open_window();
                }
                self.ssrcs.push(c);
                self.ssrcs.last_mut().unwrap()
            }
        }
    }

    fn got_media(&mut self, now: Instant) {
        if self.first_media.is_none() {
            self.first_media = Some(now);
            if let Some(j) = self.joined.take() {
                let _ = j.send(Ok(()));
            }
        }
    }

    /// Header mode: count an SRTP packet without decrypting it.
    fn count_header(&mut self, h: crate::count::RtpFields, len: usize, window: bool) {
        let video = self.video_pts.contains(&h.pt);
        if !video && !self.audio_pts.contains(&h.pt) {
            self.window_other += u64::from(window);
            return;
        }
        let c = self.ssrc(h.ssrc, video, window);
        let seq = c.extend(h.seq);
        c.on_packet(seq, len.saturating_sub(12), h.ts);
        self.got_media(Instant::now());
    }

    fn stats(&self) -> SubStats {
        let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(self.posted_at));
        let mut st = SubStats {
            id: self.id,
            alive: self.alive,
            connected: self.connected_at.is_some(),
            answer: self.answered_at.saturating_duration_since(self.posted_at),
            connect: since(self.connected_at),
            first_media: since(self.first_media),
            first_keyframe: since(self.first_key),
            send_errors: self.send_errors,
            window_datagrams_out: self.datagrams_out - self.window_datagrams_base,
            window_other_packets: self.window_other,
            ..Default::default()
        };
        for c in &self.ssrcs {
            st.window_packets += c.window_packets;
            if c.video {
                st.window_video_packets += c.window_packets;
                st.window_video_frames += c.window_frames;
            } else {
                st.window_audio_packets += c.window_packets;
            }
            st.window_bytes += c.window_bytes;
            st.window_expected += c.window_expected();
            st.window_lost += c.window_lost();
            st.window_gaps += c.window_gaps;
            st.window_late += c.window_late;
            st.total_packets += c.total_packets;
        }
        st
    }
}
