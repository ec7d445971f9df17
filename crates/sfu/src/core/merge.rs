//! Combining per-worker views of the same streams into the node's one view: a
//! stream's publisher lives on one worker and its subscribers on several.

use std::collections::BTreeMap;

use wishcast_api::Stream;

use crate::core::error::SfuError;

/// Merge the streams each worker reported (sorted by id). Sessions are concatenated,
/// stats summed, codecs taken from the worker that has the publisher.
pub fn merge_streams(parts: Vec<Vec<Stream>>) -> Vec<Stream> {
    let mut by_id: BTreeMap<String, Stream> = BTreeMap::new();
    for s in parts.into_iter().flatten() {
        match by_id.get_mut(&s.id) {
            None => {
                by_id.insert(s.id.clone(), s);
            }
            Some(m) => merge_into(m, s),
        }
    }
    by_id.into_values().collect()
}

fn merge_into(m: &mut Stream, s: Stream) {
    m.created_at = m.created_at.min(s.created_at);
    if (m.codecs.is_empty() || !s.publish.sessions.is_empty()) && !s.codecs.is_empty() {
        m.codecs = s.codecs;
    }
    for (a, b) in [(&mut m.publish, s.publish), (&mut m.subscribe, s.subscribe)] {
        a.sessions.extend(b.sessions);
        a.sessions.sort_by(|x, y| x.id.cmp(&y.id));
        a.leave_at = if a.sessions.is_empty() { a.leave_at.max(b.leave_at) } else { 0 };
    }
    for (a, b) in [(&mut m.stats.publish, s.stats.publish), (&mut m.stats.subscribe, s.stats.subscribe)] {
        a.bytes += b.bytes;
        a.packets += b.packets;
        a.bitrate += b.bitrate;
    }
    m.provisioned |= s.provisioned;
    m.on_demand |= s.on_demand;
}

/// The outcome of trying a session-scoped call on every worker: the first success,
/// else the most telling error (one that is not "not here").
pub fn pick_session_result<R>(results: Vec<Result<R, SfuError>>) -> Result<R, SfuError> {
    let mut not_found: Option<SfuError> = None;
    let mut other: Option<SfuError> = None;
    for r in results {
        match r {
            Ok(v) => return Ok(v),
            Err(e @ SfuError::SessionNotFound(_)) => not_found = Some(e),
            Err(e @ SfuError::StreamNotFound(_)) => {
                if not_found.is_none() {
                    not_found = Some(e)
                }
            }
            Err(e) => {
                if other.is_none() {
                    other = Some(e)
                }
            }
        }
    }
    Err(other.or(not_found).unwrap_or_else(|| SfuError::Internal("no media worker answered".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wishcast_api::{Codec, PubSub, Session, SessionState, Stats, StreamStats};

    fn session(id: &str) -> Session {
        Session {
            id: id.into(),
            created_at: 1,
            leave_at: 0,
            state: SessionState::Connected,
            cascade: None,
            has_data_channel: false,
            stats: Stats { bytes: 10, packets: 1, bitrate: 80 },
        }
    }

    fn stream(id: &str, created: u64, publish: &[&str], subscribe: &[&str], codec: bool) -> Stream {
        let n = |v: &[&str]| v.iter().map(|s| session(s)).collect::<Vec<_>>();
        Stream {
            id: id.into(),
            created_at: created,
            publish: PubSub { leave_at: if publish.is_empty() { 500 } else { 0 }, sessions: n(publish) },
            subscribe: PubSub { leave_at: if subscribe.is_empty() { 600 } else { 0 }, sessions: n(subscribe) },
            codecs: if codec {
                vec![Codec { kind: "video".into(), codec: "vp8".into(), fmtp: String::new() }]
            } else {
                vec![]
            },
            provisioned: false,
            on_demand: false,
            stats: StreamStats {
                publish: Stats { bytes: publish.len() as u64 * 10, packets: 0, bitrate: 0 },
                subscribe: Stats { bytes: subscribe.len() as u64 * 10, packets: 0, bitrate: 0 },
            },
            stats_scope: "node".into(),
        }
    }

    #[test]
    fn one_stream_across_workers_becomes_one_view() {
        let w0 = vec![stream("a", 5, &["p"], &["s1"], true), stream("b", 9, &[], &["x"], false)];
        let w1 = vec![stream("a", 3, &[], &["s3", "s2"], false)];
        let m = merge_streams(vec![w0, w1]);
        assert_eq!(m.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let a = &m[0];
        assert_eq!(a.created_at, 3);
        assert_eq!(a.publish.sessions.len(), 1);
        let subs: Vec<&str> = a.subscribe.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(subs, ["s1", "s2", "s3"], "sorted by id");
        assert_eq!(a.subscribe.leave_at, 0);
        assert_eq!(a.publish.leave_at, 0, "the publisher is on worker 0");
        assert_eq!(a.codecs.len(), 1, "codecs from the publisher's worker");
        assert_eq!(a.stats.subscribe.bytes, 30);
    }

    #[test]
    fn session_result_prefers_success_then_real_errors() {
        let r: Result<u8, _> = pick_session_result(vec![Err(SfuError::StreamNotFound("s".into())), Ok(7)]);
        assert_eq!(r, Ok(7));
        let r: Result<u8, _> =
            pick_session_result(vec![Err(SfuError::SessionNotFound("x".into())), Err(SfuError::PreconditionFailed)]);
        assert_eq!(r, Err(SfuError::PreconditionFailed));
        let r: Result<u8, _> = pick_session_result(vec![
            Err(SfuError::StreamNotFound("s".into())),
            Err(SfuError::SessionNotFound("x".into())),
        ]);
        assert_eq!(r, Err(SfuError::SessionNotFound("x".into())), "the stream exists somewhere");
        let r: Result<u8, _> = pick_session_result(vec![]);
        assert!(matches!(r, Err(SfuError::Internal(_))));
    }
}
