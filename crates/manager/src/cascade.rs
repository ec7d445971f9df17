//! Cascade orchestration: ask a node to pull (or push) a stream from another node with
//! the node route `POST /api/cascade/{stream}` (Live777 body), check the relay comes
//! up, and tear relays down when they idle (no viewers for `maximum_idle_time`) or lose
//! their origin — DELETEing the relay's upstream session on the source node too.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;
use wishcast_api::{SessionState, Stream, paths};
use wishcast_http::body::read_limited;

use crate::config::{CascadeConfig, CascadeMode};
use crate::metrics::ManagerMetrics;
use crate::proxy::Cluster;
use crate::registry::{self, NodeTarget, Relay, RelayState, Status};

/// Live777's cascade body (camelCase).
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CascadeBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
}

/// Which node is asked, and with what body.
pub fn request_for<'a>(
    mode: CascadeMode,
    stream: &str,
    src: &'a NodeTarget,
    dst: &'a NodeTarget,
) -> (&'a NodeTarget, CascadeBody) {
    match mode {
        CascadeMode::Pull => (
            dst,
            CascadeBody {
                token: src.token.clone(),
                source_url: Some(format!("{}{}", src.url, paths::whep(stream))),
                target_url: None,
            },
        ),
        CascadeMode::Push => (
            src,
            CascadeBody {
                token: dst.token.clone(),
                source_url: None,
                target_url: Some(format!("{}{}", dst.url, paths::whip(stream))),
            },
        ),
    }
}

fn cascade_path(stream: &str) -> String {
    format!("/api/cascade/{}", paths::encode(stream))
}

/// Set up relay `relay_id` (already registered as `Starting`), then verify it.
pub async fn establish(
    state: Cluster,
    cfg: CascadeConfig,
    relay_id: u64,
    stream: String,
    src: NodeTarget,
    dst: NodeTarget,
) {
    ManagerMetrics::inc(&state.metrics.cascades_started);
    let started = Instant::now();
    let (caller, body) = request_for(cfg.mode, &stream, &src, &dst);
    tracing::info!(stream = %stream, "cascade {} -> {} ({:?})", src.alias, dst.alias, cfg.mode);
    let rb = state.nodes.request(Method::POST, caller, &cascade_path(&stream)).json(&body);
    let failed = match state.nodes.send(rb, caller, &state.metrics).await {
        Ok(resp) if resp.status().is_success() => None,
        Ok(resp) => {
            let status = resp.status();
            let text = read_limited(resp, 4096).await.unwrap_or_default();
            let hint = if status.as_u16() == 404 || status.as_u16() == 405 {
                " (does the node support POST /api/cascade/{stream}?)"
            } else {
                ""
            };
            Some(format!("node `{}` answered {status}{hint}: {}", caller.alias, String::from_utf8_lossy(&text).trim()))
        }
        Err(e) => Some(e.message),
    };
    if let Some(why) = failed {
        tracing::warn!(stream = %stream, "cascade {} -> {} failed: {why}", src.alias, dst.alias);
        ManagerMetrics::inc(&state.metrics.cascades_failed);
        state.registry.remove_relay(relay_id);
        return;
    }
    state.registry.set_relay_state(relay_id, RelayState::Up);
    for attempt in 0..cfg.check_attempts {
        tokio::time::sleep(if attempt == 0 { Duration::from_millis(250) } else { Duration::from_secs(1) }).await;
        if relay_connected(&state, &dst, &stream).await {
            tracing::info!(
                stream = %stream,
                "cascade {} -> {} connected after {} ms",
                src.alias,
                dst.alias,
                started.elapsed().as_millis()
            );
            return;
        }
    }
    tracing::warn!(
        stream = %stream,
        "cascade {} -> {}: relay not connected after {} checks; tearing it down",
        src.alias,
        dst.alias,
        cfg.check_attempts
    );
    ManagerMetrics::inc(&state.metrics.cascades_failed);
    if let Some(r) = state.registry.remove_relay(relay_id) {
        teardown(&state, cfg.mode, &r, false).await;
    }
}

async fn fetch_stream(state: &Cluster, node: &NodeTarget, stream: &str) -> Option<Stream> {
    let rb = state.nodes.request(Method::GET, node, &paths::stream(stream)).timeout(Duration::from_secs(2));
    let resp = rb.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let body = read_limited(resp, crate::proxy::MAX_JSON).await.ok()?;
    serde_json::from_slice(&body).ok()
}

async fn relay_connected(state: &Cluster, dst: &NodeTarget, stream: &str) -> bool {
    fetch_stream(state, dst, stream)
        .await
        .is_some_and(|s| s.publish.sessions.first().is_some_and(|p| p.state == SessionState::Connected))
}

/// Remove a relay from the nodes: its copy on `dst` (the whole stream when
/// `delete_stream`, else only the relay publisher) and its upstream session on `src`.
pub async fn teardown(state: &Cluster, mode: CascadeMode, r: &Relay, delete_stream: bool) {
    ManagerMetrics::inc(&state.metrics.relays_torn_down);
    let src = state.registry.target(&r.src);
    let dst = state.registry.target(&r.dst);
    let dst_copy = match &dst {
        Some(d) => fetch_stream(state, d, &r.stream).await,
        None => None,
    };
    // Upstream session on the source: named by the relay publisher (pull), or the
    // source's push subscriber that targets the destination.
    let mut upstream: Vec<String> = Vec::new();
    if let (Some(src), Some(copy)) = (&src, &dst_copy) {
        for p in &copy.publish.sessions {
            if let Some(url) = p.cascade.as_ref().and_then(|c| c.session_url.as_deref()) {
                if let Some(path) = url.strip_prefix(src.url.as_str()) {
                    upstream.push(path.to_string());
                } else if url.starts_with('/') {
                    upstream.push(url.to_string());
                }
            }
        }
    }
    if let (Some(src), Some(dst)) = (&src, &dst)
        && mode == CascadeMode::Push
        && let Some(copy) = fetch_stream(state, src, &r.stream).await
    {
        for p in &copy.subscribe.sessions {
            let t = p.cascade.as_ref().and_then(|c| c.target_url.as_deref()).unwrap_or("");
            if t.starts_with(dst.url.as_str()) {
                upstream.push(paths::session(&r.stream, &p.id));
            }
        }
    }
    if let Some(dst) = &dst {
        if delete_stream {
            let _ = state.nodes.request(Method::DELETE, dst, &paths::stream(&r.stream)).send().await;
        } else if let Some(copy) = &dst_copy {
            for p in &copy.publish.sessions {
                let _ = state.nodes.request(Method::DELETE, dst, &paths::session(&r.stream, &p.id)).send().await;
            }
        }
    }
    if let Some(src) = &src {
        for path in upstream {
            let status = state.nodes.request(Method::DELETE, src, &path).send().await.map(|r| r.status());
            tracing::info!(stream = %r.stream, "relay upstream session {path} on `{}` deleted: {status:?}", src.alias);
        }
    }
}

/// Periodic sweep: relays without viewers for `maximum_idle_time`, or whose origin has
/// no publisher for that long (or is gone), are torn down.
pub async fn sweep(state: &Cluster, cfg: &CascadeConfig) {
    let max_idle = Duration::from_millis(cfg.maximum_idle_time);
    let doomed = doomed_relays(&mut state.registry.lock(), Instant::now(), max_idle);
    for (r, delete_stream, why) in doomed {
        tracing::info!(stream = %r.stream, "tearing down relay {} -> {}: {why}", r.src, r.dst);
        teardown(state, cfg.mode, &r, delete_stream).await;
    }
}

/// The decision half of [`sweep`] (pure, on the registry): removes the relays to tear
/// down from `g` and returns them with "delete the whole copy" and the reason.
pub fn doomed_relays(g: &mut registry::Inner, now: Instant, max_idle: Duration) -> Vec<(Relay, bool, &'static str)> {
    let mut doomed: Vec<(Relay, bool, &'static str)> = Vec::new();
    {
        let views = g.views();
        let view = |alias: &str| views.iter().find(|v| v.alias == alias);
        let mut keep = Vec::with_capacity(g.relays.len());
        let relays = std::mem::take(&mut g.relays);
        let relay_copies: Vec<(String, String)> = relays.iter().map(|x| (x.dst.clone(), x.stream.clone())).collect();
        for mut r in relays {
            if r.state != RelayState::Up {
                if now.duration_since(r.created) > Duration::from_secs(120) {
                    doomed.push((r, true, "stuck starting"));
                } else {
                    keep.push(r);
                }
                continue;
            }
            let dst_node = g.nodes.get(&r.dst);
            let dst_running = dst_node.is_some_and(|n| n.status == Status::Running);
            let dst_copy = dst_node.and_then(|n| n.stream(&r.stream));
            if !dst_running {
                doomed.push((r, true, "destination node stopped"));
                continue;
            }
            if dst_copy.is_none() && now.duration_since(r.created) > Duration::from_secs(5) {
                doomed.push((r, false, "destination copy is gone"));
                continue;
            }
            let users =
                view(&r.dst).and_then(|v| v.streams.get(&r.stream)).map_or(0, |s| s.viewers + s.outgoing_relays);
            if users == 0 {
                let since = *r.idle_since.get_or_insert(now);
                if now.duration_since(since) >= max_idle {
                    doomed.push((r, true, "idle"));
                    continue;
                }
            } else {
                r.idle_since = None;
            }
            let src_node = g.nodes.get(&r.src);
            let src_copy = src_node.filter(|n| n.status == Status::Running).and_then(|n| n.stream(&r.stream));
            let origin_live = src_copy.is_some_and(|s| !s.publish.sessions.is_empty())
                || relay_copies.iter().any(|(d, s)| *d == r.src && *s == r.stream);
            if origin_live {
                r.orphan_since = None;
            } else {
                let since = *r.orphan_since.get_or_insert(now);
                let gone = src_copy.is_none();
                if gone || now.duration_since(since) >= max_idle {
                    doomed.push((r, true, "origin publisher left"));
                    continue;
                }
            }
            keep.push(r);
        }
        g.relays = keep;
    }
    doomed
}

/// Run [`sweep`] every `cascade.check_tick_time`.
pub async fn sweeper(state: Cluster, cfg: CascadeConfig) {
    let mut iv = tokio::time::interval(Duration::from_millis(cfg.check_tick_time));
    iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        iv.tick().await;
        sweep(&state, &cfg).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HealthConfig, NodeEntry};
    use crate::registry::Registry;
    use wishcast_api::{PubSub, Session};

    fn session(id: &str) -> Session {
        Session {
            id: id.into(),
            created_at: 0,
            leave_at: 0,
            state: SessionState::Connected,
            cascade: None,
            has_data_channel: false,
            stats: Default::default(),
        }
    }

    fn stream(publishers: &[&str], subscribers: &[&str]) -> Stream {
        Stream {
            id: "cam".into(),
            publish: PubSub { leave_at: 0, sessions: publishers.iter().map(|s| session(s)).collect() },
            subscribe: PubSub { leave_at: 0, sessions: subscribers.iter().map(|s| session(s)).collect() },
            ..Default::default()
        }
    }

    fn relay(id: u64, dst: &str, state: RelayState, created: Instant) -> Relay {
        Relay {
            id,
            stream: "cam".into(),
            src: "a".into(),
            dst: dst.into(),
            state,
            created,
            idle_since: None,
            orphan_since: None,
        }
    }

    /// The sweep's decisions on a registry alone (no node, no database).
    #[test]
    fn sweep_tears_down_stopped_idle_and_stuck_relays_and_keeps_watched_ones() {
        let entry = |a: &str| NodeEntry { alias: a.into(), url: format!("http://{a}:7777"), ..Default::default() };
        let r = Registry::new(&[entry("a"), entry("b"), entry("c"), entry("e")], HealthConfig::default());
        let t = Duration::from_millis(1);
        r.apply_snapshot("a", vec![stream(&["origin"], &["up1", "up3"])], None, t);
        r.apply_snapshot("b", vec![stream(&["relay1"], &["viewer"])], None, t);
        r.apply_snapshot("e", vec![stream(&["relay3"], &[])], None, t);
        // `c` was never polled: stopped.
        let created = Instant::now();
        {
            let mut g = r.lock();
            g.relays.push(relay(1, "b", RelayState::Up, created));
            g.relays.push(relay(2, "c", RelayState::Up, created));
            g.relays.push(relay(3, "e", RelayState::Up, created));
            g.relays.push(relay(4, "b", RelayState::Starting, created));
        }
        let later = created + Duration::from_secs(121);
        let mut doomed: Vec<(u64, bool, &str)> = doomed_relays(&mut r.lock(), later, Duration::ZERO)
            .into_iter()
            .map(|(x, delete_stream, why)| (x.id, delete_stream, why))
            .collect();
        doomed.sort();
        assert_eq!(doomed, [(2, true, "destination node stopped"), (3, true, "idle"), (4, true, "stuck starting")]);
        assert_eq!(r.lock().relays.iter().map(|x| x.id).collect::<Vec<_>>(), [1]);
        // A second sweep keeps the watched relay.
        assert!(doomed_relays(&mut r.lock(), later, Duration::ZERO).is_empty());
    }

    fn t(alias: &str, token: Option<&str>) -> NodeTarget {
        NodeTarget { alias: alias.into(), url: format!("http://{alias}:7777"), token: token.map(str::to_string) }
    }

    #[test]
    fn pull_asks_the_destination_with_the_source_token() {
        let (src, dst) = (t("a", Some("ta")), t("b", Some("tb")));
        let (caller, body) = request_for(CascadeMode::Pull, "cam 1", &src, &dst);
        assert_eq!(caller.alias, "b");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"token": "ta", "sourceUrl": "http://a:7777/whep/cam%201"})
        );
        let (caller, body) = request_for(CascadeMode::Push, "s", &src, &dst);
        assert_eq!(caller.alias, "a");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"token": "tb", "targetUrl": "http://b:7777/whip/s"})
        );
        let (_, body) = request_for(CascadeMode::Pull, "s", &t("a", None), &dst);
        assert_eq!(serde_json::to_value(&body).unwrap(), serde_json::json!({"sourceUrl": "http://a:7777/whep/s"}));
    }
}
