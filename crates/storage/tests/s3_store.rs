//! The s3 backend against a real S3 server (s3s-fs in process, checking SigV4):
//! every Store operation, and presigned GET/PUT URLs used by a plain HTTP client.

mod common;

use std::time::Duration;

use common::{S3Server, payload};
use wishcast_storage::{ObjectPath, StorageConfig, StorageError, StorageKind, Store};

fn p(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_write_read_range_list_delete() {
    let srv = S3Server::start().await;
    let store = srv.store();
    assert!(store.can_presign());
    store.ping().await.expect("ping");

    let seg = payload(7, 512_000);
    let a = p("cam1/2026/11/21/s1/v_0001.m4s");
    let m = p("cam1/2026/11/21/manifest.mpd");
    store.write(&a, seg.clone()).await.expect("write seg");
    store.write(&m, b"<MPD v1/>".to_vec()).await.expect("write mpd");
    store.write(&m, b"<MPD version=2/>".to_vec()).await.expect("rewrite mpd");
    store.write(&p("cam2/x.m4s"), b"x".to_vec()).await.expect("write cam2");

    // What the server holds, read from its disk directly.
    assert_eq!(srv.object_on_disk("cam1/2026/11/21/s1/v_0001.m4s"), Some(seg.clone()));
    assert_eq!(srv.object_on_disk("cam1/2026/11/21/manifest.mpd"), Some(b"<MPD version=2/>".to_vec()));

    assert_eq!(store.read_all(&m).await.expect("read_all"), Some(b"<MPD version=2/>".to_vec()));
    assert_eq!(store.read_all(&p("cam1/none.mpd")).await.expect("missing"), None);
    assert_eq!(store.stat(&a).await.expect("stat"), Some(512_000));
    assert_eq!(store.stat(&p("cam1/nope")).await.expect("stat missing"), None);

    let whole = store.read(&a, None).await.expect("read");
    assert_eq!(whole.total_len, 512_000);
    assert_eq!(whole.into_vec().await.expect("body"), seg);
    let part = store.read(&a, Some(100_000..100_100)).await.expect("range");
    assert_eq!(part.content_range().as_deref(), Some("bytes 100000-100099/512000"));
    assert_eq!(part.into_vec().await.expect("body"), seg[100_000..100_100].to_vec());
    assert!(matches!(store.read(&a, Some(600_000..600_001)).await, Err(StorageError::RangeNotSatisfiable { .. })));
    assert!(matches!(store.read(&p("cam1/missing"), None).await, Err(StorageError::NotFound(_))));

    assert_eq!(store.list("cam1").await.expect("list"), vec![m.to_string(), a.to_string()]);
    assert_eq!(store.list("").await.expect("list all").len(), 3);
    assert_eq!(store.list("zzz").await.expect("list none"), Vec::<String>::new());

    store.delete(&m).await.expect("delete");
    assert_eq!(store.stat(&m).await.expect("stat"), None);
    assert_eq!(srv.object_on_disk("cam1/2026/11/21/manifest.mpd"), None);
    assert_eq!(store.delete_prefix(&p("cam1")).await.expect("delete_prefix"), 1);
    assert_eq!(store.list("").await.expect("list"), vec!["cam2/x.m4s".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_presigned_urls_work_with_a_plain_http_client() {
    let srv = S3Server::start().await;
    let store = srv.store();
    let http = reqwest::Client::new();
    let seg = payload(3, 200_000);

    // presign_write → plain PUT with the returned headers → object stored.
    let key = p("cam1/2026/11/21/s1/a_0001.m4s");
    let put = store.presign_write(&key, Duration::from_secs(300)).await.expect("presign").expect("s3 presigns");
    assert_eq!(put.method, "PUT");
    assert!(put.url.starts_with(&srv.endpoint()), "{}", put.url);
    let mut req = http.put(&put.url).body(seg.clone());
    for (k, v) in &put.headers {
        req = req.header(k, v);
    }
    let res = req.send().await.expect("PUT");
    assert!(res.status().is_success(), "PUT {}: {}", res.status(), res.text().await.unwrap_or_default());
    assert_eq!(srv.object_on_disk("cam1/2026/11/21/s1/a_0001.m4s"), Some(seg.clone()));
    assert_eq!(store.read_all(&key).await.expect("read back"), Some(seg.clone()));

    // presign_read → plain GET (also with a Range header) → same bytes.
    let get = store.presign_read(&key, Duration::from_secs(60)).await.expect("presign").expect("s3 presigns");
    assert_eq!(get.method, "GET");
    let res = http.get(&get.url).send().await.expect("GET");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.bytes().await.expect("body").to_vec(), seg);
    let res = http.get(&get.url).header("range", "bytes=10-19").send().await.expect("GET range");
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.bytes().await.expect("body").to_vec(), seg[10..20].to_vec());

    // The server really checks the signature: the same URL for another key is refused.
    let forged = get.url.replacen("a_0001.m4s", "a_0002.m4s", 1);
    let res = http.get(&forged).send().await.expect("GET forged");
    assert_eq!(res.status().as_u16(), 403, "a presigned URL must not work for another object");
    let res = http.get(format!("{}/{}/{}", srv.endpoint(), common::BUCKET, key)).send().await.expect("GET unsigned");
    assert_eq!(res.status().as_u16(), 403, "unsigned GET must be refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_wrong_credentials_and_outage_are_errors() {
    let srv = S3Server::start().await;
    let bad = Store::new(&StorageConfig { secret_access_key: "wrong".into(), ..srv.config() }).expect("store");
    let err = bad.write(&p("a/b"), b"x".to_vec()).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("a/b"), "{err}");
    assert!(bad.ping().await.is_err());
    srv.stop();
    let store = srv.store();
    assert!(store.write(&p("a/b"), b"x".to_vec()).await.is_err());
    srv.restart().await;
    store.write(&p("a/b"), b"x".to_vec()).await.expect("after restart");
    assert_eq!(srv.object_on_disk("a/b"), Some(b"x".to_vec()));
}

#[test]
fn s3_config_builds_and_oss_config_builds() {
    let mut cfg = StorageConfig {
        kind: StorageKind::S3,
        bucket: "b".into(),
        endpoint: "http://127.0.0.1:1".into(),
        ..StorageConfig::default()
    };
    assert!(Store::new(&cfg).is_ok(), "region defaults with a custom endpoint");
    cfg.bucket.clear();
    let e = Store::new(&cfg).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("recorder.storage.bucket"), "{e}");
    let oss = StorageConfig {
        kind: StorageKind::Oss,
        bucket: "b".into(),
        endpoint: "http://127.0.0.1:1".into(),
        access_key_id: "id".into(),
        access_key_secret: "secret".into(),
        ..StorageConfig::default()
    };
    let store = Store::new(&oss).expect("oss store");
    assert!(store.can_presign());
}
