//! The media plane with no network: str0m client peers and the sans-IO `Sfu` exchange
//! datagrams in memory under a virtual clock. Proves publish → fan-out → subscribers,
//! GOP replay on join, subscribe-before-publish and republish continuity.

mod common;

use common::{frame_no, vp8_frame};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use wishcast_sfu::Metrics;
use wishcast_sfu::{Sfu, SfuConfig};

const SERVER: &str = "10.0.0.1:7777";

struct Client {
    rtc: Rtc,
    addr: SocketAddr,
    mid: Mid,
    received: Vec<(Vec<u8>, u64, bool)>,
    session: String,
}

fn server() -> SocketAddr {
    SERVER.parse().unwrap()
}

fn client(
    now: Instant,
    port: u16,
    dir: Direction,
) -> (Rtc, SocketAddr, str0m::change::SdpOffer, str0m::change::SdpPendingOffer, Mid) {
    let addr: SocketAddr = format!("10.0.0.2:{port}").parse().unwrap();
    let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).build(now);
    rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
    let mut api = rtc.sdp_api();
    let mid = api.add_media(MediaKind::Video, dir, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    (rtc, addr, offer, pending, mid)
}

fn publisher(sfu: &mut Sfu, now: Instant, port: u16) -> Client {
    let (mut rtc, addr, offer, pending, mid) = client(now, port, Direction::SendOnly);
    let a = sfu.publish(now, "s", &offer.to_sdp_string(), None).expect("publish accepted");
    rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&a.sdp).unwrap()).unwrap();
    Client { rtc, addr, mid, received: Vec::new(), session: a.session_id }
}

fn subscriber(sfu: &mut Sfu, now: Instant, port: u16) -> Client {
    let (mut rtc, addr, offer, pending, mid) = client(now, port, Direction::RecvOnly);
    let a = sfu.subscribe(now, "s", &offer.to_sdp_string(), None).expect("subscribe accepted");
    rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&a.sdp).unwrap()).unwrap();
    Client { rtc, addr, mid, received: Vec::new(), session: a.session_id }
}

/// Run the network for `dur` of virtual time in 1 ms steps.
fn run(sfu: &mut Sfu, clients: &mut [&mut Client], now: &mut Instant, dur: Duration) {
    let end = *now + dur;
    while *now < end {
        *now += Duration::from_millis(1);
        for c in clients.iter_mut() {
            c.rtc.handle_input(Input::Timeout(*now)).unwrap();
            pump_client(sfu, c, *now);
        }
        sfu.handle_timeout(*now);
        while let Some(t) = sfu.poll_transmit() {
            if let Some(c) = clients.iter_mut().find(|c| c.addr == t.destination) {
                let input = Input::Receive(*now, Receive::new(Protocol::Udp, server(), c.addr, &t.contents).unwrap());
                if c.rtc.accepts(&input) {
                    c.rtc.handle_input(input).unwrap();
                }
                pump_client(sfu, c, *now);
            }
        }
    }
}

fn pump_client(sfu: &mut Sfu, c: &mut Client, now: Instant) {
    loop {
        match c.rtc.poll_output().unwrap() {
            Output::Timeout(_) => break,
            Output::Transmit(t) => sfu.handle_datagram(now, Protocol::Udp, c.addr, server(), &t.contents),
            Output::Event(Event::MediaData(d)) => {
                let key = d.is_keyframe();
                c.received.push((d.data.to_vec(), d.time.numer(), key));
            }
            Output::Event(_) => {}
        }
    }
}

fn send(c: &mut Client, now: Instant, n: u32, key: bool) {
    let w = c.rtc.writer(c.mid).expect("writer");
    let pt = w.payload_params().next().expect("a negotiated payload").pt();
    let rtp = MediaTime::from_90khz(10_000 + n as u64 * 3000);
    w.write(pt, now, rtp, vp8_frame(n, key, 3000)).unwrap();
}

fn new_sfu(now: Instant) -> Sfu {
    let cfg = SfuConfig { udp_candidates: vec![server()], ..Default::default() };
    Sfu::new(cfg, now, 1_700_000_000_000, Arc::new(Metrics::default()))
}

#[test]
fn fanout_gop_replay_and_order() {
    let mut now = Instant::now();
    let mut sfu = new_sfu(now);
    let mut p = publisher(&mut sfu, now, 5000);
    let mut s1 = subscriber(&mut sfu, now, 5001);
    run(&mut sfu, &mut [&mut p, &mut s1], &mut now, Duration::from_millis(300));
    assert!(p.rtc.is_connected() && s1.rtc.is_connected(), "ICE+DTLS in memory");
    for n in 0..30u32 {
        send(&mut p, now, n, n % 10 == 0);
        pump_client(&mut sfu, &mut p, now);
        run(&mut sfu, &mut [&mut p, &mut s1], &mut now, Duration::from_millis(33));
    }
    // A late joiner gets the cached GOP (from keyframe 20) before live frames.
    let mut s2 = subscriber(&mut sfu, now, 5002);
    run(&mut sfu, &mut [&mut p, &mut s1, &mut s2], &mut now, Duration::from_millis(300));
    for n in 30..40u32 {
        send(&mut p, now, n, n % 10 == 0);
        pump_client(&mut sfu, &mut p, now);
        run(&mut sfu, &mut [&mut p, &mut s1, &mut s2], &mut now, Duration::from_millis(33));
    }
    run(&mut sfu, &mut [&mut p, &mut s1, &mut s2], &mut now, Duration::from_millis(200));

    let nums = |c: &Client| c.received.iter().map(|(d, _, k)| frame_no(d, *k)).collect::<Vec<_>>();
    let n1 = nums(&s1);
    assert_eq!(n1, (0..40).collect::<Vec<_>>(), "subscriber 1 got every frame in order");
    for (d, _, k) in &s1.received {
        let n = frame_no(d, *k);
        assert_eq!(d, &vp8_frame(n, n.is_multiple_of(10), 3000), "frame {n} intact");
    }
    let n2 = nums(&s2);
    assert_eq!(n2.first(), Some(&20), "late joiner starts at the cached keyframe: {n2:?}");
    assert_eq!(n2, (20..40).collect::<Vec<_>>());
    assert!(s2.received[0].2, "first frame of late joiner is a keyframe");
    let ts: Vec<u64> = s2.received.iter().map(|r| r.1).collect();
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "timestamps increase: {ts:?}");
}

#[test]
fn subscribe_before_publish_then_republish_is_continuous() {
    let mut now = Instant::now();
    let mut sfu = new_sfu(now);
    let mut s = subscriber(&mut sfu, now, 6001);
    run(&mut sfu, &mut [&mut s], &mut now, Duration::from_millis(300));
    assert!(s.rtc.is_connected());

    let mut a = publisher(&mut sfu, now, 6000);
    run(&mut sfu, &mut [&mut a, &mut s], &mut now, Duration::from_millis(300));
    for n in 0..10u32 {
        send(&mut a, now, n, n == 0);
        pump_client(&mut sfu, &mut a, now);
        run(&mut sfu, &mut [&mut a, &mut s], &mut now, Duration::from_millis(33));
    }
    assert_eq!(s.received.len(), 10, "media starts when the publisher arrives");

    sfu.delete_session(now, "s", &a.session).unwrap();
    let mut b = publisher(&mut sfu, now, 6002);
    run(&mut sfu, &mut [&mut b, &mut s], &mut now, Duration::from_millis(300));
    for n in 100..110u32 {
        send(&mut b, now, n, n == 100);
        pump_client(&mut sfu, &mut b, now);
        run(&mut sfu, &mut [&mut b, &mut s], &mut now, Duration::from_millis(33));
    }
    let nums: Vec<u32> = s.received.iter().map(|(d, _, k)| frame_no(d, *k)).collect();
    assert_eq!(nums, (0..10).chain(100..110).collect::<Vec<_>>());
    let ts: Vec<u64> = s.received.iter().map(|r| r.1).collect();
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "RTP time keeps increasing across republish: {ts:?}");
    // The jump at the switch is about one frame, not the new publisher's random offset.
    assert!(ts[10] - ts[9] <= 6000, "gap at switch {}", ts[10] - ts[9]);
}

fn simulcast_publisher(sfu: &mut Sfu, now: Instant, port: u16) -> Client {
    let addr: SocketAddr = format!("10.0.0.2:{port}").parse().unwrap();
    let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).build(now);
    rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
    let mut api = rtc.sdp_api();
    let mut sim = Simulcast::new();
    for r in ["q", "h", "f"] {
        sim.add_send_layer(SimulcastLayer::new(r));
    }
    let mid = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(sim));
    let (offer, pending) = api.apply().unwrap();
    let a = sfu.publish(now, "s", &offer.to_sdp_string(), None).expect("simulcast publish accepted");
    assert!(a.simulcast, "offer with 3 rids is simulcast");
    rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&a.sdp).unwrap()).unwrap();
    Client { rtc, addr, mid, received: Vec::new(), session: a.session_id }
}

/// One frame on each layer; layer sizes differ so measured bitrates order q < h < f.
fn send_layers(c: &mut Client, now: Instant, n: u32, key: bool) {
    for (i, r) in ["q", "h", "f"].iter().enumerate() {
        let w = c.rtc.writer(c.mid).expect("writer");
        let pt = w.payload_params().next().unwrap().pt();
        let rtp = MediaTime::from_90khz(10_000 + n as u64 * 3000);
        let mut f = vp8_frame(n, key, 400 * (1 + 4 * i));
        let marker = f.len() - 1;
        f[marker] = b"qhf"[i];
        w.rid(Rid::from(*r)).write(pt, now, rtp, f).unwrap();
    }
}

#[test]
fn simulcast_layer_follows_bandwidth_cap_and_manual_choice() {
    let mut now = Instant::now();
    let mut sfu = new_sfu(now);
    let mut p = simulcast_publisher(&mut sfu, now, 7000);
    let mut s = subscriber(&mut sfu, now, 7001);
    run(&mut sfu, &mut [&mut p, &mut s], &mut now, Duration::from_millis(300));
    let layer_of = |c: &Client| -> Vec<u8> { c.received.iter().map(|(d, _, _)| *d.last().unwrap()).collect() };
    let mut n = 0u32;
    let mut step = |sfu: &mut Sfu, p: &mut Client, s: &mut Client, now: &mut Instant, frames: u32| {
        for _ in 0..frames {
            send_layers(p, *now, n, n.is_multiple_of(15));
            pump_client(sfu, p, *now);
            run(sfu, &mut [&mut *p, &mut *s], now, Duration::from_millis(33));
            n += 1;
        }
    };
    step(&mut sfu, &mut p, &mut s, &mut now, 60);
    let got = layer_of(&s);
    assert!(!got.is_empty());
    assert_eq!(
        *got.last().unwrap(),
        b'f',
        "uncapped subscriber ends on the top layer: {:?}",
        String::from_utf8_lossy(&got)
    );

    // Cap the estimate below the top layer: it moves down at a keyframe.
    sfu.set_bwe_cap("s", &s.session, Some(150_000)).unwrap();
    let before = s.received.len();
    step(&mut sfu, &mut p, &mut s, &mut now, 60);
    let after: Vec<u8> = layer_of(&s)[before..].to_vec();
    assert_eq!(
        *after.last().unwrap(),
        b'q',
        "capped subscriber ends on the lowest layer: {:?}",
        String::from_utf8_lossy(&after)
    );
    // Switches happen at keyframes only: every change of layer starts with a keyframe.
    for w in s.received.windows(2) {
        if w[0].0.last() != w[1].0.last() {
            assert!(w[1].2, "layer switch on a delta frame");
        }
    }
    // Lift the cap: back to the top layer (after the up-switch hold).
    sfu.set_bwe_cap("s", &s.session, None).unwrap();
    let before = s.received.len();
    step(&mut sfu, &mut p, &mut s, &mut now, 150);
    assert_eq!(*layer_of(&s)[before..].last().unwrap(), b'f', "cap lifted: back to top layer");

    // Manual choice wins over the estimate.
    let layers = sfu.layers("s", &s.session, None).unwrap();
    assert_eq!(layers.len(), 3);
    sfu.select_layer(now, "s", &s.session, Some("h"), None).unwrap();
    let before = s.received.len();
    step(&mut sfu, &mut p, &mut s, &mut now, 40);
    assert_eq!(*layer_of(&s)[before..].last().unwrap(), b'h');
    assert!(sfu.select_layer(now, "s", &s.session, Some("zz"), None).is_err());
    // Timestamps stay monotonic across all switches.
    let ts: Vec<u64> = s.received.iter().map(|r| r.1).collect();
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "monotonic RTP time");
}

#[test]
fn mute_stops_only_that_kind() {
    let mut now = Instant::now();
    let mut sfu = new_sfu(now);
    let mut p = publisher(&mut sfu, now, 8000);
    let mut s = subscriber(&mut sfu, now, 8001);
    run(&mut sfu, &mut [&mut p, &mut s], &mut now, Duration::from_millis(300));
    for n in 0..10u32 {
        send(&mut p, now, n, n == 0);
        pump_client(&mut sfu, &mut p, now);
        run(&mut sfu, &mut [&mut p, &mut s], &mut now, Duration::from_millis(33));
    }
    assert_eq!(s.received.len(), 10);
    sfu.set_kind_enabled(now, "s", &s.session, MediaKind::Video, false, None).unwrap();
    for n in 10..20u32 {
        send(&mut p, now, n, n == 15);
        pump_client(&mut sfu, &mut p, now);
        run(&mut sfu, &mut [&mut p, &mut s], &mut now, Duration::from_millis(33));
    }
    assert_eq!(s.received.len(), 10, "muted video: nothing forwarded");
    sfu.set_kind_enabled(now, "s", &s.session, MediaKind::Video, true, None).unwrap();
    for n in 20..30u32 {
        send(&mut p, now, n, n == 25);
        pump_client(&mut sfu, &mut p, now);
        run(&mut sfu, &mut [&mut p, &mut s], &mut now, Duration::from_millis(33));
    }
    let nums: Vec<u32> = s.received.iter().map(|(d, _, k)| frame_no(d, *k)).collect();
    assert_eq!(nums[10], 25, "unmuted video resumes at a keyframe: {nums:?}");
    assert_eq!(nums.len(), 15);
}

/// Fuzzer-found: two PTs for the same codec made str0m assert inside accept_offer.
#[test]
fn duplicate_codec_payloads_are_accepted_without_panic() {
    let now = Instant::now();
    for (file, whep) in [("crash-dup-codec-pt-recvonly.sdp", true), ("crash-dup-codec-pt-sendrecv.sdp", false)] {
        let path = format!("{}/../../fuzz/artifacts-found/sfu_offers/{file}", env!("CARGO_MANIFEST_DIR"));
        let sdp = std::fs::read_to_string(&path).expect("fuzz artifact");
        let mut sfu = new_sfu(now);
        let r = if whep { sfu.subscribe(now, "s", &sdp, None) } else { sfu.publish(now, "s", &sdp, None) };
        assert!(r.is_ok(), "{file}: {:?}", r.err());
    }
}
