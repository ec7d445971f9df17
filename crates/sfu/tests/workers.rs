//! Several media workers in memory (see `common::net`): one `Sfu` per worker, bridge
//! messages carried between them by the test, str0m clients under a virtual clock.
//! Proves frames reach subscribers on every worker, keyframe requests from a remote
//! worker reach the publisher, GOP replay on a remote worker, republish continuity
//! across workers, DataChannel relay both ways, and that a subscriber on any worker is
//! answered and written with its own payload types (`payload_types` below).

mod common;

use common::net::{Net, STREAM, Spec};
use common::{frame_no, h264_frame, h264_no, vp8_frame};
use std::time::Duration;
use wishcast_sfu::SfuError;

use str0m::Rtc;
use str0m::format::{Codec, FormatParams};
use str0m::media::{Direction, Frequency, MediaTime};

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
        net.send(p, n, n.is_multiple_of(10));
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
        net.send(p, n, n.is_multiple_of(10));
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

/// Payload types per m-line kind ("audio"/"video") of an SDP.
fn sdp_pts(sdp: &str) -> Vec<(String, Vec<u8>)> {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("m="))
        .map(|m| {
            let f: Vec<&str> = m.split_whitespace().collect();
            (f[0].to_string(), f.iter().skip(3).filter_map(|p| p.parse().ok()).collect())
        })
        .collect()
}

/// The PT an SDP maps to `codec` (first rtpmap, case-insensitive).
fn rtpmap_pt(sdp: &str, codec: &str) -> Option<u8> {
    sdp.lines().filter_map(|l| l.trim().strip_prefix("a=rtpmap:")).find_map(|r| {
        let (pt, name) = r.split_once(' ')?;
        name.to_ascii_lowercase().starts_with(&format!("{}/", codec.to_ascii_lowercase())).then(|| pt.parse().ok())?
    })
}

/// A Chrome-like H.264 simulcast publisher: H.264 on PT 102 (RTX 103), Opus on 109.
fn h264_simulcast_publisher() -> Spec {
    let mut config = Rtc::builder().clear_codecs();
    config.codec_config().add_h264(102.into(), Some(103.into()), true, 0x42e01f);
    config.codec_config().add_config(
        109.into(),
        None,
        Codec::Opus,
        Frequency::FORTY_EIGHT_KHZ,
        Some(2),
        FormatParams { min_p_time: Some(10), use_inband_fec: Some(true), ..Default::default() },
    );
    Spec { config, video: true, audio: true, simulcast: Some(vec!["q", "h", "f"]), data_channel: false }
}

/// The node's recorder: a str0m client offering every codec with str0m's own numbers
/// (H.264 on 127/125/108..., H.265 on 102, Opus on 111).
fn every_codec_viewer() -> Spec {
    let config = Rtc::builder()
        .clear_codecs()
        .enable_h264(true)
        .enable_vp8(true)
        .enable_vp9(true)
        .enable_av1(true)
        .enable_h265(true)
        .enable_opus(true, false)
        .enable_g722(true, false)
        .enable_pcmu(true, false)
        .enable_pcma(true, false);
    Spec { config, video: true, audio: true, simulcast: None, data_channel: false }
}

/// One access unit on each layer and one Opus packet; layers differ in size and tag.
fn send_h264_layers(net: &mut Net, p: usize, n: u32, key: bool) {
    let (mid, audio) = (net.clients[p].mid, net.clients[p].audio_mid.expect("audio"));
    for (i, r) in ["q", "h", "f"].iter().enumerate() {
        let rtp = MediaTime::from_90khz(10_000 + n as u64 * 3000);
        net.write(p, mid, Some(r), rtp, h264_frame(n, key, 600 * (1 + 3 * i), b"qhf"[i]));
    }
    let opus = format!("opus#{n:08}").into_bytes();
    net.write(p, audio, None, MediaTime::new(960 * n as u64, Frequency::FORTY_EIGHT_KHZ), opus);
    net.run(Duration::from_millis(33));
}

#[test]
fn every_codec_relay_viewer_gets_h264_simulcast_in_its_own_payload_types_on_any_worker() {
    let mut net = Net::new(3);
    let p = net.publish_with(6000, h264_simulcast_publisher());
    net.run(Duration::from_millis(300));
    assert!(net.clients[p].rtc.is_connected());
    // Frames flow first, so every other worker already mirrors the stream (with the
    // publisher's negotiated payloads) when the viewers arrive.
    for n in 0..10u32 {
        send_h264_layers(&mut net, p, n, n == 0);
    }
    let workers = [net.home(), net.remote(0), net.remote(1)];
    let mut viewers = Vec::new();
    for (k, w) in workers.into_iter().enumerate() {
        let o = net.offer(6001 + k as u16, Direction::RecvOnly, every_codec_viewer());
        let a = net.try_subscribe(&o, w, true).expect("relay viewer accepted");
        // The answer uses only the viewer's own numbers, in each m-line.
        let offered = sdp_pts(&o.sdp);
        for (kind, pts) in sdp_pts(&a.sdp) {
            let mine = &offered.iter().find(|(k, _)| *k == kind).expect("same m-lines").1;
            assert!(pts.iter().all(|pt| mine.contains(pt)), "worker {w}: {kind} answer {pts:?} not within {mine:?}");
        }
        let h264 = rtpmap_pt(&a.sdp, "H264").expect("H.264 answered");
        assert_ne!(h264, 102, "worker {w}: the publisher's H.264 number leaked into the answer");
        assert_eq!(rtpmap_pt(&a.sdp, "opus"), Some(111), "worker {w}: Opus on the viewer's 111");
        viewers.push((net.attach(o, w, a), h264));
    }
    net.run(Duration::from_millis(400));
    for n in 10..40u32 {
        send_h264_layers(&mut net, p, n, n.is_multiple_of(10));
    }
    net.run(Duration::from_millis(200));
    for &(v, h264) in &viewers {
        let c = &net.clients[v];
        let w = c.worker;
        assert!(c.rtc.is_connected(), "viewer on worker {w} connected");
        assert!(c.video.len() >= 20, "viewer on worker {w} got {} video frames", c.video.len());
        let nums: Vec<u32> = c.video.iter().map(|g| h264_no(&g.data).expect("a frame of ours")).collect();
        assert!(nums.windows(2).all(|x| x[1] > x[0]), "worker {w}: frames in order {nums:?}");
        assert_eq!(*nums.last().unwrap(), 39, "worker {w}: up to the last frame");
        assert!(c.video[0].key, "worker {w}: starts at a keyframe");
        for g in &c.video {
            let n = h264_no(&g.data).unwrap();
            let tag = *g.data.last().unwrap();
            let i = b"qhf".iter().position(|t| *t == tag).expect("a layer tag");
            assert_eq!(
                g.data,
                h264_frame(n, n.is_multiple_of(10), 600 * (1 + 3 * i), tag),
                "worker {w}: frame {n} intact"
            );
            assert_eq!(*g.pt, h264, "worker {w}: written with the answered PT");
        }
        assert!(c.audio.len() >= 20, "viewer on worker {w} got {} audio packets", c.audio.len());
        assert!(c.audio.iter().all(|g| *g.pt == 111), "worker {w}: Opus on the viewer's own PT");
        let last = c.audio.last().unwrap();
        assert_eq!(last.data, b"opus#00000039".to_vec(), "worker {w}: audio intact");
    }
}

fn opus(pt: u8) -> (u8, Codec, Frequency, Option<u8>, FormatParams) {
    (pt, Codec::Opus, Frequency::FORTY_EIGHT_KHZ, Some(2), FormatParams { min_p_time: Some(10), ..Default::default() })
}

fn spec_of(video: &[(u8, Option<u8>, Codec, FormatParams)], audio_pt: u8) -> Spec {
    let mut config = Rtc::builder().clear_codecs();
    let (pt, codec, clock, channels, fmtp) = opus(audio_pt);
    config.codec_config().add_config(pt.into(), None, codec, clock, channels, fmtp);
    for (pt, rtx, codec, fmtp) in video {
        config.codec_config().add_config((*pt).into(), rtx.map(Into::into), *codec, Frequency::NINETY_KHZ, None, *fmtp);
    }
    let config = config.enable_pcmu(true, false).enable_pcma(true, false);
    Spec { config, video: true, audio: true, simulcast: None, data_channel: false }
}

fn h264(profile: u32) -> FormatParams {
    FormatParams {
        level_asymmetry_allowed: Some(true),
        packetization_mode: Some(1),
        profile_level_id: Some(profile),
        ..Default::default()
    }
}

/// aiortc's numbering: Opus 96, VP8 97 (RTX 98), H.264 99/100 and 101/102.
fn aiortc() -> Spec {
    spec_of(
        &[
            (97, Some(98), Codec::Vp8, FormatParams::default()),
            (99, Some(100), Codec::H264, h264(0x42001f)),
            (101, Some(102), Codec::H264, h264(0x42e01f)),
        ],
        96,
    )
}

/// webrtc-rs (Live777's whipinto/whepfrom): Opus 111, VP8 96 (RTX 97), VP9 98/99,
/// H.264 102/103.
fn webrtc_rs() -> Spec {
    spec_of(
        &[
            (96, Some(97), Codec::Vp8, FormatParams::default()),
            (98, Some(99), Codec::Vp9, FormatParams { profile_id: Some(0), ..Default::default() }),
            (102, Some(103), Codec::H264, h264(0x42001f)),
        ],
        111,
    )
}

/// Issue 11 items 2 and 3: a viewer whose numbers differ from the publisher's is
/// answered and written with its own numbers for the stream's codecs, on the home
/// worker and on another one. aiortc viewing a whipinto stream used to get a 201
/// without VP8/Opus; whepfrom viewing an aiortc stream used to panic str0m
/// ("Pt locked multiple times: 98": the publisher's VP8 RTX 98 vs the viewer's VP9 98).
#[test]
fn renumbered_viewers_get_the_stream_in_their_own_numbers() {
    type Make = fn() -> Spec;
    let cases: [(&str, Make, Make, u8, u8); 2] =
        [("whipinto → aiortc", webrtc_rs, aiortc, 97, 96), ("aiortc → whepfrom", aiortc, webrtc_rs, 96, 111)];
    for (name, publisher, viewer, vp8_pt, opus_pt) in cases {
        let mut net = Net::new(2);
        let p = net.publish_with(6100, publisher());
        net.run(Duration::from_millis(300));
        let audio = net.clients[p].audio_mid.expect("audio");
        let av = |net: &mut Net, n: u32| {
            net.write(p, audio, None, MediaTime::new(960 * n as u64, Frequency::FORTY_EIGHT_KHZ), vec![0xfc, n as u8]);
            net.send(p, n, n.is_multiple_of(10));
        };
        for n in 0..10u32 {
            av(&mut net, n);
        }
        let mut viewers = Vec::new();
        for (k, w) in [net.home(), net.remote(0)].into_iter().enumerate() {
            let o = net.offer(6101 + k as u16, Direction::RecvOnly, viewer());
            let a = net.try_subscribe(&o, w, false).unwrap_or_else(|e| panic!("{name}, worker {w}: {e}"));
            assert_eq!(rtpmap_pt(&a.sdp, "VP8"), Some(vp8_pt), "{name}, worker {w}: VP8 in the viewer's number");
            assert_eq!(rtpmap_pt(&a.sdp, "opus"), Some(opus_pt), "{name}, worker {w}: Opus in the viewer's number");
            viewers.push(net.attach(o, w, a));
        }
        net.run(Duration::from_millis(400));
        for n in 10..30u32 {
            av(&mut net, n);
        }
        for &v in &viewers {
            let c = &net.clients[v];
            let w = c.worker;
            let nums: Vec<u32> = c.video.iter().map(|g| frame_no(&g.data, g.key)).collect();
            assert_eq!(nums, (0..30).collect::<Vec<_>>(), "{name}, worker {w}: the cached GOP, then live");
            assert!(c.video.iter().all(|g| *g.pt == vp8_pt), "{name}, worker {w}: VP8 written with PT {vp8_pt}");
            assert!(c.audio.len() >= 15, "{name}, worker {w}: {} audio packets", c.audio.len());
            assert!(c.audio.iter().all(|g| *g.pt == opus_pt), "{name}, worker {w}: Opus written with PT {opus_pt}");
            assert_eq!(c.audio.last().map(|g| g.data.clone()), Some(vec![0xfc, 29]), "{name}, worker {w}");
        }
    }
}

/// No codec in common with the stream: 422, never a 201 with other codecs, on any worker.
#[test]
fn a_viewer_without_the_streams_codecs_gets_422_on_any_worker() {
    let mut net = Net::new(2);
    let p = net.publish(6200, false);
    net.run(Duration::from_millis(300));
    for n in 0..5u32 {
        net.send(p, n, n == 0);
    }
    let h264_only = || Spec {
        config: Rtc::builder().clear_codecs().enable_h264(true),
        video: true,
        audio: false,
        simulcast: None,
        data_channel: false,
    };
    for w in [net.home(), net.remote(0)] {
        let o = net.offer(6201, Direction::RecvOnly, h264_only());
        match net.try_subscribe(&o, w, false) {
            Err(e @ SfuError::NoCommonCodec { .. }) => {
                assert!(e.to_string().contains("VP8"), "worker {w}: names the stream's codec: {e}")
            }
            other => panic!("worker {w}: expected 422, got {:?}", other.map(|a| a.sdp)),
        }
    }
}
