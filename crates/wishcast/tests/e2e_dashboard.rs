//! End-to-end test of the embedded dashboard: the compiled `wishcast` binary
//! (`wishcast run` with a login account, and a standalone `wishcast node` with a
//! token) driven by headless Chromium through tests/browser/dashboard.mjs
//! (playwright-core). What the script checks is listed at its top: login, nodes,
//! drain/undrain, publish from the page, preview decodes, a minted token works for
//! WHEP, kick, recordings page, phone-width layout, no console errors.
//!
//! Screenshots of every page (1280×720 and 375×812) are written to
//! `<target dir>/dashboard-screenshots/` (the target dir of this build, so
//! `CARGO_TARGET_DIR` is respected).
//!
//! Needs Chromium, Node.js + `npm ci`: `scripts/install-test-deps`. Missing
//! dependencies make these tests FAIL, never skip. Under nextest they run one at a
//! time (.config/nextest.toml, group `browser`).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{DEFAULT_CONFIG, Node, chromium_path, repo_root, require_browser_deps, run_with_timeout, serial};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(110);
const USER: &str = "admin";
const PASSWORD: &str = "dashboard-e2e-pw";

/// `<target dir>/dashboard-screenshots`, from where this build put the binary.
fn screenshot_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_wishcast"));
    let target = bin.parent().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    target.join("dashboard-screenshots")
}

/// `wishcast run` on loopback with any free ports; killed (with its temp dir removed) on drop.
struct Cluster {
    child: Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    dir: PathBuf,
}

impl Cluster {
    fn start(manager_toml: &str, node_toml: &str) -> Cluster {
        let dir = std::env::temp_dir().join(format!("wishcast-e2e-dashboard-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cfg = dir.join("manager.toml");
        std::fs::write(&cfg, manager_toml).expect("write manager.toml");
        let node_cfg = dir.join("node.toml");
        std::fs::write(&node_cfg, node_toml).expect("write node.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wishcast"))
            .args(["run", "--nodes", "2", "--listen", "127.0.0.1:0", "--base-port", "0", "-c"])
            .arg(&cfg)
            .arg("--node-config")
            .arg(&node_cfg)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wishcast run");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        for (r, tee) in [
            (Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>, Some(tx)),
            (Box::new(child.stderr.take().expect("stderr")), None),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock()
                        && l.len() < 4 << 20
                    {
                        l.push_str(&line);
                        l.push('\n');
                    }
                    if let Some(tx) = &tee {
                        let _ = tx.send(line);
                    }
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(u) = line.strip_prefix("wishcast manager listening on ") {
                        break u.trim().trim_end_matches('/').to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "wishcast run did not print its listening line in 30 s:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    );
                }
            }
        };
        Cluster { child, url, log, dir }
    }

    fn logs(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn dashboard_script(base: &str, args: &[&str], logs: impl Fn() -> String) -> String {
    require_browser_deps();
    let root = repo_root();
    let shots = screenshot_dir();
    // Stale screenshots of an earlier run must not pass for this run's.
    let prefix = format!("{}-", args.iter().skip_while(|a| **a != "--scenario").nth(1).copied().unwrap_or("x"));
    if let Ok(entries) = std::fs::read_dir(&shots) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg(root.join("tests/browser/dashboard.mjs"))
        .args(["--base", base, "--timeout-s", &(SCRIPT_TIMEOUT.as_secs() - 5).to_string()])
        .arg("--screenshots")
        .arg(&shots)
        .args(args);
    if let Some(p) = chromium_path() {
        cmd.env("CHROMIUM_PATH", p);
    }
    let shown = format!("{cmd:?}");
    let started = Instant::now();
    let (status, out, err) = run_with_timeout(cmd, SCRIPT_TIMEOUT);
    println!(
        "browser dashboard: {} ({:.1} s); screenshots in {}",
        out.trim(),
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    if !status.is_some_and(|s| s.success()) {
        panic!(
            "browser dashboard FAILED ({status:?})\ncommand: {shown}\n--- script stdout ---\n{out}\n--- script stderr ---\n{err}\n--- server log ---\n{}",
            logs()
        );
    }
    out
}

/// `wishcast run` (2 nodes, one viewer per stream each) with `[[auth.accounts]]`: the
/// full operator walk-through of the dashboard served by the manager, including a
/// cascade shown as a tree.
#[test]
fn dashboard_on_wishcast_run_login_nodes_publish_preview_token_kick_drain_phone_width() {
    let _g = serial();
    require_browser_deps();
    let cfg = format!(
        "[auth]\nsecret = \"dashboard-e2e-secret\"\n[[auth.accounts]]\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n"
    );
    // One viewer per stream and node, so a second viewer is cascaded to the other node.
    let cluster = Cluster::start(&cfg, "[strategy]\neach_stream_max_sub = 1\n");
    let out =
        dashboard_script(&cluster.url, &["--scenario", "cluster", "--user", USER, "--password", PASSWORD], || {
            cluster.logs()
        });
    assert!(out.contains("\"ok\":true"), "{out}");
    assert!(out.contains("\"tokenWhepStatus\":201"), "{out}");
    // `wishcast run` records (fs storage, sqlite index in its working dir): the
    // recording started from the page must be listed and play in dash.js.
    assert!(out.contains("\"recording\":\"recorded and played\""), "{out}");
    for page in ["login", "cluster", "streams", "preview", "publish", "recordings"] {
        for size in ["1280x720", "375x812"] {
            let f = screenshot_dir().join(format!("cluster-{page}-{size}.png"));
            let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "screenshot {} missing or empty ({len} bytes)", f.display());
        }
    }
}

/// A standalone node serves the same app: token login, no cluster page; simulcast
/// publish, preview and layer choice; record from the page and play it back with
/// dash.js (the node has a `[recorder]` with fs storage in a temp dir).
#[test]
fn dashboard_on_a_standalone_node_hides_cluster_pages_plays_and_records() {
    let _g = serial();
    require_browser_deps();
    let dir = TempDir::new("node-rec");
    let p = |name: &str| dir.0.join(name).display().to_string();
    let cfg = format!(
        "{DEFAULT_CONFIG}\n[auth]\ntokens = [\"node-admin-token\"]\n\n[recorder]\nspool_dir = \"{}\"\nindex_path = \"{}\"\nsegment_seconds = 2.0\n\n[recorder.storage]\ntype = \"fs\"\nroot = \"{}\"\n",
        p("spool"),
        p("journal.jsonl"),
        p("storage")
    );
    let node = Node::start(&cfg);
    let out = dashboard_script(&node.url, &["--scenario", "node", "--token", "node-admin-token"], || node.logs());
    assert!(out.contains("\"ok\":true"), "{out}");
    assert!(out.contains("\"recording\":\"recorded and played\""), "{out}");
}

/// A unique temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!("wishcast-e2e-dashboard-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
