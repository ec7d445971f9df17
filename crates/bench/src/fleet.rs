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
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use str0m::net::{Protocol, Receive};
use str0m::{Input, Output};
use tokio::sync::oneshot;

use crate::args::CountMode;
pub use crate::count::FrameTicks;
use crate::count::{SsrcCount, rtp_fields};
use crate::mmsg::{BATCH, Batch};
use crate::sub::Sub;
pub use crate::sub::{NewSub, SubStats};

const WAKER: Token = Token(usize::MAX);

pub enum Cmd {
    Add(Box<NewSub>),
    /// The join timed out: stop the peer, count it as failed.
    Abandon(usize),
    OpenWindow,
    /// Close the window and report.
    CloseWindow(oneshot::Sender<Vec<SubStats>>),
    /// RTP packets received so far by all subscribers.
    TotalPackets(oneshot::Sender<u64>),
    Stop,
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
/// How the loop runs.
#[derive(Debug, Clone, Copy)]
pub struct FleetConfig {
    /// Recognise H.264 (instead of VP8) keyframes.
    pub h264: bool,
    pub mode: CountMode,
    pub ticks: FrameTicks,
    /// Minimum length of one loop round: after handling a round of events the thread
    /// sleeps out the rest, so datagrams accumulate and are read in batches instead
    /// of waking the thread (and charging the sending server a wake-up) per burst.
    pub round: Duration,
}

#[allow(unsafe_code)] // gettid
pub fn spawn(cfg: FleetConfig) -> std::io::Result<(FleetHandle, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = mpsc::channel();
    let tid = Arc::new(AtomicI32::new(0));
    let t = tid.clone();
    let thread = std::thread::Builder::new().name("bench-fleet".into()).spawn(move || {
        // SAFETY: gettid has no preconditions.
        t.store(unsafe { libc::gettid() }, Ordering::Relaxed);
        let headers = cfg.mode == CountMode::Headers;
        let (h264, ticks, round) = (cfg.h264, cfg.ticks, cfg.round);
        Fleet { poll, rx, h264, headers, ticks, round, subs: Vec::new(), heap: BinaryHeap::new(), window: false }.run()
    })?;
    Ok((FleetHandle { tx, waker, tid }, thread))
}

struct Fleet {
    poll: Poll,
    rx: mpsc::Receiver<Cmd>,
    h264: bool,
    /// Count SRTP packets by header instead of through str0m.
    headers: bool,
    ticks: FrameTicks,
    round: Duration,
    subs: Vec<Sub>,
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    window: bool,
}

impl Fleet {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut batch = Batch::new();
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
            let woke = Instant::now();
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {
                        if !self.commands() {
                            return;
                        }
                    }
                    Token(i) => self.readable(i, &mut batch),
                }
            }
            let busy = !events.is_empty();
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
            let spent = woke.elapsed();
            if busy && spent < self.round {
                std::thread::sleep(self.round - spent);
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
                    let _ = reply.send(self.subs.iter().map(|s| s.stats(self.ticks)).collect());
                }
                Cmd::TotalPackets(reply) => {
                    let n = self.subs.iter().flat_map(|s| s.ssrcs.iter()).map(|c| c.total_packets).sum();
                    let _ = reply.send(n);
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
        let reg =
            local.and_then(|l| self.poll.registry().register(&mut socket, Token(i), Interest::READABLE).map(|_| l));
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

    /// Read everything queued on subscriber `i`'s socket, a batch per syscall.
    fn readable(&mut self, i: usize, batch: &mut Batch) {
        let mut errors = 0;
        loop {
            if !self.subs[i].alive {
                return;
            }
            let n = match batch.recv(self.subs[i].socket.as_raw_fd()) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // e.g. ICMP port unreachable surfacing as ECONNREFUSED: keep reading.
                Err(_) if errors < 8 => {
                    errors += 1;
                    continue;
                }
                Err(_) => return,
            };
            for k in 0..n {
                let Some((data, source)) = batch.get(k) else {
                    continue;
                };
                let s = &mut self.subs[i];
                if !s.alive {
                    return;
                }
                if self.headers
                    && s.connected_at.is_some()
                    && let Some(h) = rtp_fields(data)
                {
                    s.count_header(h, data.len(), self.window);
                    continue;
                }
                let Ok(contents) = data.try_into() else {
                    continue;
                };
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
            // A short batch emptied the queue; any later datagram raises a new
            // (edge-triggered) readiness event.
            if n < BATCH {
                return;
            }
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
