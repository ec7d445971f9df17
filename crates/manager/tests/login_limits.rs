//! `POST /api/login` is bounded (issue 12, item 3): a burst of wrong logins gets 429 with
//! `Retry-After` (per client address and per username), the right password still works
//! for another user and address and after the block, `X-Forwarded-For` counts only when
//! `[http] trust_forwarded_for` is on, and no more argon2 runs happen at once than the
//! semaphore allows, however many logins arrive together.

mod common;

use std::time::Duration;

use common::start_manager;
use wishcast_manager::config::Account;
use wishcast_manager::login_gate::MAX_CONCURRENT_VERIFY;

async fn manager(trust_forwarded_for: bool) -> common::TestManager {
    let hash = wishcast_manager::accounts::hash_password("bob-pass", &[3; 16]).unwrap();
    start_manager(move |c| {
        c.auth.secret = "login-secret".into();
        c.http.trust_forwarded_for = trust_forwarded_for;
        c.auth.accounts = vec![
            Account { username: "alice".into(), password: "alice-pass".into() },
            Account { username: "bob".into(), password: hash },
        ];
    })
    .await
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

async fn login(m: &common::TestManager, user: &str, pass: &str, from: Option<&str>) -> Answer {
    let mut rq = m.http.post(m.url("/api/login")).json(&serde_json::json!({"username": user, "password": pass}));
    if let Some(ip) = from {
        rq = rq.header("x-forwarded-for", ip);
    }
    let r = rq.send().await.unwrap();
    let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    Answer { status: r.status().as_u16(), retry_after, body: r.text().await.unwrap() }
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test]
async fn a_burst_of_wrong_logins_from_one_address_gets_429() {
    let m = manager(false).await;
    for i in 0..5 {
        let a = login(&m, "alice", "wrong", None).await;
        assert_eq!(a.status, 401, "failure {i} is answered normally: {}", a.body);
    }
    let a = login(&m, "alice", "wrong", None).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(a.retry_after.is_some_and(|s| (1..=300).contains(&s)), "Retry-After: {:?}", a.retry_after);
    assert!(a.body.contains("Too many failed logins"), "{}", a.body);
    // The address is blocked for every username, the right password included...
    assert_eq!(login(&m, "bob", "bob-pass", None).await.status, 429);
    // ...and X-Forwarded-For is not believed without `trust_forwarded_for`.
    assert_eq!(login(&m, "bob", "bob-pass", Some("198.51.100.1")).await.status, 429);
    // After the block the right password works again.
    tokio::time::sleep(Duration::from_secs(a.retry_after.unwrap())).await;
    assert_eq!(login(&m, "alice", "alice-pass", None).await.status, 200);
    let metrics = m.http.get(m.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metric(&metrics, "wishcast_manager_login_refused_total{reason=\"throttled\"}") >= 3);
    assert_eq!(metric(&metrics, "wishcast_manager_login_failures_total"), 5);
}

#[tokio::test]
async fn other_users_and_addresses_still_log_in_and_a_username_is_locked_from_everywhere() {
    let m = manager(true).await;
    let attacker = Some("203.0.113.1");
    for _ in 0..5 {
        assert_eq!(login(&m, "alice", "wrong", attacker).await.status, 401);
    }
    let blocked = login(&m, "alice", "wrong", attacker).await;
    assert_eq!(blocked.status, 429);
    assert!(blocked.retry_after.is_some());
    // Another user from another address, and the same user from another address.
    assert_eq!(login(&m, "bob", "bob-pass", Some("203.0.113.2")).await.status, 200);
    assert_eq!(login(&m, "alice", "alice-pass", Some("203.0.113.3")).await.status, 200);

    // A username tried from many addresses is blocked for all of them.
    for i in 0..10 {
        let from = format!("192.0.2.{i}");
        assert_eq!(login(&m, "bob", "guess", Some(&from)).await.status, 401, "from {from}");
    }
    let a = login(&m, "bob", "bob-pass", Some("192.0.2.200")).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(a.retry_after.is_some());
    assert_eq!(login(&m, "alice", "alice-pass", Some("192.0.2.200")).await.status, 200, "other users are not");
}

#[tokio::test]
async fn concurrent_argon2_runs_never_exceed_the_cap() {
    let m = manager(true).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (http, url) = (m.http.clone(), m.url("/api/login"));
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .header("x-forwarded-for", format!("10.1.{}.{}", i / 250, i % 250))
                    .json(&serde_json::json!({"username": format!("user{i}"), "password": "wrong"}))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.headers().contains_key("retry-after"))
            })
        })
        .collect();
    let mut wrong = 0;
    let mut busy = 0;
    for t in tasks {
        match t.await.unwrap() {
            (401, _) => wrong += 1,
            (503, true) => busy += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(wrong + busy, 200);
    assert!(wrong >= MAX_CONCURRENT_VERIFY, "{wrong} verified");
    let metrics = m.http.get(m.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let max = metric(&metrics, "wishcast_manager_login_verifications_max_in_flight");
    assert!((1..=MAX_CONCURRENT_VERIFY as u64).contains(&max), "{max} argon2 runs at once");
    assert_eq!(metric(&metrics, "wishcast_manager_login_verifications_in_flight"), 0);
    assert_eq!(metric(&metrics, "wishcast_manager_login_refused_total{reason=\"busy\"}"), busy as u64);
    assert_eq!(metric(&metrics, "wishcast_manager_login_failures_total"), wrong as u64);
    // Still answering, and the right password works.
    assert_eq!(login(&m, "bob", "bob-pass", Some("10.9.9.9")).await.status, 200);
}
