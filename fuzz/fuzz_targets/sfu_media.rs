//! Media through a fully connected SFU: two in-memory str0m *clients* (a WHIP
//! publisher and a WHEP subscriber) complete ICE, DTLS and SCTP with the
//! sans-IO `wishcast_sfu::Sfu`, then the fuzzer drives what the publisher
//! sends. RTP with arbitrary payloads is SRTP-protected by the client, so it
//! reaches what the other targets cannot: the SFU's depacketizers (H264, VP8,
//! VP9, AV1, Opus...), keyframe detection, the GOP cache, the timeline
//! rewriting, simulcast layer choice, forwarding to the subscriber (packetizer)
//! and data-channel relaying.
//!
//! Input: byte 0 = flags (bit 0: the publisher sends simulcast f/h/q; bit 1:
//! no data channel). Then operations `[op, len, data(len)]`, `op % 8`:
//! * 0 / 1: the publisher writes one RTP packet on video / audio:
//!   `data[0]` picks the payload type among the negotiated ones, `data[1]`
//!   bits: marker, sequence jump, layer (simulcast), `data[2..4]` RTP-time
//!   step, the rest is the payload;
//! * 2: advance the clock by `data[0] * 4 + 1` ms (stopping at every timer);
//! * 3: the subscriber asks for a keyframe (PLI/FIR);
//! * 4: SFU control API on the subscriber (layers, select a layer, video off,
//!   mute/unmute, BWE cap), chosen by `data[0]`;
//! * 5: a data-channel message from the publisher or the subscriber;
//! * 6: `data` as a raw datagram from the publisher's or subscriber's address
//!   (post-handshake garbage: DTLS records, unauthenticated SRTP/SRTCP);
//! * 7: the publisher writes an RTP packet with an arbitrary payload type.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use libfuzzer_sys::fuzz_target;
use wishcast_sfu::Sfu;
use wishcast_sfu::str0m::change::SdpAnswer;
use wishcast_sfu::str0m::channel::ChannelId;
use wishcast_sfu::str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use wishcast_sfu::str0m::net::{Protocol, Receive};
use wishcast_sfu::str0m::rtp::{RtpWrite, SeqNo};
use wishcast_sfu::str0m::{Candidate, Event, Input, Output, Rtc};

struct Client {
    rtc: Rtc,
    addr: SocketAddr,
    timeout: Instant,
    connected: bool,
    channel: Option<ChannelId>,
    session: String,
}

struct Net {
    now: Instant,
    sfu: Sfu,
    c: [Client; 2],
}

const PUB: usize = 0;
const SUB: usize = 1;

impl Net {
    /// Exchange datagrams until nobody has anything to send.
    fn pump(&mut self) {
        let local: SocketAddr = LOCAL_UDP.parse().unwrap();
        for _ in 0..200 {
            let mut moved = false;
            for i in 0..2 {
                loop {
                    match self.c[i].rtc.poll_output() {
                        Ok(Output::Transmit(t)) => {
                            moved = true;
                            if t.destination == local {
                                self.sfu.handle_datagram(self.now, t.proto, t.source, local, &t.contents);
                            }
                        }
                        Ok(Output::Timeout(t)) => {
                            self.c[i].timeout = t;
                            break;
                        }
                        Ok(Output::Event(e)) => match e {
                            Event::Connected => self.c[i].connected = true,
                            Event::ChannelOpen(id, _) => self.c[i].channel = Some(id),
                            _ => {}
                        },
                        Err(_) => break,
                    }
                }
            }
            while let Some(t) = self.sfu.poll_transmit() {
                moved = true;
                let Some(c) = self.c.iter_mut().find(|c| c.addr == t.destination) else { continue };
                if !c.rtc.is_alive() {
                    continue;
                }
                let Ok(contents) = (&t.contents[..]).try_into() else { continue };
                let r = Receive { proto: t.proto, source: t.source, destination: t.destination, contents };
                let _ = c.rtc.handle_input(Input::Receive(self.now, r));
            }
            let _ = self.sfu.take_events();
            if !moved {
                return;
            }
        }
    }

    /// Run the clock forward to `to`, stopping at every timer (and at least
    /// every 100 ms), pumping packets at each stop.
    fn advance(&mut self, to: Instant) {
        while self.now < to {
            let mut next = (self.now + Duration::from_millis(100)).min(to);
            for c in &self.c {
                if c.rtc.is_alive() && c.timeout > self.now {
                    next = next.min(c.timeout);
                }
            }
            next = next.min(self.sfu.poll_timeout().max(self.now + Duration::from_micros(1)));
            self.now = next;
            for c in &mut self.c {
                if c.rtc.is_alive() && c.timeout <= self.now {
                    let _ = c.rtc.handle_input(Input::Timeout(self.now));
                }
            }
            self.sfu.handle_timeout(self.now);
            self.pump();
        }
    }
}

/// A str0m client with an audio and a video section (and a data channel);
/// returns it, its offer and its mids as `[video, audio]`.
fn client(now: Instant, addr: &str, dir: Direction, simulcast: bool, channel: bool) -> (Rtc, String, [Mid; 2]) {
    let addr: SocketAddr = addr.parse().unwrap();
    let mut rtc = Rtc::builder().set_rtp_mode(true).build(now);
    rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
    let mut api = rtc.sdp_api();
    let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
    let sim = simulcast.then(|| {
        let mut s = Simulcast::new();
        for r in ["f", "h", "q"] {
            s.send.push(SimulcastLayer::new(r));
        }
        s
    });
    let video = api.add_media(MediaKind::Video, dir, None, None, sim);
    if channel {
        api.add_channel("fuzz".into());
    }
    let (offer, pending) = api.apply().unwrap();
    let sdp = offer.to_sdp_string();
    // The pending offer is needed to accept the answer: keep it in a leak-free way.
    PENDING.with(|p| *p.borrow_mut() = Some(pending));
    (rtc, sdp, [video, audio])
}

thread_local! {
    static PENDING: std::cell::RefCell<Option<wishcast_sfu::str0m::change::SdpPendingOffer>> =
        const { std::cell::RefCell::new(None) };
}

fn accept(rtc: &mut Rtc, answer: &str) {
    let pending = PENDING.with(|p| p.borrow_mut().take()).unwrap();
    let answer = SdpAnswer::from_sdp_string(answer).expect("SFU answer parses");
    rtc.sdp_api().accept_answer(pending, answer).expect("client accepts the SFU answer");
}

fn setup(flags: u8) -> Option<(Net, [Mid; 2], [Mid; 2])> {
    let now = Instant::now();
    let mut sfu = new_sfu_udp(now);
    let simulcast = flags & 1 != 0;
    let channel = flags & 2 == 0;

    let (mut p, offer, mids) = client(now, "127.0.0.2:40000", Direction::SendOnly, simulcast, channel);
    let a = sfu.publish(now, "s", &offer, None).unwrap_or_else(|e| panic!("publish: {e}\n{offer}"));
    accept(&mut p, &a.sdp);
    let (mut s, offer, sub_mids) = client(now, "127.0.0.3:40001", Direction::RecvOnly, false, channel);
    let b = sfu.subscribe(now, "s", &offer, None).unwrap_or_else(|e| panic!("subscribe: {e}\n{offer}"));
    accept(&mut s, &b.sdp);

    let mk = |rtc, addr: &str, session| Client {
        rtc,
        addr: addr.parse().unwrap(),
        timeout: now,
        connected: false,
        channel: None,
        session,
    };
    let mut net = Net {
        now,
        sfu,
        c: [mk(p, "127.0.0.2:40000", a.session_id), mk(s, "127.0.0.3:40001", b.session_id)],
    };
    net.pump();
    let deadline = now + Duration::from_secs(3);
    while net.now < deadline
        && !(net.c[0].connected && net.c[1].connected && (!channel || (net.c[0].channel.is_some() && net.c[1].channel.is_some())))
    {
        let t = net.now + Duration::from_millis(20);
        net.advance(t);
    }
    assert!(net.c[0].connected && net.c[1].connected, "in-memory clients did not connect");
    Some((net, mids, sub_mids))
}

fn new_sfu_udp(now: Instant) -> Sfu {
    let cfg = wishcast_sfu::SfuConfig { udp_candidates: vec![LOCAL_UDP.parse().unwrap()], ..Default::default() };
    Sfu::new(cfg, now, 1_700_000_000_000, std::sync::Arc::new(wishcast_sfu::Metrics::default()))
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, mut script)) = input.split_first() else { return };
    let Some((mut net, mids, sub_mids)) = setup(flags) else { return };
    let debug = std::env::var_os("WISHCAST_FUZZ_DEBUG").is_some();
    if debug {
        for (i, m) in mids.iter().enumerate() {
            let pts = net.c[PUB].rtc.media(*m).map(|m| m.remote_pts().to_vec());
            eprintln!("publisher mid {m} ({}) pts {pts:?}", ["video", "audio"][i]);
        }
    }
    let simulcast = flags & 1 != 0;
    let local: SocketAddr = LOCAL_UDP.parse().unwrap();
    let mut seq = [[1000u64; 3]; 2];
    let mut ts = [[90_000u32; 3]; 2];

    let mut ops = 0;
    while script.len() >= 2 && ops < 128 {
        ops += 1;
        let op = script[0];
        let len = (script[1] as usize).min(script.len() - 2);
        let data = &script[2..2 + len];
        script = &script[2 + len..];
        let b = |i: usize| data.get(i).copied().unwrap_or(0);
        match op % 8 {
            k @ (0 | 1 | 7) => {
                let kind = if k == 1 { 1 } else { 0 };
                let mid = mids[kind];
                let layer = if kind == 0 && simulcast { (b(1) >> 2) as usize % 3 } else { 0 };
                let rid = (kind == 0 && simulcast).then(|| Rid::from(["f", "h", "q"][layer]));
                let pub_rtc = &mut net.c[PUB].rtc;
                let pt = if k == 7 {
                    (b(0) & 0x7f).into()
                } else {
                    let pts = pub_rtc.media(mid).map(|m| m.remote_pts().to_vec()).unwrap_or_default();
                    if pts.is_empty() {
                        continue;
                    }
                    pts[b(0) as usize % pts.len()]
                };
                let jump = if b(1) & 2 != 0 { 1 + (b(1) as u64 >> 4) * 37 } else { 1 };
                seq[kind][layer] = seq[kind][layer].wrapping_add(jump);
                ts[kind][layer] = ts[kind][layer].wrapping_add(u16::from_be_bytes([b(2), b(3)]) as u32);
                let payload = data.get(4..).unwrap_or(&[]).to_vec();
                let now = net.now;
                let mut api = pub_rtc.direct_api();
                if let Some(tx) = api.stream_tx_by_mid(mid, rid) {
                    let w = RtpWrite::new(pt, SeqNo::from(seq[kind][layer]), ts[kind][layer], now, payload)
                        .marker(b(1) & 1 != 0)
                        .nackable(true);
                    tx.write_rtp(w);
                }
            }
            2 => {
                let to = net.now + Duration::from_millis(b(0) as u64 * 4 + 1);
                net.advance(to);
            }
            3 => {
                let kind = if b(0) & 1 == 0 { KeyframeRequestKind::Pli } else { KeyframeRequestKind::Fir };
                let mut api = net.c[SUB].rtc.direct_api();
                for m in sub_mids {
                    if let Some(rx) = api.stream_rx_by_mid(m, None) {
                        rx.request_keyframe(kind);
                    }
                }
            }
            4 => {
                let (sfu, now, sess) = (&mut net.sfu, net.now, net.c[SUB].session.clone());
                match b(0) % 6 {
                    0 => {
                        let _ = sfu.layers("s", &sess, None);
                    }
                    1 => {
                        let rid = match b(1) % 5 {
                            0 => None,
                            1 => Some("f".to_string()),
                            2 => Some("h".to_string()),
                            3 => Some("q".to_string()),
                            _ => Some(String::from_utf8_lossy(data.get(2..).unwrap_or(&[])).into_owned()),
                        };
                        let _ = sfu.select_layer(now, "s", &sess, rid.as_deref(), None);
                    }
                    2 => {
                        let _ = sfu.disable_video_layer("s", &sess, None);
                    }
                    3 => {
                        let kind = if b(1) & 1 == 0 { MediaKind::Audio } else { MediaKind::Video };
                        let _ = sfu.set_kind_enabled(now, "s", &sess, kind, b(1) & 2 != 0, None);
                    }
                    4 => {
                        let bps = (b(1) as u64) << (b(2) % 40);
                        let _ = sfu.set_bwe_cap("s", &sess, (b(1) != 0).then_some(bps));
                    }
                    _ => {
                        let v = sfu.streams_view(&[]);
                        let _ = serde_json::to_string(&v).unwrap();
                    }
                }
            }
            5 => {
                let who = (b(0) & 1) as usize;
                let c = &mut net.c[who];
                if let Some(id) = c.channel {
                    if let Some(mut ch) = c.rtc.channel(id) {
                        let _ = ch.write(b(0) & 2 != 0, data.get(1..).unwrap_or(&[]));
                    }
                }
            }
            _ => {
                let who = (b(0) & 1) as usize;
                let src = net.c[who].addr;
                net.sfu.handle_datagram(net.now, Protocol::Udp, src, local, data.get(1..).unwrap_or(&[]));
            }
        }
        net.pump();
    }
    // Let stats, bitrate estimates, layer choice and keyframe timers run.
    let to = net.now + Duration::from_millis(1500);
    net.advance(to);
    let views = net.sfu.streams_view(&[]);
    if debug {
        let m = net.sfu.metrics();
        use std::sync::atomic::Ordering::Relaxed;
        eprintln!(
            "rtp in {} out {} keyframe requests {} plis {} | {}",
            m.rtp_packets_in.load(Relaxed),
            m.rtp_packets_out.load(Relaxed),
            m.keyframe_requests_sent.load(Relaxed),
            m.plis_received.load(Relaxed),
            serde_json::to_string(&views).unwrap()
        );
    }
    for i in [SUB, PUB] {
        let sess = net.c[i].session.clone();
        let _ = net.sfu.delete_session(net.now, "s", &sess);
    }
    net.pump();
});
