//! kill -9 of a real producer+mover process, several times, mid-upload: every object
//! whose `put` was acknowledged ends up in S3 with the same bytes, and the spool is
//! empty after a final flush.
//!
//! The child is this test binary run again with `WISHCAST_KILL9_CHILD` set (the
//! ignored test `kill9_child`). It puts segments (and, every third, the rewritten
//! manifest) into the spool while its mover uploads them, and prints `ACK <i>` /
//! `ACKM <i>` on stdout after each acknowledged put. The parent SIGKILLs it at
//! random moments, restarts it, and finally runs it in `drain` mode.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{S3Server, TempDir, payload, s3_config, spool_files};
use tokio::io::{AsyncBufReadExt, BufReader};
use wishcast_storage::{Mover, MoverOptions, ObjectPath, Spool, Store};

const MANIFEST: &str = "cam1/2026/11/21/manifest.mpd";

fn seg_key(i: u64) -> String {
    format!("cam1/2026/11/21/s1/v_{i:05}.m4s")
}

fn seg_len(i: u64) -> usize {
    10_000 + (i as usize * 7919) % 50_000
}

fn manifest(i: u64) -> Vec<u8> {
    (1..=i).map(|k| format!("v_{k:05}.m4s\n")).collect::<String>().into_bytes()
}

fn path(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn child_command(mode: &str, spool: &Path, endpoint: &str, start: u64, stderr: &Path) -> tokio::process::Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut c = tokio::process::Command::new(exe);
    c.args(["kill9_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("WISHCAST_KILL9_CHILD", mode)
        .env("WISHCAST_KILL9_SPOOL", spool)
        .env("WISHCAST_KILL9_ENDPOINT", endpoint)
        .env("WISHCAST_KILL9_START", start.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).expect("stderr file"))
        .kill_on_drop(true);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_mid_upload_loses_no_acknowledged_object() {
    let srv = S3Server::start().await;
    // Slow uploads a little so that kills land while PUTs are in flight.
    *srv.put_delay.lock().unwrap() = Duration::from_millis(20);
    let work = TempDir::new("kill9");
    let spool_dir = work.path().join("spool");
    let stderr = work.path().join("child.stderr");
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            | 1;
    println!("kill9 seed {seed}");
    let mut rng = Rng(seed);
    let mut acked: BTreeSet<u64> = BTreeSet::new();
    let mut acked_manifest = 0u64;
    let mut next = 1u64;
    let mut kills_mid_upload = 0;
    // PUTs the server saw start but never finish in earlier rounds (cut by a kill).
    let mut stale = 0usize;
    let put_balance = |srv: &S3Server| {
        let ev = srv.events();
        let starts = ev.iter().filter(|e| matches!(e, common::Event::Start(m, _, _) if m == "PUT")).count();
        let ends = ev.iter().filter(|e| matches!(e, common::Event::End(m, _, _) if m == "PUT")).count();
        starts - ends
    };
    let rounds = 6;
    for round in 0..rounds {
        let mut child =
            child_command("produce", &spool_dir, &srv.endpoint(), next, &stderr).spawn().expect("spawn child");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let kill_after = 2 + rng.next(30);
        let mut seen = 0;
        while seen < kill_after {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
            let line = match line {
                Ok(Ok(Some(l))) => l,
                other => panic!(
                    "round {round}: child stopped early ({other:?}); stderr:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                ),
            };
            if let Some(i) = line.strip_prefix("ACK ").and_then(|v| v.parse::<u64>().ok()) {
                acked.insert(i);
                seen += 1;
            } else if let Some(at) = line.find("RECOVERED") {
                let line = &line[at..];
                println!("round {round}: {line}");
            } else if let Some(i) = line.strip_prefix("ACKM ").and_then(|v| v.parse::<u64>().ok()) {
                acked_manifest = acked_manifest.max(i);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.next(15))).await;
        let in_flight = put_balance(&srv).saturating_sub(stale);
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("wait");
        assert!(!status.success(), "child was killed, not finished");
        // Lines the child wrote before dying also count as acknowledged.
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(i) = line.strip_prefix("ACK ").and_then(|v| v.parse::<u64>().ok()) {
                acked.insert(i);
            } else if let Some(i) = line.strip_prefix("ACKM ").and_then(|v| v.parse::<u64>().ok()) {
                acked_manifest = acked_manifest.max(i);
            }
        }
        if in_flight > 0 {
            kills_mid_upload += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        stale = put_balance(&srv);
        next = acked.last().copied().unwrap_or(0) + 1;
        println!("round {round}: killed after {} acks (PUTs in flight at the kill: {in_flight})", acked.len());
    }
    assert!(kills_mid_upload >= 1, "at least one kill must interrupt an upload in flight");

    // Final run: recover the spool and drain it.
    let mut child = child_command("drain", &spool_dir, &srv.endpoint(), 0, &stderr).spawn().expect("spawn drain");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut drained = None;
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(90), lines.next_line()).await {
        println!("child: {line}");
        if let Some(rest) = line.strip_prefix("DRAINED ") {
            drained = Some(rest.to_string());
        }
    }
    let status = child.wait().await.expect("wait");
    assert!(
        status.success() && drained.as_deref() == Some("true"),
        "drain run failed ({status:?}, {drained:?}); stderr:\n{}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );

    // Every acknowledged object is in S3 with the same bytes.
    assert!(acked.len() as u64 >= rounds * 2);
    for &i in &acked {
        assert_eq!(srv.object_on_disk(&seg_key(i)).map(|b| b == payload(i, seg_len(i))), Some(true), "segment {i}");
    }
    // Nothing partial was ever uploaded: every segment object in S3 (acknowledged or
    // not) is a whole, correct payload.
    let dir = srv.root.path().join(common::BUCKET).join("cam1/2026/11/21/s1");
    let mut stored = 0;
    for e in std::fs::read_dir(&dir).expect("bucket dir").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(i) = name.strip_prefix("v_").and_then(|n| n.strip_suffix(".m4s")).and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        assert_eq!(std::fs::read(e.path()).ok().map(|b| b == payload(i, seg_len(i))), Some(true), "stored segment {i}");
        stored += 1;
    }
    assert!(stored >= acked.len());
    if acked_manifest > 0 {
        let m = srv.object_on_disk(MANIFEST).expect("manifest stored");
        assert!(m.len() % 12 == 0 && m == manifest(m.len() as u64 / 12), "manifest is one whole version");
        assert!(m.len() as u64 / 12 >= acked_manifest, "manifest not older than the last acknowledged one");
    }
    assert_eq!(spool_files(&spool_dir, "obj") + spool_files(&spool_dir, "tmp") + spool_files(&spool_dir, "bad"), 0);
    println!(
        "kill9: {} acknowledged segments verified, manifest >= v{acked_manifest}, {kills_mid_upload}/{rounds} kills mid-upload",
        acked.len()
    );
}

/// The child process of `kill9_mid_upload_loses_no_acknowledged_object`; does nothing
/// unless started by it.
#[test]
#[ignore = "child process of kill9_mid_upload_loses_no_acknowledged_object"]
fn kill9_child() {
    let Ok(mode) = std::env::var("WISHCAST_KILL9_CHILD") else { return };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"));
    let spool_dir = std::path::PathBuf::from(var("WISHCAST_KILL9_SPOOL"));
    let endpoint = var("WISHCAST_KILL9_ENDPOINT");
    let start: u64 = var("WISHCAST_KILL9_START").parse().expect("start");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let (spool, report) = Spool::open_with_report(&spool_dir).expect("open spool");
        println!("RECOVERED {report:?}");
        let store = Store::new(&s3_config(&endpoint)).expect("store");
        let opts = MoverOptions {
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            ..MoverOptions::default()
        };
        let mover = Mover::spawn(spool.clone(), store, opts);
        if mode == "drain" {
            let ok = mover.flush(Duration::from_secs(60)).await;
            println!("DRAINED {ok}");
            println!("STATS {:?}", mover.stats());
            mover.shutdown().await;
            return;
        }
        for i in start..start + 2000 {
            spool.put(&path(&seg_key(i)), payload(i, seg_len(i))).await.expect("put segment");
            println!("ACK {i}");
            if i % 3 == 0 {
                spool.put(&path(MANIFEST), manifest(i)).await.expect("put manifest");
                println!("ACKM {i}");
            }
        }
        // Wait to be killed.
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
}
