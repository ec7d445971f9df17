//! Arbitrary sequences of control-plane `Command`s against three in-memory media
//! workers (one `Sfu` each, bridge messages carried between them), routed the way
//! `MediaHandle` routes them: publishes and relay offers to the stream's home
//! worker, subscribes to a fuzzer-chosen worker (told the home worker's
//! `UpstreamInfo`), session commands to the worker the session id names.
//!
//! Input: a script of 4-byte steps `[op, a, b, c]`. `a` picks a stream (4 names),
//! `b` a session (one created so far, or a garbage id), `c` an owner/offer/flag.
//! Invariants besides "no panic": no `Internal` error, every `Ok` reply is the
//! variant its command answers, session ids are UUIDs naming the worker that
//! created them, and the merged stream views list exactly the sessions the workers
//! hold. `SFU_COMMANDS_TRACE=1` prints each command's outcome (to check what a seed
//! reaches).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use libfuzzer_sys::fuzz_target;
use wishcast_sdp::SdpFrag;
use wishcast_sfu::str0m::media::MediaKind;
use wishcast_sfu::{
    Command, Metrics, RelayKind, Reply, Sfu, SfuConfig, SfuError, home_of, merge_streams, session_worker,
};

const WORKERS: usize = 3;
const STREAMS: [&str; 4] = ["a", "b", "live", "x/y"];
const PUB_OFFERS: [&str; 2] = [PUB_OFFER, PUB_OFFER_OBS];
const SUB_OFFERS: [&str; 3] = [SUB_OFFER, SUB_OFFER_AIORTC, PUB_OFFER];

struct World {
    sfus: Vec<Sfu>,
    now: Instant,
    /// (stream, session id, worker that created it)
    sessions: Vec<(String, String, usize)>,
}

impl World {
    fn new() -> World {
        let now = Instant::now();
        let metrics = Arc::new(Metrics::default());
        let sfus = (0..WORKERS)
            .map(|w| {
                let cfg = SfuConfig {
                    udp_candidates: vec![LOCAL_UDP.parse().unwrap()],
                    worker: w,
                    workers: WORKERS,
                    ..Default::default()
                };
                Sfu::new(cfg, now, 1_700_000_000_000, metrics.clone())
            })
            .collect();
        World { sfus, now, sessions: Vec::new() }
    }

    fn settle(&mut self) {
        for _ in 0..8 {
            let mut any = false;
            for w in 0..WORKERS {
                for (dest, msg) in self.sfus[w].take_bridge() {
                    any = true;
                    let now = self.now;
                    self.sfus[dest].handle_bridge(now, w, msg);
                }
                while self.sfus[w].poll_transmit().is_some() {}
                let _ = self.sfus[w].take_events();
                let _ = self.sfus[w].take_route_hints();
                let _ = self.sfus[w].take_closed_relays();
            }
            if !any {
                break;
            }
        }
    }

    /// Run `cmd` where `MediaHandle` would, checking the reply's shape.
    fn run(&mut self, cmd: Command, sub_worker: usize) -> Result<Reply, SfuError> {
        let name = cmd.name();
        let now = self.now;
        let w = match &cmd {
            // DeleteStream: the home worker closes the stream everywhere (bridge).
            Command::Publish { stream, .. }
            | Command::RelayOffer { stream, .. }
            | Command::CreateStream { stream }
            | Command::DeleteStream { stream } => home_of(stream, WORKERS),
            Command::Subscribe { .. } => sub_worker,
            c => match c.session().and_then(|s| session_worker(s, WORKERS)) {
                Some(w) => w,
                None => 0,
            },
        };
        let cmd = match cmd {
            Command::Subscribe { stream, offer, owner, relay, .. } => {
                let home = home_of(&stream, WORKERS);
                let upstream = if w == home {
                    None
                } else {
                    let info = self.sfus[home].handle(Command::UpstreamInfo { stream: stream.clone() }, now);
                    Some(info.expect("upstream info always answers").into_upstream().expect("upstream reply"))
                };
                Command::Subscribe { stream, offer, owner, relay, upstream }
            }
            c => c,
        };
        let r = self.sfus[w].handle(cmd.clone(), now);
        if std::env::var_os("SFU_COMMANDS_TRACE").is_some() {
            eprintln!("{name} on {w}: {:?}", r.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        }
        match &r {
            Err(SfuError::Internal(m)) => panic!("{name}: internal error {m}"),
            Err(e) => assert!(!e.to_string().is_empty()),
            Ok(reply) => {
                let ok = match (&cmd, reply) {
                    (Command::Publish { stream, .. } | Command::Subscribe { stream, .. }, Reply::Session(a)) => {
                        assert_eq!(session_worker(&a.session_id, WORKERS), Some(w), "{}", a.session_id);
                        let (u, p) = ice_creds(&a.sdp);
                        assert!(!u.is_empty() && !p.is_empty());
                        self.sessions.push((stream.clone(), a.session_id.clone(), w));
                        true
                    }
                    (Command::RelayOffer { stream, .. }, Reply::RelayOffer { session, sdp }) => {
                        assert_eq!(session_worker(session, WORKERS), Some(w));
                        assert!(sdp.starts_with("v=0"));
                        self.sessions.push((stream.clone(), session.clone(), w));
                        true
                    }
                    (Command::UpstreamInfo { .. }, Reply::Upstream(_)) => true,
                    (Command::Patch { .. }, Reply::Patched(_)) => true,
                    (Command::Layers { .. }, Reply::Layers(l)) => !l.is_empty(),
                    (Command::Streams { .. }, Reply::Streams(_)) => true,
                    (_, Reply::Done) => true,
                    _ => false,
                };
                assert!(ok, "{name} answered {reply:?}");
            }
        }
        r
    }

    fn check_views(&mut self) {
        let parts: Vec<_> = (0..WORKERS)
            .map(|w| {
                let now = self.now;
                self.sfus[w].handle(Command::Streams { filter: Vec::new() }, now).unwrap().into_streams().unwrap()
            })
            .collect();
        let listed: usize =
            merge_streams(parts).iter().map(|s| s.publish.sessions.len() + s.subscribe.sessions.len()).sum();
        let held: usize = self.sfus.iter().map(|s| s.session_count()).sum();
        assert_eq!(listed, held, "merged views list every session once");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut world = World::new();
    for step in data.chunks_exact(4).take(64) {
        let (op, a, b, c) = (step[0], step[1], step[2], step[3]);
        let stream = STREAMS[a as usize % STREAMS.len()].to_string();
        let owner = if c & 0x80 != 0 { Some((c & 3) as u64) } else { None };
        let session = match world.sessions.get(b as usize % (world.sessions.len() + 1)) {
            Some((_, s, _)) => s.clone(),
            None => format!("0f0e0d0c-0b0a-4908-8706-0504030201{:02x}", b),
        };
        let cmd = match op % 18 {
            0 => Command::Publish { stream, offer: PUB_OFFERS[c as usize % 2].into(), owner },
            1 | 2 => Command::Subscribe {
                stream,
                offer: SUB_OFFERS[c as usize % 3].into(),
                owner,
                relay: c & 0x40 != 0,
                upstream: None,
            },
            3 => Command::Patch {
                stream,
                session,
                frag: SdpFrag::parse(if c & 1 == 0 {
                    "a=candidate:1 1 udp 2130706431 127.0.0.2 40000 typ host\r\n"
                } else {
                    "a=ice-ufrag:new1\r\na=ice-pwd:0123456789abcdef01234567\r\n"
                })
                .unwrap_or_default(),
                if_match: (c & 2 != 0).then(|| "*".to_string()),
                owner,
            },
            4 => Command::DeleteSession { stream, session, owner },
            5 => Command::CreateStream { stream },
            6 => Command::DeleteStream { stream },
            7 => Command::Streams { filter: if c & 1 == 0 { Vec::new() } else { vec![stream] } },
            8 => Command::Layers { stream, session, owner },
            9 => Command::SelectLayer {
                stream,
                session,
                rid: ["h", "q", "f", "zz"].get(c as usize % 5).map(|r| r.to_string()),
                owner,
            },
            10 => Command::DisableVideo { stream, session, owner },
            11 => Command::SetEnabled {
                stream,
                session,
                kind: if c & 1 == 0 { MediaKind::Audio } else { MediaKind::Video },
                enabled: c & 2 != 0,
                owner,
            },
            12 => Command::BweCap { stream, session, bps: (c & 1 != 0).then_some(c as u64 * 10_000) },
            13 => Command::RelayOffer {
                stream,
                kind: if c & 1 == 0 { RelayKind::Pull } else { RelayKind::Push },
                url: "http://127.0.0.9:1/whep/x".into(),
                token: (c & 2 != 0).then(|| "t".to_string()),
            },
            14 => Command::RelayAnswer {
                session,
                answer: SUB_OFFERS[c as usize % 3].into(),
                session_url: "http://127.0.0.9:1/session/x/1".into(),
            },
            15 => Command::RelayAbort { session },
            16 => Command::UpstreamInfo { stream },
            _ => {
                world.now += Duration::from_millis(1 + c as u64 * 40);
                let now = world.now;
                for s in &mut world.sfus {
                    s.handle_timeout(now);
                }
                world.settle();
                continue;
            }
        };
        let _ = world.run(cmd, b as usize % WORKERS);
        world.settle();
        world.check_views();
    }
});
