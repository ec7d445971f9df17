//! Several media workers in memory: one `Sfu` per worker, bridge messages carried
//! between them by the test, str0m clients under a virtual clock. Proves frames reach
//! subscribers on every worker, keyframe requests from a remote worker reach the
//! publisher, GOP replay on a remote worker, republish continuity across workers and
//! DataChannel relay both ways.

mod common;

use common::{frame_no, vp8_frame};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use wishcast_sfu::Metrics;
use wishcast_sfu::home_of;
use wishcast_sfu::{Sfu, SfuConfig};

const SERVER: &str = "10.0.0.1:7777";
const STREAM: &str = "s";

fn server() -> SocketAddr {
    SERVER.parse().unwrap()
}

struct Client {
    rtc: Rtc,
    addr: SocketAddr,
    mid: Mid,
    worker: usize,
    session: String,
    received: Vec<(Vec<u8>, u64, bool)>,
    keyframe_requests: usize,
    channel: Option<str0m::channel::ChannelId>,
    messages: Vec<Vec<u8>>,
}

struct Net {
    sfus: Vec<Sfu>,
    clients: Vec<Client>,
    now: Instant,
    metrics: Arc<Metrics>,
}

impl Net {
    fn new(workers: usize) -> Net {
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

    fn home(&self) -> usize {
        home_of(STREAM, self.sfus.len())
    }

    /// Another worker than the home one (the `k`-th).
    fn remote(&self, k: usize) -> usize {
        (self.home() + 1 + k) % self.sfus.len()
    }

    fn client(
        &mut self,
        port: u16,
        dir: Direction,
        data_channel: bool,
    ) -> (Rtc, SocketAddr, String, str0m::change::SdpPendingOffer, Mid) {
        let addr: SocketAddr = format!("10.0.0.2:{port}").parse().unwrap();
        let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Video, dir, None, None, None);
        if data_channel {
            api.add_channel("chat".into());
        }
        let (offer, pending) = api.apply().unwrap();
        (rtc, addr, offer.to_sdp_string(), pending, mid)
    }

    fn attach(
        &mut self,
        rtc: Rtc,
        addr: SocketAddr,
        mid: Mid,
        worker: usize,
        answer: wishcast_sfu::SessionAnswer,
        pending: str0m::change::SdpPendingOffer,
    ) -> usize {
        let mut rtc = rtc;
        rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&answer.sdp).unwrap()).unwrap();
        self.clients.push(Client {
            rtc,
            addr,
            mid,
            worker,
            session: answer.session_id,
            received: Vec::new(),
            keyframe_requests: 0,
            channel: None,
            messages: Vec::new(),
        });
        self.clients.len() - 1
    }

    fn publish(&mut self, port: u16, dc: bool) -> usize {
        let (rtc, addr, offer, pending, mid) = self.client(port, Direction::SendOnly, dc);
        let home = self.home();
        let a = self.sfus[home].publish(self.now, STREAM, &offer, None).expect("publish accepted");
        self.attach(rtc, addr, mid, home, a, pending)
    }

    /// A subscriber on worker `w`, admitted the way the node's handle does it.
    fn subscribe(&mut self, port: u16, w: usize, dc: bool) -> usize {
        let (rtc, addr, offer, pending, mid) = self.client(port, Direction::RecvOnly, dc);
        let home = self.home();
        let now = self.now;
        let a = if w == home {
            self.sfus[w].subscribe(now, STREAM, &offer, None)
        } else {
            let info = self.sfus[home].upstream_info(STREAM);
            self.sfus[w].subscribe_upstream(now, STREAM, &offer, None, false, Some(&info))
        }
        .expect("subscribe accepted");
        self.attach(rtc, addr, mid, w, a, pending)
    }

    fn pump_client(&mut self, i: usize) {
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
                    c.received.push((d.data.to_vec(), d.time.numer(), key));
                }
                Output::Event(Event::KeyframeRequest(_)) => c.keyframe_requests += 1,
                Output::Event(Event::ChannelOpen(id, _)) => c.channel = Some(id),
                Output::Event(Event::ChannelData(d)) => c.messages.push(d.data),
                Output::Event(_) => {}
            }
        }
    }

    /// Carry bridge messages until every worker is quiet.
    fn pump_bridge(&mut self) {
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

    fn deliver(&mut self) {
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

    fn run(&mut self, dur: Duration) {
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

    fn send(&mut self, i: usize, n: u32, key: bool) {
        let now = self.now;
        let c = &mut self.clients[i];
        let w = c.rtc.writer(c.mid).expect("writer");
        let pt = w.payload_params().next().expect("a negotiated payload").pt();
        let rtp = MediaTime::from_90khz(10_000 + n as u64 * 3000);
        w.write(pt, now, rtp, vp8_frame(n, key, 3000)).unwrap();
        self.pump_client(i);
        self.run(Duration::from_millis(33));
    }

    fn nums(&self, i: usize) -> Vec<u32> {
        self.clients[i].received.iter().map(|(d, _, k)| frame_no(d, *k)).collect()
    }
}

#[test]
fn frames_reach_subscribers_on_every_worker() {
    let mut net = Net::new(3);
    let p = net.publish(5000, false);
    let subs: Vec<usize> = (0..3).map(|w| net.subscribe(5001 + w as u16, w, false)).collect();
    net.run(Duration::from_millis(400));
    for &i in subs.iter().chain([&p]) {
        assert!(net.clients[i].rtc.is_connected(), "client {i} connected");
    }
    for n in 0..30u32 {
        net.send(p, n, n % 10 == 0);
    }
    net.run(Duration::from_millis(200));
    for &i in &subs {
        assert_eq!(
            net.nums(i),
            (0..30).collect::<Vec<_>>(),
            "subscriber on worker {} got every frame",
            net.clients[i].worker
        );
        for (d, _, k) in &net.clients[i].received {
            let n = frame_no(d, *k);
            assert_eq!(d, &vp8_frame(n, n.is_multiple_of(10), 3000), "frame {n} intact");
        }
    }
    // Each worker counts only its own subscribers; the home knows the others.
    for w in 0..3 {
        assert_eq!(net.sfus[w].session_count(), if w == net.home() { 2 } else { 1 });
    }
    assert_eq!(net.sfus[net.home()].upstream_info(STREAM).viewers, 3);
    // The node's merged view lists every session once.
    let parts: Vec<_> = net.sfus.iter().map(|s| s.streams_view(&[])).collect();
    let merged = wishcast_sfu::merge_streams(parts);
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].publish.sessions.len(), 1);
    assert_eq!(merged[0].subscribe.sessions.len(), 3);
    assert_eq!(net.metrics.bridge_dropped.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn keyframe_request_from_a_remote_worker_reaches_the_publisher() {
    let mut net = Net::new(2);
    let p = net.publish(5100, false);
    net.run(Duration::from_millis(400));
    assert!(net.clients[p].rtc.is_connected());
    // Delta frames only: nothing cached, so a joiner must ask for a keyframe.
    for n in 1..5u32 {
        net.send(p, n, false);
    }
    net.run(Duration::from_millis(600));
    let before = net.clients[p].keyframe_requests;
    let remote = net.remote(0);
    let s = net.subscribe(5101, remote, false);
    net.run(Duration::from_millis(400));
    assert!(net.clients[s].rtc.is_connected());
    assert!(
        net.clients[p].keyframe_requests > before,
        "the publisher on worker {} got the request of a subscriber on worker {remote}",
        net.home()
    );
    // The requested keyframe then reaches the remote subscriber first.
    net.send(p, 10, true);
    net.send(p, 11, false);
    assert_eq!(net.nums(s), vec![10, 11]);
    assert!(net.clients[s].received[0].2);
}

#[test]
fn gop_is_replayed_on_a_remote_worker() {
    let mut net = Net::new(2);
    let p = net.publish(5200, false);
    net.run(Duration::from_millis(400));
    for n in 0..30u32 {
        net.send(p, n, n % 10 == 0);
    }
    let requests = net.clients[p].keyframe_requests;
    let s = net.subscribe(5201, net.remote(0), false);
    net.run(Duration::from_millis(300));
    for n in 30..35u32 {
        net.send(p, n, false);
    }
    assert_eq!(net.nums(s), (20..35).collect::<Vec<_>>(), "joiner starts at the GOP cached on its own worker");
    assert!(net.clients[s].received[0].2, "first frame is a keyframe");
    assert_eq!(net.clients[p].keyframe_requests, requests, "no PLI round trip was needed");
    let ts: Vec<u64> = net.clients[s].received.iter().map(|r| r.1).collect();
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "timestamps increase: {ts:?}");
}

#[test]
fn republish_is_continuous_for_subscribers_on_other_workers() {
    let mut net = Net::new(2);
    let s = net.subscribe(5301, net.remote(0), false);
    net.run(Duration::from_millis(300));
    assert!(net.clients[s].rtc.is_connected());
    let a = net.publish(5300, false);
    net.run(Duration::from_millis(300));
    for n in 0..10u32 {
        net.send(a, n, n == 0);
    }
    assert_eq!(net.nums(s), (0..10).collect::<Vec<_>>(), "media starts when the publisher arrives");
    let home = net.home();
    let session = net.clients[a].session.clone();
    let now = net.now;
    net.sfus[home].delete_session(now, STREAM, &session).unwrap();
    net.run(Duration::from_millis(50));
    let b = net.publish(5302, false);
    net.run(Duration::from_millis(300));
    // Delta frames of the new publisher before its keyframe must not reach the subscriber.
    net.send(b, 99, false);
    for n in 100..110u32 {
        net.send(b, n, n == 100);
    }
    assert_eq!(net.nums(s), (0..10).chain(100..110).collect::<Vec<_>>());
    let ts: Vec<u64> = net.clients[s].received.iter().map(|r| r.1).collect();
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "RTP time keeps increasing across republish: {ts:?}");
    assert!(ts[10] - ts[9] <= 6000, "gap at switch {}", ts[10] - ts[9]);
}

#[test]
fn data_channel_messages_cross_workers_both_ways() {
    let mut net = Net::new(2);
    let p = net.publish(5400, true);
    let local = net.subscribe(5401, net.home(), true);
    let remote = net.subscribe(5402, net.remote(0), true);
    net.run(Duration::from_millis(800));
    for i in [p, local, remote] {
        assert!(net.clients[i].channel.is_some(), "client {i} has an open channel");
    }
    let write = |net: &mut Net, i: usize, msg: &[u8]| {
        let id = net.clients[i].channel.unwrap();
        net.clients[i].rtc.channel(id).unwrap().write(true, msg).unwrap();
        net.pump_client(i);
        net.run(Duration::from_millis(100));
    };
    write(&mut net, p, b"from publisher");
    assert_eq!(net.clients[local].messages, vec![b"from publisher".to_vec()]);
    assert_eq!(net.clients[remote].messages, vec![b"from publisher".to_vec()], "crossed to the other worker");
    write(&mut net, remote, b"from remote subscriber");
    assert_eq!(net.clients[p].messages, vec![b"from remote subscriber".to_vec()], "reached the publisher's worker");
    assert_eq!(net.clients[local].messages.len(), 1, "subscribers do not hear each other");
}

#[test]
fn deleting_the_stream_on_its_home_closes_subscribers_everywhere() {
    let mut net = Net::new(2);
    let _p = net.publish(5500, false);
    let remote = net.remote(0);
    let _s = net.subscribe(5501, remote, false);
    net.run(Duration::from_millis(300));
    assert_eq!(net.sfus[remote].session_count(), 1);
    let home = net.home();
    let now = net.now;
    net.sfus[home].delete_stream(now, STREAM).unwrap();
    net.run(Duration::from_millis(50));
    assert_eq!(net.sfus[remote].session_count(), 0, "the remote subscriber was closed");
    assert!(net.sfus.iter().all(|s| s.streams_view(&[]).is_empty()));
}
