//! Every route × every kind of credential, against an explicit table of statuses.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::TestNode;
use reqwest::Method;
use wishcast_auth::{Claims, sign_hs256};
use wishcast_client::{Role, VideoCodec, offer_sdp};

const SECRET: &str = "matrix-secret-0123456789";
const ADMIN: &str = "admin-static-token";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn jwt(secret: &str, id: &str, mode: u8, exp: u64) -> String {
    sign_hs256(secret.as_bytes(), &Claims { id: id.into(), exp, mode })
}

fn valid_jwt(id: &str, mode: u8) -> String {
    jwt(SECRET, id, mode, now() + 3600)
}

/// How a request presents (or fails to present) a token.
#[derive(Clone)]
enum Cred {
    None,
    Bearer(String),
    /// A raw `Authorization` header value.
    Header(String),
    /// `?token=`.
    Query(String),
}

struct Principal {
    name: &'static str,
    cred: Cred,
}

fn principals() -> Vec<Principal> {
    let p = |name, cred| Principal { name, cred };
    vec![
        p("no token", Cred::None),
        p("wrong token", Cred::Bearer("wrong-token".into())),
        p("Basic auth header", Cred::Header(format!("Basic {ADMIN}"))),
        p("jwt s mode 4 (r)", Cred::Bearer(valid_jwt("s", 4))),
        p("jwt s mode 2 (w)", Cred::Bearer(valid_jwt("s", 2))),
        p("jwt s mode 1 (x)", Cred::Bearer(valid_jwt("s", 1))),
        p("jwt other mode 7", Cred::Bearer(valid_jwt("other", 7))),
        p("jwt * mode 4", Cred::Bearer(valid_jwt("*", 4))),
        p("jwt * mode 7", Cred::Bearer(valid_jwt("*", 7))),
        p("static admin token", Cred::Bearer(ADMIN.into())),
        p("?token=static", Cred::Query(ADMIN.into())),
        p("?token=jwt s mode 4", Cred::Query(valid_jwt("s", 4))),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Whip,
    Whep,
    PatchSession,
    DeleteSession,
    ListStreams,
    GetStream,
    CreateStream,
    DeleteStream,
    Sse,
    Strategy,
    Info,
    Metrics,
}

/// Expected status per principal, in the order of [`principals`]. PATCH/DELETE of a
/// session need a token allowed on the stream that is also the one that created the
/// session, or an admin (see `session_owner_*` below for the owner's side):
/// none, wrong, Basic, s/4, s/2, s/1, other/7, */4, */7, static, ?static, ?s/4
#[rustfmt::skip]
const TABLE: &[(Route, &str, [u16; 12])] = &[
    (Route::Whip,          "POST /whip/s",            [401, 401, 401, 403, 201, 403, 403, 403, 201, 201, 201, 403]),
    (Route::Whep,          "POST /whep/s",            [401, 401, 401, 201, 403, 403, 403, 201, 201, 201, 201, 201]),
    // Sessions created with the static admin token: scoped tokens did not create them.
    (Route::PatchSession,  "PATCH /session/s/id",     [401, 401, 401, 403, 403, 403, 403, 403, 204, 204, 204, 403]),
    (Route::DeleteSession, "DELETE /session/s/id",    [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 403]),
    (Route::ListStreams,   "GET /api/streams/",       [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 403]),
    (Route::GetStream,     "GET /api/streams/s",      [401, 401, 401, 200, 200, 200, 403, 200, 200, 200, 200, 200]),
    (Route::CreateStream,  "POST /api/streams/s",     [401, 401, 401, 403, 403, 403, 403, 403, 204, 204, 204, 403]),
    (Route::DeleteStream,  "DELETE /api/streams/s",   [401, 401, 401, 403, 403, 204, 403, 403, 204, 204, 204, 403]),
    (Route::Sse,           "GET /api/sse/streams",    [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 403]),
    (Route::Strategy,      "GET /api/strategy/",      [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 403]),
    (Route::Info,          "GET /api/info",           [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    (Route::Metrics,       "GET /metrics",            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
];

async fn request(
    node: &TestNode,
    method: Method,
    path: &str,
    cred: &Cred,
    ct: Option<&str>,
    body: String,
) -> (u16, String) {
    let mut url = if path.starts_with("http") { path.to_string() } else { node.url(path) };
    if let Cred::Query(t) = cred {
        url.push_str(if url.contains('?') { "&token=" } else { "?token=" });
        url.push_str(t);
    }
    let mut rq = node.http.request(method, url).body(body);
    match cred {
        Cred::Bearer(t) => rq = rq.bearer_auth(t),
        Cred::Header(h) => rq = rq.header("authorization", h),
        _ => {}
    }
    if let Some(ct) = ct {
        rq = rq.header("content-type", ct);
    }
    let r = rq.send().await.expect("request");
    let status = r.status().as_u16();
    // SSE never ends: only the status matters.
    let body = if path.starts_with("/api/sse") { String::new() } else { r.text().await.unwrap_or_default() };
    (status, body)
}

async fn admin(
    node: &TestNode,
    method: Method,
    path: &str,
    ct: Option<&str>,
    body: String,
) -> (u16, String, Option<String>) {
    let mut rq = node.http.request(method, node.url(path)).bearer_auth(ADMIN).body(body);
    if let Some(ct) = ct {
        rq = rq.header("content-type", ct);
    }
    let r = rq.send().await.expect("admin request");
    let status = r.status().as_u16();
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, r.text().await.unwrap_or_default(), loc)
}

fn pub_offer() -> String {
    offer_sdp(Role::Publish, Some(VideoCodec::Vp8), true, false)
}

fn trickle() -> String {
    "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n".into()
}

async fn auth_node() -> TestNode {
    common::start_with(|c| {
        c.auth.secret = SECRET.into();
        c.auth.tokens = vec![ADMIN.into()];
    })
    .await
}

/// Put stream `s` into the state the route's success case needs; returns the path.
async fn prepare(node: &TestNode, route: Route) -> String {
    let (st, body, _) = admin(node, Method::DELETE, "/api/streams/s", None, String::new()).await;
    assert!(st == 204 || st == 404, "reset stream s: {st} {body}");
    match route {
        Route::PatchSession | Route::DeleteSession => {
            let (st, body, loc) = admin(node, Method::POST, "/whip/s", Some("application/sdp"), pub_offer()).await;
            assert_eq!(st, 201, "admin publish: {body}");
            loc.expect("Location")
        }
        Route::GetStream | Route::DeleteStream => {
            let (st, body, _) = admin(node, Method::POST, "/api/streams/s", None, String::new()).await;
            assert_eq!(st, 204, "admin create: {body}");
            "/api/streams/s".into()
        }
        Route::Whip => "/whip/s".into(),
        Route::Whep => "/whep/s".into(),
        Route::ListStreams => "/api/streams/".into(),
        Route::CreateStream => "/api/streams/s".into(),
        Route::Sse => "/api/sse/streams".into(),
        Route::Strategy => "/api/strategy/".into(),
        Route::Info => "/api/info".into(),
        Route::Metrics => "/metrics".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_against_every_credential() {
    let node = auth_node().await;
    let principals = principals();
    let mut problems = Vec::new();
    for (route, name, want) in TABLE {
        for (i, p) in principals.iter().enumerate() {
            let path = prepare(&node, *route).await;
            let (method, ct, body) = match route {
                Route::Whip => (Method::POST, Some("application/sdp"), pub_offer()),
                Route::Whep => (
                    Method::POST,
                    Some("application/sdp"),
                    offer_sdp(Role::Subscribe, Some(VideoCodec::Vp8), true, false),
                ),
                Route::PatchSession => (Method::PATCH, Some("application/trickle-ice-sdpfrag"), trickle()),
                Route::DeleteSession | Route::DeleteStream => (Method::DELETE, None, String::new()),
                Route::CreateStream => (Method::POST, None, String::new()),
                _ => (Method::GET, None, String::new()),
            };
            let (status, text) = request(&node, method, &path, &p.cred, ct, body).await;
            if status != want[i] {
                problems.push(format!("{name} as {}: got {status} want {} ({})", p.name, want[i], text.trim()));
            }
            if status >= 500 {
                problems.push(format!("{name} as {}: server error {status}", p.name));
            }
            if (status == 401 || status == 403) && text.trim().is_empty() && !path.starts_with("/api/sse") {
                problems.push(format!("{name} as {}: {status} without an explanation", p.name));
            }
        }
    }
    assert!(problems.is_empty(), "{} mismatch(es):\n  {}", problems.len(), problems.join("\n  "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_expired_tokens_are_rejected() {
    let node = auth_node().await;
    let cases = [
        ("signed with an empty secret", jwt("", "*", 7, now() + 3600)),
        ("signed with another secret", jwt("not-the-secret", "*", 7, now() + 3600)),
        ("expired an hour ago", jwt(SECRET, "*", 7, now() - 3600)),
        ("static token with a suffix", format!("{ADMIN}x")),
    ];
    for (what, token) in cases {
        for path in ["/api/streams/", "/api/strategy/"] {
            let (st, body) = request(&node, Method::GET, path, &Cred::Bearer(token.clone()), None, String::new()).await;
            assert_eq!(st, 401, "GET {path} with a JWT {what}: {body}");
        }
        let (st, body) =
            request(&node, Method::POST, "/whip/s", &Cred::Bearer(token.clone()), Some("application/sdp"), pub_offer())
                .await;
        assert_eq!(st, 401, "WHIP with a token {what}: {body}");
    }
    // Within the 60 s leeway an expired token still works (Live777 behaviour).
    let recent = jwt(SECRET, "*", 7, now() - 10);
    let (st, _) = request(&node, Method::GET, "/api/streams/", &Cred::Bearer(recent), None, String::new()).await;
    assert_eq!(st, 200, "a token expired 10 s ago is inside the leeway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_no_jwt_is_accepted() {
    // Static tokens only: JWTs, even ones signed with the empty secret, are refused.
    let node = common::start_with(|c| c.auth.tokens = vec![ADMIN.into()]).await;
    for token in [jwt("", "*", 7, now() + 3600), jwt(SECRET, "*", 7, now() + 3600)] {
        let (st, body) = request(&node, Method::GET, "/api/streams/", &Cred::Bearer(token), None, String::new()).await;
        assert_eq!(st, 401, "{body}");
    }
    let (st, _) = request(&node, Method::GET, "/api/streams/", &Cred::Bearer(ADMIN.into()), None, String::new()).await;
    assert_eq!(st, 200);
    // And a secret alone turns auth on.
    let node = common::start_with(|c| c.auth.secret = SECRET.into()).await;
    let (st, _) = request(&node, Method::GET, "/api/streams/", &Cred::None, None, String::new()).await;
    assert_eq!(st, 401);
    let (st, _) =
        request(&node, Method::GET, "/api/streams/", &Cred::Bearer(valid_jwt("*", 7)), None, String::new()).await;
    assert_eq!(st, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_off_allows_everything() {
    let node = common::start().await;
    for path in ["/api/streams/", "/api/strategy/", "/api/info", "/metrics"] {
        let (st, body) = request(&node, Method::GET, path, &Cred::None, None, String::new()).await;
        assert_eq!(st, 200, "GET {path}: {body}");
    }
    let (st, body) = request(&node, Method::POST, "/whip/s", &Cred::None, Some("application/sdp"), pub_offer()).await;
    assert_eq!(st, 201, "{body}");
}

async fn with_token(node: &TestNode, method: Method, url: &str, cred: &Cred, ct: Option<&str>, body: String) -> u16 {
    request(node, method, url, cred, ct, body).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_owner_may_patch_and_delete_its_own_session() {
    let node = auth_node().await;
    let owner = valid_jwt("s", 2);
    // Same claims, different expiry: another token for the same stream and mode.
    let other = jwt(SECRET, "s", 2, now() + 7200);
    let frag = Some("application/trickle-ice-sdpfrag");
    let r = node
        .http
        .post(node.whip("s"))
        .bearer_auth(&owner)
        .header("content-type", "application/sdp")
        .body(pub_offer())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let loc = r.headers().get("location").unwrap().to_str().unwrap().to_string();

    assert_eq!(with_token(&node, Method::PATCH, &loc, &Cred::Bearer(other.clone()), frag, trickle()).await, 403);
    assert_eq!(with_token(&node, Method::DELETE, &loc, &Cred::Bearer(other.clone()), None, String::new()).await, 403);
    assert_eq!(with_token(&node, Method::PATCH, &loc, &Cred::Bearer(owner.clone()), frag, trickle()).await, 204);
    assert_eq!(with_token(&node, Method::PATCH, &loc, &Cred::Query(owner.clone()), frag, trickle()).await, 204);
    assert_eq!(with_token(&node, Method::PATCH, &loc, &Cred::Bearer(ADMIN.into()), frag, trickle()).await, 204);
    assert_eq!(with_token(&node, Method::DELETE, &loc, &Cred::Bearer(owner.clone()), None, String::new()).await, 200);
    assert_eq!(with_token(&node, Method::DELETE, &loc, &Cred::Bearer(owner), None, String::new()).await, 404);

    // A subscriber created with ?token= is owned by that token in the header too.
    let sub = valid_jwt("s", 4);
    let r = node
        .http
        .post(format!("{}?token={sub}", node.whep("s")))
        .header("content-type", "application/sdp")
        .body(offer_sdp(Role::Subscribe, Some(VideoCodec::Vp8), true, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let loc = wishcast_client::whip::resolve(&node.base, r.headers().get("location").unwrap().to_str().unwrap());
    assert_eq!(
        with_token(&node, Method::DELETE, &loc, &Cred::Bearer(valid_jwt("s", 7)), None, String::new()).await,
        403
    );
    assert_eq!(with_token(&node, Method::DELETE, &loc, &Cred::Bearer(sub), None, String::new()).await, 200);
}

/// A WHEP session on stream `s` created with `token`; its session URL.
async fn subscribe_as(node: &TestNode, token: &str) -> String {
    let r = node
        .http
        .post(node.whep("s"))
        .bearer_auth(token)
        .header("content-type", "application/sdp")
        .body(offer_sdp(Role::Subscribe, Some(VideoCodec::Vp8), true, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    wishcast_client::whip::resolve(&node.base, r.headers().get("location").unwrap().to_str().unwrap())
}

/// The four session routes a scoped token may use, with `token`: statuses of PATCH
/// (trickle), GET layer, POST mute, DELETE (last, it ends the session).
async fn session_routes(node: &TestNode, loc: &str, token: &str) -> [u16; 4] {
    let cred = Cred::Bearer(token.into());
    let frag = Some("application/trickle-ice-sdpfrag");
    let json = Some("application/json");
    let mute = r#"{"kind":"audio","enabled":false}"#.to_string();
    [
        with_token(node, Method::PATCH, loc, &cred, frag, trickle()).await,
        with_token(node, Method::GET, &format!("{loc}/layer"), &cred, None, String::new()).await,
        with_token(node, Method::POST, loc, &cred, json, mute).await,
        with_token(node, Method::DELETE, loc, &cred, None, String::new()).await,
    ]
}

/// The one ownership rule, on the node: a scoped token may act only on the sessions it
/// created; sessions created by an admin or by another scoped token (same claims) are
/// off limits (403) for PATCH, layer, mute and DELETE, while an admin may act on all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_token_vs_sessions_by_admin_other_token_and_itself() {
    let node = auth_node().await;
    let me = valid_jwt("s", 4);
    let other = jwt(SECRET, "s", 4, now() + 7200);
    let by_admin = subscribe_as(&node, ADMIN).await;
    let by_other = subscribe_as(&node, &other).await;
    let by_me = subscribe_as(&node, &me).await;
    assert_eq!(session_routes(&node, &by_admin, &me).await, [403; 4], "a session created by an admin");
    assert_eq!(session_routes(&node, &by_other, &me).await, [403; 4], "a session created by another token");
    assert_eq!(session_routes(&node, &by_me, &me).await, OWN_SESSION, "its own session");
    // The admin may act on the others' sessions.
    assert_eq!(session_routes(&node, &by_other, ADMIN).await, OWN_SESSION, "admin on a scoped token's session");
    assert_eq!(session_routes(&node, &by_admin, ADMIN).await, OWN_SESSION, "admin on its own session");
}

/// PATCH trickle 204, GET layer 404 (the stream has no simulcast publisher), mute 200, DELETE 200.
const OWN_SESSION: [u16; 4] = [204, 404, 200, 200];
