//! `wishcast run` (the default command) and `wishcast manager -c`: the binary starts,
//! prints its machine-readable listening line, and the nodes register.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The child and the temp dir it runs in (its `liveman.db`, `./storage`, `./recordings`).
struct Proc(Child, std::path::PathBuf);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// Spawn the binary and wait for `wishcast manager listening on http://…`.
fn spawn(args: &[&str]) -> (Proc, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "wishcast-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wishcast"))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wishcast");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let proc = Proc(child, dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no `wishcast manager listening on` line from {args:?}"));
        if let Some(url) = line.strip_prefix("wishcast manager listening on ") {
            return (proc, url.trim().to_string());
        }
    }
}

/// A tiny HTTP/1.0 GET (no client dependency needed).
fn get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).expect("read");
    let status = buf.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn run_starts_a_manager_and_registered_nodes() {
    let (_p, url) = spawn(&["run", "--nodes", "3", "--listen", "127.0.0.1:0", "--base-port", "0"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&format!("{url}/api/nodes/"));
        assert_eq!(status, 200, "{body}");
        let running = body.matches("\"status\":\"running\"").count();
        if running == 3 && ["node1", "node2", "node3"].iter().all(|a| body.contains(&format!("\"alias\":\"{a}\""))) {
            break;
        }
        assert!(Instant::now() < deadline, "nodes did not register: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, page) = get(&format!("{url}/"));
    assert_eq!(status, 200);
    assert!(page.contains("wishcast dashboard"), "the dashboard at /: {page}");
}

#[test]
fn manager_subcommand_reads_liveman_toml() {
    let dir = std::env::temp_dir().join(format!("wishcast-manager-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("manager.toml");
    std::fs::write(
        &cfg,
        "[http]\nlisten = \"127.0.0.1:0\"\ncors = true\n[cascade]\nmode = \"pull\"\n[database]\nurl = \"sqlite://./liveman.db\"\n",
    )
    .unwrap();
    let (_p, url) = spawn(&["manager", "-c", cfg.to_str().unwrap()]);
    let (status, body) = get(&format!("{url}/api/nodes/"));
    assert_eq!((status, body.trim()), (200, "[]"));
    let _ = std::fs::remove_dir_all(&dir);
}
