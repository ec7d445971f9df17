//! Helpers for integration tests that drive the compiled `wishcast` binary.
//!
//! * [`Node`] writes a config to a temp dir, starts `wishcast node -c cfg`,
//!   waits (20 s max) for the `wishcast node listening on http://…` line and
//!   kills the process on drop. Its stdout/stderr are captured so a failing
//!   test can print the server's log.
//! * [`run_script`] runs an external test driver (node / python) with a
//!   timeout and panics with its stdout/stderr (and the server log) unless it
//!   exits 0.
//! * [`require_browser_deps`] / [`require_aiortc`] FAIL (never skip) when the
//!   external dependencies are missing, pointing at `scripts/install-test-deps`.
#![allow(dead_code)]

pub mod bg;
pub mod netns;
pub mod procs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const INSTALL_HINT: &str = "run `scripts/install-test-deps` (as root) from the repository root";

/// Default test config: everything on loopback, ephemeral ports.
pub const DEFAULT_CONFIG: &str = r#"
[http]
listen = "127.0.0.1:0"
cors = true

[webrtc]
listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
"#;

/// Root of the cargo workspace (where package.json and tests/ live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Serialises heavy tests inside one test binary (`cargo test` runs tests
/// on threads; nextest runs each in its own process and uses a test group).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

use procs::{Log, pump};

/// A running `wishcast node`; killed when dropped.
pub struct Node {
    child: Child,
    /// Base URL from the listening line, e.g. `http://127.0.0.1:34567`.
    pub url: String,
    stdout: Log,
    stderr: Log,
    dir: TempDir,
}

/// A unique temporary directory, removed on drop (no extra dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "wishcast-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Node {
    /// Starts a node with [`DEFAULT_CONFIG`].
    pub fn start_default() -> Node {
        Node::start(DEFAULT_CONFIG)
    }

    /// Starts `wishcast node -c <config>` and waits for its listening line.
    pub fn start(config: &str) -> Node {
        let dir = TempDir::new();
        let cfg = dir.0.join("node.toml");
        std::fs::write(&cfg, config).expect("write config");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wishcast"));
        cmd.arg("node").arg("-c").arg(&cfg);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        let mut child = cmd.spawn().expect("spawn wishcast node");
        let stdout: Log = Arc::default();
        let stderr: Log = Arc::default();
        let (tx, rx) = mpsc::channel();
        pump(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        pump(child.stderr.take().unwrap(), stderr.clone(), None);

        let re_prefix = "listening on ";
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(pos) = line.find(re_prefix) {
                        let rest = &line[pos + re_prefix.len()..];
                        let url: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                        if url.starts_with("http://") {
                            break url.trim_end_matches('/').to_string();
                        }
                    }
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    let _ = child.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "wishcast node did not print `listening on http://…` within 20 s \
                         (exit status: {status:?})\nconfig:\n{config}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        String::from_utf8_lossy(&stdout.lock().unwrap()),
                        String::from_utf8_lossy(&stderr.lock().unwrap()),
                    );
                }
            }
        };
        Node { child, url, stdout, stderr, dir }
    }

    /// The server's captured output so far (the tail of it when long).
    pub fn logs(&self) -> String {
        fn tail(v: &[u8]) -> String {
            let s = String::from_utf8_lossy(v);
            let max = 60_000;
            if s.len() > max {
                let mut i = s.len() - max;
                while !s.is_char_boundary(i) {
                    i += 1;
                }
                format!("…{}", &s[i..])
            } else {
                s.into_owned()
            }
        }
        format!(
            "--- wishcast stdout ---\n{}\n--- wishcast stderr ---\n{}",
            tail(&self.stdout.lock().unwrap()),
            tail(&self.stderr.lock().unwrap())
        )
    }

    /// Whether the server process is still alive.
    pub fn config_dir(&self) -> &Path {
        &self.dir.0
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` (stdout/stderr captured) for at most `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> (Option<std::process::ExitStatus>, String, String) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}; {INSTALL_HINT}"));
    let out: Log = Arc::default();
    let err: Log = Arc::default();
    pump(child.stdout.take().unwrap(), out.clone(), None);
    pump(child.stderr.take().unwrap(), err.clone(), None);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    // Let the pump threads drain the pipes.
    std::thread::sleep(Duration::from_millis(100));
    let o = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    let e = String::from_utf8_lossy(&err.lock().unwrap()).into_owned();
    (status, o, e)
}

/// Runs a test driver; panics with everything useful unless it exits 0.
/// Returns the driver's stdout (its last line is a JSON result).
pub fn run_script(what: &str, cmd: Command, node: Option<&Node>, timeout: Duration) -> String {
    let shown = format!("{cmd:?}");
    let started = Instant::now();
    let (status, out, err) = run_with_timeout(cmd, timeout);
    let ok = status.map(|s| s.success()).unwrap_or(false);
    // Always show the result line (nextest/cargo show it on failure or with --no-capture).
    println!("{what}: {} ({:.1} s)", out.trim(), started.elapsed().as_secs_f64());
    if !ok {
        let why = match status {
            None => format!("timed out after {} s", timeout.as_secs()),
            Some(s) => format!("exited with {s}"),
        };
        panic!(
            "{what} FAILED: {why}\ncommand: {shown}\n--- script stdout ---\n{out}\n--- script stderr ---\n{err}\n{}",
            node.map(|n| n.logs()).unwrap_or_default()
        );
    }
    out
}

fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|p| p.join(cmd)).find(|p| p.is_file())
}

/// Chromium binary used by the browser tests.
pub fn chromium_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM_PATH") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Panics (the test FAILS) unless node, node_modules/playwright-core and
/// Chromium are installed.
pub fn require_browser_deps() {
    let mut missing = Vec::new();
    if which("node").is_none() {
        missing.push("`node` (Node.js) on PATH".to_string());
    }
    if !repo_root().join("node_modules/playwright-core/package.json").is_file() {
        missing.push(format!("{}/node_modules/playwright-core (npm ci)", repo_root().display()));
    }
    if chromium_path().is_none() {
        missing.push("Chromium: /usr/bin/chromium or $CHROMIUM_PATH (apt-get install chromium)".to_string());
    }
    if !missing.is_empty() {
        panic!("browser test dependencies missing: {}; {INSTALL_HINT}", missing.join(", "));
    }
}

/// Python interpreter used by the aiortc tests (`WISHCAST_PYTHON` overrides).
pub fn python() -> String {
    std::env::var("WISHCAST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Panics (the test FAILS) unless `python3 -c "import aiortc"` works.
pub fn require_aiortc() {
    let out: Result<Output, _> = Command::new(python()).args(["-c", "import aiortc, av"]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "aiortc is not importable by `{}`: {}; {INSTALL_HINT}",
            python(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run `{}`: {e}; {INSTALL_HINT}", python()),
    }
}

/// `node tests/browser/e2e.mjs --base URL --scenario NAME --codec CODEC [extra…]`
pub fn browser_scenario(node: &Node, scenario: &str, codec: &str, extra: &[&str]) -> String {
    require_browser_deps();
    let root = repo_root();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg(root.join("tests/browser/e2e.mjs"))
        .args(["--base", &node.url, "--scenario", scenario, "--codec", codec])
        .args(extra);
    if let Some(p) = chromium_path() {
        cmd.env("CHROMIUM_PATH", p);
    }
    run_script(&format!("browser {scenario} {codec}"), cmd, Some(node), Duration::from_secs(110))
}

/// `python3 tests/aiortc/e2e.py --base URL --codec CODEC [extra…]`
pub fn aiortc_scenario(node: &Node, codec: &str, extra: &[&str]) -> String {
    require_aiortc();
    let root = repo_root();
    let mut cmd = Command::new(python());
    cmd.current_dir(&root)
        .arg(root.join("tests/aiortc/e2e.py"))
        .args(["--base", &node.url, "--codec", codec])
        .args(extra);
    run_script(&format!("aiortc {codec}"), cmd, Some(node), Duration::from_secs(90))
}
