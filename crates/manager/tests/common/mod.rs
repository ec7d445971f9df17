//! Helpers for the manager's integration tests: real nodes (in-process, or on their own
//! runtime so a test can kill one), a manager on loopback, a scriptable fake node, and
//! media helpers built on `wishcast-client`.
#![allow(dead_code)]

pub mod fake;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wishcast_client::synth;
use wishcast_client::{Kind, Publisher, Subscriber, VideoCodec};
use wishcast_manager::config::NodeEntry;
use wishcast_manager::{ManagerConfig, RunningManager};
use wishcast_node::{NodeConfig, RunningNode};

/// Generous: the suite runs on a loaded 2-core machine.
pub const CONNECT: Duration = Duration::from_secs(20);

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client")
}

/// A node config with everything on 127.0.0.1 and port 0.
pub fn node_config(max_sub: u32) -> NodeConfig {
    let mut cfg = NodeConfig::default();
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.webrtc.listen = "127.0.0.1:0".into();
    cfg.webrtc.tcp_listen = "127.0.0.1:0".into();
    cfg.strategy.each_stream_max_sub = max_sub;
    cfg
}

pub struct TestNode {
    pub node: RunningNode,
    pub base: String,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.node.task.abort();
    }
}

pub async fn start_node(cfg: NodeConfig) -> TestNode {
    let node = wishcast_node::start(cfg).await.expect("node starts");
    let base = format!("http://{}", node.http_addr);
    TestNode { node, base }
}

/// A node on its own runtime and thread: [`KillableNode::kill`] drops the runtime,
/// which closes every socket of the node at once (like a crashed process).
pub struct KillableNode {
    pub base: String,
    pub http_addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KillableNode {
    pub fn start(cfg: NodeConfig) -> KillableNode {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
            rt.block_on(async move {
                let n = wishcast_node::start(cfg).await.expect("node starts");
                let _ = ready_tx.send(n.http_addr);
                let _ = stop_rx.await;
            });
            drop(rt);
        });
        let http_addr = ready_rx.recv_timeout(Duration::from_secs(20)).expect("killable node started");
        KillableNode { base: format!("http://{http_addr}"), http_addr, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn kill(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for KillableNode {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct TestManager {
    pub m: RunningManager,
    pub base: String,
    pub http: reqwest::Client,
}

/// A manager on 127.0.0.1:0 with fast health checks and the given edits.
pub async fn start_manager(edit: impl FnOnce(&mut ManagerConfig)) -> TestManager {
    let mut cfg = ManagerConfig::default();
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.database.url = "sqlite::memory:".into();
    edit(&mut cfg);
    let m = wishcast_manager::start(cfg).await.expect("manager starts");
    let base = format!("http://{}", m.http_addr);
    TestManager { m, base, http: http() }
}

pub fn static_node(alias: &str, base: &str) -> NodeEntry {
    NodeEntry { alias: alias.into(), url: base.into(), ..Default::default() }
}

impl TestManager {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> serde_json::Value {
        let mut rq = self.http.get(self.url(path));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        let r = rq.send().await.expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    pub async fn nodes(&self) -> Vec<serde_json::Value> {
        self.get_json("/api/nodes/", None).await.as_array().cloned().unwrap_or_default()
    }

    pub async fn node_status(&self, alias: &str) -> Option<String> {
        self.nodes()
            .await
            .into_iter()
            .find(|n| n["alias"] == alias)
            .map(|n| n["status"].as_str().unwrap_or("").to_string())
    }

    /// [`TestManager::wait_running`] on a manager with auth on.
    pub async fn wait_running_auth(&self, aliases: &[&str], token: &str) {
        for a in aliases {
            wait_until(&format!("node {a} running"), CONNECT, || async {
                let v = self.get_json("/api/nodes/", Some(token)).await;
                v.as_array().is_some_and(|l| l.iter().any(|n| n["alias"] == *a && n["status"] == "running"))
            })
            .await;
        }
    }

    /// Wait until every alias is `running`.
    pub async fn wait_running(&self, aliases: &[&str]) {
        for a in aliases {
            wait_until(&format!("node {a} running"), CONNECT, || async {
                self.node_status(a).await.as_deref() == Some("running")
            })
            .await;
        }
    }

    /// Which node holds each session of a stream (from `GET /api/streams/{id}`).
    pub async fn holders(&self, stream: &str) -> serde_json::Value {
        self.get_json(&format!("/api/streams/{stream}"), None).await
    }
}

/// Poll `f` every 50 ms until it returns true; panic after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    loop {
        if f().await {
            return;
        }
        if Instant::now() >= end {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A publisher sending VP8 (keyframe every second) and audio at 30 fps until stopped.
pub struct Pump {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Publisher>,
}

impl Pump {
    pub fn start(mut p: Publisher) -> Pump {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(33));
            let mut seq = 0u32;
            while !s.load(Ordering::Relaxed) {
                tick.tick().await;
                let key = seq.is_multiple_of(30);
                let size = if key { 6000 } else { 1500 };
                let _ = p.send_video_frame(synth::video_frame(VideoCodec::Vp8, seq, size, key), key).await;
                let _ = p.send_audio(synth::audio_frame(seq, 160)).await;
                seq += 1;
            }
            p
        });
        Pump { stop, task }
    }

    pub async fn stop(self) -> Publisher {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("pump task")
    }
}

/// Wait until `n` intact video frames arrived, the first a keyframe.
pub async fn assert_plays(who: &str, s: &mut Subscriber, n: usize) {
    let end = Instant::now() + CONNECT;
    let mut got = 0;
    let mut first_key = None;
    while got < n {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{who}: only {got} video frames decoded in {CONNECT:?}");
        let Some(f) = s.recv_media(left).await else { panic!("{who}: media ended after {got} frames") };
        if f.kind != Kind::Video {
            continue;
        }
        let c = synth::check_frame(&f.data).unwrap_or_else(|| panic!("{who}: unreadable frame"));
        assert!(c.intact, "{who}: corrupted frame {}", c.seq);
        first_key.get_or_insert(f.keyframe);
        got += 1;
    }
    assert_eq!(first_key, Some(true), "{who}: first frame is not a keyframe");
}
