//! Helpers shared by the SFU fuzz targets (included with `#[path]`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use wishcast_sfu::Metrics;
use wishcast_sfu::{Sfu, SfuConfig};

/// Realistic offers (copies of crates/sdp/tests/fixtures, kept here so the
/// harness does not change under the SDP crate's tests).
pub const PUB_OFFER: &str = include_str!("../../offers/chrome_whip_simulcast.sdp");
pub const PUB_OFFER_OBS: &str = include_str!("../../offers/obs_libdatachannel_whip.sdp");
pub const SUB_OFFER: &str = include_str!("../../offers/chrome_whep_recvonly.sdp");
pub const SUB_OFFER_AIORTC: &str = include_str!("../../offers/aiortc_sendrecv.sdp");

pub const LOCAL_UDP: &str = "127.0.0.1:5000";
pub const LOCAL_TCP: &str = "127.0.0.1:5001";

pub fn new_sfu(now: Instant) -> Sfu {
    let cfg = SfuConfig {
        udp_candidates: vec![LOCAL_UDP.parse().unwrap()],
        tcp_candidates: vec![LOCAL_TCP.parse().unwrap()],
        ..Default::default()
    };
    Sfu::new(cfg, now, 1_700_000_000_000, Arc::new(Metrics::default()))
}

/// Source addresses the fuzzer picks from (loopback only; nothing is sent anyway).
pub fn sources() -> [SocketAddr; 4] {
    [
        "127.0.0.2:40000".parse().unwrap(),
        "127.0.0.3:40001".parse().unwrap(),
        "[::1]:40002".parse().unwrap(),
        "127.0.0.2:40003".parse().unwrap(),
    ]
}

/// `a=ice-ufrag` / `a=ice-pwd` of an SDP (the first of each).
pub fn ice_creds(sdp: &str) -> (String, String) {
    let get = |k: &str| {
        sdp.lines()
            .find_map(|l| l.trim_end().strip_prefix(k))
            .unwrap_or_default()
            .to_string()
    };
    (get("a=ice-ufrag:"), get("a=ice-pwd:"))
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn push_attr(buf: &mut Vec<u8>, typ: u16, val: &[u8]) {
    buf.extend_from_slice(&typ.to_be_bytes());
    buf.extend_from_slice(&(val.len() as u16).to_be_bytes());
    buf.extend_from_slice(val);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// What to put in a hand-built STUN message.
pub struct Stun<'a> {
    pub msg_type: u16,
    pub trans_id: [u8; 12],
    pub username: &'a str,
    pub password: &'a str,
    pub use_candidate: bool,
    pub controlling: bool,
    /// Raw bytes appended after the standard attributes (the fuzzer's TLVs).
    pub extra: &'a [u8],
    /// Flip a bit in MESSAGE-INTEGRITY.
    pub bad_integrity: bool,
    pub fingerprint: bool,
}

/// A STUN message with USERNAME, PRIORITY, ICE-CONTROLLING/CONTROLLED,
/// USE-CANDIDATE, the fuzzer's attributes, a correct MESSAGE-INTEGRITY
/// (HMAC-SHA1 with `password`) and FINGERPRINT.
pub fn stun(s: &Stun) -> Vec<u8> {
    let mut b = Vec::with_capacity(128 + s.extra.len());
    b.extend_from_slice(&s.msg_type.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&0x2112_a442u32.to_be_bytes());
    b.extend_from_slice(&s.trans_id);
    push_attr(&mut b, 0x0006, s.username.as_bytes());
    push_attr(&mut b, 0x0024, &0x6e7f_1effu32.to_be_bytes());
    if s.controlling {
        push_attr(&mut b, 0x802a, &0x1122_3344_5566_7788u64.to_be_bytes());
    } else {
        push_attr(&mut b, 0x8029, &0x1122_3344_5566_7788u64.to_be_bytes());
    }
    if s.use_candidate {
        push_attr(&mut b, 0x0025, &[]);
    }
    b.extend_from_slice(s.extra);
    while b.len() % 4 != 0 {
        b.push(0);
    }
    // MESSAGE-INTEGRITY over everything so far, with the length covering it.
    let len = (b.len() - 20 + 24) as u16;
    b[2..4].copy_from_slice(&len.to_be_bytes());
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(s.password.as_bytes()).unwrap();
    m.update(&b);
    let mut mac: [u8; 20] = m.finalize().into_bytes().into();
    if s.bad_integrity {
        mac[0] ^= 1;
    }
    push_attr(&mut b, 0x0008, &mac);
    if s.fingerprint {
        let len = (b.len() - 20 + 8) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        let fp = crc32(&b) ^ 0x5354_554e;
        push_attr(&mut b, 0x8028, &fp.to_be_bytes());
    }
    b
}
