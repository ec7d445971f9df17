//! Real nodes (`wishcast_node::start`) behind one manager, with str0m peers from
//! `wishcast-client` publishing and playing through the manager.

mod common;

use std::time::{Duration, Instant};

use common::{CONNECT, KillableNode, Pump, node_config, start_manager, start_node, static_node, wait_until};
use wishcast_client::{PublishOptions, Publisher, SubscribeOptions, Subscriber};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_play_through_the_manager() {
    let n1 = start_node(node_config(2)).await;
    let n2 = start_node(node_config(2)).await;
    let n3 = start_node(node_config(2)).await;
    let m = start_manager(|c| {
        c.nodes = vec![static_node("n1", &n1.base), static_node("n2", &n2.base), static_node("n3", &n3.base)];
    })
    .await;
    m.wait_running(&["n1", "n2", "n3"]).await;
    let nodes = m.nodes().await;
    assert!(nodes.iter().all(|n| n["sub_max"] == 2), "sub_max from each node's strategy: {nodes:?}");

    let p = Publisher::connect(&m.url("/whip/live"), None, PublishOptions::default()).await.expect("WHIP via manager");
    assert!(
        p.session_url().starts_with(&m.url("/session/live/")),
        "Location points at the manager: {}",
        p.session_url()
    );
    p.wait_connected(CONNECT).await.expect("publisher connects to the node");
    let pump = Pump::start(p);

    let mut viewers = Vec::new();
    for i in 0..2 {
        let mut s = Subscriber::connect(&m.url("/whep/live"), None, SubscribeOptions::default())
            .await
            .expect("WHEP via manager");
        s.wait_connected(CONNECT).await.expect("viewer connects");
        common::assert_plays(&format!("viewer {i}"), &mut s, 30).await;
        viewers.push(s);
    }
    // Both viewers are on the publisher's node: it has room (sub_max 2).
    let per = m.holders("live").await;
    let on: Vec<_> = per.as_object().unwrap().keys().cloned().collect();
    assert_eq!(on.len(), 1, "one node holds the stream: {per}");
    wait_until("the manager sees both viewers", CONNECT, || async {
        m.holders("live").await[&on[0]]["subscribe"]["sessions"].as_array().map_or(0, |a| a.len()) == 2
    })
    .await;

    // Hang up through the manager.
    let mut v = viewers.pop().unwrap();
    assert_eq!(v.close().await.expect("DELETE via manager"), 200);
    let mut p = pump.stop().await;
    assert_eq!(p.close().await.expect("DELETE via manager"), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_nodes_are_stopped_within_3_seconds_and_publishers_avoid_them() {
    // One static node and two self-registering ones, each killable like a crashed process.
    let mut s1 = KillableNode::start(node_config(10));
    let m = start_manager(|c| c.nodes = vec![static_node("s1", &s1.base)]).await;
    let reg = |alias: &str| {
        let mut c = node_config(10);
        c.cluster.manager = m.base.clone();
        c.cluster.alias = alias.into();
        c.cluster.region = "eu".into();
        c
    };
    let mut r1 = KillableNode::start(reg("r1"));
    let r2 = KillableNode::start(reg("r2"));
    m.wait_running(&["s1", "r1", "r2"]).await;
    let n = m.nodes().await;
    let r1json = n.iter().find(|x| x["alias"] == "r1").unwrap();
    assert_eq!(r1json["kind"], "registered");
    assert_eq!(r1json["region"], "eu");
    assert_eq!(r1json["url"], r1.base.as_str());

    // A registered node dies.
    r1.kill();
    let t0 = Instant::now();
    wait_until("r1 stopped", Duration::from_secs(6), || async {
        m.node_status("r1").await.as_deref() == Some("stopped")
    })
    .await;
    let took = t0.elapsed();
    assert!(took <= Duration::from_millis(3300), "registered node stopped after {took:?}");

    // A static node dies.
    s1.kill();
    let t0 = Instant::now();
    wait_until("s1 stopped", Duration::from_secs(6), || async {
        m.node_status("s1").await.as_deref() == Some("stopped")
    })
    .await;
    let took = t0.elapsed();
    assert!(took <= Duration::from_millis(3300), "static node stopped after {took:?}");

    // The next publishers land on the survivor and work.
    for i in 0..2 {
        let p = Publisher::connect(&m.url(&format!("/whip/after-{i}")), None, PublishOptions::default())
            .await
            .expect("WHIP");
        p.wait_connected(CONNECT).await.expect("publisher connects");
        let per = m.holders(&format!("after-{i}")).await;
        wait_until("snapshot", CONNECT, || async {
            m.holders(&format!("after-{i}")).await.as_object().is_some_and(|o| !o.is_empty())
        })
        .await;
        let per2 = m.holders(&format!("after-{i}")).await;
        let keys: Vec<_> = per2.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["r2".to_string()], "{per} / {per2}");
    }
    drop(r2);
}

/// Three nodes with `each_stream_max_sub = 2`, one publisher and five viewers through
/// the manager: the origin fills, the stream is cascaded (pull) twice, every viewer
/// decodes; when the relay viewers leave, the idle relays are torn down and the
/// origin's relay sessions disappear.
///
/// Needs the node-side `POST /api/cascade/{stream}` (pull via WHEP, the relay's
/// `cascade.sessionUrl` set, and relay pulls admitted beyond `each_stream_max_sub`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn five_viewers_on_three_nodes_with_sub_max_2_cascade_and_all_decode() {
    let n1 = start_node(node_config(2)).await;
    let n2 = start_node(node_config(2)).await;
    let n3 = start_node(node_config(2)).await;
    let m = start_manager(|c| {
        c.nodes = vec![static_node("n1", &n1.base), static_node("n2", &n2.base), static_node("n3", &n3.base)];
        c.cascade.maximum_idle_time = 2000;
        c.cascade.check_tick_time = 250;
    })
    .await;
    m.wait_running(&["n1", "n2", "n3"]).await;
    let p = Publisher::connect(&m.url("/whip/big?nodes=n1"), None, PublishOptions::default()).await.expect("WHIP");
    p.wait_connected(CONNECT).await.expect("publisher");
    let pump = Pump::start(p);
    let mut viewers = Vec::new();
    for i in 0..5 {
        let t0 = Instant::now();
        let mut s = Subscriber::connect(&m.url("/whep/big"), None, SubscribeOptions::default()).await.expect("WHEP");
        s.wait_connected(CONNECT).await.expect("viewer connects");
        common::assert_plays(&format!("viewer {i}"), &mut s, 30).await;
        eprintln!("viewer {i}: first 30 frames after {:?}", t0.elapsed());
        viewers.push(s);
    }
    let relays = m.get_json("/api/cascade/", None).await;
    assert!(relays.as_array().unwrap().len() >= 2, "{relays}");
    // The manager learns of the last relay from that node's next heartbeat (≤ 1 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut per = m.holders("big").await;
    while per.as_object().map_or(0, |o| o.len()) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        per = m.holders("big").await;
    }
    assert_eq!(per.as_object().unwrap().len(), 3, "every node holds a copy: {per}");

    // Viewers on relay nodes leave: relays idle out, the origin's relay sessions go.
    let origin_subs =
        || async { m.holders("big").await["n1"]["subscribe"]["sessions"].as_array().map_or(0, |a| a.len()) };
    for mut v in viewers.drain(2..) {
        let _ = v.close().await;
    }
    wait_until("relays torn down", Duration::from_secs(15), || async {
        m.get_json("/api/cascade/", None).await.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
    wait_until("origin keeps only its own viewers", Duration::from_secs(10), || async { origin_subs().await == 2 })
        .await;
    drop(pump);
}
