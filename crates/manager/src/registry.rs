//! The node registry: every known node (static `[[nodes]]` and self-registered), its
//! health, last stream snapshot and load; the capacity reservations of in-flight
//! placements; the cascade relays; and the session index used to route
//! `/session/{stream}/{id}` to the owning node. One mutex guards it all and is never
//! held across I/O, so a placement decision and its reservation are atomic.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use wishcast_api::cluster::{Heartbeat, Load};
use wishcast_api::{Strategy, Stream};

use crate::config::{HealthConfig, NodeEntry};
use crate::placement::{self, Decision, NodeView, PlacementError, Request, StreamView, Want};

/// A reservation without a session id (in flight, or a redirect) lapses after this.
const PENDING_TTL: Duration = Duration::from_secs(10);
/// A reservation with a session id is dropped once a snapshot shows the session, or after this.
const PENDING_SESSION_TTL: Duration = Duration::from_secs(15);
/// Session routes missing from their node's snapshot for this long are forgotten.
const ROUTE_GRACE: Duration = Duration::from_secs(15);
/// Registered nodes stale for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Static,
    Registered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Stopped,
}

/// One node as the registry knows it.
#[derive(Debug, Clone)]
pub struct Node {
    pub alias: String,
    pub url: String,
    pub token: Option<String>,
    pub region: String,
    pub pub_max: Option<u32>,
    pub sub_max: Option<u32>,
    pub kind: NodeKind,
    pub status: Status,
    pub drained: bool,
    pub misses: u32,
    pub last_seen: Option<Instant>,
    pub duration: Option<Duration>,
    pub strategy: Option<Strategy>,
    pub streams: Vec<Stream>,
    pub load: Load,
    pub heartbeat_interval: Duration,
}

impl Node {
    /// Viewers allowed per stream: `sub_max`, else the node's `each_stream_max_sub`.
    pub fn effective_sub_max(&self) -> u32 {
        self.sub_max.or(self.strategy.as_ref().map(|s| s.each_stream_max_sub)).unwrap_or(65535)
    }

    pub fn target(&self) -> NodeTarget {
        NodeTarget { alias: self.alias.clone(), url: self.url.clone(), token: self.token.clone() }
    }

    pub fn stream(&self, id: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id == id)
    }
}

/// Where to send a request for a node (cloned out of the lock).
#[derive(Clone)]
pub struct NodeTarget {
    pub alias: String,
    pub url: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for NodeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.alias, self.url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Publish,
    Subscribe,
}

/// Capacity held for a client between the placement decision and the node's snapshot.
#[derive(Debug, Clone)]
struct Pending {
    id: u64,
    alias: String,
    stream: String,
    kind: SessionKind,
    session: Option<String>,
    created: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayState {
    Starting,
    Up,
}

/// A cascade: `dst` carries a copy of `stream` fed from `src`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Relay {
    pub id: u64,
    pub stream: String,
    pub src: String,
    pub dst: String,
    pub state: RelayState,
    #[serde(skip)]
    pub created: Instant,
    /// Since when `dst` has had no subscriber.
    #[serde(skip)]
    pub idle_since: Option<Instant>,
    /// Since when the origin copy has had no publisher.
    #[serde(skip)]
    pub orphan_since: Option<Instant>,
}

/// Which node owns a session, and who may PATCH/DELETE it.
#[derive(Debug, Clone)]
pub struct Route {
    pub alias: String,
    pub kind: SessionKind,
    /// `Some(h)`: only a request bearing the token with this keyed hash (scoped tokens).
    pub owner: Option<u64>,
    /// False when found only in a node snapshot (not created through this manager).
    pub indexed: bool,
    created: Instant,
}

pub struct Inner {
    pub nodes: BTreeMap<String, Node>,
    pending: Vec<Pending>,
    pub relays: Vec<Relay>,
    routes: HashMap<(String, String), Route>,
    next_id: u64,
}

pub struct Registry {
    inner: Mutex<Inner>,
    health: HealthConfig,
    changed: watch::Sender<u64>,
}

/// Held capacity for one placement. Dropping it without [`Reservation::commit`] releases
/// the capacity at once (the request failed).
pub struct Reservation {
    registry: Arc<Registry>,
    ids: Vec<u64>,
    committed: bool,
}

impl Reservation {
    /// The node created `session`: keep the capacity until a snapshot shows it.
    pub fn commit(mut self, session: Option<&str>) {
        self.committed = true;
        let mut g = self.registry.lock();
        for p in g.pending.iter_mut().filter(|p| self.ids.contains(&p.id)) {
            p.session = session.map(str::to_string);
            p.created = Instant::now();
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.committed {
            let mut g = self.registry.lock();
            g.pending.retain(|p| !self.ids.contains(&p.id));
        }
    }
}

/// A placement: where to go, and the capacity held for it.
pub struct Placement {
    pub node: NodeTarget,
    /// For a cascade: the node the stream is pulled from, and the relay's id.
    pub cascade: Option<(NodeTarget, u64)>,
    pub reservation: Reservation,
}

/// The session id a cascade `sessionUrl` points at (its last path segment).
fn session_id_of_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty()).then(|| last.to_string())
}

impl Inner {
    /// Subscriber session ids that are cascade relays, per stream: the upstream sessions
    /// named by relay publishers' `cascade.sessionUrl` (pull) and push-mode subscribers.
    fn relay_sessions(&self) -> HashSet<(String, String)> {
        let mut out = HashSet::new();
        for n in self.nodes.values() {
            for s in &n.streams {
                for p in &s.publish.sessions {
                    if let Some(id) =
                        p.cascade.as_ref().and_then(|c| c.session_url.as_deref()).and_then(session_id_of_url)
                    {
                        out.insert((s.id.clone(), id));
                    }
                }
                for p in &s.subscribe.sessions {
                    if p.cascade.as_ref().is_some_and(|c| c.target_url.is_some()) {
                        out.insert((s.id.clone(), p.id.clone()));
                    }
                }
            }
        }
        out
    }

    /// The placement view of every node (snapshots + reservations + relays).
    pub fn views(&self) -> Vec<NodeView> {
        let relay_sessions = self.relay_sessions();
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in self.nodes.values() {
            let mut v = NodeView {
                alias: n.alias.clone(),
                region: n.region.clone(),
                available: n.status == Status::Running && !n.drained,
                pub_max: n.pub_max,
                sub_max: n.effective_sub_max(),
                cpu: n.load.cpu,
                ..Default::default()
            };
            let mut known: HashSet<&str> = HashSet::new();
            for s in &n.streams {
                let relay_pub =
                    s.publish.sessions.iter().any(|p| p.cascade.as_ref().is_some_and(|c| c.source_url.is_some()));
                let viewers = s
                    .subscribe
                    .sessions
                    .iter()
                    .filter(|p| !relay_sessions.contains(&(s.id.clone(), p.id.clone())))
                    .count() as u32;
                v.sessions += (s.publish.sessions.len() + s.subscribe.sessions.len()) as u32;
                for p in s.publish.sessions.iter().chain(&s.subscribe.sessions) {
                    known.insert(p.id.as_str());
                }
                v.streams.insert(
                    s.id.clone(),
                    StreamView {
                        has_publisher: !s.publish.sessions.is_empty(),
                        relay: relay_pub,
                        viewers,
                        outgoing_relays: 0,
                    },
                );
            }
            for r in &self.relays {
                if r.dst == n.alias {
                    let sv = v.streams.entry(r.stream.clone()).or_default();
                    sv.has_publisher = true;
                    sv.relay = true;
                }
                if r.src == n.alias {
                    v.streams.entry(r.stream.clone()).or_default().outgoing_relays += 1;
                }
            }
            for p in self.pending.iter().filter(|p| p.alias == n.alias) {
                if p.session.as_deref().is_some_and(|id| known.contains(id)) {
                    continue;
                }
                let sv = v.streams.entry(p.stream.clone()).or_default();
                match p.kind {
                    SessionKind::Publish => sv.has_publisher = true,
                    SessionKind::Subscribe => sv.viewers += 1,
                }
                v.sessions += 1;
            }
            v.publishers = v.streams.values().filter(|s| s.has_publisher).count() as u32;
            out.push(v);
        }
        out
    }
}

impl Registry {
    pub fn new(static_nodes: &[NodeEntry], health: HealthConfig) -> Arc<Registry> {
        let mut nodes = BTreeMap::new();
        for e in static_nodes {
            nodes.insert(
                e.alias.clone(),
                Node {
                    alias: e.alias.clone(),
                    url: e.url.trim_end_matches('/').to_string(),
                    token: (!e.token.is_empty()).then(|| e.token.clone()),
                    region: e.region.clone(),
                    pub_max: e.pub_max,
                    sub_max: e.sub_max,
                    kind: NodeKind::Static,
                    status: Status::Stopped,
                    drained: false,
                    misses: 0,
                    last_seen: None,
                    duration: None,
                    strategy: None,
                    streams: Vec::new(),
                    load: Load::default(),
                    heartbeat_interval: Duration::from_millis(health.interval_ms),
                },
            );
        }
        let (changed, _) = watch::channel(0);
        Arc::new(Registry {
            inner: Mutex::new(Inner {
                nodes,
                pending: Vec::new(),
                relays: Vec::new(),
                routes: HashMap::new(),
                next_id: 1,
            }),
            health,
            changed,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumped whenever a snapshot or a node's status changes (for SSE).
    pub fn subscribe_changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn health(&self) -> &HealthConfig {
        &self.health
    }

    /// Decide and reserve atomically.
    pub fn place(self: &Arc<Self>, req: &Request) -> Result<Placement, PlacementError> {
        let mut g = self.lock();
        let views = g.views();
        let decision = placement::decide(&views, req)?;
        let now = Instant::now();
        let mut ids = Vec::new();
        let mut add = |g: &mut Inner, alias: &str, kind: SessionKind| {
            let id = g.next_id;
            g.next_id += 1;
            g.pending.push(Pending {
                id,
                alias: alias.to_string(),
                stream: req.stream.to_string(),
                kind,
                session: None,
                created: now,
            });
            ids.push(id);
        };
        let kind = if req.want == Want::Publish { SessionKind::Publish } else { SessionKind::Subscribe };
        let (node_alias, cascade) = match &decision {
            Decision::Node(a) => {
                add(&mut g, a, kind);
                (a.clone(), None)
            }
            Decision::Cascade { src, dst } => {
                add(&mut g, dst, SessionKind::Subscribe);
                let id = g.next_id;
                g.next_id += 1;
                g.relays.push(Relay {
                    id,
                    stream: req.stream.to_string(),
                    src: src.clone(),
                    dst: dst.clone(),
                    state: RelayState::Starting,
                    created: now,
                    idle_since: None,
                    orphan_since: None,
                });
                (dst.clone(), Some((src.clone(), id)))
            }
        };
        let target = |a: &str| g.nodes.get(a).map(Node::target);
        let node = target(&node_alias).ok_or(PlacementError::NoNode)?;
        let cascade = match cascade {
            Some((src, id)) => Some((target(&src).ok_or(PlacementError::NoNode)?, id)),
            None => None,
        };
        drop(g);
        Ok(Placement { node, cascade, reservation: Reservation { registry: self.clone(), ids, committed: false } })
    }

    /// Hold capacity on a specific node (`/api/whip/{alias}/...`, `POST /api/streams`).
    pub fn reserve_on(
        self: &Arc<Self>,
        alias: &str,
        stream: &str,
        kind: SessionKind,
    ) -> Option<(NodeTarget, Reservation)> {
        let mut g = self.lock();
        let target = g.nodes.get(alias)?.target();
        let id = g.next_id;
        g.next_id += 1;
        g.pending.push(Pending {
            id,
            alias: alias.into(),
            stream: stream.into(),
            kind,
            session: None,
            created: Instant::now(),
        });
        drop(g);
        Some((target, Reservation { registry: self.clone(), ids: vec![id], committed: false }))
    }

    pub fn target(&self, alias: &str) -> Option<NodeTarget> {
        self.lock().nodes.get(alias).map(Node::target)
    }

    /// Targets of every node (for fan-out requests).
    pub fn targets(&self) -> Vec<NodeTarget> {
        self.lock().nodes.values().map(Node::target).collect()
    }

    /// A successful poll of a static node.
    pub fn apply_snapshot(&self, alias: &str, streams: Vec<Stream>, strategy: Option<Strategy>, duration: Duration) {
        let mut g = self.lock();
        let Some(n) = g.nodes.get_mut(alias) else { return };
        if n.status != Status::Running {
            tracing::info!(node = alias, "node is running");
        }
        n.status = Status::Running;
        n.misses = 0;
        n.last_seen = Some(Instant::now());
        n.duration = Some(duration);
        if strategy.is_some() {
            n.strategy = strategy;
        }
        n.load = load_of(&streams, n.load.cpu);
        n.streams = streams;
        prune(&mut g, alias);
        drop(g);
        self.notify();
    }

    /// A failed poll of a static node, or a connection failure while proxying.
    pub fn poll_failed(&self, alias: &str, why: &str) {
        let mut g = self.lock();
        let Some(n) = g.nodes.get_mut(alias) else { return };
        n.misses = n.misses.saturating_add(1);
        if n.misses >= self.health.misses && n.status == Status::Running {
            n.status = Status::Stopped;
            tracing::warn!(node = alias, "node stopped after {} failed health checks: {why}", n.misses);
            drop(g);
            self.notify();
        }
    }

    /// A heartbeat from a self-registered node: registers it, or refreshes it.
    pub fn heartbeat(&self, hb: Heartbeat) -> Result<(), String> {
        crate::config::check_alias(&hb.alias)?;
        let mut g = self.lock();
        let interval = Duration::from_millis(hb.interval_ms.clamp(100, 1000));
        let strategy_sub = hb.strategy.as_ref().map(|s| s.each_stream_max_sub);
        let n = match g.nodes.get_mut(&hb.alias) {
            Some(n) if n.kind == NodeKind::Static => {
                return Err(format!(
                    "alias `{}` belongs to a static [[nodes]] entry of the manager; give this node another `cluster.alias`",
                    hb.alias
                ));
            }
            Some(n) => n,
            None => {
                tracing::info!(node = %hb.alias, url = %hb.url, region = %hb.region, "node registered");
                g.nodes.entry(hb.alias.clone()).or_insert(Node {
                    alias: hb.alias.clone(),
                    url: String::new(),
                    token: None,
                    region: String::new(),
                    pub_max: None,
                    sub_max: None,
                    kind: NodeKind::Registered,
                    status: Status::Running,
                    drained: false,
                    misses: 0,
                    last_seen: None,
                    duration: None,
                    strategy: None,
                    streams: Vec::new(),
                    load: Load::default(),
                    heartbeat_interval: interval,
                })
            }
        };
        if n.status == Status::Stopped {
            tracing::info!(node = %hb.alias, "node is running again");
        }
        n.url = hb.url.trim_end_matches('/').to_string();
        n.token = hb.token;
        n.region = hb.region;
        n.pub_max = hb.pub_max;
        n.sub_max = hb.sub_max.or(strategy_sub);
        n.strategy = hb.strategy;
        n.status = Status::Running;
        n.misses = 0;
        n.last_seen = Some(Instant::now());
        n.heartbeat_interval = interval;
        n.load = hb.load;
        n.streams = hb.streams;
        let alias = hb.alias;
        prune(&mut g, &alias);
        drop(g);
        self.notify();
        Ok(())
    }

    /// Periodic: expire registered nodes that stopped heartbeating, and old reservations.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut changed = false;
        let mut g = self.lock();
        let misses = self.health.misses.max(1);
        for n in g.nodes.values_mut().filter(|n| n.kind == NodeKind::Registered && n.status == Status::Running) {
            // `misses` intervals minus a tenth, so the node is stopped within misses x interval.
            let stale = n.heartbeat_interval * misses - n.heartbeat_interval / 10;
            if n.last_seen.is_none_or(|t| now.duration_since(t) > stale) {
                n.status = Status::Stopped;
                changed = true;
                tracing::warn!(node = %n.alias, "node stopped: no heartbeat for {stale:?}");
            }
        }
        let before = g.nodes.len();
        g.nodes.retain(|_, n| {
            n.kind == NodeKind::Static || n.last_seen.is_some_and(|t| now.duration_since(t) < FORGET_AFTER)
        });
        changed |= g.nodes.len() != before;
        g.pending.retain(|p| {
            let ttl = if p.session.is_some() { PENDING_SESSION_TTL } else { PENDING_TTL };
            now.duration_since(p.created) < ttl
        });
        drop(g);
        if changed {
            self.notify();
        }
    }

    pub fn set_drained(&self, alias: &str, drained: bool) -> bool {
        let mut g = self.lock();
        let Some(n) = g.nodes.get_mut(alias) else { return false };
        n.drained = drained;
        drop(g);
        self.notify();
        true
    }

    pub fn add_route(&self, stream: &str, session: &str, alias: &str, kind: SessionKind, owner: Option<u64>) {
        self.lock().routes.insert(
            (stream.into(), session.into()),
            Route { alias: alias.into(), kind, owner, indexed: true, created: Instant::now() },
        );
    }

    /// The route of a session: from the index, else any node whose snapshot lists it.
    pub fn route(&self, stream: &str, session: &str) -> Option<(Route, NodeTarget)> {
        let g = self.lock();
        if let Some(r) = g.routes.get(&(stream.to_string(), session.to_string())) {
            let t = g.nodes.get(&r.alias)?.target();
            return Some((r.clone(), t));
        }
        for n in g.nodes.values() {
            if let Some(s) = n.stream(stream) {
                let kind = if s.publish.sessions.iter().any(|p| p.id == session) {
                    SessionKind::Publish
                } else if s.subscribe.sessions.iter().any(|p| p.id == session) {
                    SessionKind::Subscribe
                } else {
                    continue;
                };
                let r = Route { alias: n.alias.clone(), kind, owner: None, indexed: false, created: Instant::now() };
                return Some((r, n.target()));
            }
        }
        None
    }

    /// The node a publisher of `stream` was placed on through this manager (known before
    /// that node's next snapshot lists the stream).
    pub fn publish_route_alias(g: &Inner, stream: &str) -> Option<String> {
        g.routes
            .iter()
            .find(|((st, _), r)| st == stream && r.kind == SessionKind::Publish)
            .map(|(_, r)| r.alias.clone())
    }

    /// A session ended through this manager: forget its route and release the capacity
    /// still held for it (a snapshot may never have shown it).
    pub fn remove_route(&self, stream: &str, session: &str) {
        let mut g = self.lock();
        let route = g.routes.remove(&(stream.to_string(), session.to_string()));
        g.pending.retain(|p| !(p.stream == stream && p.session.as_deref() == Some(session)));
        // The node's last snapshot still lists the session until its next heartbeat:
        // drop it there too, or placement counts a viewer who has left (a WHEP right
        // after a hang-up would see a full node).
        for n in g.nodes.values_mut() {
            if route.as_ref().is_some_and(|r| r.alias != n.alias) {
                continue;
            }
            if let Some(s) = n.streams.iter_mut().find(|s| s.id == stream) {
                s.subscribe.sessions.retain(|x| x.id != session);
                s.publish.sessions.retain(|x| x.id != session);
            }
        }
    }

    pub fn set_relay_state(&self, id: u64, state: RelayState) {
        let mut g = self.lock();
        if let Some(r) = g.relays.iter_mut().find(|r| r.id == id) {
            r.state = state;
        }
    }

    pub fn remove_relay(&self, id: u64) -> Option<Relay> {
        let mut g = self.lock();
        let i = g.relays.iter().position(|r| r.id == id)?;
        Some(g.relays.remove(i))
    }
}

/// Load of a static node, derived from its snapshot (no CPU figure).
fn load_of(streams: &[Stream], cpu: f32) -> Load {
    let publishers = streams.iter().map(|s| s.publish.sessions.len() as u64).sum();
    let subscribers = streams.iter().map(|s| s.subscribe.sessions.len() as u64).sum();
    let bits: u64 = streams.iter().map(|s| s.stats.publish.bitrate + s.stats.subscribe.bitrate).sum();
    Load { streams: streams.len() as u64, publishers, subscribers, packets_per_sec: 0, bytes_per_sec: bits / 8, cpu }
}

/// After a new snapshot of `alias`: reservations it confirms are done, and session
/// routes it no longer lists are dropped.
fn prune(g: &mut Inner, alias: &str) {
    let now = Instant::now();
    let Some(n) = g.nodes.get(alias) else { return };
    let live: HashSet<(&str, &str)> = n
        .streams
        .iter()
        .flat_map(|s| {
            s.publish.sessions.iter().chain(&s.subscribe.sessions).map(move |p| (s.id.as_str(), p.id.as_str()))
        })
        .collect();
    g.pending
        .retain(|p| p.alias != alias || p.session.as_deref().is_none_or(|id| !live.contains(&(p.stream.as_str(), id))));
    g.routes.retain(|(s, id), r| {
        r.alias != alias || live.contains(&(s.as_str(), id.as_str())) || now.duration_since(r.created) < ROUTE_GRACE
    });
}

#[cfg(test)]
mod tests;
