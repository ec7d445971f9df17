//! Read-only views of the media plane in the API's wire shapes.

use std::time::Instant;

use str0m::media::MediaKind;
use wishcast_api::{Codec, PubSub, Session, Stats, Stream, StreamStats};

use super::Sfu;
use crate::core::codec::{codec_name, fmtp_string};
use crate::core::peer::{Peer, PeerId};
use crate::core::relay::cascade_view;

impl Sfu {
    fn session_view(p: &Peer) -> Session {
        Session {
            id: p.session_id.clone(),
            created_at: p.created_at_ms,
            leave_at: 0,
            state: p.state,
            cascade: p.relay.as_ref().map(cascade_view),
            has_data_channel: !p.channels.is_empty(),
            stats: Stats { bytes: p.total_bytes(), packets: p.total_packets(), bitrate: p.bitrate },
        }
    }

    /// One stream as served by `GET /api/streams/{id}`.
    pub fn stream_view(&self, id: &str) -> Option<Stream> {
        let s = self.streams.get(id)?;
        if s.mirror && s.publisher.is_none() && s.subscribers.is_empty() {
            return None; // only carries another worker's frames
        }
        let sessions = |ids: &mut dyn Iterator<Item = PeerId>| -> Vec<Session> {
            let mut v: Vec<Session> = ids.filter_map(|p| self.peer(p)).map(Self::session_view).collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            v
        };
        let publish = sessions(&mut s.publisher.into_iter());
        let subscribe = sessions(&mut s.subscribers.iter().copied());
        let pub_rate: u64 = publish.iter().map(|x| x.stats.bitrate).sum();
        let sub_rate: u64 = subscribe.iter().map(|x| x.stats.bitrate).sum();
        Some(Stream {
            id: s.id.clone(),
            created_at: s.created_at_ms,
            publish: PubSub { leave_at: s.publish_leave_at_ms, sessions: publish },
            subscribe: PubSub { leave_at: s.subscribe_leave_at_ms, sessions: subscribe },
            codecs: s
                .codecs
                .iter()
                .map(|(k, p)| Codec {
                    kind: if *k == MediaKind::Video { "video".into() } else { "audio".into() },
                    codec: codec_name(p.spec().codec).into(),
                    fmtp: fmtp_string(p),
                })
                .collect(),
            provisioned: false,
            on_demand: false,
            stats: StreamStats {
                publish: Stats { bytes: s.publish_bytes, packets: s.publish_packets, bitrate: pub_rate },
                subscribe: Stats { bytes: s.subscribe_bytes, packets: s.subscribe_packets, bitrate: sub_rate },
            },
            stats_scope: "node".into(),
        })
    }

    /// All streams, sorted by id, optionally filtered.
    pub fn streams_view(&self, filter: &[String]) -> Vec<Stream> {
        let mut ids: Vec<&String> =
            self.streams.keys().filter(|k| filter.is_empty() || filter.iter().any(|f| f == *k)).collect();
        ids.sort();
        ids.into_iter().filter_map(|id| self.stream_view(id)).collect()
    }

    /// Number of sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The unix ms the core believes it is at `now`.
    pub fn now_ms(&self, now: Instant) -> u64 {
        self.unix_ms(now)
    }
}
