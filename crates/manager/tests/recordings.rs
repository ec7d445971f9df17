//! The recordings index through the manager's HTTP API: nodes' reports, the
//! playback lists, validation, the auth matrix, a database outage and a restart.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use wishcast_auth::{Claims, MODE_PUBLISH, MODE_SUBSCRIBE, sign_hs256};
use wishcast_index::testdb::TestDb;

const SECRET: &str = "index-secret";
const ADMIN: &str = "cluster-admin";

fn jwt(stream: &str, mode: u8) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
    sign_hs256(SECRET.as_bytes(), &Claims { id: stream.into(), exp, mode })
}

fn report(id: &str, stream: &str, (y, m, d): (i32, u32, u32), duration_ms: u64) -> Value {
    json!({
        "id": id, "node": "node1", "stream": stream, "year": y, "month": m, "day": d,
        "mpdPath": format!("{stream}/{y:04}/{m:02}/{d:02}/manifest.mpd"),
        "startedAt": 1_753_315_200_000i64, "endedAt": null, "durationMs": duration_ms,
        "bytes": duration_ms * 100, "segments": duration_ms / 2000, "status": "Active"
    })
}

async fn manager(db_url: &str) -> common::TestManager {
    let url = db_url.to_string();
    common::start_manager(move |c| {
        c.auth.secret = SECRET.into();
        c.auth.tokens = vec![ADMIN.into()];
        c.database.url = url;
    })
    .await
}

struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn post_reports(m: &common::TestManager, token: Option<&str>, body: &str) -> Answer {
    let mut rq =
        m.http.post(m.url("/api/recordings/report")).header("content-type", "application/json").body(body.to_string());
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let r = rq.send().await.unwrap();
    Answer { status: r.status().as_u16(), body: r.text().await.unwrap() }
}

async fn report_batch(m: &common::TestManager, reports: &[Value]) -> Answer {
    post_reports(m, Some(ADMIN), &json!({ "reports": reports }).to_string()).await
}

async fn get(m: &common::TestManager, path: &str, token: Option<&str>) -> Answer {
    let mut rq = m.http.get(m.url(path));
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let r = rq.send().await.unwrap();
    Answer { status: r.status().as_u16(), body: r.text().await.unwrap() }
}

#[tokio::test]
async fn a_report_shows_up_in_playback() {
    let db = TestDb::sqlite();
    let m = manager(&db.url).await;
    let a =
        report_batch(&m, &[report("s1", "cam", (2025, 7, 24), 4000), report("s2", "cam", (2025, 7, 23), 2000)]).await;
    assert_eq!((a.status, a.json()), (200, json!({"stored": 2})), "{}", a.body);
    // Resending is harmless.
    assert_eq!(report_batch(&m, &[report("s1", "cam", (2025, 7, 24), 4000)]).await.status, 200);

    assert_eq!(get(&m, "/api/playback", Some(ADMIN)).await.json(), json!(["cam"]));
    let days = get(&m, "/api/playback/cam", Some(ADMIN)).await;
    assert_eq!(days.status, 200);
    assert_eq!(
        days.json(),
        json!([
            {"year": 2025, "month": 7, "day": 23, "mpd_path": "cam/2025/07/23/manifest.mpd"},
            {"year": 2025, "month": 7, "day": 24, "mpd_path": "cam/2025/07/24/manifest.mpd"}
        ])
    );
    let sessions = get(&m, "/api/playback/cam/2025/07/24", Some(ADMIN)).await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    assert_eq!(sessions.json(), json!([report("s1", "cam", (2025, 7, 24), 4000)]));
    assert_eq!(get(&m, "/api/playback/cam/2025/07/22", Some(ADMIN)).await.json(), json!([]));
    assert_eq!(get(&m, "/api/playback/nothing", Some(ADMIN)).await.json(), json!([]));

    // Completion, then a late Active resend: stays Completed.
    let mut done = report("s1", "cam", (2025, 7, 24), 6000);
    done["status"] = json!("Completed");
    done["endedAt"] = json!(1_753_315_206_000i64);
    assert_eq!(report_batch(&m, &[done.clone()]).await.status, 200);
    assert_eq!(report_batch(&m, &[report("s1", "cam", (2025, 7, 24), 4000)]).await.status, 200);
    assert_eq!(get(&m, "/api/playback/cam/2025/07/24", Some(ADMIN)).await.json(), json!([done]));
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field() {
    let db = TestDb::sqlite();
    let m = manager(&db.url).await;
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut r = report("ok", "cam", (2025, 7, 24), 2000);
        edit(&mut r);
        json!({ "reports": [report("first", "cam", (2025, 7, 24), 2000), r] }).to_string()
    };
    let cases: Vec<(String, u16, &str)> = vec![
        (with(&|r| r["month"] = json!(13)), 422, "reports[1].month"),
        (with(&|r| r["day"] = json!(31)), 422, "reports[1].mpdPath"),
        (with(&|r| r["month"] = json!("July")), 422, "reports[1].month"),
        (with(&|r| r["year"] = json!(1900)), 422, "reports[1].year"),
        (with(&|r| r["mpdPath"] = json!("../etc/2025/07/24/manifest.mpd")), 422, "reports[1].mpdPath"),
        (
            with(&|r| {
                r["stream"] = json!("..");
                r["mpdPath"] = json!("../2025/07/24/manifest.mpd")
            }),
            422,
            "reports[1].stream",
        ),
        (with(&|r| r["id"] = json!("")), 422, "reports[1].id"),
        (with(&|r| r["node"] = json!("a b")), 422, "reports[1].node"),
        (with(&|r| r["startedAt"] = json!(-1)), 422, "reports[1].startedAt"),
        (with(&|r| r["status"] = json!("Done")), 422, "reports[1].status"),
        (with(&|r| r["status"] = json!("Completed")), 422, "reports[1].endedAt"),
        (with(&|r| r["durationMs"] = json!(-5)), 422, "reports[1].durationMs"),
        (
            with(&|r| {
                r.as_object_mut().unwrap().remove("stream");
            }),
            422,
            "stream",
        ),
        ("{\"reports\": [".to_string(), 400, "invalid JSON"),
        ("[]".to_string(), 422, "invalid JSON"),
    ];
    for (body, status, needle) in cases {
        let a = post_reports(&m, Some(ADMIN), &body).await;
        assert_eq!(a.status, status, "{body}: {}", a.body);
        assert!(a.body.contains(needle), "{body}: `{}` does not name {needle}", a.body);
    }
    let a = m.http.post(m.url("/api/recordings/report")).bearer_auth(ADMIN).body("{}").send().await.unwrap();
    assert_eq!(a.status(), 415);
    // Nothing of the refused batches was stored.
    assert_eq!(get(&m, "/api/playback", Some(ADMIN)).await.json(), json!([]));

    // A session id cannot move to another stream.
    assert_eq!(report_batch(&m, &[report("x", "cam", (2025, 7, 24), 2000)]).await.status, 200);
    let a = report_batch(&m, &[report("x", "cam2", (2025, 7, 24), 2000)]).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.body.contains("`x`"), "{}", a.body);

    // Playback paths.
    for (path, needle) in [
        ("/api/playback/cam/2025/13/01", "month"),
        ("/api/playback/cam/2025/02/30", "day"),
        ("/api/playback/cam/20x5/07/24", "year"),
        ("/api/playback/cam/2025/07/123456", "day"),
        ("/api/playback/a%5Cb", "stream"),
        ("/api/playback/a%0Ab/2025/07/24", "stream"),
    ] {
        let a = get(&m, path, Some(ADMIN)).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(a.body.contains(needle), "{path}: {}", a.body);
    }
}

#[tokio::test]
async fn auth_matrix() {
    let db = TestDb::sqlite();
    let m = manager(&db.url).await;
    let body = json!({ "reports": [report("1", "cam", (2025, 7, 24), 2000)] }).to_string();
    let cam_r = jwt("cam", MODE_SUBSCRIBE);
    let other_r = jwt("other", MODE_SUBSCRIBE);
    let cam_w = jwt("cam", MODE_PUBLISH);
    // Reporting needs the admin (cluster) token.
    assert_eq!(post_reports(&m, None, &body).await.status, 401);
    assert_eq!(post_reports(&m, Some("wrong"), &body).await.status, 401);
    assert_eq!(post_reports(&m, Some(&cam_r), &body).await.status, 403);
    assert_eq!(post_reports(&m, Some(ADMIN), &body).await.status, 200);
    assert_eq!(report_batch(&m, &[report("2", "other", (2025, 7, 24), 2000)]).await.status, 200);

    for path in ["/api/playback/cam", "/api/playback/cam/2025/07/24"] {
        assert_eq!(get(&m, path, None).await.status, 401, "{path}");
        assert_eq!(get(&m, path, Some(&other_r)).await.status, 403, "{path}");
        assert_eq!(get(&m, path, Some(&cam_w)).await.status, 403, "{path}: publish-only token");
        let a = get(&m, path, Some(&cam_r)).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.json().as_array().map(|v| v.len()), Some(1), "{path}");
        assert_eq!(get(&m, &format!("{path}?token={cam_r}"), None).await.status, 200, "{path}?token=");
    }
    // The list shows what the caller may read.
    assert_eq!(get(&m, "/api/playback", None).await.status, 401);
    assert_eq!(get(&m, "/api/playback", Some(ADMIN)).await.json(), json!(["cam", "other"]));
    assert_eq!(get(&m, "/api/playback", Some(&cam_r)).await.json(), json!(["cam"]));
    assert_eq!(get(&m, "/api/playback", Some(&other_r)).await.json(), json!(["other"]));
    assert_eq!(get(&m, "/api/playback", Some(&cam_w)).await.json(), json!([]));
    assert_eq!(get(&m, "/api/playback", Some(&jwt("*", MODE_SUBSCRIBE))).await.json(), json!(["cam", "other"]));
}

/// A manager on its own runtime and thread; dropping the runtime ends it abruptly
/// (every task and connection dropped, like a killed process).
fn manager_on_own_runtime(db_url: String, reports: Value) -> u16 {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let status = rt.block_on(async move {
            let m = manager(&db_url).await;
            let a = post_reports(&m, Some(ADMIN), &reports.to_string()).await;
            std::mem::forget(m); // no orderly shutdown
            a.status
        });
        drop(rt);
        status
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn rows_survive_a_manager_restart() {
    let db = TestDb::sqlite();
    let first: Vec<Value> =
        (0..30).map(|i| report(&format!("a{i}"), &format!("cam{}", i % 3), (2025, 7, 1 + i % 5), 2000)).collect();
    assert_eq!(manager_on_own_runtime(db.url.clone(), json!({ "reports": first })), 200);
    // Restarted on the same file: everything acknowledged is there.
    let m = manager(&db.url).await;
    assert_eq!(get(&m, "/api/playback", Some(ADMIN)).await.json(), json!(["cam0", "cam1", "cam2"]));
    let mut sessions = 0;
    for s in ["cam0", "cam1", "cam2"] {
        let days = get(&m, &format!("/api/playback/{s}"), Some(ADMIN)).await.json();
        assert_eq!(days.as_array().unwrap().len(), 5, "{s}: {days}");
        for d in days.as_array().unwrap() {
            let path = format!("/api/playback/{s}/2025/07/{:02}", d["day"].as_u64().unwrap());
            sessions += get(&m, &path, Some(ADMIN)).await.json().as_array().unwrap().len();
        }
    }
    assert_eq!(sessions, 30);
    // And it keeps accepting reports.
    assert_eq!(report_batch(&m, &[report("b", "cam9", (2025, 7, 24), 2000)]).await.status, 200);
    drop(m);
    let m = manager(&db.url).await;
    assert_eq!(get(&m, "/api/playback/cam9", Some(ADMIN)).await.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn postgres_outage_is_503_and_start_up_failure_is_clear() {
    let db = TestDb::postgres().await;
    let m = manager(&db.url).await;
    assert_eq!(report_batch(&m, &[report("1", "cam", (2025, 7, 24), 2000)]).await.status, 200);
    assert_eq!(get(&m, "/api/playback/cam", Some(ADMIN)).await.json().as_array().unwrap().len(), 1);
    db.drop_postgres().await;
    let a = report_batch(&m, &[report("2", "cam", (2025, 7, 24), 2000)]).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("unavailable"), "{}", a.body);
    assert_eq!(get(&m, "/api/playback", Some(ADMIN)).await.status, 503);
    // Other routes still work.
    assert_eq!(get(&m, "/api/nodes/", Some(ADMIN)).await.status, 200);

    // A manager whose database cannot be reached does not start, and says why.
    let mut cfg = wishcast_manager::ManagerConfig::default();
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.database.url = "postgres://wishcast:topsecret@127.0.0.1:1/live777".into();
    cfg.database.connect_timeout = 1;
    let e = tokio::time::timeout(Duration::from_secs(20), wishcast_manager::start(cfg))
        .await
        .unwrap()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("[database]") && e.contains("postgres://wishcast:***@127.0.0.1:1/live777"), "{e}");
    assert!(!e.contains("topsecret"), "{e}");
}

#[tokio::test]
async fn a_large_batch_fits_the_body_limit() {
    let db = TestDb::sqlite();
    let m = manager(&db.url).await;
    let reports: Vec<Value> = (0..2000)
        .map(|i| report(&format!("big-{i}"), &format!("cam{}", i % 10), (2025, 7, 1 + i % 28), 2000))
        .collect();
    let body = json!({ "reports": reports }).to_string();
    assert!(body.len() > 256 * 1024, "{} bytes: more than the default 64 KB limit", body.len());
    let t = std::time::Instant::now();
    let a = post_reports(&m, Some(ADMIN), &body).await;
    assert_eq!((a.status, a.json()), (200, json!({"stored": 2000})), "{}", a.body);
    eprintln!("2000 reports ({} bytes) stored in {:?}", body.len(), t.elapsed());
    // cam3 gets i = 3, 13, 23, ...: odd i, so the 14 odd values of i % 28.
    assert_eq!(get(&m, "/api/playback/cam3", Some(ADMIN)).await.json().as_array().unwrap().len(), 14);
}
