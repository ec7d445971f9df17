//! Counters of the manager (plain atomics, bumped by the routes and tasks) and their
//! Prometheus text exposition for `GET /metrics`, through `prometheus-client`: a
//! collector over one snapshot of the counters and the node registry per scrape.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, prometheus_text};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use wishcast_http::metrics::{counter, family};

use crate::registry::{Registry, RelayState, Status};

/// `Content-Type` of [`render`]'s output (Prometheus text 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Default)]
pub struct ManagerMetrics {
    pub whip_requests: AtomicU64,
    pub whep_requests: AtomicU64,
    pub placement_failures: AtomicU64,
    pub redirects: AtomicU64,
    pub proxy_bad_gateway: AtomicU64,
    pub proxy_timeouts: AtomicU64,
    pub orphan_sessions_deleted: AtomicU64,
    pub cascades_started: AtomicU64,
    pub cascades_failed: AtomicU64,
    pub relays_torn_down: AtomicU64,
    pub heartbeats: AtomicU64,
}

impl ManagerMetrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }
}

/// Counters of `POST /api/login` (bumped by `crate::login_gate`).
#[derive(Default)]
pub struct LoginMetrics {
    /// argon2 verifications running now.
    pub in_flight: AtomicU64,
    /// Most verifications at once since start (bounded by the login semaphore).
    pub max_in_flight: AtomicU64,
    /// Refused by the back-off (429).
    pub throttled: AtomicU64,
    /// Refused because every verification slot was busy (503).
    pub busy: AtomicU64,
    /// Wrong credentials.
    pub failures: AtomicU64,
}

#[derive(Debug)]
struct LoginSnapshot([u64; 5]);

impl Collector for LoginSnapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let [in_flight, max, throttled, busy, failures] = self.0;
        let e = &mut e;
        let gauge = |e: &mut DescriptorEncoder, name: &str, help: &str, v: u64| {
            ConstGauge::new(v).encode(e.encode_descriptor(name, help, None, MetricType::Gauge)?)
        };
        gauge(e, "wishcast_manager_login_verifications_in_flight", "argon2 runs now.", in_flight)?;
        gauge(
            e,
            "wishcast_manager_login_verifications_max_in_flight",
            "Most argon2 runs at once since start (bounded by the login semaphore).",
            max,
        )?;
        let refused = [("throttled", throttled), ("busy", busy)];
        family(
            e,
            MetricType::Counter,
            "wishcast_manager_login_refused",
            "Logins refused before argon2.",
            "reason",
            &refused,
        )?;
        counter(e, "wishcast_manager_login_failures", "Wrong credentials.", failures)
    }
}

/// The Prometheus text of the login counters (appended to [`render`]'s).
pub fn render_login(m: &LoginMetrics) -> String {
    let g = |c: &AtomicU64| c.load(Relaxed);
    let s = LoginSnapshot([g(&m.in_flight), g(&m.max_in_flight), g(&m.throttled), g(&m.busy), g(&m.failures)]);
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(s));
    let mut o = String::with_capacity(1024);
    // Writing into a String cannot fail.
    let _ = prometheus_text::encode(&mut o, &registry);
    o
}

/// Everything one scrape exposes, read once.
#[derive(Debug, Default)]
struct Snapshot {
    running: u64,
    stopped: u64,
    drained: u64,
    relays_up: u64,
    relays_starting: u64,
    whip: u64,
    whep: u64,
    placement_failures: u64,
    redirects: u64,
    bad_gateway: u64,
    timeouts: u64,
    orphans: u64,
    cascades_started: u64,
    cascades_failed: u64,
    relays_torn_down: u64,
    heartbeats: u64,
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        use MetricType::{Counter, Gauge};
        let s = self;
        let e = &mut e;
        let nodes = [("running", s.running), ("stopped", s.stopped), ("drained", s.drained)];
        family(e, Gauge, "wishcast_manager_nodes", "Nodes by status.", "status", &nodes)?;
        let relays = [("up", s.relays_up), ("starting", s.relays_starting)];
        family(e, Gauge, "wishcast_manager_relays", "Cascade relays.", "state", &relays)?;
        let offers = [("whip", s.whip), ("whep", s.whep)];
        family(e, Counter, "wishcast_manager_offers", "WHIP/WHEP offers received.", "kind", &offers)?;
        counter(
            e,
            "wishcast_manager_placement_failures",
            "Offers refused with 503 (no node / full).",
            s.placement_failures,
        )?;
        counter(e, "wishcast_manager_redirects", "Offers answered with 307 (redirect mode).", s.redirects)?;
        let errors = [("502", s.bad_gateway), ("504", s.timeouts)];
        family(
            e,
            Counter,
            "wishcast_manager_proxy_errors",
            "Proxied requests that failed at the node.",
            "status",
            &errors,
        )?;
        counter(
            e,
            "wishcast_manager_orphan_sessions_deleted",
            "Node sessions deleted because the client never got them.",
            s.orphans,
        )?;
        counter(e, "wishcast_manager_cascades_started", "Cascades requested.", s.cascades_started)?;
        counter(e, "wishcast_manager_cascades_failed", "Cascades that failed.", s.cascades_failed)?;
        counter(e, "wishcast_manager_relays_torn_down", "Relays removed (idle or orphaned).", s.relays_torn_down)?;
        counter(e, "wishcast_manager_heartbeats", "Node heartbeats received.", s.heartbeats)
    }
}

/// The Prometheus text of the manager's counters and of the node registry's state.
pub fn render(m: &ManagerMetrics, registry: &Registry) -> String {
    let g = |c: &AtomicU64| c.load(Relaxed);
    let mut s = {
        let r = registry.lock();
        let running = r.nodes.values().filter(|n| n.status == Status::Running).count() as u64;
        let drained = r.nodes.values().filter(|n| n.drained).count() as u64;
        let up = r.relays.iter().filter(|x| x.state == RelayState::Up).count() as u64;
        Snapshot {
            running,
            stopped: r.nodes.len() as u64 - running,
            drained,
            relays_up: up,
            relays_starting: r.relays.len() as u64 - up,
            ..Snapshot::default()
        }
    };
    s.whip = g(&m.whip_requests);
    s.whep = g(&m.whep_requests);
    s.placement_failures = g(&m.placement_failures);
    s.redirects = g(&m.redirects);
    s.bad_gateway = g(&m.proxy_bad_gateway);
    s.timeouts = g(&m.proxy_timeouts);
    s.orphans = g(&m.orphan_sessions_deleted);
    s.cascades_started = g(&m.cascades_started);
    s.cascades_failed = g(&m.cascades_failed);
    s.relays_torn_down = g(&m.relays_torn_down);
    s.heartbeats = g(&m.heartbeats);
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(s));
    let mut o = String::with_capacity(2048);
    // Writing into a String cannot fail.
    let _ = prometheus_text::encode(&mut o, &registry);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HealthConfig, NodeEntry};

    /// Exactly what the hand-written renderer this replaced printed for these values.
    #[test]
    fn exposition_is_unchanged() {
        let entry =
            |alias: &str| NodeEntry { alias: alias.into(), url: format!("http://{alias}:7777"), ..Default::default() };
        let r = Registry::new(&[entry("a"), entry("b")], HealthConfig::default());
        r.apply_snapshot("a", vec![], None, std::time::Duration::from_millis(1));
        let m = ManagerMetrics::default();
        let fields = [
            &m.whip_requests,
            &m.whep_requests,
            &m.placement_failures,
            &m.redirects,
            &m.proxy_bad_gateway,
            &m.proxy_timeouts,
            &m.orphan_sessions_deleted,
            &m.cascades_started,
            &m.cascades_failed,
            &m.relays_torn_down,
            &m.heartbeats,
        ];
        for (i, c) in fields.into_iter().enumerate() {
            c.store(i as u64 + 1, Relaxed);
        }
        let text = render(&m, &r);
        let want = r#"# HELP wishcast_manager_nodes Nodes by status.
# TYPE wishcast_manager_nodes gauge
wishcast_manager_nodes{status="running"} 1
wishcast_manager_nodes{status="stopped"} 1
wishcast_manager_nodes{status="drained"} 0
# HELP wishcast_manager_relays Cascade relays.
# TYPE wishcast_manager_relays gauge
wishcast_manager_relays{state="up"} 0
wishcast_manager_relays{state="starting"} 0
# HELP wishcast_manager_offers_total WHIP/WHEP offers received.
# TYPE wishcast_manager_offers_total counter
wishcast_manager_offers_total{kind="whip"} 1
wishcast_manager_offers_total{kind="whep"} 2
# HELP wishcast_manager_placement_failures_total Offers refused with 503 (no node / full).
# TYPE wishcast_manager_placement_failures_total counter
wishcast_manager_placement_failures_total 3
# HELP wishcast_manager_redirects_total Offers answered with 307 (redirect mode).
# TYPE wishcast_manager_redirects_total counter
wishcast_manager_redirects_total 4
# HELP wishcast_manager_proxy_errors_total Proxied requests that failed at the node.
# TYPE wishcast_manager_proxy_errors_total counter
wishcast_manager_proxy_errors_total{status="502"} 5
wishcast_manager_proxy_errors_total{status="504"} 6
# HELP wishcast_manager_orphan_sessions_deleted_total Node sessions deleted because the client never got them.
# TYPE wishcast_manager_orphan_sessions_deleted_total counter
wishcast_manager_orphan_sessions_deleted_total 7
# HELP wishcast_manager_cascades_started_total Cascades requested.
# TYPE wishcast_manager_cascades_started_total counter
wishcast_manager_cascades_started_total 8
# HELP wishcast_manager_cascades_failed_total Cascades that failed.
# TYPE wishcast_manager_cascades_failed_total counter
wishcast_manager_cascades_failed_total 9
# HELP wishcast_manager_relays_torn_down_total Relays removed (idle or orphaned).
# TYPE wishcast_manager_relays_torn_down_total counter
wishcast_manager_relays_torn_down_total 10
# HELP wishcast_manager_heartbeats_total Node heartbeats received.
# TYPE wishcast_manager_heartbeats_total counter
wishcast_manager_heartbeats_total 11
"#;
        assert_eq!(text, want);
        assert!(CONTENT_TYPE.starts_with("text/plain; version=0.0.4"));
    }

    #[test]
    fn login_exposition() {
        let m = LoginMetrics::default();
        for (i, c) in [&m.in_flight, &m.max_in_flight, &m.throttled, &m.busy, &m.failures].into_iter().enumerate() {
            c.store(i as u64, Relaxed);
        }
        let want = r#"# HELP wishcast_manager_login_verifications_in_flight argon2 runs now.
# TYPE wishcast_manager_login_verifications_in_flight gauge
wishcast_manager_login_verifications_in_flight 0
# HELP wishcast_manager_login_verifications_max_in_flight Most argon2 runs at once since start (bounded by the login semaphore).
# TYPE wishcast_manager_login_verifications_max_in_flight gauge
wishcast_manager_login_verifications_max_in_flight 1
# HELP wishcast_manager_login_refused_total Logins refused before argon2.
# TYPE wishcast_manager_login_refused_total counter
wishcast_manager_login_refused_total{reason="throttled"} 2
wishcast_manager_login_refused_total{reason="busy"} 3
# HELP wishcast_manager_login_failures_total Wrong credentials.
# TYPE wishcast_manager_login_failures_total counter
wishcast_manager_login_failures_total 4
"#;
        assert_eq!(render_login(&m), want);
    }
}
