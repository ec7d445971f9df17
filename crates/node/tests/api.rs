//! The Live777-compatible HTTP API of a node: streams, strategy, info, metrics, SSE
//! and CORS.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{CONNECT, TestNode, send_frames};
use reqwest::Method;
use serde_json::Value;
use wishcast_client::{PublishOptions, Publisher, Role, SubscribeOptions, Subscriber, VideoCodec, offer_sdp};

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

async fn status(node: &TestNode, method: Method, path: &str) -> u16 {
    node.http.request(method, node.url(path)).send().await.unwrap().status().as_u16()
}

async fn get_json(node: &TestNode, path: &str) -> Value {
    let r = node.http.get(node.url(path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "GET {path}");
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(ct.starts_with("application/json"), "GET {path}: content-type {ct}");
    r.json().await.unwrap()
}

fn find<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|s| s["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_have_the_live777_shape() {
    let node = common::start().await;
    let before = unix_ms();
    let p = Publisher::connect(&node.whip("shape"), None, PublishOptions::default()).await.unwrap();
    let s = Subscriber::connect(&node.whep("shape"), None, SubscribeOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();

    common::wait_until("both sessions connected", CONNECT, || async {
        let list = get_json(&node, "/api/streams/").await;
        let Some(st) = find(&list, "shape") else { return false };
        ["publish", "subscribe"].iter().all(|side| {
            st[side]["sessions"].as_array().map(|v| v.len() == 1 && v[0]["state"] == "connected").unwrap_or(false)
        })
    })
    .await;

    let list = get_json(&node, "/api/streams/").await;
    assert!(list.is_array(), "{list}");
    let st = find(&list, "shape").expect("stream listed").clone();
    let created = st["createdAt"].as_u64().expect("createdAt is a number");
    assert!(created + 5_000 >= before && created <= unix_ms() + 5_000, "createdAt {created} is unix ms near {before}");
    assert!(st.get("created_at").is_none(), "camelCase only: {st}");
    for side in ["publish", "subscribe"] {
        let sessions = st[side]["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{side}: {st}");
        let sess = &sessions[0];
        assert!(sess["id"].as_str().map(|x| !x.is_empty()).unwrap_or(false), "{side} session id: {sess}");
        assert!(sess["createdAt"].as_u64().unwrap() >= created, "{side} session createdAt: {sess}");
        assert!(st[side].get("leaveAt").is_some(), "{side}.leaveAt: {st}");
    }
    // Session ids are the last segment of the WHIP/WHEP Location.
    let pub_id = st["publish"]["sessions"][0]["id"].as_str().unwrap();
    assert!(p.session_url().ends_with(&format!("/session/shape/{pub_id}")), "{} vs {pub_id}", p.session_url());
    let sub_id = st["subscribe"]["sessions"][0]["id"].as_str().unwrap();
    assert!(s.session_url().ends_with(&format!("/session/shape/{sub_id}")));

    let codecs = st["codecs"].as_array().expect("codecs array");
    let has = |kind: &str, codec: &str| {
        codecs.iter().any(|c| c["kind"] == kind && c["codec"] == codec && c["fmtp"].is_string())
    };
    assert!(has("video", "vp8"), "codecs: {codecs:?}");
    assert!(has("audio", "opus"), "codecs: {codecs:?}");

    // The single-stream route returns the same object, and 404 for unknown ids.
    let one = get_json(&node, "/api/streams/shape").await;
    assert_eq!(one["id"], "shape");
    assert_eq!(one["createdAt"], st["createdAt"]);
    assert_eq!(one["codecs"], st["codecs"]);
    let r = node.http.get(node.url("/api/streams/nope")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.text().await.unwrap().contains("nope"), "404 body names the stream");

    // ?streams= filters the list.
    let r = node.http.post(node.url("/api/streams/other")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let all = get_json(&node, "/api/streams/").await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let filtered = get_json(&node, "/api/streams/?streams=other").await;
    let ids: Vec<&str> = filtered.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["other"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_created_and_deleted_explicitly() {
    let node = common::start().await;
    assert_eq!(status(&node, Method::GET, "/api/streams/x").await, 404);
    assert_eq!(status(&node, Method::POST, "/api/streams/x").await, 204);
    assert_eq!(status(&node, Method::POST, "/api/streams/x").await, 409, "already exists");
    let st = get_json(&node, "/api/streams/x").await;
    assert_eq!(st["publish"]["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(st["subscribe"]["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(status(&node, Method::DELETE, "/api/streams/x").await, 204);
    assert_eq!(status(&node, Method::DELETE, "/api/streams/x").await, 404);
    assert_eq!(status(&node, Method::GET, "/api/streams/x").await, 404);

    // Deleting a stream closes its sessions.
    let r = node
        .http
        .post(node.whip("live"))
        .header("content-type", "application/sdp")
        .body(offer_sdp(Role::Publish, Some(VideoCodec::Vp8), true, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let loc = r.headers().get("location").unwrap().to_str().unwrap().to_string();
    assert_eq!(status(&node, Method::POST, "/api/streams/live").await, 409);
    assert_eq!(status(&node, Method::DELETE, "/api/streams/live").await, 204);
    assert_eq!(status(&node, Method::DELETE, &loc).await, 404, "session went with its stream");
    assert_eq!(status(&node, Method::GET, "/api/streams/live").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategy_is_the_configured_one() {
    let node = common::start_with(|c| {
        c.strategy.each_stream_max_sub = 7;
        c.strategy.auto_create_whep = false;
        c.strategy.auto_delete_whip = 1500;
        c.strategy.auto_delete_whep = 2500;
        c.strategy.cascade_push_close_sub = true;
    })
    .await;
    let got = get_json(&node, "/api/strategy/").await;
    let want = serde_json::json!({
        "each_stream_max_sub": 7,
        "cascade_push_close_sub": true,
        "auto_create_whip": true,
        "auto_create_whep": false,
        "auto_delete_whip": 1500,
        "auto_delete_whep": 2500,
    });
    assert_eq!(got, want);
    let defaults = common::start().await;
    let got = get_json(&defaults, "/api/strategy/").await;
    assert_eq!(got, serde_json::to_value(wishcast_api::Strategy::default()).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_has_the_version() {
    let node = common::start().await;
    let info = get_json(&node, "/api/info").await;
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"), "{info}");
    assert!(info["features"].as_array().map(|f| !f.is_empty()).unwrap_or(false), "{info}");
    for k in ["gitHash", "buildTime"] {
        assert!(info[k].is_string(), "{k} in {info}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_rtp_while_media_flows() {
    let node = common::start().await;
    let r = node.http.get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ct = r.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE wishcast_rtp_packets_total counter"), "{text}");
    let in0 = node.rtp_packets("in").await;
    let out0 = node.rtp_packets("out").await;

    let mut p = Publisher::connect(&node.whip("m"), None, PublishOptions::default()).await.unwrap();
    let s = Subscriber::connect(&node.whep("m"), None, SubscribeOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    send_frames(&mut p, 0, 45, 30, 30, true).await;
    // Counters are fed by str0m's 1 s stats events.
    common::wait_until("rtp counters to grow", CONNECT, || async {
        node.rtp_packets("in").await >= in0 + 90 && node.rtp_packets("out").await >= out0 + 90
    })
    .await;
    let in1 = node.rtp_packets("in").await;
    let out1 = node.rtp_packets("out").await;
    // Still flowing: the counters keep growing.
    send_frames(&mut p, 45, 30, 30, 30, true).await;
    common::wait_until("rtp counters to keep growing", CONNECT, || async {
        node.rtp_packets("in").await > in1 && node.rtp_packets("out").await > out1
    })
    .await;
}

/// Read SSE `data:` payloads from a streaming response.
struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    async fn next_data(&mut self, timeout: Duration) -> Option<String> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..i + 2).collect();
                let data: Vec<&str> =
                    event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                if !data.is_empty() {
                    return Some(data.join("\n"));
                }
                continue; // comment / keep-alive
            }
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.buf.push_str(&String::from_utf8_lossy(&c).replace("\r\n", "\n")),
                _ => return None,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_sends_a_snapshot_then_updates() {
    let node = common::start().await;
    let resp = node.http.get(node.url("/api/sse/streams")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let mut sse = SseReader { resp, buf: String::new() };
    let first = sse.next_data(Duration::from_secs(10)).await.expect("snapshot on connect");
    let v: Value = serde_json::from_str(&first).expect("snapshot is JSON");
    assert_eq!(v, serde_json::json!([]), "no streams yet");

    let r = node
        .http
        .post(node.whip("sse"))
        .header("content-type", "application/sdp")
        .body(offer_sdp(Role::Publish, Some(VideoCodec::Vp8), true, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let data =
            sse.next_data(end.saturating_duration_since(Instant::now())).await.expect("an update after the publish");
        let v: Value = serde_json::from_str(&data).expect("update is JSON");
        if let Some(st) = find(&v, "sse") {
            assert_eq!(st["publish"]["sessions"].as_array().unwrap().len(), 1, "{st}");
            break;
        }
    }
}

async fn preflight(node: &TestNode, path: &str) -> reqwest::Response {
    node.http
        .request(Method::OPTIONS, node.url(path))
        .header("origin", "http://player.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_when_enabled_and_only_then() {
    let node = common::start_with(|c| {
        c.http.cors = true;
        c.auth.tokens = vec!["t0ken".into()];
    })
    .await;
    for path in ["/whip/s", "/whep/s", "/session/s/x", "/api/streams/"] {
        let r = preflight(&node, path).await;
        assert_eq!(r.status().as_u16(), 204, "preflight {path} is answered before auth");
        let h = r.headers();
        assert_eq!(h.get("access-control-allow-origin").unwrap(), "http://player.example", "{path}");
        let methods = h.get("access-control-allow-methods").unwrap().to_str().unwrap();
        for m in ["POST", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{path}: {methods}");
        }
        let allowed = h.get("access-control-allow-headers").unwrap().to_str().unwrap().to_ascii_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    }
    // Actual responses (even errors) carry the CORS headers and expose Location/ETag.
    let r = node
        .http
        .post(node.whip("s"))
        .header("origin", "http://player.example")
        .header("content-type", "application/sdp")
        .bearer_auth("t0ken")
        .body(offer_sdp(Role::Publish, Some(VideoCodec::Vp8), true, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "http://player.example");
    let expose = r.headers().get("access-control-expose-headers").unwrap().to_str().unwrap().to_ascii_lowercase();
    assert!(expose.contains("location") && expose.contains("etag"), "{expose}");
    let r = node.http.get(node.url("/api/streams/")).header("origin", "http://player.example").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("access-control-allow-origin").is_some(), "401 is readable by the page too");

    let off = common::start_with(|c| c.http.cors = false).await;
    let r = preflight(&off, "/whip/s").await;
    assert!(r.headers().get("access-control-allow-origin").is_none(), "no CORS when disabled");
    assert!(r.status().as_u16() >= 400 && r.status().as_u16() < 500, "preflight without CORS: {}", r.status());
    let r = off.http.get(off.url("/api/streams/")).header("origin", "http://player.example").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for h in ["access-control-allow-origin", "access-control-allow-methods", "access-control-expose-headers"] {
        assert!(r.headers().get(h).is_none(), "{h} present with cors = false");
    }
}
