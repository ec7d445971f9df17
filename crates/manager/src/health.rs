//! Health of nodes: each static node is polled (`GET /api/streams/` and, now and then,
//! `GET /api/strategy/`) every `health.interval_ms` with its token; `health.misses`
//! failures in a row make it `stopped`, one success makes it `running` again.
//! Self-registered nodes are expired by [`crate::registry::Registry::sweep`].

use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::task::JoinHandle;
use wishcast_api::{Strategy, Stream};
use wishcast_http::body::read_limited;

use crate::proxy::{Cluster, MAX_JSON};
use crate::registry::{NodeKind, NodeTarget};

/// Start a poller per static node and the registry sweeper.
pub fn spawn(state: &Cluster) -> Vec<JoinHandle<()>> {
    let statics: Vec<String> = {
        let g = state.registry.lock();
        g.nodes.values().filter(|n| n.kind == NodeKind::Static).map(|n| n.alias.clone()).collect()
    };
    let mut tasks: Vec<JoinHandle<()>> =
        statics.into_iter().map(|a| tokio::spawn(poll_loop(state.clone(), a))).collect();
    let st = state.clone();
    tasks.push(tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_millis(100));
        loop {
            iv.tick().await;
            st.registry.sweep();
        }
    }));
    tasks
}

async fn poll_loop(state: Cluster, alias: String) {
    let health = state.registry.health().clone();
    let mut iv = tokio::time::interval(Duration::from_millis(health.interval_ms));
    iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: u64 = 0;
    let mut last_error = String::new();
    loop {
        iv.tick().await;
        let Some(target) = state.registry.target(&alias) else { return };
        let need_strategy =
            n.is_multiple_of(10) || state.registry.lock().nodes.get(&alias).is_some_and(|x| x.strategy.is_none());
        n += 1;
        let t0 = Instant::now();
        let timeout = Duration::from_millis(health.timeout_ms);
        match poll_once(&state, &target, need_strategy, timeout).await {
            Ok((streams, strategy)) => {
                last_error.clear();
                state.registry.apply_snapshot(&alias, streams, strategy, t0.elapsed());
            }
            Err(e) => {
                if e != last_error {
                    tracing::warn!(node = %alias, "health check failed: {e}");
                    last_error = e.clone();
                }
                state.registry.poll_failed(&alias, &e);
            }
        }
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    state: &Cluster,
    node: &NodeTarget,
    path: &str,
    timeout: Duration,
) -> Result<T, String> {
    let resp = state
        .nodes
        .request(Method::GET, node, path)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| format!("GET {path}: {}", e.without_url()))?;
    let status = resp.status();
    if status.as_u16() == 401 || status.as_u16() == 403 {
        return Err(format!("GET {path}: {status}; check the token of node `{}` in the manager config", node.alias));
    }
    if !status.is_success() {
        return Err(format!("GET {path}: {status}"));
    }
    let body = read_limited(resp, MAX_JSON).await.map_err(|e| format!("GET {path}: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("GET {path}: not the expected JSON: {e}"))
}

/// One poll: the stream list, and the strategy when asked.
pub async fn poll_once(
    state: &Cluster,
    node: &NodeTarget,
    with_strategy: bool,
    timeout: Duration,
) -> Result<(Vec<Stream>, Option<Strategy>), String> {
    let streams = get_json::<Vec<Stream>>(state, node, wishcast_api::paths::streams(), timeout);
    if with_strategy {
        let strategy = get_json::<Strategy>(state, node, "/api/strategy/", timeout);
        let (a, b) = tokio::join!(streams, strategy);
        Ok((a?, Some(b?)))
    } else {
        Ok((streams.await?, None))
    }
}
