//! Placement: which node gets a WHIP publisher or a WHEP viewer, and when a stream must
//! be cascaded onto another node. A pure function of a [`NodeView`] snapshot (no I/O,
//! no clocks); the registry builds the view, calls [`decide`] and reserves the capacity
//! of the decision under the same lock, so concurrent requests never overshoot.
//!
//! Rules (see docs/clustering.md):
//! * Candidates are nodes that are `running` and not drained (and match `?nodes=`).
//! * Ranking: the client's region first, then fewest sessions, then lowest CPU, then
//!   alias (deterministic).
//! * WHIP: the node that already holds the stream as origin (so republishing feeds the
//!   viewers waiting there); else the best node with a free `pub_max` slot in the
//!   client's region, else in any region.
//! * WHEP: the best node serving the stream (a publisher or a relay) with a free
//!   `sub_max` slot. If every serving node is full, cascade: the best node not serving
//!   it becomes the destination, and the source is the serving node closest to it
//!   (same region, then fewest outgoing relays, so relays chain into a tree). If nobody
//!   serves the stream yet, the viewer waits on a node (early subscribe).

use std::collections::BTreeMap;

/// What placement needs to know about one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeView {
    pub alias: String,
    pub region: String,
    /// Running and not drained.
    pub available: bool,
    /// Publishers (streams with a publisher, including relays) this node may hold.
    pub pub_max: Option<u32>,
    /// Viewers per stream on this node.
    pub sub_max: u32,
    /// Streams with a publisher on this node, including reservations.
    pub publishers: u32,
    /// All sessions on this node, including reservations.
    pub sessions: u32,
    /// CPU use, percent of one core.
    pub cpu: f32,
    pub streams: BTreeMap<String, StreamView>,
}

/// One stream on one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamView {
    /// A publisher (or relay) is attached or reserved.
    pub has_publisher: bool,
    /// The publisher is a cascade relay (this copy is not the origin).
    pub relay: bool,
    /// Viewers (subscribers that are not outgoing relays), including reservations.
    pub viewers: u32,
    /// Relays pulling from this copy.
    pub outgoing_relays: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Publish,
    Subscribe,
}

#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub want: Want,
    pub stream: &'a str,
    /// The client's region ("" = none).
    pub region: &'a str,
    /// `?nodes=a&nodes=b`: only these aliases may receive the client (empty = any).
    pub only: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send the client to this node.
    Node(String),
    /// Cascade the stream from `src` onto `dst`, and send the viewer to `dst`.
    Cascade { src: String, dst: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    /// No running, undrained node with capacity (503).
    NoNode,
    /// Every node serving the stream is at `sub_max` and no other node can take a relay (503).
    Full,
}

impl std::fmt::Display for PlacementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlacementError::NoNode => f.write_str(
                "no available node: every node is stopped, drained, filtered out by ?nodes=, or at its \
                 pub_max/sub_max limit; check GET /api/nodes/",
            ),
            PlacementError::Full => f.write_str(
                "stream is full: every node serving it is at sub_max and no other node can take a relay; \
                 add nodes or raise sub_max",
            ),
        }
    }
}

fn allowed(n: &NodeView, only: &[String]) -> bool {
    n.available && (only.is_empty() || only.iter().any(|a| a == &n.alias))
}

/// Smaller is better: region match, fewest sessions, lowest CPU, alias.
fn rank<'a>(n: &'a NodeView, region: &str) -> (bool, u32, u32, &'a str) {
    let off_region = !region.is_empty() && n.region != region;
    (off_region, n.sessions, (n.cpu.max(0.0) * 10.0) as u32, n.alias.as_str())
}

fn pub_free(n: &NodeView) -> bool {
    n.pub_max.is_none_or(|m| n.publishers < m)
}

fn best<'a>(it: impl Iterator<Item = &'a NodeView>, region: &str) -> Option<&'a NodeView> {
    it.min_by(|a, b| rank(a, region).cmp(&rank(b, region)))
}

/// Decide where a request goes. Pure and deterministic.
pub fn decide(nodes: &[NodeView], req: &Request) -> Result<Decision, PlacementError> {
    match req.want {
        Want::Publish => publish(nodes, req),
        Want::Subscribe => subscribe(nodes, req),
    }
}

fn publish(nodes: &[NodeView], req: &Request) -> Result<Decision, PlacementError> {
    let s = req.stream;
    // The origin copy: a non-relay copy of the stream. Prefer one with a publisher
    // (the node then answers 409 itself), else one where viewers wait.
    let origin = nodes
        .iter()
        .filter(|n| allowed(n, req.only))
        .filter_map(|n| n.streams.get(s).filter(|v| !v.relay).map(|v| (n, v)))
        .min_by(|(a, va), (b, vb)| {
            (!va.has_publisher, rank(a, req.region)).cmp(&(!vb.has_publisher, rank(b, req.region)))
        });
    if let Some((n, _)) = origin {
        return Ok(Decision::Node(n.alias.clone()));
    }
    best(nodes.iter().filter(|n| allowed(n, req.only) && pub_free(n)), req.region)
        .map(|n| Decision::Node(n.alias.clone()))
        .ok_or(PlacementError::NoNode)
}

fn subscribe(nodes: &[NodeView], req: &Request) -> Result<Decision, PlacementError> {
    let s = req.stream;
    let serving: Vec<&NodeView> =
        nodes.iter().filter(|n| n.available && n.streams.get(s).is_some_and(|v| v.has_publisher)).collect();
    let free = |n: &&NodeView| n.streams.get(s).map_or(0, |v| v.viewers) < n.sub_max;
    if let Some(n) = best(serving.iter().copied().filter(|n| allowed(n, req.only)).filter(free), req.region) {
        return Ok(Decision::Node(n.alias.clone()));
    }
    if !serving.is_empty() {
        // Every serving node is full (or filtered out): cascade onto a node that does
        // not serve the stream yet (it may have viewers waiting there).
        let dst = best(
            nodes.iter().filter(|n| {
                allowed(n, req.only)
                    && n.sub_max > 0
                    && pub_free(n)
                    && !n.streams.get(s).is_some_and(|v| v.has_publisher)
                    && n.streams.get(s).map_or(0, |v| v.viewers) < n.sub_max
            }),
            req.region,
        )
        .ok_or(PlacementError::Full)?;
        fn key<'a>(n: &'a NodeView, s: &str, region: &str) -> (bool, u32, (bool, u32, u32, &'a str)) {
            let relays = n.streams.get(s).map_or(0, |v| v.outgoing_relays);
            (n.region != region, relays, rank(n, region))
        }
        let src = serving
            .iter()
            .min_by(|a, b| key(a, s, &dst.region).cmp(&key(b, s, &dst.region)))
            .ok_or(PlacementError::Full)?;
        return Ok(Decision::Cascade { src: src.alias.clone(), dst: dst.alias.clone() });
    }
    // Nobody serves the stream: wait where viewers already wait, else on the best node.
    let waiting =
        nodes.iter().filter(|n| allowed(n, req.only) && n.streams.get(s).is_some_and(|v| v.viewers < n.sub_max));
    if let Some(n) = best(waiting, req.region) {
        return Ok(Decision::Node(n.alias.clone()));
    }
    best(nodes.iter().filter(|n| allowed(n, req.only) && n.sub_max > 0 && !n.streams.contains_key(s)), req.region)
        .map(|n| Decision::Node(n.alias.clone()))
        .ok_or(PlacementError::NoNode)
}

/// Apply a decision to the view, as the registry's reservation does: used by tests
/// (and by the registry's own bookkeeping) to check that repeated decisions never
/// overshoot.
pub fn reserve(nodes: &mut [NodeView], req: &Request, d: &Decision) {
    let s = req.stream.to_string();
    let find = |nodes: &mut [NodeView], a: &str| nodes.iter().position(|n| n.alias == a);
    match (req.want, d) {
        (Want::Publish, Decision::Node(a)) => {
            if let Some(i) = find(nodes, a) {
                let n = &mut nodes[i];
                let v = n.streams.entry(s).or_default();
                if !v.has_publisher {
                    v.has_publisher = true;
                    n.publishers += 1;
                }
                n.sessions += 1;
            }
        }
        (Want::Subscribe, Decision::Node(a)) => {
            if let Some(i) = find(nodes, a) {
                let n = &mut nodes[i];
                n.streams.entry(s).or_default().viewers += 1;
                n.sessions += 1;
            }
        }
        (_, Decision::Cascade { src, dst }) => {
            if let Some(i) = find(nodes, src) {
                let n = &mut nodes[i];
                n.streams.entry(s.clone()).or_default().outgoing_relays += 1;
                n.sessions += 1;
            }
            if let Some(i) = find(nodes, dst) {
                let n = &mut nodes[i];
                let v = n.streams.entry(s).or_default();
                v.has_publisher = true;
                v.relay = true;
                v.viewers += 1;
                n.publishers += 1;
                n.sessions += 2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(alias: &str, region: &str, sub_max: u32) -> NodeView {
        NodeView { alias: alias.into(), region: region.into(), available: true, sub_max, ..Default::default() }
    }

    fn with_stream(mut n: NodeView, s: &str, has_publisher: bool, relay: bool, viewers: u32) -> NodeView {
        n.streams.insert(s.into(), StreamView { has_publisher, relay, viewers, outgoing_relays: 0 });
        if has_publisher {
            n.publishers += 1;
            n.sessions += 1;
        }
        n.sessions += viewers;
        n
    }

    fn req<'a>(want: Want, stream: &'a str, region: &'a str) -> Request<'a> {
        Request { want, stream, region, only: &[] }
    }

    fn to(a: &str) -> Result<Decision, PlacementError> {
        Ok(Decision::Node(a.into()))
    }

    #[test]
    fn whip_goes_to_the_least_loaded_node() {
        let mut a = node("a", "", 10);
        a.sessions = 5;
        let mut b = node("b", "", 10);
        b.sessions = 2;
        let mut c = node("c", "", 10);
        c.sessions = 2;
        c.cpu = 50.0;
        assert_eq!(decide(&[a, b, c], &req(Want::Publish, "s", "")), to("b"));
    }

    #[test]
    fn ties_are_broken_by_alias() {
        let nodes = [node("b", "", 1), node("a", "", 1), node("c", "", 1)];
        assert_eq!(decide(&nodes, &req(Want::Publish, "s", "")), to("a"));
    }

    #[test]
    fn whip_prefers_the_client_region_then_falls_back() {
        let mut eu = node("eu1", "eu", 10);
        eu.sessions = 100;
        let us = node("us1", "us", 10);
        assert_eq!(decide(&[eu.clone(), us.clone()], &req(Want::Publish, "s", "eu")), to("eu1"));
        assert_eq!(decide(&[eu.clone(), us.clone()], &req(Want::Publish, "s", "us")), to("us1"));
        // No node in the region: any region (LiveSwitch's fallback).
        assert_eq!(decide(&[eu.clone(), us.clone()], &req(Want::Publish, "s", "ap")), to("us1"));
        // The region's only node is stopped / drained / full: fallback too.
        let mut eu_down = eu.clone();
        eu_down.available = false;
        assert_eq!(decide(&[eu_down, us.clone()], &req(Want::Publish, "s", "eu")), to("us1"));
        let mut eu_full = eu;
        eu_full.pub_max = Some(1);
        eu_full.publishers = 1;
        assert_eq!(decide(&[eu_full, us], &req(Want::Publish, "s", "eu")), to("us1"));
    }

    #[test]
    fn whip_honours_pub_max() {
        let mut a = node("a", "", 10);
        a.pub_max = Some(2);
        let mut nodes = vec![a, node("b", "", 10)];
        nodes[1].pub_max = Some(1);
        let mut got = Vec::new();
        for i in 0..3 {
            let s = format!("s{i}");
            let r = req(Want::Publish, &s, "");
            let d = decide(&nodes, &r).unwrap();
            reserve(&mut nodes, &r, &d);
            got.push(d);
        }
        assert_eq!(got.iter().filter(|d| **d == Decision::Node("a".into())).count(), 2);
        assert_eq!(decide(&nodes, &req(Want::Publish, "s9", "")), Err(PlacementError::NoNode));
    }

    #[test]
    fn whip_to_an_existing_stream_goes_to_its_origin() {
        let a = node("a", "", 10);
        let b = with_stream(node("b", "", 10), "s", false, false, 3); // viewers waiting
        let c = with_stream(node("c", "", 10), "s", true, true, 1); // a relay copy
        assert_eq!(decide(&[a.clone(), b, c.clone()], &req(Want::Publish, "s", "")), to("b"));
        let o = with_stream(node("o", "", 10), "s", true, false, 0);
        assert_eq!(decide(&[a, o, c], &req(Want::Publish, "s", "")), to("o"), "the node answers 409 itself");
    }

    #[test]
    fn unavailable_nodes_get_nothing() {
        let mut a = node("a", "", 10);
        a.available = false;
        assert_eq!(decide(&[a.clone()], &req(Want::Publish, "s", "")), Err(PlacementError::NoNode));
        assert_eq!(decide(&[a], &req(Want::Subscribe, "s", "")), Err(PlacementError::NoNode));
        assert_eq!(decide(&[], &req(Want::Publish, "s", "")), Err(PlacementError::NoNode));
    }

    #[test]
    fn whep_prefers_a_serving_node_with_room() {
        let a = with_stream(node("a", "", 2), "s", true, false, 2);
        let b = with_stream(node("b", "", 2), "s", true, true, 1);
        let c = node("c", "", 2);
        assert_eq!(decide(&[a, b, c], &req(Want::Subscribe, "s", "")), to("b"));
    }

    #[test]
    fn whep_cascades_when_every_serving_node_is_full() {
        let a = with_stream(node("a", "", 2), "s", true, false, 2);
        let mut b = node("b", "", 2);
        b.sessions = 7;
        let c = node("c", "", 2);
        assert_eq!(
            decide(&[a, b, c], &req(Want::Subscribe, "s", "")),
            Ok(Decision::Cascade { src: "a".into(), dst: "c".into() })
        );
    }

    #[test]
    fn cascade_never_panics_when_every_node_holds_the_stream() {
        let a = with_stream(node("a", "", 1), "s", true, false, 1);
        let b = with_stream(node("b", "", 1), "s", true, true, 1);
        assert_eq!(decide(&[a, b], &req(Want::Subscribe, "s", "")), Err(PlacementError::Full));
        let only = with_stream(node("a", "", 1), "s", true, false, 1);
        assert_eq!(decide(&[only], &req(Want::Subscribe, "s", "")), Err(PlacementError::Full));
    }

    #[test]
    fn cascade_destination_may_be_a_node_where_viewers_wait() {
        let a = with_stream(node("a", "", 1), "s", true, false, 1);
        let b = with_stream(node("b", "", 3), "s", false, false, 1);
        assert_eq!(
            decide(&[a, b], &req(Want::Subscribe, "s", "")),
            Ok(Decision::Cascade { src: "a".into(), dst: "b".into() })
        );
    }

    #[test]
    fn relays_chain_into_a_tree() {
        // a (origin) already feeds b; a new relay pulls from b, not a.
        let mut a = with_stream(node("a", "", 1), "s", true, false, 1);
        a.streams.get_mut("s").unwrap().outgoing_relays = 1;
        let b = with_stream(node("b", "", 1), "s", true, true, 1);
        let c = node("c", "", 1);
        assert_eq!(
            decide(&[a, b, c], &req(Want::Subscribe, "s", "")),
            Ok(Decision::Cascade { src: "b".into(), dst: "c".into() })
        );
    }

    #[test]
    fn cascade_source_prefers_the_destination_region() {
        let a = with_stream(node("a", "us", 1), "s", true, false, 1);
        let b = with_stream(node("b", "eu", 1), "s", true, true, 1);
        let c = node("c", "eu", 5);
        let d = node("d", "us", 5);
        assert_eq!(
            decide(&[a.clone(), b.clone(), c.clone(), d.clone()], &req(Want::Subscribe, "s", "eu")),
            Ok(Decision::Cascade { src: "b".into(), dst: "c".into() })
        );
        assert_eq!(
            decide(&[a, b, c, d], &req(Want::Subscribe, "s", "us")),
            Ok(Decision::Cascade { src: "a".into(), dst: "d".into() })
        );
    }

    #[test]
    fn whep_region_preference_and_fallback() {
        let us = with_stream(node("us", "us", 5), "s", true, false, 0);
        let eu = with_stream(node("eu", "eu", 5), "s", true, true, 3);
        assert_eq!(decide(&[us.clone(), eu.clone()], &req(Want::Subscribe, "s", "eu")), to("eu"));
        assert_eq!(decide(&[us.clone(), eu.clone()], &req(Want::Subscribe, "s", "ap")), to("us"));
        let mut eu_drained = eu;
        eu_drained.available = false;
        assert_eq!(decide(&[us, eu_drained], &req(Want::Subscribe, "s", "eu")), to("us"));
    }

    #[test]
    fn whep_without_a_publisher_waits_on_one_node() {
        let a = node("a", "", 2);
        let b = with_stream(node("b", "", 2), "s", false, false, 1);
        assert_eq!(decide(&[a.clone(), b], &req(Want::Subscribe, "s", "")), to("b"));
        assert_eq!(decide(&[a], &req(Want::Subscribe, "s", "")), to("a"));
    }

    #[test]
    fn nodes_filter_is_honoured() {
        let a = node("a", "", 2);
        let mut b = node("b", "", 2);
        b.sessions = 9;
        let only = vec!["b".to_string()];
        let r = Request { want: Want::Publish, stream: "s", region: "", only: &only };
        assert_eq!(decide(&[a.clone(), b], &r), to("b"));
        let none = vec!["zzz".to_string()];
        let r = Request { want: Want::Publish, stream: "s", region: "", only: &none };
        assert_eq!(decide(&[a], &r), Err(PlacementError::NoNode));
    }

    #[test]
    fn a_storm_of_viewers_never_overshoots_sub_max() {
        let mut nodes = vec![with_stream(node("a", "", 2), "s", true, false, 0), node("b", "", 2), node("c", "", 2)];
        let r = req(Want::Subscribe, "s", "");
        let mut placed = 0;
        let mut cascades = 0;
        for _ in 0..100 {
            match decide(&nodes, &r) {
                Ok(d) => {
                    if matches!(d, Decision::Cascade { .. }) {
                        cascades += 1;
                    }
                    reserve(&mut nodes, &r, &d);
                    placed += 1;
                }
                Err(e) => assert_eq!(e, PlacementError::Full),
            }
            for n in &nodes {
                let v = n.streams.get("s").map_or(0, |v| v.viewers);
                assert!(v <= n.sub_max, "{} has {v} viewers > sub_max {}", n.alias, n.sub_max);
            }
        }
        assert_eq!(placed, 6, "3 nodes x sub_max 2");
        assert_eq!(cascades, 2);
    }
}
