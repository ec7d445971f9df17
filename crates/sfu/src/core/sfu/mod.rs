//! [`Sfu`], the sans-IO SFU: sessions in, datagrams in, transmits out.
//!
//! Threading model: one `Sfu` is driven by one worker thread; nothing here locks. A
//! node with several workers runs one `Sfu` per worker; they exchange
//! [`Bridge`](crate::core::bridge::Bridge) messages (publisher frames as `Arc`s,
//! keyframe requests...). Every str0m mutation is followed by draining that peer's
//! output (the str0m invariant); events produced while draining go to a work queue
//! that is pumped until empty, so fan-out never recurses.
//!
//! The `impl Sfu` blocks live in the child modules, one concern each; they depend on
//! this module, never the other way round.

mod cascade;
mod control;
mod dispatch;
mod forward;
mod lifecycle;
mod session;
mod snapshot;
mod workers;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::net::{Protocol, Transmit};
use str0m::{Candidate, Event};

use crate::core::bridge::{Bridge, RouteHint};
use crate::core::config::{SfuConfig, SfuEvent};
use crate::core::demux::Demux;
use crate::core::metrics::Metrics;
use crate::core::peer::{Peer, PeerId};
use crate::core::relay::RelayClosed;
use crate::core::stream::Stream;
use crate::core::timers::Timers;

/// One media worker's state machine (see the module docs).
pub struct Sfu {
    cfg: SfuConfig,
    candidates: Vec<Candidate>,
    peers: Vec<Option<Peer>>,
    free: Vec<u32>,
    generations: Vec<u32>,
    sessions: HashMap<String, PeerId>,
    streams: HashMap<String, Stream>,
    demux: Demux,
    timers: Timers,
    transmits: VecDeque<Transmit>,
    work: VecDeque<(PeerId, Event)>,
    events: Vec<SfuEvent>,
    closed_relays: Vec<RelayClosed>,
    /// Recently closed sessions (id → stream, when): DELETE on them is a no-op 200.
    tombstones: HashMap<String, (String, Instant)>,
    metrics: Arc<Metrics>,
    epoch: Instant,
    epoch_ms: u64,
    last_tick: Instant,
    last_layer_update: Instant,
    /// The node's DTLS certificate, shared by its sessions.
    dtls_cert: Option<str0m::config::DtlsCert>,
    /// Messages for other workers.
    bridge_out: Vec<(usize, Bridge)>,
    /// Home worker's view: subscribers per stream on each other worker.
    remote_subs: HashMap<String, Vec<u32>>,
    /// Addresses learned/forgotten, for the socket reader's routing.
    route_hints: Vec<RouteHint>,
    /// Sessions on this worker, for placement.
    load: Arc<std::sync::atomic::AtomicU64>,
    /// Gauge values this worker last added to the shared metrics.
    gauges: [u64; 3],
}

impl Sfu {
    /// `now_ms` is the Unix time in ms at `now` (the core never reads a clock).
    pub fn new(cfg: SfuConfig, now: Instant, now_ms: u64, metrics: Arc<Metrics>) -> Self {
        let mut candidates = Vec::new();
        for a in &cfg.udp_candidates {
            if let Ok(c) = Candidate::host(*a, "udp") {
                candidates.push(c);
            }
        }
        for a in &cfg.tcp_candidates {
            if let Ok(c) = Candidate::builder().tcp().host(*a).tcptype(str0m::net::TcpType::Passive).build() {
                candidates.push(c);
            }
        }
        Sfu {
            cfg,
            candidates,
            peers: Vec::new(),
            free: Vec::new(),
            generations: Vec::new(),
            sessions: HashMap::new(),
            streams: HashMap::new(),
            demux: Demux::default(),
            timers: Timers::default(),
            transmits: VecDeque::new(),
            work: VecDeque::new(),
            events: Vec::new(),
            closed_relays: Vec::new(),
            tombstones: HashMap::new(),
            metrics,
            epoch: now,
            epoch_ms: now_ms,
            last_tick: now,
            last_layer_update: now,
            dtls_cert: str0m::crypto::from_feature_flags().dtls_provider.generate_certificate(),
            bridge_out: Vec::new(),
            remote_subs: HashMap::new(),
            route_hints: Vec::new(),
            load: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            gauges: [0; 3],
        }
    }

    /// Use the node's DTLS certificate (all workers share one).
    pub fn set_dtls_cert(&mut self, cert: Option<str0m::config::DtlsCert>) {
        self.dtls_cert = cert;
    }

    pub fn dtls_cert(&self) -> Option<&str0m::config::DtlsCert> {
        self.dtls_cert.as_ref()
    }

    /// The number of sessions on this worker, kept current for placement.
    pub fn load_gauge(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.load.clone()
    }

    fn update_load(&self) {
        self.load.store(self.sessions.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn config(&self) -> &SfuConfig {
        &self.cfg
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn strategy(&self) -> &wishcast_api::Strategy {
        &self.cfg.strategy
    }

    fn unix_ms(&self, now: Instant) -> u64 {
        self.epoch_ms + now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn peer(&self, id: PeerId) -> Option<&Peer> {
        self.peers.get(id.index as usize).and_then(|p| p.as_ref()).filter(|p| p.id == id)
    }

    fn peer_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.peers.get_mut(id.index as usize).and_then(|p| p.as_mut()).filter(|p| p.id == id)
    }

    fn alloc_id(&mut self) -> PeerId {
        if let Some(index) = self.free.pop() {
            let g = &mut self.generations[index as usize];
            *g = g.wrapping_add(1);
            PeerId { index, generation: *g }
        } else {
            let index = self.peers.len() as u32;
            self.peers.push(None);
            self.generations.push(0);
            PeerId { index, generation: 0 }
        }
    }

    /// A datagram (or an RFC 4571 frame) arrived. `local` is the advertised address of
    /// the socket/listener it arrived on.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        local: SocketAddr,
        data: &[u8],
    ) {
        self.metrics.datagrams_in.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((pid, learned)) = self.demux.route(proto, source, data) else {
            self.metrics.datagrams_unrouted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        };
        let Some(peer) = self.peer_mut(pid) else { return };
        peer.last_rx = now;
        if learned && !peer.addrs.contains(&(proto, source)) {
            peer.addrs.push((proto, source));
            self.hint(proto, source, true);
        }
        let Some(peer) = self.peer_mut(pid) else { return };
        let Ok(contents) = data.try_into() else { return };
        let input = str0m::Input::Receive(now, str0m::net::Receive { proto, source, destination: local, contents });
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(session = %peer.session_id, "input rejected: {e}");
        }
        self.drain(pid, now);
        self.pump(now);
    }

    /// Drive timers. Call at (or after) `poll_timeout()`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, pid)) = self.timers.pop_due(now) {
            let Some(peer) = self.peer_mut(pid) else { continue };
            if peer.deadline != at || !peer.timer_armed {
                continue; // stale entry
            }
            peer.timer_armed = false;
            if let Err(e) = peer.rtc.handle_input(str0m::Input::Timeout(now)) {
                tracing::debug!(session = %peer.session_id, "timeout input failed: {e}");
            }
            self.drain(pid, now);
            self.after_peer_timeout(pid, now);
            self.pump(now);
        }
        if now.saturating_duration_since(self.last_tick) >= Duration::from_secs(1) {
            self.last_tick = now;
            self.tick(now);
        }
        if self.timers.len() > 64 + 8 * self.sessions.len() {
            let peers = &self.peers;
            self.timers.compact(|(at, pid)| {
                peers
                    .get(pid.index as usize)
                    .and_then(|p| p.as_ref())
                    .map(|p| p.id == *pid && p.deadline == *at && p.timer_armed)
                    .unwrap_or(false)
            });
        }
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Instant {
        let tick = self.last_tick + Duration::from_secs(1);
        match self.timers.next() {
            Some(t) if t < tick => t,
            _ => tick,
        }
    }

    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmits.pop_front()?;
        self.metrics.datagrams_out.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(t)
    }

    /// Lifecycle events since the last call.
    pub fn take_events(&mut self) -> Vec<SfuEvent> {
        std::mem::take(&mut self.events)
    }

    /// Drain one peer's output until it reports its next timeout.
    fn drain(&mut self, pid: PeerId, now: Instant) {
        let Some(peer) = self.peers.get_mut(pid.index as usize).and_then(|p| p.as_mut()) else {
            return;
        };
        if peer.id != pid {
            return;
        }
        loop {
            if !peer.rtc.is_alive() {
                peer.deadline = now;
                peer.timer_armed = true;
                self.timers.schedule(now, pid);
                return;
            }
            match peer.rtc.poll_output() {
                Ok(str0m::Output::Transmit(t)) => self.transmits.push_back(t),
                Ok(str0m::Output::Timeout(t)) => {
                    // A deadline at or before `now` would make the timer loop spin:
                    // whatever is due now was just handled, so look again in 1 ms.
                    let t = t.max(now + Duration::from_millis(1));
                    if t != peer.deadline || !peer.timer_armed {
                        peer.deadline = t;
                        peer.timer_armed = true;
                        self.timers.schedule(t, pid);
                    }
                    return;
                }
                Ok(str0m::Output::Event(e)) => self.work.push_back((pid, e)),
                Err(e) => {
                    tracing::debug!(session = %peer.session_id, "poll_output failed: {e}");
                    peer.rtc.disconnect();
                }
            }
        }
    }
}
