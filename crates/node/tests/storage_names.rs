//! Stream names in storage (issue 12, items 4 and 8): `cam 1` and `cam_1` recorded the
//! same day write two manifests in two folders (`cam~201`, `cam_1`), object reads are
//! authorized by the stream the folder decodes to, and names too long for a storage
//! path segment are refused with 400 on every route that takes one.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{CONNECT, send_frames};
use wishcast_auth::{Claims, sign_hs256};
use wishcast_client::{PublishOptions, Publisher};

const SECRET: &str = "storage-names-secret-0123";
const ADMIN: &str = "storage-names-admin";

fn jwt(id: &str, mode: u8) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    sign_hs256(SECRET.as_bytes(), &Claims { id: id.into(), exp, mode })
}

fn temp_dir(what: &str) -> std::path::PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let p = std::env::temp_dir().join(format!("wishcast-node-names-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_names_get_their_own_folders_and_only_their_owner_reads_them() {
    let dir = temp_dir("collide");
    let storage = dir.join("storage");
    let node = common::start_with(|c| {
        c.auth.secret = SECRET.into();
        c.auth.tokens = vec![ADMIN.into()];
        c.recorder = Some(wishcast_node::recording::RecorderConfig {
            spool_dir: dir.join("spool").display().to_string(),
            index_path: dir.join("index.jsonl").display().to_string(),
            segment_seconds: 1.0,
            storage: wishcast_storage::StorageConfig::fs(storage.display().to_string()),
            ..Default::default()
        });
    })
    .await;
    let h = &node.http;
    let mut mpds = Vec::new();
    let mut pubs = Vec::new();
    for (name, url_name) in [("cam 1", "cam%201"), ("cam_1", "cam_1")] {
        let mut p = Publisher::connect(&node.whip(url_name), Some(ADMIN), PublishOptions::default()).await.unwrap();
        p.wait_connected(CONNECT).await.unwrap();
        send_frames(&mut p, 0, 10, 30, 30, true).await;
        let r = h
            .post(node.url(&format!("/api/record/{url_name}")))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let started: serde_json::Value = r.json().await.unwrap();
        mpds.push(started["mpd_path"].as_str().unwrap().to_string());
        pubs.push(p);
    }
    assert!(mpds[0].starts_with("cam~201/"), "{mpds:?}");
    assert!(mpds[1].starts_with("cam_1/"), "{mpds:?}");
    for p in pubs.iter_mut() {
        send_frames(p, 10, 60, 30, 30, true).await;
    }
    for url_name in ["cam%201", "cam_1"] {
        let r = h.delete(node.url(&format!("/api/record/{url_name}"))).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    // Two final manifests, one per stream, each naming only its own session.
    for mpd in &mpds {
        let f = storage.join(mpd);
        common::wait_until(&format!("final {mpd}"), std::time::Duration::from_secs(20), || {
            let f = f.clone();
            async move { std::fs::read_to_string(&f).is_ok_and(|s| s.contains("type=\"static\"")) }
        })
        .await;
    }
    let a = std::fs::read_to_string(storage.join(&mpds[0])).unwrap();
    let b = std::fs::read_to_string(storage.join(&mpds[1])).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.matches("<Period").count(), 1, "{a}");
    assert_eq!(b.matches("<Period").count(), 1, "{b}");

    let status = |path: String, token: String| {
        let rq = h.get(node.url(&format!("/api/record/object/{path}"))).bearer_auth(token);
        async move { rq.send().await.unwrap().status().as_u16() }
    };
    // The owner of `cam 1` reads its own objects; a token for `cam_1` does not.
    assert_eq!(status(mpds[0].clone(), jwt("cam 1", 4)).await, 200);
    assert_eq!(status(mpds[0].clone(), jwt("cam_1", 4)).await, 403);
    assert_eq!(status(mpds[1].clone(), jwt("cam_1", 4)).await, 200);
    assert_eq!(status(mpds[1].clone(), jwt("cam 1", 4)).await, 403);
    assert_eq!(status(mpds[0].clone(), ADMIN.into()).await, 200);
    // A first segment that is not an encoded name (`cam 1` raw): admins only.
    assert_eq!(status("cam%201/2025/01/01/manifest.mpd".into(), jwt("cam 1", 4)).await, 403);
    // Export by name reads the stream's own folder.
    let day: Vec<&str> = mpds[0].split('/').collect();
    let r = h
        .get(node.url(&format!("/api/record/export/cam%201/{}/{}/{}", day[1], day[2], day[3])))
        .bearer_auth(jwt("cam 1", 4))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for mut p in pubs {
        let _ = p.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn names_too_long_for_storage_are_refused_on_every_route() {
    let node = common::start().await;
    let h = &node.http;
    let too_long = ["a".repeat(256), "é".repeat(43), "%20".repeat(86)];
    for name in &too_long {
        for (method, path, ct, body) in [
            ("POST", format!("/whip/{name}"), "application/sdp", "v=0\r\n"),
            ("POST", format!("/whep/{name}"), "application/sdp", "v=0\r\n"),
            ("POST", format!("/api/streams/{name}"), "application/json", "{}"),
            ("POST", format!("/api/record/{name}"), "application/json", "{}"),
            ("GET", format!("/api/record/{name}"), "", ""),
            ("DELETE", format!("/api/record/{name}"), "", ""),
            ("GET", format!("/api/playback/{name}"), "", ""),
            ("GET", format!("/api/record/export/{name}/2025/07/24"), "", ""),
        ] {
            let mut rq = h.request(method.parse().unwrap(), node.url(&path));
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
    // The longest accepted names pass the check: the stream is created.
    for name in ["a".repeat(255), format!("{}é", "b".repeat(249))] {
        let r = h.post(node.url(&format!("/api/streams/{name}"))).send().await.unwrap();
        assert_eq!(r.status(), 204, "{} bytes", name.len());
        assert!(node.stream_json(&name, None).await.is_some(), "{} bytes", name.len());
    }
}
