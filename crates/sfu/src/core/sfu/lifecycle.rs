//! Session and stream teardown, and the once-a-second housekeeping tick
//! (dead peers, disconnect grace, auto-delete and orphan reaping, gauges).

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::Sfu;
use crate::core::bridge::Bridge;
use crate::core::config::SfuEvent;
use crate::core::peer::{PeerId, Role};
use crate::core::relay::RelayClosed;

/// An auto-created stream nobody uses is reaped after this long.
const ORPHAN_AFTER: Duration = Duration::from_secs(5);
/// How long a closed session id is remembered (DELETE on it answers 200).
const TOMBSTONE_TTL: Duration = Duration::from_secs(30);
/// A publisher silent this long is replaced by a new WHIP instead of answering 409.
pub const STALE_PUBLISHER: Duration = Duration::from_secs(3);
/// A session whose ICE/DTLS never completes is closed after this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

impl Sfu {
    pub(super) fn after_peer_timeout(&mut self, pid: PeerId, now: Instant) {
        let grace = self.cfg.disconnect_grace;
        let Some(peer) = self.peer(pid) else { return };
        let dead = !peer.rtc.is_alive()
            || peer.disconnected_since.map(|t| now.saturating_duration_since(t) >= grace).unwrap_or(false);
        let role = peer.role;
        if dead {
            self.remove_peer(pid, now, "peer-closed");
        } else if role == Role::Publisher {
            self.flush_keyframe_requests(pid, now);
        }
    }

    /// Remove a session: close its Rtc, unroute it, detach it from its stream.
    pub(super) fn remove_peer(&mut self, pid: PeerId, now: Instant, reason: &'static str) {
        let Some(mut peer) = self.peers.get_mut(pid.index as usize).and_then(|p| p.take()) else { return };
        if peer.id != pid {
            self.peers[pid.index as usize] = Some(peer);
            return;
        }
        self.free.push(pid.index);
        if let Some(r) = peer.relay.take()
            && let Some(url) = r.session_url
        {
            self.closed_relays.push(RelayClosed { session_url: url, token: r.token });
        }
        peer.rtc.disconnect();
        // Flush whatever the close produced (e.g. DTLS close_notify).
        while let Ok(str0m::Output::Transmit(t)) = peer.rtc.poll_output() {
            self.transmits.push_back(t);
        }
        self.demux.remove_ufrag(&peer.ufrag);
        self.demux.remove_peer_addrs(&peer.addrs);
        for &(proto, addr) in &peer.addrs {
            self.hint(proto, addr, false);
        }
        self.sessions.remove(&peer.session_id);
        self.update_load();
        if reason == "peer-closed" {
            // The client hung up at the WebRTC level; its DELETE may still follow.
            self.tombstones.insert(peer.session_id.clone(), (peer.stream.clone(), now));
        }
        let ms = self.unix_ms(now);
        let remote_subs = self.remote_subscribers(&peer.stream);
        if let Some(s) = self.streams.get_mut(&peer.stream) {
            match peer.role {
                Role::Publisher => {
                    if s.publisher == Some(pid) {
                        s.publisher = None;
                        s.publish_leave_at_ms = ms;
                        s.publish_left = Some(now);
                        s.gops.clear();
                        self.events.push(SfuEvent::PublishStopped { stream: peer.stream.clone(), reason });
                        if self.multi() {
                            let id = peer.stream.clone();
                            self.send_to_others(|| Bridge::Unpublished { stream: id.clone() });
                        }
                    }
                }
                Role::Subscriber => {
                    s.subscribers.retain(|p| *p != pid);
                    let empty = s.subscribers.is_empty();
                    let mirror_gone = empty && s.mirror && !s.upstream_live;
                    if empty && remote_subs == 0 {
                        s.subscribe_leave_at_ms = ms;
                        s.subscribe_left = Some(now);
                    }
                    self.events.push(SfuEvent::SubscribeStopped(peer.stream.clone()));
                    self.report_subscribers(&peer.stream);
                    if mirror_gone {
                        self.streams.remove(&peer.stream);
                    }
                }
            }
        }
        tracing::info!(session = %peer.session_id, stream = %peer.stream, reason, "session closed");
    }

    pub(super) fn destroy_stream(&mut self, stream: &str, now: Instant, reason: &'static str) {
        let Some(s) = self.streams.get(stream) else { return };
        let mut pids: Vec<PeerId> = s.subscribers.clone();
        pids.extend(s.publisher);
        for p in pids {
            self.remove_peer(p, now, reason);
        }
        let mirror = self.streams.remove(stream).map(|s| s.mirror).unwrap_or(false);
        self.remote_subs.remove(stream);
        if !mirror {
            self.events.push(SfuEvent::StreamDeleted { stream: stream.to_string(), reason });
        }
        if self.multi() && self.is_home(stream) {
            // Subscribers on other workers go with it.
            let id = stream.to_string();
            self.send_to_others(|| Bridge::Destroyed { stream: id.clone(), reason });
        }
    }

    /// Once a second: strategy auto-delete, orphan reaping, gauges.
    pub(super) fn tick(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last_layer_update).as_secs_f64();
        self.last_layer_update = now;
        self.update_layers(now, elapsed);
        self.tombstones.retain(|_, (_, t)| now.saturating_duration_since(*t) < TOMBSTONE_TTL);
        let st = self.cfg.strategy.clone();
        let mut doomed: Vec<(String, &'static str)> = Vec::new();
        for s in self.streams.values() {
            if s.upstream_live {
                // Its home worker decides (it knows every worker's subscribers).
                continue;
            }
            let remote = self.remote_subs.get(&s.id).map(|v| v.iter().sum::<u32>()).unwrap_or(0);
            if remote > 0 {
                continue;
            }
            if s.mirror && s.subscribers.is_empty() {
                doomed.push((s.id.clone(), "orphaned"));
                continue;
            }
            if s.publisher.is_none()
                && st.auto_delete_whip >= 0
                && let Some(t) = s.publish_left
                && now.saturating_duration_since(t) >= Duration::from_millis(st.auto_delete_whip as u64)
            {
                doomed.push((s.id.clone(), "publish-leave-timeout"));
                continue;
            }
            if s.subscribers.is_empty()
                && st.auto_delete_whep >= 0
                && let Some(t) = s.subscribe_left
                && now.saturating_duration_since(t) >= Duration::from_millis(st.auto_delete_whep as u64)
            {
                doomed.push((s.id.clone(), "subscribe-leave-timeout"));
                continue;
            }
            if !s.pinned
                && (st.auto_create_whip || st.auto_create_whep)
                && let Some(t) = s.empty_since()
                && now.saturating_duration_since(t) >= ORPHAN_AFTER
            {
                doomed.push((s.id.clone(), "orphaned"));
            }
        }
        for (id, reason) in doomed {
            self.destroy_stream(&id, now, reason);
        }
        // Peers whose Rtc died without a timer firing.
        let dead: Vec<PeerId> = self
            .peers
            .iter()
            .flatten()
            .filter(|p| {
                (p.state != wishcast_api::SessionState::Connected
                    && p.state != wishcast_api::SessionState::Disconnected
                    && now.saturating_duration_since(p.joined_at) >= CONNECT_TIMEOUT)
                    || !p.rtc.is_alive()
                    || p.disconnected_since
                        .map(|t| now.saturating_duration_since(t) >= self.cfg.disconnect_grace)
                        .unwrap_or(false)
            })
            .map(|p| p.id)
            .collect();
        for p in dead {
            self.remove_peer(p, now, "peer-closed");
        }
        // Gauges: each worker adds the change in its own share, so the shared values
        // are sums over workers (a stream is counted by its home worker, or by the
        // worker that created it when its home does not know it).
        let m = &self.metrics;
        let streams = self.streams.values().filter(|s| !s.mirror).count() as u64;
        let pubs = self.streams.values().filter(|s| s.publisher.is_some()).count() as u64;
        let subs = self.streams.values().map(|s| s.subscribers.len()).sum::<usize>() as u64;
        let new = [streams, pubs, subs];
        for (i, g) in [&m.streams, &m.publishers, &m.subscribers].into_iter().enumerate() {
            g.fetch_add(new[i].wrapping_sub(self.gauges[i]), Relaxed);
        }
        self.gauges = new;
    }
}
