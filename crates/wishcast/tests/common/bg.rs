//! [`Bg`]: a test driver running in the background (a publisher while a
//! viewer runs), output captured, killed on drop.
#![allow(dead_code)]

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::INSTALL_HINT;
use super::procs::{Log, pump};

pub struct Bg {
    pub what: String,
    child: Child,
    out: Log,
    err: Log,
    lines: mpsc::Receiver<String>,
}

impl Bg {
    pub fn spawn(what: &str, mut cmd: Command) -> Bg {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn {what} {cmd:?}: {e}; {INSTALL_HINT}"));
        let (out, err): (Log, Log) = (Arc::default(), Arc::default());
        let (tx, lines) = mpsc::channel();
        pump(child.stdout.take().unwrap(), out.clone(), Some(tx.clone()));
        pump(child.stderr.take().unwrap(), err.clone(), Some(tx));
        Bg { what: what.to_string(), child, out, err, lines }
    }

    /// Waits until a line of stdout or stderr contains `needle`; false on
    /// timeout or when the process ended first.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l.contains(needle) => return true,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Waits for the process to exit (killing it after `timeout`).
    pub fn finish(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => {
                    std::thread::sleep(Duration::from_millis(100));
                    return Some(st);
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    std::thread::sleep(Duration::from_millis(100));
                    return None;
                }
            }
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub fn logs(&self) -> String {
        format!(
            "--- {0} stdout ---\n{1}\n--- {0} stderr ---\n{2}",
            self.what,
            self.stdout(),
            super::procs::tail(&self.err.lock().unwrap(), 30_000)
        )
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
