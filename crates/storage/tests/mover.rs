//! Spool + mover against the in-process S3 server: order (manifests after the
//! segments they list), bounded concurrency, retries through an outage, local copies
//! removed only after upload, recovery of the spool directory, and throughput.

mod common;

use std::time::{Duration, Instant};

use common::{BUCKET, Event, S3Server, TempDir, payload, spool_files};
use wishcast_storage::{Mover, MoverOptions, ObjectPath, Spool, StorageConfig, StorageError, Store};

fn p(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn seg_path(i: u64) -> ObjectPath {
    p(&format!("cam1/2026/11/21/s1/v_{i:04}.m4s"))
}

const MANIFEST: &str = "cam1/2026/11/21/manifest.mpd";

/// Bytes per segment line in [`manifest`].
const LINE: u64 = 11;

/// A manifest naming segments 1..=i; `LINE` bytes per segment, so its length gives `i`.
fn manifest(i: u64) -> Vec<u8> {
    let m = (1..=i).map(|k| format!("v_{k:04}.m4s\n")).collect::<String>().into_bytes();
    assert_eq!(m.len() as u64, LINE * i);
    m
}

fn fast_opts() -> MoverOptions {
    MoverOptions {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        ..MoverOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mover_uploads_everything_in_order_manifest_after_its_segments() {
    let srv = S3Server::start().await;
    // Slower than the producer, so the queue builds up and order matters.
    *srv.put_delay.lock().unwrap() = Duration::from_millis(30);
    let dir = TempDir::new("spool-order");
    let spool = Spool::open(dir.path()).expect("spool");
    let size = |i: u64| 20_000 + (i as usize * 997) % 30_000;
    // Phase 1, queued before the mover starts (deterministic order check): manifests
    // at distinct paths, each listing every segment put before it.
    for i in 1..=12u64 {
        spool.put(&seg_path(i), payload(i, size(i))).await.expect("put seg");
        if i % 3 == 0 {
            spool.put(&p(&format!("cam1/2026/11/21/m{i}/manifest.mpd")), manifest(i)).await.expect("put manifest");
        }
    }
    let mover = Mover::spawn(spool.clone(), srv.store(), fast_opts());
    // Phase 2, live: the producer and the mover run together; one manifest rewritten.
    let n = 24u64;
    for i in 13..=n {
        spool.put(&seg_path(i), payload(i, size(i))).await.expect("put seg");
        if i % 3 == 0 {
            spool.put(&p(MANIFEST), manifest(i)).await.expect("put manifest");
        }
    }
    assert!(mover.flush(Duration::from_secs(30)).await, "spool drained: {:?}", mover.stats());
    for i in 1..=n {
        let key = seg_path(i).to_string();
        assert_eq!(srv.object_on_disk(&key), Some(payload(i, size(i))), "{key}");
    }
    assert_eq!(srv.object_on_disk(MANIFEST), Some(manifest(n)));
    assert_eq!(srv.object_on_disk("cam1/2026/11/21/m6/manifest.mpd"), Some(manifest(6)));
    assert_eq!(spool_files(dir.path(), "obj") + spool_files(dir.path(), "tmp"), 0, "spool empty");

    // Server-side order: every manifest upload starts only after all segments it lists
    // were stored, and never more than 2 uploads run at once.
    let events = srv.events();
    let seg_key = |i: u64| format!("/{BUCKET}/{}", seg_path(i));
    let mut in_flight = 0i32;
    let mut max_in_flight = 0;
    let mut manifest_uploads = 0;
    for (idx, ev) in events.iter().enumerate() {
        match ev {
            Event::Start(m, _, _) if m == "PUT" => {
                in_flight += 1;
                max_in_flight = max_in_flight.max(in_flight);
            }
            Event::End(m, _, _) if m == "PUT" => in_flight -= 1,
            _ => {}
        }
        if let Event::Start(m, path, len) = ev
            && m == "PUT"
            && path.ends_with(".mpd")
        {
            manifest_uploads += 1;
            let listed = len.expect("content-length") / LINE;
            for k in 1..=listed {
                let stored =
                    events[..idx].iter().any(|e| matches!(e, Event::End(m, q, 200) if m == "PUT" && *q == seg_key(k)));
                assert!(stored, "manifest listing {listed} segments uploaded before segment {k} was stored");
            }
        }
    }
    assert!(manifest_uploads >= 5, "4 phase-1 manifests and at least one live one");
    assert!(max_in_flight <= 2, "at most 2 concurrent uploads, saw {max_in_flight}");
    let st = mover.stats();
    assert_eq!(st.failed_attempts, 0);
    assert_eq!(st.pending, 0);
    assert_eq!(st.uploaded, n + manifest_uploads);
    mover.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mover_retries_through_an_outage_and_keeps_local_copies_until_stored() {
    let srv = S3Server::start().await;
    srv.stop();
    let dir = TempDir::new("spool-outage");
    let spool = Spool::open(dir.path()).expect("spool");
    let mover = Mover::spawn(spool.clone(), srv.store(), fast_opts());
    for i in 1..=10 {
        spool.put(&seg_path(i), payload(i, 50_000)).await.expect("put");
    }
    for v in 1..=5 {
        spool.put(&p(MANIFEST), manifest(v)).await.expect("put manifest");
    }
    // Playback can read what is still waiting.
    assert_eq!(spool.read_pending(&seg_path(3)).await.expect("read_pending"), Some(payload(3, 50_000)));
    assert_eq!(spool.read_pending(&p(MANIFEST)).await.expect("read_pending"), Some(manifest(5)));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let st = mover.stats();
    assert!(st.failed_attempts >= 2, "it kept retrying: {st:?}");
    // One request per backoff period, not one per entry per period.
    assert!(st.failed_attempts <= 12, "backoff must pace retries: {st:?}");
    assert!(st.last_error.is_some());
    assert_eq!(st.uploaded, 0);
    // Nothing was lost or removed locally: 10 segments + 1 manifest (older versions superseded).
    assert_eq!(spool.pending(), 11);
    assert_eq!(spool_files(dir.path(), "obj"), 11);

    srv.restart().await;
    assert!(mover.flush(Duration::from_secs(20)).await, "drained after the server came back: {:?}", mover.stats());
    for i in 1..=10 {
        assert_eq!(srv.object_on_disk(seg_path(i).as_str()), Some(payload(i, 50_000)));
    }
    assert_eq!(srv.object_on_disk(MANIFEST), Some(manifest(5)));
    assert_eq!(spool_files(dir.path(), "obj"), 0);
    assert_eq!(spool.read_pending(&seg_path(3)).await.expect("read_pending"), None, "uploaded: read the store");
    let manifest_puts =
        srv.events().iter().filter(|e| matches!(e, Event::End(m, q, 200) if m == "PUT" && q.ends_with(".mpd"))).count();
    assert_eq!(manifest_puts, 1, "superseded manifest versions are never uploaded");
    mover.shutdown().await;
}

#[tokio::test]
async fn spool_recovers_its_directory_after_a_crash() {
    let dir = TempDir::new("spool-recover");
    let saved;
    {
        let spool = Spool::open(dir.path()).expect("spool");
        assert!(matches!(Spool::open(dir.path()), Err(StorageError::Locked(_))), "second opener is refused");
        spool.put(&p(MANIFEST), b"v1".to_vec()).await.expect("put");
        spool.put(&seg_path(1), payload(1, 1000)).await.expect("put");
        let first = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "obj"))
            .min()
            .expect("entry");
        saved = (first.clone(), std::fs::read(&first).expect("read entry"));
        spool.put(&p(MANIFEST), b"v2".to_vec()).await.expect("put v2");
        assert!(!saved.0.exists(), "v1 superseded and deleted");
        spool.put(&seg_path(2), payload(2, 1000)).await.expect("put");
    }
    // Simulate a crash that lost the deletion of v1, an unfinished write and a damaged file.
    std::fs::write(&saved.0, &saved.1).expect("restore v1");
    std::fs::write(dir.path().join("00000000000000ff.tmp"), b"WCSPOOL1 half a write").expect("tmp");
    std::fs::write(dir.path().join("00000000000000fe.obj"), b"WCSPOOL1\x03\x00\x05\x00\x00\x00\x00\x00\x00\x00a/b12")
        .expect("bad");
    std::fs::write(dir.path().join("unrelated.txt"), b"left alone").expect("other");

    let (spool, report) = Spool::open_with_report(dir.path()).expect("reopen");
    assert_eq!(report.queued, 3, "{report:?}");
    assert_eq!(report.discarded_tmp, 1, "{report:?}");
    assert_eq!(report.superseded, 1, "{report:?}");
    assert_eq!(report.damaged, 1, "{report:?}");
    assert_eq!(spool.pending(), 3);
    assert_eq!(spool.read_pending(&p(MANIFEST)).await.expect("read"), Some(b"v2".to_vec()));
    assert!(dir.path().join("00000000000000fe.bad").exists());
    assert!(!dir.path().join("00000000000000ff.tmp").exists());

    // New puts sort after everything recovered.
    spool.put(&seg_path(3), payload(3, 10)).await.expect("put after reopen");
    assert!(dir.path().join("0000000000000100.obj").exists(), "sequence continues after the highest file seen");

    let storage = TempDir::new("spool-recover-store");
    let store = Store::new(&StorageConfig::fs(storage.path().to_string_lossy())).expect("fs store");
    let mover = Mover::spawn(spool.clone(), store.clone(), MoverOptions::default());
    assert!(mover.flush(Duration::from_secs(10)).await);
    assert_eq!(store.read_all(&p(MANIFEST)).await.expect("read"), Some(b"v2".to_vec()));
    for i in 1..=2 {
        assert_eq!(store.read_all(&seg_path(i)).await.expect("read"), Some(payload(i, 1000)));
    }
    assert_eq!(store.read_all(&seg_path(3)).await.expect("read"), Some(payload(3, 10)));
    assert_eq!(spool_files(dir.path(), "obj"), 0);
    assert!(dir.path().join("unrelated.txt").exists());
    mover.shutdown().await;
}

/// Throughput of the mover for 2 s segments (~500 KB, i.e. 2 Mbit/s) into the local
/// S3 server. Run with `--no-capture` to see the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mover_throughput_500kb_segments() {
    let srv = S3Server::start().await;
    let dir = TempDir::new("spool-bench");
    let spool = Spool::open(dir.path()).expect("spool");
    let n = 60u64;
    let size = 500_000usize;
    let t0 = Instant::now();
    for i in 1..=n {
        spool.put(&seg_path(i), payload(i, size)).await.expect("put");
    }
    let put_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mover = Mover::spawn(spool.clone(), srv.store(), MoverOptions::default());
    assert!(mover.flush(Duration::from_secs(120)).await, "{:?}", mover.stats());
    let up_s = t1.elapsed().as_secs_f64();
    let mb = (n as f64 * size as f64) / 1e6;
    println!(
        "spool put (fsync): {n} x {size} B in {put_s:.2} s = {:.1} MB/s, {:.1} segments/s",
        mb / put_s,
        n as f64 / put_s
    );
    println!(
        "mover upload to local S3 (concurrency 2): {n} x {size} B in {up_s:.2} s = {:.1} MB/s, {:.1} segments/s = {:.0}x real time for 2 s segments",
        mb / up_s,
        n as f64 / up_s,
        (n as f64 * 2.0) / up_s
    );
    for i in [1, n / 2, n] {
        assert_eq!(srv.object_on_disk(seg_path(i).as_str()), Some(payload(i, size)));
    }
    assert_eq!(mover.stats().uploaded, n);
    assert_eq!(mover.stats().uploaded_bytes, n * size as u64);
    mover.shutdown().await;
}
