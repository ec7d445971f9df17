//! The fs backend: every Store operation against a real directory, and proof that
//! objects land under the root and nowhere else.

mod common;

use common::{TempDir, payload};
use wishcast_storage::{ByteRange, ObjectPath, StorageConfig, StorageError, Store};

fn p(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Every regular file under `dir`, relative, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(base: &std::path::Path, d: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn fs_write_read_range_stat_list_delete() {
    let tmp = TempDir::new("fs");
    let root = tmp.path().join("storage");
    let store = Store::new(&StorageConfig::fs(root.to_string_lossy())).expect("store");
    assert!(!store.can_presign());
    store.ping().await.expect("ping");

    let seg = payload(1, 300_000);
    let a = p("cam1/2026/11/21/s1/v_0001.m4s");
    let m = p("cam1/2026/11/21/manifest.mpd");
    store.write(&a, seg.clone()).await.expect("write seg");
    store.write(&m, b"<MPD v1/>".to_vec()).await.expect("write mpd");
    store.write(&m, b"<MPD version=2/>".to_vec()).await.expect("rewrite mpd");
    store.write(&p("cam2/2026/11/20/manifest.mpd"), b"x".to_vec()).await.expect("write cam2");

    // Bytes on disk, exactly where the path says, under the root.
    assert_eq!(std::fs::read(root.join("cam1/2026/11/21/s1/v_0001.m4s")).ok(), Some(seg.clone()));
    assert_eq!(store.read_all(&m).await.expect("read_all"), Some(b"<MPD version=2/>".to_vec()));
    assert_eq!(store.read_all(&p("cam1/none.mpd")).await.expect("read_all missing"), None);

    assert_eq!(store.stat(&a).await.expect("stat"), Some(300_000));
    assert_eq!(store.stat(&p("cam1/nope")).await.expect("stat missing"), None);
    assert_eq!(store.stat(&p("cam1/2026")).await.expect("stat dir"), None, "a folder is not an object");

    // Whole and ranged streaming reads.
    let whole = store.read(&a, None).await.expect("read");
    assert_eq!((whole.total_len, whole.partial, whole.content_range()), (300_000, false, None));
    assert_eq!(whole.into_vec().await.expect("body"), seg);
    let part = store.read(&a, Some(1000..2000)).await.expect("range");
    assert_eq!(part.content_range().as_deref(), Some("bytes 1000-1999/300000"));
    assert_eq!(part.content_length(), 1000);
    assert_eq!(part.into_vec().await.expect("body"), seg[1000..2000].to_vec());
    let tail = store.read(&a, Some(299_990..u64::MAX)).await.expect("clamped");
    assert_eq!(tail.into_vec().await.expect("body"), seg[299_990..].to_vec());
    let suffix = store.read_byte_range(&a, Some(ByteRange::Suffix(5))).await.expect("suffix");
    assert_eq!(suffix.content_range().as_deref(), Some("bytes 299995-299999/300000"));
    assert_eq!(suffix.into_vec().await.expect("body"), seg[299_995..].to_vec());
    match store.read(&a, Some(300_000..300_001)).await {
        Err(StorageError::RangeNotSatisfiable { total, .. }) => assert_eq!(total, 300_000),
        other => panic!("expected 416, got {other:?}"),
    }
    assert!(matches!(store.read(&p("cam1/missing.m4s"), None).await, Err(StorageError::NotFound(_))));
    // Manifests are read whole in one request (consistent length), ranges included.
    let mpd = store.read(&m, None).await.expect("read mpd");
    assert_eq!(mpd.total_len, 16);
    assert_eq!(mpd.into_vec().await.expect("body"), b"<MPD version=2/>".to_vec());
    let mpd = store.read_byte_range(&m, Some(ByteRange::From(5))).await.expect("mpd range");
    assert_eq!(mpd.content_range().as_deref(), Some("bytes 5-15/16"));
    assert_eq!(mpd.into_vec().await.expect("body"), b"version=2/>".to_vec());
    assert!(matches!(store.read(&m, Some(16..20)).await, Err(StorageError::RangeNotSatisfiable { total: 16, .. })));
    assert!(matches!(store.read(&p("cam1/none.mpd"), None).await, Err(StorageError::NotFound(_))));
    // Zero-length objects read as an empty body.
    store.write(&p("cam1/empty"), Vec::new()).await.expect("empty");
    assert_eq!(store.read(&p("cam1/empty"), None).await.expect("read empty").into_vec().await.ok(), Some(vec![]));

    // Listing: recursive, files only, no temp folder, sorted.
    assert_eq!(
        store.list("cam1").await.expect("list"),
        vec!["cam1/2026/11/21/manifest.mpd", "cam1/2026/11/21/s1/v_0001.m4s", "cam1/empty"]
    );
    assert_eq!(store.list("cam1/2026/11/21/").await.expect("list/").len(), 2);
    assert_eq!(store.list("").await.expect("list all").len(), 4);
    assert_eq!(store.list("nothing/here").await.expect("list missing"), Vec::<String>::new());
    assert!(store.list("../etc").await.is_err(), "list prefix is validated");

    // Delete one, then a prefix (retention).
    store.delete(&p("cam1/empty")).await.expect("delete");
    store.delete(&p("cam1/empty")).await.expect("delete twice is fine");
    assert_eq!(store.stat(&p("cam1/empty")).await.expect("stat"), None);
    assert_eq!(store.delete_prefix(&p("cam1/2026/11")).await.expect("delete_prefix"), 2);
    assert_eq!(store.list("cam1").await.expect("list"), Vec::<String>::new());
    assert!(!root.join("cam1/2026/11").exists(), "emptied folders are removed");
    assert_eq!(store.list("").await.expect("list"), vec!["cam2/2026/11/20/manifest.mpd"]);
    assert_eq!(store.presign_read(&m, std::time::Duration::from_secs(60)).await.expect("presign"), None);
}

#[tokio::test]
async fn fs_objects_cannot_escape_root() {
    let tmp = TempDir::new("fs-escape");
    let root = tmp.path().join("root");
    let store = Store::new(&StorageConfig::fs(root.to_string_lossy())).expect("store");
    for evil in ["../escaped", "a/../../escaped", "/tmp/escaped", "..\\escaped", "a/%2e%2e/../escaped", "a//b"] {
        assert!(ObjectPath::parse(evil).is_err(), "{evil} must not parse");
    }
    // The nearest legal names stay inside the root.
    for name in ["..escaped", "a/..b", "...", "a/.../b"] {
        store.write(&p(name), b"in".to_vec()).await.expect("write");
    }
    assert_eq!(files_under(tmp.path()), vec!["root/...", "root/..escaped", "root/a/.../b", "root/a/..b"]);
    assert_eq!(store.list("").await.expect("list").len(), 4);
}

#[test]
fn fs_old_temporary_files_are_cleaned_at_start() {
    let tmp = TempDir::new("fs-tmpclean");
    let scratch = tmp.path().join(".wishcast-tmp");
    std::fs::create_dir_all(&scratch).expect("mkdir");
    let old = scratch.join("crashed-write");
    let young = scratch.join("someone-writing-now");
    std::fs::write(&old, b"partial").expect("write");
    std::fs::write(&young, b"partial").expect("write");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options().write(true).open(&old).and_then(|f| f.set_modified(two_hours_ago)).expect("mtime");
    let _store = Store::new(&StorageConfig::fs(tmp.path().to_string_lossy())).expect("store");
    assert!(!old.exists(), "a crash leftover is removed");
    assert!(young.exists(), "a recent temp file may belong to a live writer");
}

#[tokio::test]
async fn fs_bad_root_is_a_config_error() {
    let tmp = TempDir::new("fs-bad");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let err = Store::new(&StorageConfig::fs(file.join("sub").to_string_lossy())).err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|e| e.contains("recorder.storage.root")), "{err:?}");
}

/// A manifest rewritten while it is being read: every read is one whole version
/// (length and bytes agree), never a mix or a truncation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_manifest_reads_are_consistent_during_rewrites() {
    let tmp = TempDir::new("fs-rewrite");
    let store = Store::new(&StorageConfig::fs(tmp.path().to_string_lossy())).expect("store");
    let m = p("cam1/2026/11/21/manifest.mpd");
    // Version v: "<v as 8 digits>" followed by v bytes of 'x' (grows like a manifest).
    let version = |v: usize| format!("{v:08}{}", "x".repeat(v)).into_bytes();
    store.write(&m, version(0)).await.expect("write");
    let writer = {
        let (store, m) = (store.clone(), m.clone());
        tokio::spawn(async move {
            for v in 1..=400 {
                store.write(&m, version(v * 50)).await.expect("rewrite");
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let body = store.read(&m, None).await.expect("read");
        let total = body.total_len;
        let bytes = body.into_vec().await.expect("body");
        assert_eq!(bytes.len() as u64, total, "length and bytes from the same version");
        let v: usize = std::str::from_utf8(&bytes[..8]).ok().and_then(|s| s.parse().ok()).expect("header");
        assert_eq!(bytes, version(v), "a whole version");
        reads += 1;
    }
    writer.await.expect("writer");
    assert!(reads > 10, "reads overlapped the rewrites ({reads})");
}
