//! Stream names in storage through the manager (issue 12, items 4 and 8): object reads
//! are authorized by the stream the path's folder decodes to (`cam~201` is `cam 1`'s,
//! `cam_1` is `cam_1`'s), a day folder of the old lossy layout that several streams
//! share is for admins only, names too long for a storage segment are refused with 400,
//! and one bad index row does not stop retention.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use wishcast_auth::{Claims, sign_hs256};
use wishcast_index::testdb::TestDb;
use wishcast_index::{Index, RecordingReport, RecordingStatus};

const SECRET: &str = "names-secret";
const ADMIN: &str = "names-admin";

fn jwt(stream: &str, mode: u8) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    sign_hs256(SECRET.as_bytes(), &Claims { id: stream.into(), exp, mode })
}

fn temp_dir(what: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let p = std::env::temp_dir().join(format!("wishcast-mgr-names-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn put(storage: &Path, rel: &str, body: &str) {
    let f = storage.join(rel);
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(f, body).unwrap();
}

fn report(id: &str, stream: &str, (y, m, d): (i32, u32, u32), mpd_path: &str) -> RecordingReport {
    RecordingReport {
        id: id.into(),
        node: "node1".into(),
        stream: stream.into(),
        year: y,
        month: m,
        day: d,
        mpd_path: mpd_path.into(),
        started_at: 1_753_315_200_000,
        ended_at: Some(1_753_315_260_000),
        duration_ms: 60_000,
        bytes: 1000,
        segments: 30,
        status: RecordingStatus::Completed,
    }
}

async fn manager(db: &TestDb, storage: &Path, retention_days: u64) -> common::TestManager {
    let (url, storage) = (db.url.clone(), storage.display().to_string());
    common::start_manager(move |c| {
        c.auth.secret = SECRET.into();
        c.auth.tokens = vec![ADMIN.into()];
        c.database.url = url;
        c.recorder.storage = wishcast_storage::StorageConfig::fs(storage);
        c.recorder.retention_days = retention_days;
    })
    .await
}

async fn get(m: &common::TestManager, path: &str, token: &str) -> (u16, String) {
    let r = m.http.get(m.url(path)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn objects_are_authorized_by_the_decoded_stream_name() {
    let db = TestDb::sqlite();
    let storage = temp_dir("auth");
    put(&storage, "cam~201/2025/07/24/manifest.mpd", "manifest of cam 1");
    put(&storage, "cam_1/2025/07/24/manifest.mpd", "manifest of cam_1");
    // The old layout: `lobby 1` and `lobby_1` both wrote `lobby_1/...` that day.
    put(&storage, "lobby_1/2025/07/23/manifest.mpd", "shared manifest");
    let m = manager(&db, &storage, 0).await;
    let reports = json!({ "reports": [
        report("a", "cam 1", (2025, 7, 24), "cam~201/2025/07/24/manifest.mpd"),
        report("b", "cam_1", (2025, 7, 24), "cam_1/2025/07/24/manifest.mpd"),
        report("c", "lobby 1", (2025, 7, 23), "lobby_1/2025/07/23/manifest.mpd"),
        report("d", "lobby_1", (2025, 7, 23), "lobby_1/2025/07/23/manifest.mpd"),
    ]});
    let r = m
        .http
        .post(m.url("/api/recordings/report"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(reports.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Two streams, two manifests in two folders.
    let days: Value = m.get_json("/api/playback/cam%201", Some(ADMIN)).await;
    assert_eq!(days[0]["mpd_path"], "cam~201/2025/07/24/manifest.mpd");
    let days: Value = m.get_json("/api/playback/cam_1", Some(ADMIN)).await;
    assert_eq!(days[0]["mpd_path"], "cam_1/2025/07/24/manifest.mpd");

    let object = |p: &str| format!("/api/record/object/{p}");
    let cam1 = object("cam~201/2025/07/24/manifest.mpd");
    let cam_1 = object("cam_1/2025/07/24/manifest.mpd");
    assert_eq!(get(&m, &cam1, &jwt("cam 1", 4)).await, (200, "manifest of cam 1".into()));
    assert_eq!(get(&m, &cam1, &jwt("cam_1", 4)).await.0, 403);
    assert_eq!(get(&m, &cam_1, &jwt("cam_1", 4)).await, (200, "manifest of cam_1".into()));
    assert_eq!(get(&m, &cam_1, &jwt("cam 1", 4)).await.0, 403);
    assert_eq!(get(&m, &cam1, ADMIN).await.0, 200);
    // `%7E` is `~` once the path is decoded: the same object, the same rule.
    assert_eq!(get(&m, &object("cam%7E201/2025/07/24/manifest.mpd"), &jwt("cam_1", 4)).await.0, 403);
    assert_eq!(get(&m, &object("cam%7E201/2025/07/24/manifest.mpd"), &jwt("cam 1", 4)).await.0, 200);
    // A first segment that is no encoding of a name (`cam 1` raw, `cam~2x`): admins only.
    assert_eq!(get(&m, &object("cam%201/2025/07/24/manifest.mpd"), &jwt("cam 1", 4)).await.0, 403);
    assert_eq!(get(&m, &object("cam~2x/2025/07/24/manifest.mpd"), &jwt("*", 4)).await.0, 403);

    // The old shared folder: neither stream's token reads it, an admin does.
    let shared = object("lobby_1/2025/07/23/manifest.mpd");
    let (st, body) = get(&m, &shared, &jwt("lobby_1", 4)).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("old storage layout"), "{body}");
    assert_eq!(get(&m, &shared, &jwt("lobby 1", 4)).await.0, 403);
    assert_eq!(get(&m, &shared, &jwt("*", 4)).await.0, 403);
    assert_eq!(get(&m, &shared, ADMIN).await, (200, "shared manifest".into()));
    // Export checks the same name it reads: `cam 1`'s folder for `cam 1`.
    let st = get(&m, "/api/record/export/cam%201/2025/07/24", &jwt("cam_1", 4)).await.0;
    assert_eq!(st, 403);
    let _ = std::fs::remove_dir_all(&storage);
}

#[tokio::test]
async fn names_too_long_for_storage_are_refused() {
    let m = common::start_manager(|_| {}).await;
    for name in ["a".repeat(256), "é".repeat(43), "%20".repeat(86)] {
        for (method, path, ct, body) in [
            ("POST", format!("/whip/{name}"), "application/sdp", "v=0\r\n"),
            ("POST", format!("/whep/{name}"), "application/sdp", "v=0\r\n"),
            ("POST", format!("/api/streams/{name}"), "", ""),
            ("POST", format!("/api/record/{name}"), "application/json", "{}"),
            ("GET", format!("/api/record/{name}"), "", ""),
            ("DELETE", format!("/api/record/{name}"), "", ""),
            ("GET", format!("/api/playback/{name}"), "", ""),
            ("GET", format!("/api/playback/{name}/2025/07/24"), "", ""),
            ("GET", format!("/api/record/export/{name}/2025/07/24"), "", ""),
        ] {
            let mut rq = m.http.request(method.parse().unwrap(), m.url(&path));
            if !ct.is_empty() {
                rq = rq.header("content-type", ct).body(body);
            }
            let r = rq.send().await.unwrap();
            let st = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(st, 400, "{method} {} ({} bytes): {text}", &path[..30], name.len());
            assert!(text.contains("255"), "{text}");
        }
    }
    // The longest accepted name passes the check (no node has it: 404/503, not 400).
    let r = m.http.get(m.url(&format!("/api/record/{}", "a".repeat(255)))).send().await.unwrap();
    assert_ne!(r.status(), 400);
}

/// A row whose stream name no storage path can hold (256 bytes, indexed before names
/// were limited) sorts first; the pass logs it and still removes the other old days.
#[tokio::test]
async fn retention_skips_a_bad_row_and_removes_the_rest() {
    let db = TestDb::sqlite();
    let storage = temp_dir("retention");
    {
        let ix = Index::connect(&db.config()).await.unwrap();
        // Validation refuses such a name now: index a good one and rename it.
        let bad = report("bad", "placeholder", (2020, 1, 1), "placeholder/2020/01/01/manifest.mpd");
        let old = report("old", "cam 1", (2020, 1, 2), "cam~201/2020/01/02/manifest.mpd");
        let legacy = report("legacy", "lobby 1", (2020, 1, 3), "lobby_1/2020/01/03/manifest.mpd");
        assert_eq!(ix.upsert_reports(&[bad, old, legacy]).await.unwrap(), 3);
        let long = "a".repeat(256);
        for table in ["recordings", "recording_sessions"] {
            let sql = format!(
                "UPDATE {table} SET stream = '{long}', mpd_path = '{long}/2020/01/01/manifest.mpd' \
                 WHERE stream = 'placeholder'"
            );
            ix.connection().execute_unprepared(&sql).await.unwrap();
        }
        ix.close().await;
    }
    put(&storage, "cam~201/2020/01/02/manifest.mpd", "old");
    put(&storage, "cam~201/2020/01/02/s/v_seg_1.m4s", "old");
    put(&storage, "lobby_1/2020/01/03/manifest.mpd", "old");
    let today = wishcast_api::record::utc_day(SystemTime::now());
    let fresh = format!("cam~201/{:04}/{:02}/{:02}/manifest.mpd", today.0, today.1, today.2);
    put(&storage, &fresh, "new");
    // The first pass runs at start-up.
    let m = manager(&db, &storage, 30).await;
    common::wait_until("old days removed", Duration::from_secs(20), || {
        let s = storage.clone();
        async move { !s.join("cam~201/2020/01/02").exists() && !s.join("lobby_1/2020/01/03").exists() }
    })
    .await;
    assert!(storage.join(&fresh).exists(), "today's recording is kept");
    common::wait_until("old rows removed", Duration::from_secs(20), || async {
        let days = m.get_json("/api/playback/cam%201", Some(ADMIN)).await;
        days.as_array().is_some_and(|d| d.is_empty())
    })
    .await;
    let days = m.get_json("/api/playback/lobby%201", Some(ADMIN)).await;
    assert_eq!(days, json!([]));
    let _ = std::fs::remove_dir_all(&storage);
}
