//! Child processes for end-to-end tests: [`Proc`] spawns the compiled `wishcast`
//! (or any program) in a temp dir, waits for its ready line, captures its output and
//! kills it on drop; [`TempDir`] is a unique directory removed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::INSTALL_HINT;

pub type Log = Arc<Mutex<Vec<u8>>>;

pub fn pump<R: Read + Send + 'static>(r: R, log: Log, tee: Option<mpsc::Sender<String>>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    {
                        let mut l = log.lock().unwrap();
                        l.extend_from_slice(&line);
                        if l.len() > 8 << 20 {
                            let cut = l.len() / 2;
                            l.drain(..cut);
                        }
                    }
                    if let Some(tx) = &tee {
                        let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                    }
                }
            }
        }
    });
}

pub fn tail(v: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(v);
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

/// A unique temporary directory, removed on drop.
pub struct TempDir(pub PathBuf, bool);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "wishcast-e2e-cluster-{what}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p, true)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }
}

impl TempDir {
    /// A handle on a directory someone else owns (not removed on drop).
    pub fn borrowed(p: &Path) -> TempDir {
        TempDir(p.to_path_buf(), false)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// A child process (wishcast or turnserver) with captured output; killed on drop.
pub struct Proc {
    pub name: String,
    pub child: Child,
    stdout: Log,
    stderr: Log,
    _dir: TempDir,
}

impl Proc {
    /// Spawns `program args…` and waits (`wait_for`) until `ready` returns Some for
    /// a stdout line; returns that value.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        dir: TempDir,
        wait_for: Duration,
        ready: impl Fn(&str) -> Option<String>,
    ) -> (Proc, String) {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(&dir.0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child =
            cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn {name} ({}): {e}; {INSTALL_HINT}", program.display()));
        let stdout: Log = Arc::default();
        let stderr: Log = Arc::default();
        let (tx, rx) = mpsc::channel();
        pump(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        pump(child.stderr.take().unwrap(), stderr.clone(), None);
        let mut p = Proc { name: name.to_string(), child, stdout, stderr, _dir: dir };
        let deadline = Instant::now() + wait_for;
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(v) = ready(line.trim_end()) {
                        return (p, v);
                    }
                }
                Err(_) => {
                    let status = p.child.try_wait().ok().flatten();
                    let _ = p.child.kill();
                    let _ = p.child.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "{name} did not become ready within {wait_for:?} (exit status {status:?}); args {args:?}\n{}",
                        p.logs()
                    );
                }
            }
        }
    }

    /// `wishcast <args>`, ready at `wishcast {what} listening on http://…`.
    pub fn wishcast(name: &str, args: &[&str], dir: TempDir, what: &str) -> (Proc, String) {
        let prefix = format!("wishcast {what} listening on ");
        Proc::spawn(name, Path::new(env!("CARGO_BIN_EXE_wishcast")), args, dir, Duration::from_secs(30), |l| {
            l.strip_prefix(&prefix)
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| u.starts_with("http://"))
        })
    }

    /// `wishcast node -c node.toml`.
    pub fn node(name: &str, config: &str) -> (Proc, String) {
        let dir = TempDir::new(name);
        let cfg = dir.write("node.toml", config);
        Proc::wishcast(name, &["node", "-c", cfg.to_str().unwrap()], dir, "node")
    }

    /// `wishcast manager -c manager.toml`.
    pub fn manager(config: &str) -> (Proc, String) {
        let dir = TempDir::new("manager");
        let cfg = dir.write("manager.toml", config);
        Proc::wishcast("manager", &["manager", "-c", cfg.to_str().unwrap()], dir, "manager")
    }

    /// `wishcast run --nodes N` on loopback, any free ports, with both configs.
    pub fn run(nodes: u16, manager_config: &str, node_config: &str) -> (Proc, String) {
        let dir = TempDir::new("run");
        let m = dir.write("manager.toml", manager_config);
        let n = dir.write("node.toml", node_config);
        let nodes = nodes.to_string();
        let args = [
            "run",
            "--nodes",
            &nodes,
            "--listen",
            "127.0.0.1:0",
            "--base-port",
            "0",
            "-c",
            m.to_str().unwrap(),
            "--node-config",
            n.to_str().unwrap(),
        ];
        Proc::wishcast("wishcast run", &args, dir, "manager")
    }

    pub fn logs(&self) -> String {
        format!(
            "--- {0} stdout ---\n{1}\n--- {0} stderr ---\n{2}",
            self.name,
            tail(&self.stdout.lock().unwrap(), 40_000),
            tail(&self.stderr.lock().unwrap(), 40_000)
        )
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
