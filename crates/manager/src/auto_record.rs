//! Automatic recording from the manager (`[recorder] auto_streams`, and Liveman's
//! `[auto_record] enabled/auto_streams/tick_ms`): every tick, each stream of the cluster
//! that has a publisher and matches a glob is recorded on its origin node, unless that
//! node already records it. Nodes can also auto-record on their own
//! (`[recorder] auto_streams` in node.toml); both together are harmless (starting a
//! running recording is a no-op).

use std::time::Duration;

use crate::proxy::Cluster;
use crate::recording::{origin_node, recording_on, start_on};
use crate::registry::Status;

pub fn spawn(state: Cluster, globs: Vec<String>, tick: Duration) -> Option<tokio::task::JoinHandle<()>> {
    if globs.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut iv = tokio::time::interval(tick);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            iv.tick().await;
            let streams: Vec<String> = {
                let g = state.registry.lock();
                let mut v: Vec<String> = g
                    .nodes
                    .values()
                    .filter(|n| n.status == Status::Running)
                    .flat_map(|n| n.streams.iter().filter(|s| !s.publish.sessions.is_empty()).map(|s| s.id.clone()))
                    .filter(|id| wishcast_api::glob::any(&globs, id))
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            for s in streams {
                let Some(node) = origin_node(&state.registry, &s) else { continue };
                match recording_on(&state, &node, &s).await {
                    Ok(true) => {}
                    Ok(false) => match start_on(&state, &node, &s).await {
                        Ok(r) => tracing::info!(stream = %s, node = %node.alias, mpd = %r.mpd_path, "auto-recording"),
                        Err(e) => tracing::warn!(stream = %s, node = %node.alias, "auto-record failed: {}", e.message),
                    },
                    Err(e) => {
                        tracing::warn!(stream = %s, node = %node.alias, "auto-record check failed: {}", e.message)
                    }
                }
            }
        }
    }))
}
