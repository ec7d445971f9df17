//! Every client mistake gets the right 4xx (never a 5xx), and the node keeps serving
//! normal publish/subscribe afterwards.

mod common;

use std::time::Duration;

use common::{CONNECT, Received, TestNode, send_frames};
use reqwest::header::HeaderMap;
use wishcast_client::{PublishOptions, Publisher, Role, SubscribeOptions, Subscriber, VideoCodec, offer_sdp};

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: String,
}

async fn send(
    node: &TestNode,
    method: reqwest::Method,
    path_or_url: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    if_match: Option<&str>,
) -> Resp {
    let url = if path_or_url.starts_with("http") { path_or_url.to_string() } else { node.url(path_or_url) };
    let mut rq = node.http.request(method, url).body(body);
    if let Some(ct) = content_type {
        rq = rq.header("content-type", ct);
    }
    if let Some(m) = if_match {
        rq = rq.header("if-match", m);
    }
    let r = rq.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap_or_default();
    Resp { status, headers, body }
}

async fn post(node: &TestNode, path: &str, ct: Option<&str>, body: impl Into<Vec<u8>>) -> Resp {
    send(node, reqwest::Method::POST, path, ct, body.into(), None).await
}

async fn patch(node: &TestNode, url: &str, ct: Option<&str>, body: impl Into<Vec<u8>>, if_match: Option<&str>) -> Resp {
    send(node, reqwest::Method::PATCH, url, ct, body.into(), if_match).await
}

async fn delete(node: &TestNode, url: &str) -> Resp {
    send(node, reqwest::Method::DELETE, url, None, Vec::new(), None).await
}

const SDP: &str = "application/sdp";
const FRAG: &str = "application/trickle-ice-sdpfrag";

/// Collects mismatches so one run reports all of them.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn status(&mut self, what: &str, r: &Resp, want: u16) {
        if r.status >= 500 {
            self.0.push(format!("{what}: server error {} (want {want}): {}", r.status, r.body.trim()));
        } else if r.status != want {
            self.0.push(format!("{what}: got {} want {want}: {}", r.status, r.body.trim()));
        }
    }
    fn check(&mut self, what: &str, ok: bool) {
        if !ok {
            self.0.push(what.to_string());
        }
    }
    fn finish(self) {
        assert!(self.0.is_empty(), "{} problem(s):\n  {}", self.0.len(), self.0.join("\n  "));
    }
}

fn pub_offer() -> String {
    offer_sdp(Role::Publish, Some(VideoCodec::Vp8), true, false)
}

fn sub_offer() -> String {
    offer_sdp(Role::Subscribe, Some(VideoCodec::Vp8), true, false)
}

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|l| l.trim_end().strip_prefix(&format!("a={name}:")))
}

fn location(node: &TestNode, r: &Resp) -> String {
    let loc = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("Location header");
    wishcast_client::whip::resolve(&node.base, loc)
}

/// Malformed offers: `(name, body)`; every one must get 400 on WHIP and WHEP.
fn malformed_offers() -> Vec<(&'static str, Vec<u8>)> {
    let valid = pub_offer();
    let mut non_utf8 = valid.clone().into_bytes();
    let at = valid.find("s=").unwrap() + 2;
    non_utf8.splice(at..at, [0xff, 0xfe, 0xc3]);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let no_m = valid[..valid.find("\nm=").unwrap() + 1].to_string();
    let bad_port = valid.replacen("m=video 9 ", "m=video nine ", 1).replacen("m=audio 9 ", "m=audio nine ", 1);
    let datachannel_only = offer_sdp(Role::Publish, None, false, true);
    let nul = valid.replacen("s=-", "s=\0-", 1);
    let no_version = valid.replacen("v=0\r\n", "", 1);
    vec![
        ("empty body", Vec::new()),
        ("whitespace body", b"  \r\n\r\n ".to_vec()),
        ("plain text", b"hello, I am not SDP\n".to_vec()),
        ("json", br#"{"type":"offer","sdp":"v=0"}"#.to_vec()),
        ("version line only", b"v=0\r\n".to_vec()),
        ("binary garbage", garbage),
        ("non-UTF-8 bytes in a valid offer", non_utf8),
        ("NUL byte in a valid offer", nul.into_bytes()),
        ("session part only, no m= line", no_m.into_bytes()),
        ("non-numeric m= port", bad_port.into_bytes()),
        ("no v= line", no_version.into_bytes()),
        ("only a data channel, no audio/video", datachannel_only.into_bytes()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_mistake_gets_the_right_4xx_and_the_node_keeps_serving() {
    let node = common::start().await;
    let mut c = Checks::default();

    // --- malformed SDP: 400 ---
    for (name, body) in malformed_offers() {
        let r = post(&node, "/whip/bad", Some(SDP), body.clone()).await;
        c.status(&format!("WHIP {name}"), &r, 400);
        c.check(
            &format!("WHIP {name}: 400 body explains ({:?})", r.body),
            r.status != 400 || !r.body.trim().is_empty(),
        );
        let r = post(&node, "/whep/bad", Some(SDP), body).await;
        c.status(&format!("WHEP {name}"), &r, 400);
    }

    // --- content type: 415, parameters allowed ---
    for ct in [None, Some("text/plain"), Some("application/json"), Some("application/sdpx"), Some("")] {
        let r = post(&node, "/whip/ct", ct, pub_offer()).await;
        c.status(&format!("WHIP with content-type {ct:?}"), &r, 415);
        let r = post(&node, "/whep/ct", ct, sub_offer()).await;
        c.status(&format!("WHEP with content-type {ct:?}"), &r, 415);
    }
    let r = post(&node, "/whip/ct1", Some("application/sdp; charset=utf-8"), pub_offer()).await;
    c.status("WHIP application/sdp; charset=utf-8", &r, 201);
    let r = post(&node, "/whep/ct1", Some("Application/SDP"), sub_offer()).await;
    c.status("WHEP Application/SDP", &r, 201);

    // --- second publisher: 409 ---
    let first = post(&node, "/whip/dup", Some(SDP), pub_offer()).await;
    c.status("first publisher", &first, 201);
    let r = post(&node, "/whip/dup", Some(SDP), pub_offer()).await;
    c.status("second publisher", &r, 409);

    // --- no codec in common: 422 naming both sides ---
    let mp4v = pub_offer().replace("VP8/90000", "MP4V-ES/90000").replace("opus/48000/2", "x-unknown/48000/2");
    let r = post(&node, "/whip/mp4v", Some(SDP), mp4v).await;
    c.status("WHIP MP4V-ES only", &r, 422);
    c.check(
        &format!("422 body names MP4V-ES and the server's codecs: {:?}", r.body),
        r.body.contains("MP4V-ES") && r.body.contains("VP8") && r.body.contains("H264"),
    );
    // `dup` has a VP8 publisher; a WHEP that can only take H264 cannot be served.
    let h264_only = offer_sdp(Role::Subscribe, Some(VideoCodec::H264), false, false);
    let r = post(&node, "/whep/dup", Some(SDP), h264_only).await;
    c.status("WHEP H264-only against a VP8 publisher", &r, 422);
    c.check(
        &format!("422 body names H264 (offered) and VP8 (publisher): {:?}", r.body),
        r.body.contains("H264") && r.body.contains("VP8"),
    );

    // --- body too large: 413 ---
    let mut big = pub_offer();
    while big.len() <= 70 * 1024 {
        big.push_str("a=x-padding:0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
    }
    let r = post(&node, "/whip/big", Some(SDP), big.clone()).await;
    c.status("WHIP body > 64 KiB", &r, 413);
    let r = post(&node, "/whep/big", Some(SDP), big.clone()).await;
    c.status("WHEP body > 64 KiB", &r, 413);

    // --- sessions: PATCH and DELETE ---
    let offer = pub_offer();
    let created = post(&node, "/whip/sess", Some(SDP), offer.clone()).await;
    c.status("publisher for PATCH tests", &created, 201);
    let session = location(&node, &created);
    let etag = created.headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    c.check("201 carries an ETag", !etag.is_empty());
    let ufrag = attr(&offer, "ice-ufrag").unwrap().to_string();
    let pwd = attr(&offer, "ice-pwd").unwrap().to_string();
    let answer_ufrag = attr(&created.body, "ice-ufrag").unwrap_or_default().to_string();

    for (name, body) in [
        ("garbage candidate", b"a=candidate:this is not a candidate\r\n".to_vec()),
        ("candidate with bad port", b"a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 99999 typ host\r\n".to_vec()),
        ("empty fragment", Vec::new()),
        ("non-UTF-8 fragment", vec![b'a', b'=', 0xff, 0xfe, b'\r', b'\n']),
        ("bad ice-ufrag", b"a=ice-ufrag:\r\na=ice-pwd:x\r\n".to_vec()),
    ] {
        let r = patch(&node, &session, Some(FRAG), body, None).await;
        c.status(&format!("PATCH {name}"), &r, 400);
    }
    let good_frag = format!(
        "a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
    );
    for ct in [None, Some("application/sdp"), Some("text/plain")] {
        let r = patch(&node, &session, ct, good_frag.clone(), None).await;
        c.status(&format!("PATCH with content-type {ct:?}"), &r, 415);
    }
    let r = patch(&node, &session, Some(FRAG), big, None).await;
    c.status("PATCH body > 64 KiB", &r, 413);
    let stream_url = session.rsplit_once('/').unwrap().0.to_string();
    for (name, url) in [
        ("unknown session", format!("{stream_url}/no-such-session")),
        ("unknown stream", node.url("/session/no-such-stream/no-such-session")),
    ] {
        let r = patch(&node, &url, Some(FRAG), good_frag.clone(), None).await;
        c.status(&format!("PATCH {name}"), &r, 404);
        let r = delete(&node, &url).await;
        c.status(&format!("DELETE {name}"), &r, 404);
    }
    let r = patch(&node, &session, Some(FRAG), good_frag.clone(), Some("\"not-the-etag\"")).await;
    c.status("PATCH If-Match mismatch", &r, 412);

    for mid in ["0", "audio", "video0"] {
        let frag = format!(
            "a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{mid}\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host\r\na=end-of-candidates\r\n"
        );
        let r = patch(&node, &session, Some(FRAG), frag, Some(&etag)).await;
        c.status(&format!("PATCH trickle with mid {mid:?}"), &r, 204);
    }
    let r = patch(&node, &session, Some(FRAG), good_frag.clone(), Some("*")).await;
    c.status("PATCH If-Match: *", &r, 204);

    // ICE restart: new credentials -> 200, a fragment with new server credentials, new ETag.
    let restart =
        "a=ice-ufrag:rstu\r\na=ice-pwd:restartpasswordrestartpw\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n";
    let r = patch(&node, &session, Some(FRAG), restart, Some(&etag)).await;
    c.status("PATCH ICE restart", &r, 200);
    if r.status == 200 {
        let new_ufrag = attr(&r.body, "ice-ufrag").unwrap_or_default();
        c.check(
            &format!("restart fragment has a new ice-ufrag (old {answer_ufrag:?}): {:?}", r.body),
            !new_ufrag.is_empty() && new_ufrag != answer_ufrag,
        );
        c.check(&format!("restart fragment has ice-pwd: {:?}", r.body), attr(&r.body, "ice-pwd").is_some());
        let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        c.check(&format!("restart content-type {ct:?}"), ct.starts_with(FRAG));
        let new_etag = r.headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        c.check(
            &format!("restart gives a new ETag ({etag:?} -> {new_etag:?})"),
            !new_etag.is_empty() && new_etag != etag,
        );
        // Trickle for the restarted session uses the client's new credentials.
        let trickle = "a=ice-ufrag:rstu\r\na=ice-pwd:restartpasswordrestartpw\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:2 1 udp 2130706431 127.0.0.1 40002 typ host\r\n";
        let r = patch(&node, &session, Some(FRAG), trickle, Some(&etag)).await;
        c.status("PATCH with the pre-restart ETag", &r, 412);
        let r = patch(&node, &session, Some(FRAG), trickle, Some(&new_etag)).await;
        c.status("PATCH with the new ETag", &r, 204);
    }

    let r = delete(&node, &session).await;
    c.status("DELETE session", &r, 200);
    let r = delete(&node, &session).await;
    c.status("DELETE session again", &r, 404);
    let r = patch(&node, &session, Some(FRAG), good_frag, None).await;
    c.status("PATCH deleted session", &r, 404);
    // The stream is free again: a new publisher is welcome.
    let r = post(&node, "/whip/sess", Some(SDP), pub_offer()).await;
    c.status("publish after DELETE", &r, 201);

    // Bad stream names.
    let long = "x".repeat(300);
    let r = post(&node, &format!("/whip/{long}"), Some(SDP), pub_offer()).await;
    c.status("WHIP stream name > 256 chars", &r, 400);

    c.finish();

    // --- after all that, the node still works end to end ---
    let mut p = Publisher::connect(&node.whip("after"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    let mut s = Subscriber::connect(&node.whep("after"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    let sent = send_frames(&mut p, 0, 45, 30, 30, true).await;
    let mut r = Received::default();
    r.collect_until(&mut s, 44, Duration::from_secs(30)).await;
    r.assert_video("subscriber after bad input", &sent, 44);
    r.assert_audio("subscriber after bad input", 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_streams_are_404_without_auto_create() {
    let node = common::start_with(|c| {
        c.strategy.auto_create_whip = false;
        c.strategy.auto_create_whep = false;
    })
    .await;
    let mut c = Checks::default();
    let r = post(&node, "/whip/nope", Some(SDP), pub_offer()).await;
    c.status("WHIP unknown stream", &r, 404);
    let r = post(&node, "/whep/nope", Some(SDP), sub_offer()).await;
    c.status("WHEP unknown stream", &r, 404);
    // Malformed input is still 400 first, and content type still 415.
    let r = post(&node, "/whip/nope", Some(SDP), "garbage").await;
    c.status("WHIP garbage on unknown stream", &r, 400);
    let r = post(&node, "/whip/nope", Some("text/plain"), pub_offer()).await;
    c.status("WHIP text/plain on unknown stream", &r, 415);
    // Once created explicitly, both work.
    let r = send(&node, reqwest::Method::POST, "/api/streams/made", None, Vec::new(), None).await;
    c.status("POST /api/streams/made", &r, 204);
    let r = post(&node, "/whip/made", Some(SDP), pub_offer()).await;
    c.status("WHIP created stream", &r, 201);
    let r = post(&node, "/whep/made", Some(SDP), sub_offer()).await;
    c.status("WHEP created stream", &r, 201);
    c.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_limit_gives_409() {
    let node = common::start_with(|c| c.strategy.each_stream_max_sub = 2).await;
    let mut c = Checks::default();
    let r = post(&node, "/whip/full", Some(SDP), pub_offer()).await;
    c.status("publisher", &r, 201);
    let s1 = post(&node, "/whep/full", Some(SDP), sub_offer()).await;
    c.status("subscriber 1", &s1, 201);
    let r = post(&node, "/whep/full", Some(SDP), sub_offer()).await;
    c.status("subscriber 2", &r, 201);
    let r = post(&node, "/whep/full", Some(SDP), sub_offer()).await;
    c.status("subscriber 3", &r, 409);
    c.check(&format!("409 body names the limit: {:?}", r.body), r.body.contains("each_stream_max_sub"));
    // Leaving frees a slot.
    let r = delete(&node, &location(&node, &s1)).await;
    c.status("DELETE subscriber 1", &r, 200);
    let r = post(&node, "/whep/full", Some(SDP), sub_offer()).await;
    c.status("subscriber 3 after one left", &r, 201);
    // Another stream is not affected.
    let r = post(&node, "/whep/other", Some(SDP), sub_offer()).await;
    c.status("subscriber on another stream", &r, 201);
    c.finish();
}

/// A publisher-style (sendonly) offer POSTed to WHEP, or a recvonly one to WHIP, is a
/// direction mistake: the answer must say so instead of claiming that codecs the
/// server supports are not supported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_direction_offers_are_explained() {
    let node = common::start().await;
    let mut c = Checks::default();
    for (path, body, want_word) in [
        ("/whep/dir", pub_offer(), "recvonly"),
        ("/whip/dir", sub_offer(), "sendonly"),
        ("/whip/dir2", pub_offer().replace("a=sendonly", "a=inactive"), "sendonly"),
    ] {
        let r = post(&node, path, Some(SDP), body).await;
        c.check(
            &format!("POST {path}: want 400/422, got {} ({})", r.status, r.body.trim()),
            r.status == 400 || r.status == 422,
        );
        let b = r.body.to_ascii_lowercase();
        c.check(
            &format!("POST {path}: body should explain the direction (`{want_word}`), got {:?}", r.body.trim()),
            b.contains(want_word) || b.contains("direction"),
        );
        c.check(
            &format!(
                "POST {path}: body must not claim a codec mismatch for codecs both sides have: {:?}",
                r.body.trim()
            ),
            !b.contains("no codec in common"),
        );
    }
    c.finish();
}

/// 400 bodies are for people: no parser internals or memory addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_do_not_leak_internals() {
    let node = common::start().await;
    let offer = pub_offer();
    let no_mid: String = offer.lines().filter(|l| !l.starts_with("a=mid:")).map(|l| format!("{l}\r\n")).collect();
    let mut c = Checks::default();
    for (path, body) in [("/whip/leak", no_mid.clone()), ("/whep/leak", no_mid)] {
        let r = post(&node, path, Some(SDP), body).await;
        c.status(&format!("POST {path} offer without a=mid"), &r, 400);
        let leaks = r.body.contains("PointerOffset")
            || r.body
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .any(|w| w.len() >= 10 && w.starts_with("0x") && w[2..].chars().all(|ch| ch.is_ascii_hexdigit()));
        c.check(&format!("POST {path}: body leaks parser internals: {:?}", r.body.trim()), !leaks);
    }
    c.finish();
}

/// Send `bytes` on a raw connection and wait (at most 5 s) until the server closes it;
/// returns what it answered and how long that took.
async fn raw_until_closed(addr: std::net::SocketAddr, bytes: &[u8]) -> (String, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let t0 = std::time::Instant::now();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(r.is_ok(), "the node kept a stalled connection open: {:?}", String::from_utf8_lossy(&out));
    (String::from_utf8_lossy(&out).into_owned(), t0.elapsed())
}

/// Slowloris: half a header, or 3 of 100 body bytes, is cut off after
/// `http.header_timeout_ms` / `http.body_timeout_ms` instead of holding the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_headers_and_bodies_are_cut_off() {
    let node = common::start_with(|c| {
        c.http.header_timeout_ms = 400;
        c.http.body_timeout_ms = 400;
    })
    .await;
    let addr = node.node.http_addr;
    let (got, took) = raw_until_closed(addr, b"POST /whip/s HTTP/1.1\r\nHost: n\r\nContent-Ty").await;
    assert!(took >= Duration::from_millis(300) && !got.contains(" 201 "), "{took:?} {got}");
    let body = b"POST /whip/s HTTP/1.1\r\nHost: n\r\nContent-Type: application/sdp\r\nContent-Length: 100\r\n\r\nv=0";
    let (got, took) = raw_until_closed(addr, body).await;
    assert!(took >= Duration::from_millis(300) && !got.contains(" 201 "), "{took:?} {got}");
    // A complete request is still served.
    let r = node.http.get(node.url("/api/info")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
