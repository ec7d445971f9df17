//! The manager against scriptable fake nodes: what it sends to nodes (tokens, bodies,
//! cascade requests), how it maps node failures (502/504, no orphan sessions), extra
//! ICE servers, redirect mode, drain, regions, health, and the storm of 100 WHEPs.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::fake::{self, FakeNode};
use common::{start_manager, static_node, wait_until};
use wishcast_manager::config::{CloudflareConfig, CoturnConfig, IceServer, NodeEntry, ProxyMode, UrlList};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

fn entry(alias: &str, f: &FakeNode, token: &str) -> NodeEntry {
    NodeEntry { token: token.into(), ..static_node(alias, &f.base) }
}

async fn post_offer(m: &common::TestManager, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut rq = m.http.post(m.url(path)).header("content-type", "application/sdp").body(OFFER);
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    rq.send().await.expect("request")
}

#[tokio::test]
async fn offers_are_proxied_with_the_node_token_and_locations_rewritten() {
    let a = fake::start(10).await;
    let m = start_manager(|c| {
        c.auth.tokens = vec!["admin".into()];
        c.nodes = vec![entry("a", &a, "node-a-token")];
    })
    .await;
    m.wait_running_auth(&["a"], "admin").await;

    let r = post_offer(&m, "/whip/cam", None).await;
    assert_eq!(r.status(), 401, "the manager checks the client token itself");
    assert!(a.state.requests("POST", "/whip").is_empty());

    let r = post_offer(&m, "/whip/cam?token=admin&x=1", None).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], "/session/cam/sess-1");
    assert_eq!(r.headers()["etag"], "\"abc\"");
    assert_eq!(r.headers()["content-type"], "application/sdp");
    let links: Vec<_> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(links, vec!["<stun:node.example:3478>; rel=\"ice-server\""]);
    assert!(r.text().await.unwrap().starts_with("v=0"));
    let sent = &a.state.requests("POST", "/whip/cam")[0];
    assert_eq!(sent.path, "/whip/cam?x=1", "the client's ?token= stays at the manager");
    assert_eq!(sent.auth.as_deref(), Some("Bearer node-a-token"));
    assert!(sent.body.starts_with("v=0"));

    // Session requests go to the owning node, with the node token.
    let r = m
        .http
        .patch(m.url("/session/cam/sess-1"))
        .bearer_auth("admin")
        .header("content-type", "application/trickle-ice-sdpfrag")
        .body("a=ice-ufrag:x\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = m.http.delete(m.url("/session/cam/sess-1")).bearer_auth("admin").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let del = &a.state.requests("DELETE", "/session/cam/sess-1")[0];
    assert_eq!(del.auth.as_deref(), Some("Bearer node-a-token"));
    let r = m.http.delete(m.url("/session/cam/nope")).bearer_auth("admin").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("unknown"));

    // Liveman's per-node route.
    let r = post_offer(&m, "/api/whep/a/cam", Some("admin")).await;
    assert_eq!(r.status(), 201);
    let r = post_offer(&m, "/api/whep/zzz/cam", Some("admin")).await;
    assert_eq!(r.status(), 404);

    // Client mistakes are caught before any node is involved.
    let r = m
        .http
        .post(m.url("/whip/cam"))
        .bearer_auth("admin")
        .header("content-type", "text/plain")
        .body(OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = m
        .http
        .post(m.url("/whip/cam"))
        .bearer_auth("admin")
        .header("content-type", "application/sdp")
        .body(vec![b'x'; 70_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn a_broken_answer_gives_502_and_the_node_session_is_deleted() {
    let a = fake::start(10).await;
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, "t")]).await;
    m.wait_running(&["a"]).await;
    a.state.break_answer_body.store(true, Relaxed);
    let r = post_offer(&m, "/whip/cam", None).await;
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("node `a`"), "{body}");
    wait_until("orphan DELETE", Duration::from_secs(5), || async {
        !a.state.requests("DELETE", "/session/cam/sess-1").is_empty()
    })
    .await;
    let metrics = m.http.get(m.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("wishcast_manager_orphan_sessions_deleted_total 1"), "{metrics}");
}

#[tokio::test]
async fn a_slow_node_gives_504_and_an_unreachable_one_502() {
    let a = fake::start(10).await;
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let m = start_manager(|c| {
        c.health.request_timeout_ms = 500;
        c.nodes = vec![entry("a", &a, ""), static_node("dead", &format!("http://127.0.0.1:{dead_port}"))];
    })
    .await;
    m.wait_running(&["a"]).await;
    a.state.offer_delay_ms.store(2000, Relaxed);
    let t0 = Instant::now();
    let r = post_offer(&m, "/whip/cam", None).await;
    assert_eq!(r.status(), 504);
    assert!(t0.elapsed() < Duration::from_millis(1900));
    assert!(r.text().await.unwrap().contains("did not answer in time"));
    let r = post_offer(&m, "/api/whip/dead/cam", None).await;
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("cannot connect to node `dead`"), "{body}");
    assert_eq!(m.node_status("dead").await.as_deref(), Some("stopped"));
}

#[tokio::test]
async fn redirect_mode_answers_307_with_the_node_url() {
    let a = fake::start(10).await;
    let m = start_manager(|c| {
        c.placement.mode = ProxyMode::Redirect;
        c.nodes = vec![entry("a", &a, "")];
    })
    .await;
    m.wait_running(&["a"]).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client
        .post(m.url("/whep/cam?token=abc&region=eu"))
        .header("content-type", "application/sdp")
        .body(OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("{}/whep/cam?token=abc", a.base));
    assert!(a.state.requests("POST", "/whep").is_empty());
}

#[tokio::test]
async fn drained_nodes_get_no_new_placements() {
    let a = fake::start(10).await;
    let b = fake::start(10).await;
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, ""), entry("b", &b, "")]).await;
    m.wait_running(&["a", "b"]).await;
    let drain = |alias: &'static str, what: &'static str| {
        let m = &m;
        async move { m.http.post(m.url(&format!("/api/nodes/{alias}/{what}"))).send().await.unwrap().status() }
    };
    assert_eq!(drain("a", "drain").await, 204);
    for i in 0..3 {
        assert_eq!(post_offer(&m, &format!("/whip/s{i}"), None).await.status(), 201);
    }
    assert_eq!(a.state.requests("POST", "/whip").len(), 0);
    assert_eq!(b.state.requests("POST", "/whip").len(), 3);
    assert_eq!(drain("b", "drain").await, 204);
    let r = post_offer(&m, "/whip/x", None).await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("no available node"));
    assert_eq!(drain("a", "undrain").await, 204);
    assert_eq!(post_offer(&m, "/whip/y", None).await.status(), 201);
    assert_eq!(a.state.requests("POST", "/whip").len(), 1);
    assert_eq!(drain("zzz", "drain").await, 404);
    let nodes = m.nodes().await;
    assert_eq!(nodes.iter().find(|n| n["alias"] == "b").unwrap()["drained"], true);
}

#[tokio::test]
async fn region_placement_and_fallback() {
    let eu = fake::start(10).await;
    let us = fake::start(10).await;
    let m = start_manager(|c| {
        c.placement.region = "us".into();
        c.nodes = vec![
            NodeEntry { region: "eu".into(), ..entry("eu1", &eu, "") },
            NodeEntry { region: "us".into(), ..entry("us1", &us, "") },
        ];
    })
    .await;
    m.wait_running(&["eu1", "us1"]).await;
    assert_eq!(post_offer(&m, "/whip/a?region=eu", None).await.status(), 201);
    let r = m
        .http
        .post(m.url("/whip/b"))
        .header("content-type", "application/sdp")
        .header("x-region", "eu")
        .body(OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(post_offer(&m, "/whip/c", None).await.status(), 201, "manager default region: us");
    assert_eq!(eu.state.requests("POST", "/whip").len(), 2);
    assert_eq!(us.state.requests("POST", "/whip").len(), 1);
    // No node in the region: any region.
    assert_eq!(post_offer(&m, "/whip/d?region=ap", None).await.status(), 201);
    assert_eq!(eu.state.requests("POST", "/whip").len() + us.state.requests("POST", "/whip").len(), 4);
    // ?nodes= pins a node.
    assert_eq!(post_offer(&m, "/whip/e?region=eu&nodes=us1", None).await.status(), 201);
    assert_eq!(us.state.requests("POST", "/whip/e").len(), 1);
}

#[tokio::test]
async fn failing_health_checks_stop_a_node_within_3_seconds_and_recovery_restarts_it() {
    let a = fake::start(10).await;
    let b = fake::start(10).await;
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, ""), entry("b", &b, "")]).await;
    m.wait_running(&["a", "b"]).await;
    a.state.fail_polls.store(true, Relaxed);
    let t0 = Instant::now();
    wait_until("a stopped", Duration::from_secs(5), || async {
        m.node_status("a").await.as_deref() == Some("stopped")
    })
    .await;
    let took = t0.elapsed();
    assert!(took <= Duration::from_millis(3200), "stopped after {took:?}");
    for i in 0..3 {
        assert_eq!(post_offer(&m, &format!("/whip/s{i}"), None).await.status(), 201);
    }
    assert!(a.state.requests("POST", "/whip").is_empty(), "a stopped node gets no sessions");
    a.state.fail_polls.store(false, Relaxed);
    wait_until("a running again", Duration::from_secs(5), || async {
        m.node_status("a").await.as_deref() == Some("running")
    })
    .await;
}

#[tokio::test]
async fn registered_nodes_heartbeat_and_expire() {
    let m = start_manager(|c| c.nodes = vec![static_node("static1", "http://127.0.0.1:1")]).await;
    let hb = serde_json::json!({
        "alias": "reg1", "url": "http://127.0.0.1:9/", "region": "eu", "interval_ms": 1000, "sub_max": 7,
        "load": {"streams": 1, "publishers": 1, "subscribers": 2, "packets_per_sec": 100, "bytes_per_sec": 1000, "cpu": 12.5},
        "streams": [fake::stream("s", &["p"], &["v1", "v2"])]
    });
    let r = m.http.post(m.url("/api/cluster/heartbeat")).json(&hb).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let t0 = Instant::now();
    let n = m.nodes().await.into_iter().find(|n| n["alias"] == "reg1").unwrap();
    assert_eq!(n["status"], "running");
    assert_eq!(n["kind"], "registered");
    assert_eq!(n["url"], "http://127.0.0.1:9");
    assert_eq!(n["sub_max"], 7);
    assert_eq!(n["load"]["cpu"], 12.5);
    let merged = m.get_json("/api/streams/", None).await;
    assert_eq!(merged[0]["subscribe"]["sessions"].as_array().unwrap().len(), 2);
    // No more heartbeats: stopped within 3 s.
    wait_until("reg1 stopped", Duration::from_secs(5), || async {
        m.node_status("reg1").await.as_deref() == Some("stopped")
    })
    .await;
    assert!(t0.elapsed() <= Duration::from_millis(3100), "stopped after {:?}", t0.elapsed());
    let clash = serde_json::json!({"alias": "static1", "url": "http://x:1"});
    let r = m.http.post(m.url("/api/cluster/heartbeat")).json(&clash).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let bad = serde_json::json!({"alias": "x", "url": "nope"});
    assert_eq!(m.http.post(m.url("/api/cluster/heartbeat")).json(&bad).send().await.unwrap().status(), 422);
}

#[tokio::test]
async fn extra_ice_static_coturn_and_cloudflare_are_merged() {
    // A local fake of Cloudflare's TURN key API.
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let (c2, s2) = (calls.clone(), seen.clone());
    let cf = axum::Router::new().route(
        "/v1/turn/keys/{key}/credentials/generate-ice-servers",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (calls, seen) = (c2.clone(), s2.clone());
            async move {
                calls.fetch_add(1, Relaxed);
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                seen.lock().unwrap().push((auth, body));
                axum::Json(serde_json::json!({"iceServers": [
                    {"urls": ["stun:stun.cloudflare.com:3478"]},
                    {"urls": ["turn:turn.cloudflare.com:3478?transport=udp"], "username": "cfuser", "credential": "cfpass"}
                ]}))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cf_base = format!("http://{}", l.local_addr().unwrap());
    let cf_task = tokio::spawn(async move { axum::serve(l, cf).await });

    let a = fake::start(10).await;
    let m = start_manager(|c| {
        c.nodes = vec![entry("a", &a, "")];
        c.extra_ice.override_upstream_ice_servers = true;
        c.extra_ice.ice_servers =
            vec![IceServer { urls: UrlList::One("stun:static.example:3478".into()), ..Default::default() }];
        c.extra_ice.coturn =
            Some(CoturnConfig { urls: UrlList::One("turn:127.0.0.1:3478".into()), secret: "live777".into(), ttl: 600 });
        c.extra_ice.cloudflare =
            Some(CloudflareConfig { key_id: "KEY".into(), api_token: "CFTOKEN".into(), ttl: 3600, api_base: cf_base });
    })
    .await;
    m.wait_running(&["a"]).await;
    for i in 0..2 {
        let r = post_offer(&m, &format!("/whep/s{i}"), None).await;
        assert_eq!(r.status(), 201);
        let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(!links.iter().any(|l| l.contains("node.example")), "upstream links overridden: {links:?}");
        assert_eq!(links[0], "<stun:static.example:3478>; rel=\"ice-server\"");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let coturn = &links[1];
        let user: u64 = coturn.split("username=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        assert!(user >= now + 590 && user <= now + 610, "coturn username is the expiry: {coturn}");
        let (u, c) = wishcast_manager::extra_ice::coturn_credentials("live777", 0, user);
        assert!(coturn.contains(&format!("username=\"{u}\"; credential=\"{c}\"")), "{coturn}");
        assert_eq!(links[2], "<stun:stun.cloudflare.com:3478>; rel=\"ice-server\"");
        assert!(links[3].contains("username=\"cfuser\"; credential=\"cfpass\""), "{links:?}");
    }
    assert_eq!(calls.load(Relaxed), 1, "Cloudflare credentials are cached");
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth, "Bearer CFTOKEN");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), serde_json::json!({"ttl": 3600}));

    // Cloudflare down (and nothing cached): 502 and no node session at all.
    cf_task.abort();
    let m2 = start_manager(|c| {
        c.nodes = vec![entry("a", &a, "")];
        c.extra_ice.cloudflare = Some(CloudflareConfig {
            key_id: "KEY".into(),
            api_token: "CFTOKEN".into(),
            ttl: 3600,
            api_base: "http://127.0.0.1:1".into(),
        });
    })
    .await;
    m2.wait_running(&["a"]).await;
    let before = a.state.requests("POST", "/whep").len();
    let r = post_offer(&m2, "/whep/z", None).await;
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("no session was created"));
    assert_eq!(a.state.requests("POST", "/whep").len(), before);
}

/// Origin `a` holds `s` with a publisher; every WHEP beyond `sub_max` cascades.
#[tokio::test]
async fn full_origin_triggers_a_pull_cascade_and_idle_relays_are_torn_down() {
    let a = fake::start(1).await;
    let b = fake::start(1).await;
    a.state.set_streams(vec![fake::stream("s", &["pub"], &["v0"])]);
    let m = start_manager(|c| {
        c.nodes = vec![entry("a", &a, "ta"), entry("b", &b, "tb")];
        c.cascade.maximum_idle_time = 600;
        c.cascade.check_tick_time = 200;
        c.cascade.check_attempts = 1;
    })
    .await;
    m.wait_running(&["a", "b"]).await;
    // b's copy appears as a relay (with the viewer) once the cascade is requested.
    let mut relay = fake::stream("s", &["rp"], &["sess-1"]);
    relay.publish.sessions[0].cascade = Some(wishcast_api::stream::Cascade {
        source_url: Some(format!("{}/whep/s", a.base)),
        target_url: None,
        session_url: Some(format!("{}/session/s/relay-1", a.base)),
    });

    let r = post_offer(&m, "/whep/s", None).await;
    assert_eq!(r.status(), 201);
    b.state.set_streams(vec![relay.clone()]);
    assert!(a.state.requests("POST", "/whep").is_empty(), "a is full");
    assert_eq!(b.state.requests("POST", "/whep/s").len(), 1, "the viewer goes to the relay node");
    wait_until("cascade request", Duration::from_secs(5), || async {
        !b.state.requests("POST", "/api/cascade/s").is_empty()
    })
    .await;
    let c = &b.state.requests("POST", "/api/cascade/s")[0];
    assert_eq!(c.auth.as_deref(), Some("Bearer tb"), "the destination node's token");
    let body: serde_json::Value = serde_json::from_str(&c.body).unwrap();
    assert_eq!(body, serde_json::json!({"sourceUrl": format!("{}/whep/s", a.base), "token": "ta"}));
    let relays = m.get_json("/api/cascade/", None).await;
    assert_eq!(relays[0]["src"], "a");
    assert_eq!(relays[0]["dst"], "b");

    // The viewer leaves: after maximum_idle_time the relay goes, upstream session too.
    wait_until("the manager sees the viewer on b", Duration::from_secs(5), || async {
        m.get_json("/api/streams/s", None).await["b"]["subscribe"]["sessions"][0]["id"] == "sess-1"
    })
    .await;
    relay.subscribe.sessions.clear();
    b.state.set_streams(vec![relay]);
    wait_until("relay stream deleted on b", Duration::from_secs(8), || async {
        !b.state.requests("DELETE", "/api/streams/s").is_empty()
    })
    .await;
    wait_until("upstream session deleted on a", Duration::from_secs(5), || async {
        !a.state.requests("DELETE", "/session/s/relay-1").is_empty()
    })
    .await;
    assert_eq!(a.state.requests("DELETE", "/session/s/relay-1")[0].auth.as_deref(), Some("Bearer ta"));
    assert_eq!(m.get_json("/api/cascade/", None).await.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn no_panic_and_a_clear_503_when_every_node_holds_a_full_copy() {
    let a = fake::start(1).await;
    let b = fake::start(1).await;
    a.state.set_streams(vec![fake::stream("s", &["p"], &["v"])]);
    b.state.set_streams(vec![fake::stream("s", &["p2"], &["w"])]);
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, ""), entry("b", &b, "")]).await;
    m.wait_running(&["a", "b"]).await;
    let r = post_offer(&m, "/whep/s", None).await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("stream is full"));
    // Still serving afterwards.
    assert_eq!(post_offer(&m, "/whep/other", None).await.status(), 201);
}

#[tokio::test]
async fn a_storm_of_100_concurrent_wheps_never_exceeds_sub_max() {
    let a = fake::start(2).await;
    let b = fake::start(2).await;
    let c = fake::start(2).await;
    a.state.set_streams(vec![fake::stream("s", &["pub"], &[])]);
    let m = start_manager(|cfg| cfg.nodes = vec![entry("a", &a, ""), entry("b", &b, ""), entry("c", &c, "")]).await;
    m.wait_running(&["a", "b", "c"]).await;
    let futs = (0..100).map(|_| {
        let m = &m;
        async move { post_offer(m, "/whep/s", None).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(futs).await;
    let ok = statuses.iter().filter(|s| **s == 201).count();
    let full = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!((ok, full), (6, 94), "{statuses:?}");
    for (name, f) in [("a", &a), ("b", &b), ("c", &c)] {
        let n = f.state.requests("POST", "/whep/s").len();
        assert_eq!(n, 2, "node {name} got {n} viewers, sub_max is 2");
    }
    wait_until("two cascades", Duration::from_secs(5), || async {
        b.state.requests("POST", "/api/cascade/s").len() + c.state.requests("POST", "/api/cascade/s").len() == 2
    })
    .await;
}

#[tokio::test]
async fn cluster_stream_views() {
    let a = fake::start(10).await;
    let b = fake::start(10).await;
    let mut sa = fake::stream("s", &["p"], &["v1"]);
    sa.codecs = vec![wishcast_api::Codec { kind: "video".into(), codec: "vp8".into(), fmtp: String::new() }];
    let mut sb = fake::stream("s", &["r"], &["v2", "v3"]);
    sb.codecs = sa.codecs.clone();
    a.state.set_streams(vec![sa, fake::stream("only-a", &["p"], &[])]);
    b.state.set_streams(vec![sb]);
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, ""), entry("b", &b, "")]).await;
    m.wait_running(&["a", "b"]).await;
    let v = m.get_json("/api/streams/", None).await;
    let s = v.as_array().unwrap().iter().find(|x| x["id"] == "s").unwrap().clone();
    assert_eq!(s["subscribe"]["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(s["codecs"].as_array().unwrap().len(), 1, "codecs are kept when merging");
    assert_eq!(s["statsScope"], "clusterNodeWork");
    let only = m.get_json("/api/streams/?nodes=b", None).await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let per = m.get_json("/api/streams/s", None).await;
    assert_eq!(per["a"]["publish"]["sessions"][0]["id"], "p");
    assert_eq!(per["b"]["publish"]["sessions"][0]["id"], "r");
    assert_eq!(m.get_json("/api/streams/none", None).await, serde_json::json!({}));

    // SSE: the merged list as the first event.
    let mut r = m.http.get(m.url("/api/sse/streams?streams=only-a")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let chunk = tokio::time::timeout(Duration::from_secs(5), r.chunk()).await.unwrap().unwrap().unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.starts_with("data: [") && text.contains("\"only-a\"") && !text.contains("\"s\""), "{text}");

    // Create (409 when it exists; otherwise on the least-loaded node) and delete everywhere.
    assert_eq!(m.http.post(m.url("/api/streams/s")).send().await.unwrap().status(), 409);
    assert_eq!(
        m.http.post(m.url("/api/streams/new?nodes=b")).send().await.unwrap().status(),
        404,
        "the fake answers 404"
    );
    assert_eq!(b.state.requests("POST", "/api/streams/new").len(), 1);
    assert_eq!(m.http.delete(m.url("/api/streams/s")).send().await.unwrap().status(), 204);
    assert_eq!(a.state.requests("DELETE", "/api/streams/s").len(), 1);
    assert_eq!(b.state.requests("DELETE", "/api/streams/s").len(), 1);
}

#[tokio::test]
async fn a_client_that_hangs_up_leaves_no_node_session() {
    let a = fake::start(10).await;
    let m = start_manager(|c| c.nodes = vec![entry("a", &a, "")]).await;
    m.wait_running(&["a"]).await;
    a.state.offer_delay_ms.store(600, Relaxed);
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let r = impatient.post(m.url("/whep/cam")).header("content-type", "application/sdp").body(OFFER).send().await;
    assert!(r.is_err(), "the client gave up");
    wait_until("orphan DELETE", Duration::from_secs(5), || async {
        !a.state.requests("DELETE", "/session/cam/sess-1").is_empty()
    })
    .await;
}

#[tokio::test]
async fn push_mode_asks_the_source_with_the_destination_token() {
    let a = fake::start(1).await;
    let b = fake::start(1).await;
    a.state.set_streams(vec![fake::stream("s", &["pub"], &["v0"])]);
    let m = start_manager(|c| {
        c.nodes = vec![entry("a", &a, "ta"), entry("b", &b, "tb")];
        c.cascade.mode = wishcast_manager::config::CascadeMode::Push;
    })
    .await;
    m.wait_running(&["a", "b"]).await;
    assert_eq!(post_offer(&m, "/whep/s", None).await.status(), 201);
    wait_until("cascade request", Duration::from_secs(5), || async {
        !a.state.requests("POST", "/api/cascade/s").is_empty()
    })
    .await;
    let c = &a.state.requests("POST", "/api/cascade/s")[0];
    assert_eq!(c.auth.as_deref(), Some("Bearer ta"));
    let body: serde_json::Value = serde_json::from_str(&c.body).unwrap();
    assert_eq!(body, serde_json::json!({"targetUrl": format!("{}/whip/s", b.base), "token": "tb"}));
}

/// Slowloris on the manager: half a header, or 3 of 100 body bytes, is cut off after
/// `http.header_timeout_ms` / `http.body_timeout_ms`.
#[tokio::test]
async fn stalled_headers_and_bodies_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let m = start_manager(|c| {
        c.http.header_timeout_ms = 400;
        c.http.body_timeout_ms = 400;
    })
    .await;
    let addr = m.m.http_addr;
    let body = b"POST /whip/s HTTP/1.1\r\nHost: m\r\nContent-Type: application/sdp\r\nContent-Length: 100\r\n\r\nv=0";
    for bytes in [&b"POST /whip/s HTTP/1.1\r\nHost: m\r\nContent-Ty"[..], &body[..]] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let t0 = Instant::now();
        s.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(r.is_ok(), "the manager kept a stalled connection open");
        assert!(t0.elapsed() >= Duration::from_millis(300), "{:?}", t0.elapsed());
        assert!(!String::from_utf8_lossy(&out).contains(" 201 "));
    }
    assert_eq!(m.http.get(m.url("/api/info")).send().await.unwrap().status(), 200);
}
