//! Counters of the manager, rendered by `GET /metrics` (Prometheus text).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::registry::{RelayState, Status};
use crate::state::AppState;

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

fn line(o: &mut String, name: &str, kind: &str, help: &str, v: u64) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
}

pub fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let g = |c: &AtomicU64| c.load(Relaxed);
    let mut o = String::with_capacity(2048);
    let (running, stopped, drained, relays_up, relays_starting) = {
        let r = state.registry.lock();
        let running = r.nodes.values().filter(|n| n.status == Status::Running).count() as u64;
        let drained = r.nodes.values().filter(|n| n.drained).count() as u64;
        let up = r.relays.iter().filter(|x| x.state == RelayState::Up).count() as u64;
        (running, r.nodes.len() as u64 - running, drained, up, r.relays.len() as u64 - up)
    };
    let _ = writeln!(
        o,
        "# HELP wishcast_manager_nodes Nodes by status.\n# TYPE wishcast_manager_nodes gauge\n\
         wishcast_manager_nodes{{status=\"running\"}} {running}\nwishcast_manager_nodes{{status=\"stopped\"}} {stopped}\n\
         wishcast_manager_nodes{{status=\"drained\"}} {drained}"
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_manager_relays Cascade relays.\n# TYPE wishcast_manager_relays gauge\n\
         wishcast_manager_relays{{state=\"up\"}} {relays_up}\nwishcast_manager_relays{{state=\"starting\"}} {relays_starting}"
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_manager_offers_total WHIP/WHEP offers received.\n# TYPE wishcast_manager_offers_total counter\n\
         wishcast_manager_offers_total{{kind=\"whip\"}} {}\nwishcast_manager_offers_total{{kind=\"whep\"}} {}",
        g(&m.whip_requests),
        g(&m.whep_requests)
    );
    line(
        &mut o,
        "wishcast_manager_placement_failures_total",
        "counter",
        "Offers refused with 503 (no node / full).",
        g(&m.placement_failures),
    );
    line(
        &mut o,
        "wishcast_manager_redirects_total",
        "counter",
        "Offers answered with 307 (redirect mode).",
        g(&m.redirects),
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_manager_proxy_errors_total Proxied requests that failed at the node.\n# TYPE wishcast_manager_proxy_errors_total counter\n\
         wishcast_manager_proxy_errors_total{{status=\"502\"}} {}\nwishcast_manager_proxy_errors_total{{status=\"504\"}} {}",
        g(&m.proxy_bad_gateway),
        g(&m.proxy_timeouts)
    );
    line(
        &mut o,
        "wishcast_manager_orphan_sessions_deleted_total",
        "counter",
        "Node sessions deleted because the client never got them.",
        g(&m.orphan_sessions_deleted),
    );
    line(&mut o, "wishcast_manager_cascades_started_total", "counter", "Cascades requested.", g(&m.cascades_started));
    line(&mut o, "wishcast_manager_cascades_failed_total", "counter", "Cascades that failed.", g(&m.cascades_failed));
    line(
        &mut o,
        "wishcast_manager_relays_torn_down_total",
        "counter",
        "Relays removed (idle or orphaned).",
        g(&m.relays_torn_down),
    );
    line(&mut o, "wishcast_manager_heartbeats_total", "counter", "Node heartbeats received.", g(&m.heartbeats));
    login_lines(&mut o, &state.login.counters);
    o
}

fn login_lines(o: &mut String, c: &crate::login_gate::LoginCounters) {
    let u = |a: &std::sync::atomic::AtomicUsize| a.load(Relaxed) as u64;
    line(o, "wishcast_manager_login_verifications_in_flight", "gauge", "argon2 runs now.", u(&c.in_flight));
    line(
        o,
        "wishcast_manager_login_verifications_max_in_flight",
        "gauge",
        "Most argon2 runs at once since start (bounded by the login semaphore).",
        u(&c.max_in_flight),
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_manager_login_refused_total Logins refused before argon2.\n\
         # TYPE wishcast_manager_login_refused_total counter\n\
         wishcast_manager_login_refused_total{{reason=\"throttled\"}} {}\n\
         wishcast_manager_login_refused_total{{reason=\"busy\"}} {}",
        c.throttled.load(Relaxed),
        c.busy.load(Relaxed)
    );
    line(o, "wishcast_manager_login_failures_total", "counter", "Wrong credentials.", c.failures.load(Relaxed));
}
