//! Deterministic "mini fuzzing": random and mutated inputs never panic, and
//! whatever is accepted is self-consistent. (Real fuzzing lives in /fuzz.)

mod common;

use common::ALL_OFFERS;
use wishcast_sdp::{OfferInfo, SdpFrag};

/// xorshift64*: small, deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

const TOKENS: &[&str] = &[
    "v=0",
    "o=- 1 2 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "m=video 0 UDP/TLS/RTP/SAVPF 96 97",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "m=",
    "a=mid:",
    "a=mid:0",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:111 opus/48000/2",
    "a=rtpmap:",
    "a=fmtp:97 apt=96",
    "a=fmtp:97 apt=",
    "a=rid:h send",
    "a=simulcast:send h",
    "a=candidate:1 1 udp 1 10.0.0.1 9 typ host",
    "a=candidate:",
    "a=end-of-candidates",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:",
    "a=sendonly",
    "a=recvonly",
    "\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    ":",
    "/",
    "=",
    ";",
    "0",
    "127",
    "128",
    "65535",
    "65536",
    "4294967296",
    "18446744073709551616",
    "é",
    "🎥",
    "\u{feff}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "ß",
    "x=",
    "V=0",
];

fn check(input: &str) {
    if let Ok(o) = OfferInfo::parse(input) {
        assert!(!o.media.is_empty() && o.media.len() <= wishcast_sdp::MAX_MEDIA_SECTIONS);
        for m in &o.media {
            assert!(m.codecs.iter().all(|c| c.pt <= 127 && c.clock_rate > 0));
        }
    }
    if let Ok(f) = SdpFrag::parse(input) {
        assert!(f.candidates().all(|(_, c)| c.starts_with("candidate:")));
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..20_000 {
        let n = rng.below(40);
        let s: String = (0..n).map(|_| rng.pick(TOKENS)).collect();
        check(&s);
        // Line-structured variant.
        let lines: Vec<&str> = (0..n).map(|_| rng.pick(TOKENS)).collect();
        check(&format!("v=0\no=- 1 2 IN IP4 0.0.0.0\ns=-\nt=0 0\n{}", lines.join("\n")));
    }
}

#[test]
fn random_chars_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..5_000 {
        let n = rng.below(200);
        let s: String = (0..n)
            .map(|_| match rng.below(4) {
                0 => char::from_u32(rng.below(0x80) as u32).unwrap_or('?'),
                1 => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
                _ => "v=0amsot\r\n :/".chars().nth(rng.below(14)).unwrap_or('x'),
            })
            .collect();
        check(&s);
    }
}

#[test]
fn mutated_real_offers_never_panic() {
    let mut rng = Rng(7);
    for fixture in ALL_OFFERS {
        let lines: Vec<&str> = fixture.lines().collect();
        for _ in 0..1_500 {
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for _ in 0..=rng.below(4) {
                let i = rng.below(out.len());
                match rng.below(7) {
                    0 => {
                        out.remove(i.min(out.len().saturating_sub(1)));
                    }
                    1 => {
                        let dup = out.get(i).cloned().unwrap_or_default();
                        out.insert(i, dup);
                    }
                    2 => {
                        if let Some(l) = out.get_mut(i) {
                            let cut = l
                                .char_indices()
                                .map(|(b, _)| b)
                                .nth(rng.below(l.chars().count() + 1))
                                .unwrap_or(l.len());
                            l.truncate(cut);
                        }
                    }
                    3 => out.insert(i, rng.pick(TOKENS).to_string()),
                    4 => {
                        let j = rng.below(out.len());
                        if i < out.len() && j < out.len() {
                            out.swap(i, j);
                        }
                    }
                    5 => {
                        if let Some(l) = out.get_mut(i) {
                            l.push_str(rng.pick(TOKENS));
                        }
                    }
                    _ => {
                        if let Some(l) = out.get_mut(i) {
                            *l = l.replace(|c: char| c.is_ascii_digit(), "9999999999");
                        }
                    }
                }
                if out.is_empty() {
                    break;
                }
            }
            let sep = if rng.below(2) == 0 { "\r\n" } else { "\n" };
            check(&out.join(sep));
        }
        // The unmutated fixture is valid both ways.
        assert!(OfferInfo::parse(fixture).is_ok());
        assert!(SdpFrag::parse(fixture).is_ok());
    }
}

#[test]
fn huge_inputs_are_linear() {
    // 200k candidate lines and 100k rid lines parse quickly (no quadratic work).
    let cands = "a=candidate:1 1 udp 1 10.0.0.1 9 typ host\n".repeat(200_000);
    let start = std::time::Instant::now();
    assert_eq!(SdpFrag::parse(&cands).unwrap().candidates().count(), 200_000);
    let rids: String = (0..100_000).map(|i| format!("a=rid:r{i} send\n")).collect();
    let offer = format!("v=0\no=- 1 2 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=video 9 UDP/TLS/RTP/SAVPF 0\n{rids}");
    assert_eq!(OfferInfo::parse(&offer).unwrap().media[0].rids.len(), 100_000);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}
