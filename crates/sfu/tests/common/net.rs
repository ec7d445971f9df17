//! Several media workers in memory: one `Sfu` per worker, bridge messages carried
//! between them by the test, str0m clients under a virtual clock (1 ms steps).
//! Clients are admitted through `Sfu::handle` the way the node's `MediaHandle` does
//! it (a remote subscriber is told what the home worker knows).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::PayloadParams;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use wishcast_sfu::{Command, Metrics, SessionAnswer, Sfu, SfuConfig, SfuError, home_of};

use super::vp8_frame;

pub const SERVER: &str = "10.0.0.1:7777";
pub const STREAM: &str = "s";

pub fn server() -> SocketAddr {
    SERVER.parse().unwrap()
}

/// One frame a client received.
pub struct Got {
    pub data: Vec<u8>,
    pub time: u64,
    pub key: bool,
    pub pt: Pt,
}

pub struct Client {
    pub rtc: Rtc,
    pub addr: SocketAddr,
    /// The video m-line (or the only one).
    pub mid: Mid,
    pub audio_mid: Option<Mid>,
    pub worker: usize,
    pub session: String,
    /// Video frames as (data, RTP time, keyframe), in arrival order.
    pub received: Vec<(Vec<u8>, u64, bool)>,
    pub video: Vec<Got>,
    pub audio: Vec<Got>,
    pub keyframe_requests: usize,
    pub channel: Option<str0m::channel::ChannelId>,
    pub messages: Vec<Vec<u8>>,
}

/// What a test client offers.
pub struct Spec {
    pub config: RtcConfig,
    pub video: bool,
    pub audio: bool,
    pub simulcast: Option<Vec<&'static str>>,
    pub data_channel: bool,
}

impl Spec {
    /// VP8 video only (str0m's default numbers), as most tests use.
    pub fn vp8(data_channel: bool) -> Spec {
        Spec {
            config: Rtc::builder().clear_codecs().enable_vp8(true),
            video: true,
            audio: false,
            simulcast: None,
            data_channel,
        }
    }
}

pub struct Offer {
    rtc: Rtc,
    addr: SocketAddr,
    pub sdp: String,
    pending: SdpPendingOffer,
    mid: Mid,
    audio_mid: Option<Mid>,
}

pub struct Net {
    pub sfus: Vec<Sfu>,
    pub clients: Vec<Client>,
    pub now: Instant,
    pub metrics: Arc<Metrics>,
}

impl Net {
    pub fn new(workers: usize) -> Net {
        let now = Instant::now();
        let metrics = Arc::new(Metrics::default());
        let sfus = (0..workers)
            .map(|w| {
                let cfg = SfuConfig { udp_candidates: vec![server()], worker: w, workers, ..Default::default() };
                Sfu::new(cfg, now, 1_700_000_000_000, metrics.clone())
            })
            .collect();
        Net { sfus, clients: Vec::new(), now, metrics }
    }

    pub fn home(&self) -> usize {
        home_of(STREAM, self.sfus.len())
    }

    /// Another worker than the home one (the `k`-th).
    pub fn remote(&self, k: usize) -> usize {
        (self.home() + 1 + k) % self.sfus.len()
    }

    pub fn offer(&mut self, port: u16, dir: Direction, spec: Spec) -> Offer {
        let addr: SocketAddr = format!("10.0.0.2:{port}").parse().unwrap();
        let mut rtc = spec.config.build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let sim = spec.simulcast.map(|rids| {
            let mut s = Simulcast::new();
            for r in rids {
                if dir == Direction::SendOnly {
                    s.add_send_layer(SimulcastLayer::new(r));
                } else {
                    s.add_recv_layer(SimulcastLayer::new(r));
                }
            }
            s
        });
        let audio_mid = spec.audio.then(|| api.add_media(MediaKind::Audio, dir, None, None, None));
        let mid = if spec.video { api.add_media(MediaKind::Video, dir, None, None, sim) } else { audio_mid.unwrap() };
        if spec.data_channel {
            api.add_channel("chat".into());
        }
        let (offer, pending) = api.apply().unwrap();
        Offer { rtc, addr, sdp: offer.to_sdp_string(), pending, mid, audio_mid: audio_mid.filter(|a| *a != mid) }
    }

    pub fn attach(&mut self, o: Offer, worker: usize, answer: SessionAnswer) -> usize {
        let mut rtc = o.rtc;
        rtc.sdp_api().accept_answer(o.pending, SdpAnswer::from_sdp_string(&answer.sdp).unwrap()).unwrap();
        self.clients.push(Client {
            rtc,
            addr: o.addr,
            mid: o.mid,
            audio_mid: o.audio_mid,
            worker,
            session: answer.session_id,
            received: Vec::new(),
            video: Vec::new(),
            audio: Vec::new(),
            keyframe_requests: 0,
            channel: None,
            messages: Vec::new(),
        });
        self.clients.len() - 1
    }

    pub fn try_publish(&mut self, o: &Offer) -> Result<SessionAnswer, SfuError> {
        let home = self.home();
        let cmd = Command::Publish { stream: STREAM.into(), offer: o.sdp.clone(), owner: None };
        self.sfus[home].handle(cmd, self.now)?.into_session()
    }

    pub fn publish_with(&mut self, port: u16, spec: Spec) -> usize {
        let o = self.offer(port, Direction::SendOnly, spec);
        let a = self.try_publish(&o).expect("publish accepted");
        let home = self.home();
        self.attach(o, home, a)
    }

    pub fn publish(&mut self, port: u16, dc: bool) -> usize {
        self.publish_with(port, Spec::vp8(dc))
    }

    /// Admit a subscriber on worker `w` the way the node's handle does it.
    pub fn try_subscribe(&mut self, o: &Offer, w: usize, relay: bool) -> Result<SessionAnswer, SfuError> {
        let home = self.home();
        let now = self.now;
        let upstream = if w == home {
            None
        } else {
            let ask = Command::UpstreamInfo { stream: STREAM.into() };
            Some(self.sfus[home].handle(ask, now)?.into_upstream()?)
        };
        let cmd = Command::Subscribe { stream: STREAM.into(), offer: o.sdp.clone(), owner: None, relay, upstream };
        self.sfus[w].handle(cmd, now)?.into_session()
    }

    pub fn subscribe_with(&mut self, port: u16, w: usize, relay: bool, spec: Spec) -> usize {
        let o = self.offer(port, Direction::RecvOnly, spec);
        let a = self.try_subscribe(&o, w, relay).expect("subscribe accepted");
        self.attach(o, w, a)
    }

    /// A subscriber on worker `w`, admitted the way the node's handle does it.
    pub fn subscribe(&mut self, port: u16, w: usize, dc: bool) -> usize {
        self.subscribe_with(port, w, false, Spec::vp8(dc))
    }

    pub fn pump_client(&mut self, i: usize) {
        loop {
            let c = &mut self.clients[i];
            match c.rtc.poll_output().unwrap() {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    let (w, src) = (c.worker, c.addr);
                    self.sfus[w].handle_datagram(self.now, Protocol::Udp, src, server(), &t.contents);
                }
                Output::Event(Event::MediaData(d)) => {
                    let key = d.is_keyframe();
                    let got = Got { data: d.data.to_vec(), time: d.time.numer(), key, pt: d.pt };
                    if Some(d.mid) == c.audio_mid {
                        c.audio.push(got);
                    } else {
                        c.received.push((d.data.to_vec(), d.time.numer(), key));
                        c.video.push(got);
                    }
                }
                Output::Event(Event::KeyframeRequest(_)) => c.keyframe_requests += 1,
                Output::Event(Event::ChannelOpen(id, _)) => c.channel = Some(id),
                Output::Event(Event::ChannelData(d)) => c.messages.push(d.data),
                Output::Event(_) => {}
            }
        }
    }

    /// Carry bridge messages until every worker is quiet.
    pub fn pump_bridge(&mut self) {
        loop {
            let mut any = false;
            for w in 0..self.sfus.len() {
                for (dest, msg) in self.sfus[w].take_bridge() {
                    any = true;
                    let now = self.now;
                    self.sfus[dest].handle_bridge(now, w, msg);
                }
            }
            if !any {
                return;
            }
        }
    }

    pub fn deliver(&mut self) {
        for w in 0..self.sfus.len() {
            while let Some(t) = self.sfus[w].poll_transmit() {
                if let Some(i) = self.clients.iter().position(|c| c.addr == t.destination) {
                    let input = Input::Receive(
                        self.now,
                        Receive::new(Protocol::Udp, server(), t.destination, &t.contents).unwrap(),
                    );
                    if self.clients[i].rtc.accepts(&input) {
                        self.clients[i].rtc.handle_input(input).unwrap();
                    }
                    self.pump_client(i);
                }
            }
        }
    }

    pub fn run(&mut self, dur: Duration) {
        let end = self.now + dur;
        while self.now < end {
            self.now += Duration::from_millis(1);
            for i in 0..self.clients.len() {
                let now = self.now;
                self.clients[i].rtc.handle_input(Input::Timeout(now)).unwrap();
                self.pump_client(i);
            }
            for w in 0..self.sfus.len() {
                let now = self.now;
                self.sfus[w].handle_timeout(now);
            }
            // Bridge traffic may produce transmits and client input may produce
            // bridge traffic: settle both.
            for _ in 0..4 {
                self.pump_bridge();
                self.deliver();
            }
        }
    }

    /// The payload a client negotiated for `mid` (its first one).
    pub fn params(&mut self, i: usize, mid: Mid) -> PayloadParams {
        let c = &mut self.clients[i];
        *c.rtc.writer(mid).expect("writer").payload_params().next().expect("a negotiated payload")
    }

    /// Write one frame (on `rid` when given) from client `i`, without running the net.
    pub fn write(&mut self, i: usize, mid: Mid, rid: Option<&str>, rtp: MediaTime, data: Vec<u8>) {
        let pt = self.params(i, mid).pt();
        let now = self.now;
        let c = &mut self.clients[i];
        let mut w = c.rtc.writer(mid).expect("writer");
        if let Some(r) = rid {
            w = w.rid(Rid::from(r));
        }
        w.write(pt, now, rtp, data).unwrap();
        self.pump_client(i);
    }

    pub fn send(&mut self, i: usize, n: u32, key: bool) {
        let mid = self.clients[i].mid;
        let rtp = MediaTime::from_90khz(10_000 + n as u64 * 3000);
        self.write(i, mid, None, rtp, vp8_frame(n, key, 3000));
        self.run(Duration::from_millis(33));
    }

    pub fn nums(&self, i: usize) -> Vec<u32> {
        self.clients[i].received.iter().map(|(d, _, k)| super::frame_no(d, *k)).collect()
    }
}
