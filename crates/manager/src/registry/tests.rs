//! Unit tests of the node registry: snapshots, routes, reservations and eviction.

use super::*;
use wishcast_api::{PubSub, Session, SessionState};

fn entry(alias: &str, sub_max: u32) -> NodeEntry {
    NodeEntry { alias: alias.into(), url: format!("http://{alias}:7777"), sub_max: Some(sub_max), ..Default::default() }
}

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

fn stream(id: &str, publishers: &[&str], subscribers: &[&str]) -> Stream {
    Stream {
        id: id.into(),
        publish: PubSub { leave_at: 0, sessions: publishers.iter().map(|s| session(s)).collect() },
        subscribe: PubSub { leave_at: 0, sessions: subscribers.iter().map(|s| session(s)).collect() },
        ..Default::default()
    }
}

fn sub(stream: &str) -> Request<'_> {
    Request { want: Want::Subscribe, stream, region: "", only: &[] }
}

#[test]
fn nodes_start_stopped_and_flip_with_polls() {
    let r = Registry::new(&[entry("a", 2)], HealthConfig::default());
    assert!(r.place(&sub("s")).is_err(), "never polled: stopped");
    r.apply_snapshot("a", vec![], None, Duration::from_millis(1));
    assert!(r.place(&sub("s")).is_ok());
    r.poll_failed("a", "x");
    r.poll_failed("a", "x");
    assert_eq!(r.lock().nodes["a"].status, Status::Running);
    r.poll_failed("a", "x");
    assert_eq!(r.lock().nodes["a"].status, Status::Stopped);
    r.apply_snapshot("a", vec![], None, Duration::from_millis(1));
    assert_eq!(r.lock().nodes["a"].status, Status::Running);
}

#[test]
fn reservations_hold_until_the_snapshot_shows_the_session() {
    let r = Registry::new(&[entry("a", 2)], HealthConfig::default());
    r.apply_snapshot("a", vec![stream("s", &["p"], &[])], None, Duration::ZERO);
    let p1 = r.place(&sub("s")).unwrap();
    let p2 = r.place(&sub("s")).unwrap();
    assert!(r.place(&sub("s")).is_err(), "2 reserved = full");
    drop(p2); // the request failed: capacity back at once
    let p3 = r.place(&sub("s")).unwrap();
    p1.reservation.commit(Some("v1"));
    p3.reservation.commit(Some("v3"));
    assert!(r.place(&sub("s")).is_err());
    // The snapshot shows v1 only: v3 is still held by its reservation.
    r.apply_snapshot("a", vec![stream("s", &["p"], &["v1"])], None, Duration::ZERO);
    assert!(r.place(&sub("s")).is_err());
    // v1 left, v3 shown.
    r.apply_snapshot("a", vec![stream("s", &["p"], &["v3"])], None, Duration::ZERO);
    assert!(r.place(&sub("s")).is_ok());
}

#[test]
fn a_viewer_hung_up_through_the_manager_frees_its_slot_before_the_next_snapshot() {
    let r = Registry::new(&[entry("a", 1)], HealthConfig::default());
    r.apply_snapshot("a", vec![stream("s", &["p"], &["v1"])], None, Duration::ZERO);
    assert!(r.place(&sub("s")).is_err(), "v1 fills sub_max 1");
    r.remove_route("s", "v1");
    assert!(r.place(&sub("s")).is_ok(), "v1 left through the manager: its slot is free at once");
}

#[test]
fn relay_sessions_do_not_count_as_viewers() {
    let r = Registry::new(&[entry("a", 2), entry("b", 2)], HealthConfig::default());
    let mut relay = stream("s", &["rp"], &[]);
    relay.publish.sessions[0].cascade = Some(wishcast_api::stream::Cascade {
        source_url: Some("http://a:7777/whep/s".into()),
        target_url: None,
        session_url: Some("http://a:7777/session/s/relay1".into()),
    });
    r.apply_snapshot("a", vec![stream("s", &["p"], &["v1", "relay1"])], None, Duration::ZERO);
    r.apply_snapshot("b", vec![relay], None, Duration::ZERO);
    let views = r.lock().views();
    assert_eq!(views[0].streams["s"].viewers, 1);
    assert!(views[1].streams["s"].relay);
    assert!(views[1].streams["s"].has_publisher);
}

#[test]
fn registered_nodes_expire_without_heartbeats() {
    let health = HealthConfig { interval_ms: 100, ..Default::default() };
    let r = Registry::new(&[], health);
    let hb = Heartbeat { alias: "n1".into(), url: "http://x:1/".into(), interval_ms: 100, ..Default::default() };
    r.heartbeat(hb.clone()).unwrap();
    assert_eq!(r.lock().nodes["n1"].url, "http://x:1");
    r.sweep();
    assert_eq!(r.lock().nodes["n1"].status, Status::Running);
    std::thread::sleep(Duration::from_millis(300));
    r.sweep();
    assert_eq!(r.lock().nodes["n1"].status, Status::Stopped);
    r.heartbeat(hb).unwrap();
    assert_eq!(r.lock().nodes["n1"].status, Status::Running);
    let clash = Registry::new(&[entry("a", 1)], HealthConfig::default());
    let e = clash.heartbeat(Heartbeat { alias: "a".into(), ..Default::default() }).unwrap_err();
    assert!(e.contains("static"), "{e}");
}

#[test]
fn drained_nodes_get_no_placements() {
    let r = Registry::new(&[entry("a", 2)], HealthConfig::default());
    r.apply_snapshot("a", vec![], None, Duration::ZERO);
    assert!(r.set_drained("a", true));
    assert!(r.place(&sub("s")).is_err());
    r.set_drained("a", false);
    assert!(r.place(&sub("s")).is_ok());
    assert!(!r.set_drained("zzz", true));
}

#[test]
fn session_urls_yield_their_id() {
    assert_eq!(session_id_of_url("http://a:1/session/s/abc?x=1").as_deref(), Some("abc"));
    assert_eq!(session_id_of_url("").as_deref(), None);
}
