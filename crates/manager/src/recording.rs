//! Recording control on the nodes, shared by the record routes and the auto-record
//! task: which node holds a stream's origin (pure, on the registry), and starting,
//! querying and stopping a recording there. Takes the [`Cluster`], not the `AppState`.

use axum::http::StatusCode;
use reqwest::Method;
use wishcast_api::paths;
use wishcast_api::record::{RecordStarted, RecordState};

use crate::proxy::Cluster;
use crate::registry::{NodeTarget, Registry, Status};
use wishcast_http::ApiError;
use wishcast_http::body::read_limited;

/// The node holding the stream's origin publisher (not a cascade relay), else any holder.
pub fn origin_node(registry: &Registry, stream: &str) -> Option<NodeTarget> {
    let g = registry.lock();
    let relay_dsts: Vec<&str> = g.relays.iter().filter(|r| r.stream == stream).map(|r| r.dst.as_str()).collect();
    let holders: Vec<_> = g
        .nodes
        .values()
        .filter(|n| n.status == Status::Running)
        .filter_map(|n| n.stream(stream).map(|s| (n, s)))
        .collect();
    holders
        .iter()
        .find(|(n, s)| !s.publish.sessions.is_empty() && !relay_dsts.contains(&n.alias.as_str()))
        .or_else(|| holders.iter().find(|(_, s)| !s.publish.sessions.is_empty()))
        .or_else(|| holders.first())
        .map(|(n, _)| n.target())
        .or_else(|| {
            // Published through this manager a moment ago: the node's next heartbeat has
            // not listed the stream yet, but the session route has.
            Registry::publish_route_alias(&g, stream)
                .and_then(|alias| g.nodes.get(&alias))
                .filter(|n| n.status == Status::Running)
                .map(|n| n.target())
        })
}

/// Nodes holding `stream`: those whose snapshot lists it, plus the node a publisher was
/// just placed on through this manager (before its next heartbeat lists the stream).
pub fn holders(registry: &Registry, stream: &str) -> Vec<NodeTarget> {
    let g = registry.lock();
    let routed = Registry::publish_route_alias(&g, stream);
    g.nodes
        .values()
        .filter(|n| {
            n.status == Status::Running && (n.stream(stream).is_some() || routed.as_deref() == Some(n.alias.as_str()))
        })
        .map(|n| n.target())
        .collect()
}

/// Start recording on `node`, returning the node's answer.
pub async fn start_on(state: &Cluster, node: &NodeTarget, stream: &str) -> Result<RecordStarted, ApiError> {
    let rb = state
        .nodes
        .request(Method::POST, node, &format!("/api/record/{}", paths::encode(stream)))
        .header("content-type", "application/json")
        .body("{}");
    let resp = state.send(rb, node).await?;
    let status = resp.status();
    let body = read_limited(resp, 64 * 1024).await.unwrap_or_default();
    if !status.is_success() {
        let msg = String::from_utf8_lossy(&body).trim().to_string();
        return Err(ApiError::new(status, format!("node `{}`: {msg}", node.alias)));
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("node `{}` answered an unreadable record response: {e}", node.alias),
        )
    })
}

/// Is `node` recording `stream`?
pub async fn recording_on(state: &Cluster, node: &NodeTarget, stream: &str) -> Result<bool, ApiError> {
    let rb = state.nodes.request(Method::GET, node, &format!("/api/record/{}", paths::encode(stream)));
    let resp = state.send(rb, node).await?;
    if !resp.status().is_success() {
        return Ok(false);
    }
    let body = read_limited(resp, 4096).await.unwrap_or_default();
    Ok(serde_json::from_slice::<RecordState>(&body).is_ok_and(|s| s.recording))
}

/// Stop recording `stream` on every running node, all requests at once; failures are
/// ignored (a node that is down records nothing).
pub async fn stop_everywhere(state: &Cluster, stream: &str) {
    let targets = {
        let g = state.registry.lock();
        g.nodes.values().filter(|n| n.status == Status::Running).map(|n| n.target()).collect::<Vec<_>>()
    };
    let calls = targets.iter().map(|t| {
        let rb = state.nodes.request(Method::DELETE, t, &format!("/api/record/{}", paths::encode(stream)));
        async move { state.send(rb, t).await.map(|r| r.status()) }
    });
    futures_util::future::join_all(calls).await;
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use wishcast_api::{PubSub, Session, SessionState, Stream};

    use super::*;
    use crate::config::{HealthConfig, NodeEntry};
    use crate::registry::{Relay, RelayState, SessionKind};

    fn entry(alias: &str) -> NodeEntry {
        NodeEntry { alias: alias.into(), url: format!("http://{alias}:7777"), ..Default::default() }
    }

    fn published(id: &str) -> Stream {
        let session = Session {
            id: "p".into(),
            created_at: 0,
            leave_at: 0,
            state: SessionState::Connected,
            cascade: None,
            has_data_channel: false,
            stats: Default::default(),
        };
        Stream { id: id.into(), publish: PubSub { leave_at: 0, sessions: vec![session] }, ..Default::default() }
    }

    /// A registry, no database, no HTTP: a relay copy also has a publisher (the relay),
    /// the origin is still the node the stream came from.
    #[test]
    fn origin_is_the_publishing_node_not_a_relay_copy() {
        let r = Registry::new(&[entry("a"), entry("b"), entry("c")], HealthConfig::default());
        let t = Duration::from_millis(1);
        r.apply_snapshot("a", vec![published("cam")], None, t);
        r.apply_snapshot("b", vec![published("cam")], None, t);
        r.apply_snapshot("c", vec![], None, t);
        // `b` sorts first and also publishes `cam`; it is a relay destination.
        r.lock().relays.push(Relay {
            id: 1,
            stream: "cam".into(),
            src: "a".into(),
            dst: "b".into(),
            state: RelayState::Up,
            created: Instant::now(),
            idle_since: None,
            orphan_since: None,
        });
        assert_eq!(origin_node(&r, "cam").map(|n| n.alias), Some("a".into()));
        let mut on: Vec<String> = holders(&r, "cam").into_iter().map(|n| n.alias).collect();
        on.sort();
        assert_eq!(on, ["a", "b"]);
        assert!(origin_node(&r, "other").is_none());
        // Placed through the manager a moment ago, not in any snapshot yet.
        r.add_route("new", "s1", "c", SessionKind::Publish, None);
        assert_eq!(origin_node(&r, "new").map(|n| n.alias), Some("c".into()));
        assert_eq!(holders(&r, "new").into_iter().map(|n| n.alias).collect::<Vec<_>>(), ["c"]);
    }
}
