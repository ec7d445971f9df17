//! Logins, token minting and the auth matrix on the manager.

mod common;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use common::fake;
use common::start_manager;
use wishcast_client::VideoCodec;
use wishcast_manager::config::{Account, NodeEntry};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

async fn manager(a: &fake::FakeNode) -> common::TestManager {
    let salt = SaltString::encode_b64(b"wishcast-salt-16").unwrap();
    let hash = Argon2::default().hash_password(b"s3cret!", &salt).unwrap().to_string();
    let m = start_manager(|c| {
        c.auth.secret = "jwt-secret".into();
        c.auth.tokens = vec!["static-admin".into()];
        c.auth.accounts = vec![
            Account { username: "live777".into(), password: "live777".into() },
            Account { username: "ops".into(), password: hash },
        ];
        c.nodes = vec![NodeEntry { alias: "a".into(), url: a.base.clone(), ..Default::default() }];
    })
    .await;
    m.wait_running_auth(&["a"], "static-admin").await;
    m
}

async fn login(m: &common::TestManager, user: &str, pass: &str) -> (u16, serde_json::Value) {
    let r = m
        .http
        .post(m.url("/api/login"))
        .json(&serde_json::json!({"username": user, "password": pass}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn status(
    m: &common::TestManager,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> u16 {
    let mut rq = m.http.request(method.parse().unwrap(), m.url(path));
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    if let Some((ct, b)) = body {
        rq = rq.header("content-type", ct).body(b);
    }
    rq.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn login_gives_a_24h_admin_token_and_admins_mint_scoped_tokens() {
    let a = fake::start(10).await;
    let m = manager(&a).await;
    assert_eq!(login(&m, "live777", "wrong").await, (401, serde_json::json!({"error": "Wrong credentials"})));
    assert_eq!(login(&m, "nobody", "live777").await.0, 401);
    assert_eq!(login(&m, "", "").await, (400, serde_json::json!({"error": "Missing credentials"})));
    let (s, plain) = login(&m, "live777", "live777").await;
    assert_eq!(s, 200);
    assert_eq!(plain["token_type"], "Bearer");
    let (s, hashed) = login(&m, "ops", "s3cret!").await;
    assert_eq!(s, 200, "argon2 password");
    let admin = hashed["access_token"].as_str().unwrap().to_string();
    let claims = wishcast_auth::verify_hs256(b"jwt-secret", &admin, 0).unwrap();
    assert_eq!((claims.id.as_str(), claims.mode), ("*", 7));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(claims.exp >= now + 86_390 && claims.exp <= now + 86_410);
    assert_eq!(status(&m, "GET", "/api/nodes/", Some(&admin), None).await, 200);

    // Mint a subscribe-only token for one stream.
    let r = m
        .http
        .post(m.url("/api/token"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"id": "cam", "duration": 60, "subscribe": true, "publish": false, "admin": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let scoped = r.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let c = wishcast_auth::verify_hs256(b"jwt-secret", &scoped, 0).unwrap();
    assert_eq!((c.id.as_str(), c.mode), ("cam", 4));
    let sdp = || Some(("application/sdp", OFFER.to_string()));
    assert_eq!(status(&m, "POST", "/whep/cam", Some(&scoped), sdp()).await, 201);
    assert_eq!(status(&m, "POST", "/whip/cam", Some(&scoped), sdp()).await, 403);
    assert_eq!(status(&m, "POST", "/whep/other", Some(&scoped), sdp()).await, 403);
    assert_eq!(status(&m, "GET", "/api/nodes/", Some(&scoped), None).await, 403);
    let mint = Some((
        "application/json",
        r#"{"id":"*","duration":60,"subscribe":true,"publish":true,"admin":true}"#.to_string(),
    ));
    assert_eq!(status(&m, "POST", "/api/token", Some(&scoped), mint.clone()).await, 403, "scoped tokens cannot mint");
    assert_eq!(status(&m, "POST", "/api/token", None, mint.clone()).await, 401);
    assert_eq!(status(&m, "POST", "/api/token", Some("static-admin"), mint).await, 200);
    let bad = Some(("application/json", r#"{"id":"x","duration":0}"#.to_string()));
    assert_eq!(status(&m, "POST", "/api/token", Some("static-admin"), bad).await, 422);
    let nojson = Some(("text/plain", "{}".to_string()));
    assert_eq!(status(&m, "POST", "/api/token", Some("static-admin"), nojson).await, 415);

    // The node only ever saw requests without the client's token.
    for r in a.state.log.lock().unwrap().iter() {
        assert!(r.auth.is_none(), "{} {} carried {:?}", r.method, r.path, r.auth);
    }
}

#[tokio::test]
async fn auth_matrix() {
    let a = fake::start(10).await;
    let m = manager(&a).await;
    let secret = b"jwt-secret";
    let jwt = |id: &str, mode: u8| {
        wishcast_auth::sign_hs256(secret, &wishcast_auth::Claims { id: id.into(), exp: 4_000_000_000, mode })
    };
    let forged = wishcast_auth::sign_hs256(b"", &wishcast_auth::Claims { id: "*".into(), exp: 4_000_000_000, mode: 7 });
    let reader = jwt("cam", 4);
    let star_no_x = jwt("*", 6);
    let sdp = || Some(("application/sdp", OFFER.to_string()));
    // (method, path, body?, no token, static admin, scoped reader, `*` without x, forged)
    let cases: Vec<(&str, &str, bool, [u16; 5])> = vec![
        ("GET", "/api/nodes/", false, [401, 200, 403, 403, 401]),
        ("GET", "/api/streams/", false, [401, 200, 403, 403, 401]),
        ("GET", "/api/streams/cam", false, [401, 200, 200, 200, 401]),
        ("GET", "/api/cascade/", false, [401, 200, 403, 403, 401]),
        ("POST", "/api/nodes/a/drain", false, [401, 204, 403, 403, 401]),
        ("POST", "/api/nodes/a/undrain", false, [401, 204, 403, 403, 401]),
        ("POST", "/whep/cam", true, [401, 201, 201, 201, 401]),
        ("POST", "/whip/cam2", true, [401, 201, 403, 201, 401]),
        ("GET", "/api/info", false, [200, 200, 200, 200, 200]),
        ("GET", "/metrics", false, [200, 200, 200, 200, 200]),
    ];
    for (method, path, body, want) in cases {
        let tokens: [Option<&str>; 5] = [None, Some("static-admin"), Some(&reader), Some(&star_no_x), Some(&forged)];
        for (i, t) in tokens.iter().enumerate() {
            let b = if body { sdp() } else { None };
            let got = status(&m, method, path, *t, b).await;
            assert_eq!(got, want[i], "{method} {path} with token #{i}");
        }
    }
    // A viewer's session can be hung up by the same token, not by another scoped one.
    let r = m
        .http
        .post(m.url("/whep/cam"))
        .bearer_auth(&reader)
        .header("content-type", "application/sdp")
        .body(OFFER)
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let other_reader = jwt("cam", 5);
    assert_eq!(status(&m, "DELETE", &loc, Some(&other_reader), None).await, 403);
    assert_eq!(status(&m, "DELETE", &loc, Some(&reader), None).await, 200);
}

/// A WHEP session on `cam` created through the manager with `token`; its session URL.
async fn subscribe_as(m: &common::TestManager, token: &str) -> String {
    let offer = wishcast_client::offer_sdp(wishcast_client::Role::Subscribe, Some(VideoCodec::Vp8), true, false);
    let r = m
        .http
        .post(m.url("/whep/cam"))
        .bearer_auth(token)
        .header("content-type", "application/sdp")
        .body(offer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    m.url(r.headers()["location"].to_str().unwrap())
}

/// PATCH (trickle), GET layer, POST mute and DELETE (last) through the manager with `token`.
async fn session_routes(m: &common::TestManager, loc: &str, token: &str) -> [u16; 4] {
    let trickle =
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n";
    let send = |method: &str, url: String, ct: Option<&str>, body: &str| {
        let mut rq = m.http.request(method.parse().unwrap(), url).bearer_auth(token).body(body.to_string());
        if let Some(ct) = ct {
            rq = rq.header("content-type", ct);
        }
        async move { rq.send().await.unwrap().status().as_u16() }
    };
    [
        send("PATCH", loc.to_string(), Some("application/trickle-ice-sdpfrag"), trickle).await,
        send("GET", format!("{loc}/layer"), None, "").await,
        send("POST", loc.to_string(), Some("application/json"), r#"{"kind":"audio","enabled":false}"#).await,
        send("DELETE", loc.to_string(), None, "").await,
    ]
}

/// The one ownership rule, through the manager to a real node: a scoped token may act
/// only on sessions it created; sessions created (through the manager) by an admin or
/// by another scoped token are off limits (403), as on the node itself. The node sees
/// only the manager's node token, so the manager must enforce it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_token_vs_sessions_by_admin_other_token_and_itself() {
    let mut ncfg = common::node_config(10);
    ncfg.auth.tokens = vec!["node-admin".into()];
    let node = common::start_node(ncfg).await;
    let m = start_manager(|c| {
        c.auth.secret = "jwt-secret".into();
        c.auth.tokens = vec!["static-admin".into()];
        c.nodes = vec![NodeEntry { token: "node-admin".into(), ..common::static_node("n", &node.base) }];
    })
    .await;
    m.wait_running_auth(&["n"], "static-admin").await;
    let jwt =
        |exp: u64| wishcast_auth::sign_hs256(b"jwt-secret", &wishcast_auth::Claims { id: "cam".into(), exp, mode: 4 });
    let (me, other) = (jwt(4_000_000_000), jwt(4_000_000_001));
    let by_admin = subscribe_as(&m, "static-admin").await;
    let by_other = subscribe_as(&m, &other).await;
    let by_me = subscribe_as(&m, &me).await;
    assert_eq!(session_routes(&m, &by_admin, &me).await, [403; 4], "a session created by an admin");
    assert_eq!(session_routes(&m, &by_other, &me).await, [403; 4], "a session created by another token");
    // PATCH trickle 204, GET layer 404 (no simulcast publisher), mute 200, DELETE 200: the node's answers.
    let own = [204, 404, 200, 200];
    assert_eq!(session_routes(&m, &by_me, &me).await, own, "its own session");
    assert_eq!(session_routes(&m, &by_other, "static-admin").await, own, "admin on a scoped token's session");
    assert_eq!(session_routes(&m, &by_admin, "static-admin").await, own, "admin on its own session");
}

/// `?%74oken=` authenticates like `?token=` (keys are decoded), so it must not reach the
/// node either: the proxy filters query keys after decoding them.
#[tokio::test]
async fn an_encoded_token_query_key_is_not_forwarded() {
    let a = fake::start(10).await;
    let m = manager(&a).await;
    let reader = wishcast_auth::sign_hs256(
        b"jwt-secret",
        &wishcast_auth::Claims { id: "cam".into(), exp: 4_000_000_000, mode: 4 },
    );
    let r = m
        .http
        .post(m.url(&format!("/whep/cam?%74oken={reader}&keep=1")))
        .header("content-type", "application/sdp")
        .body(OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the encoded key authenticates");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(status(&m, "DELETE", &format!("{loc}?t%6Fken={reader}"), None, None).await, 200);
    let log = a.state.log.lock().unwrap().clone();
    let forwarded: Vec<&String> = log
        .iter()
        .filter(|r| r.path.starts_with("/whep/") || r.path.starts_with("/session/"))
        .map(|r| &r.path)
        .collect();
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    for p in forwarded {
        assert!(!p.contains(&reader), "the client's token reached the node: {p}");
    }
    assert!(log.iter().any(|r| r.path == "/whep/cam?keep=1"), "other parameters still pass");
}
