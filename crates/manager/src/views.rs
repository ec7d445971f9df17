//! Cluster-wide read views built from the registry: the merged stream list (Liveman's
//! merge, but codecs are kept), per-node copies of one stream, and the node list.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use wishcast_api::cluster::Load;
use wishcast_api::{Stats, Strategy, Stream};

use crate::registry::{Inner, NodeKind, Status};

fn add(a: &mut Stats, b: &Stats) {
    a.bytes += b.bytes;
    a.packets += b.packets;
    a.bitrate += b.bitrate;
}

fn leave(a: u64, b: u64) -> u64 {
    if a == 0 || b == 0 { 0 } else { a.max(b) }
}

/// Merge copies of one stream from several nodes.
pub fn merge(copies: &[&Stream]) -> Option<Stream> {
    let (first, rest) = copies.split_first()?;
    let mut m = (*first).clone();
    for s in rest {
        m.created_at = m.created_at.min(s.created_at);
        m.publish.leave_at = leave(m.publish.leave_at, s.publish.leave_at);
        m.subscribe.leave_at = leave(m.subscribe.leave_at, s.subscribe.leave_at);
        m.publish.sessions.extend(s.publish.sessions.iter().cloned());
        m.subscribe.sessions.extend(s.subscribe.sessions.iter().cloned());
        for c in &s.codecs {
            if !m.codecs.contains(c) {
                m.codecs.push(c.clone());
            }
        }
        m.provisioned |= s.provisioned;
        m.on_demand |= s.on_demand;
        add(&mut m.stats.publish, &s.stats.publish);
        add(&mut m.stats.subscribe, &s.stats.subscribe);
    }
    if !rest.is_empty() {
        m.stats_scope = "clusterNodeWork".into();
    }
    Some(m)
}

/// `GET /api/streams/`: one merged entry per stream id across running nodes, sorted by id.
pub fn merged_streams(g: &Inner, nodes: &[String], streams: &[String]) -> Vec<Stream> {
    let mut by_id: BTreeMap<&str, Vec<&Stream>> = BTreeMap::new();
    for n in g.nodes.values().filter(|n| n.status == Status::Running) {
        if !nodes.is_empty() && !nodes.contains(&n.alias) {
            continue;
        }
        for s in &n.streams {
            if streams.is_empty() || streams.contains(&s.id) {
                by_id.entry(s.id.as_str()).or_default().push(s);
            }
        }
    }
    by_id.values().filter_map(|v| merge(v)).collect()
}

/// `GET /api/streams/{id}`: `{ "<alias>": Stream }` for every running node holding it.
pub fn per_node(g: &Inner, id: &str) -> BTreeMap<String, Stream> {
    g.nodes
        .values()
        .filter(|n| n.status == Status::Running)
        .filter_map(|n| n.stream(id).map(|s| (n.alias.clone(), s.clone())))
        .collect()
}

/// One entry of `GET /api/nodes/`: Liveman's fields, then wishcast's.
#[derive(Debug, Serialize)]
pub struct NodeJson {
    pub alias: String,
    pub url: String,
    pub status: Status,
    pub duration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    pub kind: NodeKind,
    pub region: String,
    pub drained: bool,
    pub pub_max: Option<u32>,
    pub sub_max: u32,
    pub load: Load,
    /// Milliseconds since the last successful poll or heartbeat.
    pub last_seen_ms: Option<u64>,
    pub misses: u32,
}

pub fn nodes(g: &Inner) -> Vec<NodeJson> {
    let now = Instant::now();
    g.nodes
        .values()
        .map(|n| NodeJson {
            alias: n.alias.clone(),
            url: n.url.clone(),
            status: n.status,
            duration: n.duration.map(|d| format!("{}ms", d.as_millis())).unwrap_or_else(|| "-".into()),
            strategy: n.strategy.clone(),
            kind: n.kind,
            region: n.region.clone(),
            drained: n.drained,
            pub_max: n.pub_max,
            sub_max: n.effective_sub_max(),
            load: n.load,
            last_seen_ms: n.last_seen.map(|t| now.duration_since(t).as_millis() as u64),
            misses: n.misses,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wishcast_api::{Codec, PubSub};

    #[test]
    fn merge_keeps_codecs_and_sums_stats() {
        let mut a = Stream { id: "s".into(), created_at: 10, stats_scope: "node".into(), ..Default::default() };
        a.codecs = vec![Codec { kind: "video".into(), codec: "vp8".into(), fmtp: String::new() }];
        a.stats.publish.bytes = 5;
        let mut b = a.clone();
        b.created_at = 5;
        b.subscribe = PubSub { leave_at: 7, sessions: vec![] };
        b.codecs.push(Codec { kind: "audio".into(), codec: "opus".into(), fmtp: String::new() });
        let m = merge(&[&a, &b]).unwrap();
        assert_eq!(m.created_at, 5);
        assert_eq!(m.codecs.len(), 2);
        assert_eq!(m.stats.publish.bytes, 10);
        assert_eq!(m.subscribe.leave_at, 0);
        assert_eq!(m.stats_scope, "clusterNodeWork");
        assert_eq!(merge(&[&a]).unwrap().stats_scope, "node");
        assert!(merge(&[]).is_none());
    }
}
