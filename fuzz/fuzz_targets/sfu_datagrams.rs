//! The sans-IO SFU core (`wishcast_sfu::Sfu`) fed arbitrary datagrams.
//!
//! Per input: a fresh `Sfu` with one WHIP publisher (Chromium simulcast offer)
//! and one WHEP subscriber (Chromium recvonly offer) on stream `s`, then a
//! script of operations, each `[op, len, data(len)]`:
//!
//! * `op & 3 == 0`: `data` as a raw datagram (DTLS/RTP/RTCP/garbage);
//! * `op & 3 == 1` / `2`: a STUN binding request to the publisher / subscriber
//!   with its real ufrag in USERNAME and a correct MESSAGE-INTEGRITY and
//!   FINGERPRINT (so it passes the demux and str0m's ICE checks), `data`
//!   appended as extra attributes; `op` bits 5/6/7 = USE-CANDIDATE,
//!   corrupt the integrity, ICE-CONTROLLED instead of CONTROLLING;
//! * `op & 3 == 3`: advance the clock by `data[0] * 8 + 1` ms (timers, ICE
//!   timeouts, the 1 s housekeeping tick, disconnect grace) — or, with bit 5,
//!   run an API call chosen by `data[0]` (PATCH with a trickle frag / ICE
//!   restart, DELETE, stream views, clock jump, simulcast layer list/select,
//!   video off, mute/unmute, BWE cap), as owner / other caller / unrestricted;
//!
//! `(op >> 2) & 3` picks one of four source addresses, bit 4 sends over TCP.
//! Byte 0 of the input: bit 0 / 1 = start with a nominating STUN request from
//! source 0 to the publisher / source 1 to the subscriber (so raw datagrams
//! from there reach DTLS and the RTP/RTCP demux at once); bit 2 = use the
//! OBS publisher and aiortc subscriber offers instead.
//! Every operation is followed by `handle_timeout` and draining
//! `poll_transmit`/`take_events`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use libfuzzer_sys::fuzz_target;
use wishcast_sdp::SdpFrag;
use wishcast_sfu::PatchOutcome;
use wishcast_sfu::str0m::media::MediaKind;
use wishcast_sfu::str0m::net::Protocol;

struct Peer {
    session: String,
    local_ufrag: String,
    local_pwd: String,
    remote_ufrag: String,
}

/// `WISHCAST_FUZZ_DEBUG=1` prints every transmit and event (for checking seeds).
fn debug() -> bool {
    static D: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *D.get_or_init(|| std::env::var_os("WISHCAST_FUZZ_DEBUG").is_some())
}

fn drain(sfu: &mut wishcast_sfu::Sfu, now: Instant) {
    sfu.handle_timeout(now);
    let mut n = 0;
    while let Some(t) = sfu.poll_transmit() {
        assert!(!t.contents.is_empty());
        if debug() {
            eprintln!("tx {:?} -> {} {} bytes, first {:02x?}", t.proto, t.destination, t.contents.len(), &t.contents[..t.contents.len().min(4)]);
        }
        n += 1;
        assert!(n < 100_000, "transmit queue never drains");
    }
    let ev = sfu.take_events();
    if debug() && !ev.is_empty() {
        eprintln!("events {ev:?}");
    }
    assert!(sfu.poll_timeout() >= now || sfu.poll_timeout() + Duration::from_secs(2) >= now);
}

fn stun_for(p: &Peer, op: u8, data: &[u8], n: u32) -> Vec<u8> {
    let mut tid = [0u8; 12];
    tid[..4].copy_from_slice(&n.to_be_bytes());
    tid[4] = op;
    let user = format!("{}:{}", p.local_ufrag, p.remote_ufrag);
    stun(&Stun {
        msg_type: 0x0001,
        trans_id: tid,
        username: &user,
        password: &p.local_pwd,
        use_candidate: op & 0x20 != 0,
        controlling: op & 0x80 == 0,
        extra: data,
        bad_integrity: op & 0x40 != 0,
        fingerprint: true,
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, mut script)) = input.split_first() else { return };
    let t0 = Instant::now();
    let mut now = t0;
    let mut sfu = new_sfu(t0);
    let (pub_offer, sub_offer) =
        if flags & 4 == 0 { (PUB_OFFER, SUB_OFFER) } else { (PUB_OFFER_OBS, SUB_OFFER_AIORTC) };
    let a = sfu.publish(now, "s", pub_offer, Some(7)).expect("fixed publisher offer is accepted");
    let b = sfu.subscribe(now, "s", sub_offer, None).expect("fixed subscriber offer is accepted");
    let mk = |ans: &wishcast_sfu::SessionAnswer, offer: &str| {
        let (lu, lp) = ice_creds(&ans.sdp);
        let (ru, _) = ice_creds(offer);
        assert!(!lu.is_empty() && !lp.is_empty());
        Peer { session: ans.session_id.clone(), local_ufrag: lu, local_pwd: lp, remote_ufrag: ru }
    };
    let mut peers = [mk(&a, pub_offer), mk(&b, sub_offer)];
    drain(&mut sfu, now);

    let src = sources();
    let udp = LOCAL_UDP.parse().unwrap();
    let tcp = LOCAL_TCP.parse().unwrap();
    let mut n = 0u32;
    for (i, bit) in [(0usize, 1u8), (1, 2)] {
        if flags & bit != 0 {
            let d = stun_for(&peers[i], 0x20, &[], n);
            n += 1;
            sfu.handle_datagram(now, Protocol::Udp, src[i], udp, &d);
            drain(&mut sfu, now);
        }
    }

    let mut ops = 0;
    while script.len() >= 2 && ops < 256 {
        ops += 1;
        let op = script[0];
        let len = (script[1] as usize).min(script.len() - 2);
        let data = &script[2..2 + len];
        script = &script[2 + len..];
        let from = src[((op >> 2) & 3) as usize];
        let (proto, local) = if op & 0x10 != 0 { (Protocol::Tcp, tcp) } else { (Protocol::Udp, udp) };
        match op & 3 {
            0 => sfu.handle_datagram(now, proto, from, local, data),
            1 | 2 => {
                let d = stun_for(&peers[(op & 3) as usize - 1], op, data, n);
                n += 1;
                sfu.handle_datagram(now, proto, from, local, &d);
            }
            _ if op & 0x20 == 0 => {
                let ms = data.first().map(|b| *b as u64 * 8 + 1).unwrap_or(1);
                now += Duration::from_millis(ms);
            }
            _ => {
                let sel = data.first().copied().unwrap_or(0);
                let p = &mut peers[(sel & 1) as usize];
                let rest = &data[1.min(data.len())..];
                // The publisher was created with owner 7: try it as 7, 8 and unrestricted.
                let caller = [None, Some(7), Some(8), None][(sel >> 4 & 3) as usize];
                match (sel >> 1) & 7 {
                    0 => {
                        // Trickle (or ICE restart) PATCH with the rest as the frag body.
                        let body = String::from_utf8_lossy(rest);
                        if let Ok(frag) = SdpFrag::parse(&body) {
                            let etag = sfu.etag("s", &p.session).ok();
                            match sfu.patch(now, "s", &p.session, &frag, etag.as_deref(), caller) {
                                Ok(PatchOutcome::Restarted { frag: answer, etag: _ }) => {
                                    let (u, pw) = ice_creds(&answer);
                                    p.local_ufrag = u;
                                    p.local_pwd = pw;
                                    if let Some(r) = frag.ice_ufrag.clone() {
                                        p.remote_ufrag = r;
                                    }
                                }
                                Ok(_) => {}
                                Err(e) => assert!(!e.to_string().is_empty()),
                            }
                        }
                    }
                    1 => {
                        let _ = sfu.delete_session(now, "s", &p.session);
                    }
                    2 => {
                        let v = sfu.stream_view("s");
                        let all = sfu.streams_view(&[]);
                        assert_eq!(v.is_some(), all.iter().any(|s| s.id == "s"));
                        let _ = serde_json::to_string(&all).unwrap();
                    }
                    3 => now += Duration::from_secs(1 + (sel >> 4) as u64),
                    4 => {
                        let _ = sfu.layers("s", &p.session, caller);
                        let rid = match rest.first().map(|b| b % 5) {
                            None | Some(0) => None,
                            Some(1) => Some("f".to_string()),
                            Some(2) => Some("h".to_string()),
                            Some(3) => Some("q".to_string()),
                            _ => Some(String::from_utf8_lossy(&rest[1..]).into_owned()),
                        };
                        let _ = sfu.select_layer(now, "s", &p.session, rid.as_deref(), caller);
                    }
                    5 => {
                        let _ = sfu.disable_video_layer("s", &p.session, caller);
                    }
                    6 => {
                        let b = rest.first().copied().unwrap_or(0);
                        let kind = if b & 1 == 0 { MediaKind::Audio } else { MediaKind::Video };
                        let _ = sfu.set_kind_enabled(now, "s", &p.session, kind, b & 2 != 0, caller);
                    }
                    _ => {
                        let bps = rest.get(..8).map(|b| u64::from_be_bytes(b.try_into().unwrap()));
                        let _ = sfu.set_bwe_cap("s", &p.session, bps);
                    }
                }
            }
        }
        drain(&mut sfu, now);
    }
    // Let everything time out and be reaped.
    for _ in 0..3 {
        now += Duration::from_secs(10);
        drain(&mut sfu, now);
    }
    let _ = sfu.session_count();
});
