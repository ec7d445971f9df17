//! Test fixtures: temporary directories and an in-process S3 server (s3s-fs, with
//! SigV4 checking) that can be stopped and started again on the same port and that
//! logs the PUTs it receives in order.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::task::JoinHandle;
use wishcast_storage::{StorageConfig, StorageKind, Store};

pub const AK: &str = "wishcast-test-ak";
pub const SK: &str = "wishcast-test-secret-key";
pub const BUCKET: &str = "recordings";

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!("wishcast-storage-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One request the server saw: `start` when it arrived, `end` when it was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// method, path, content-length
    Start(String, String, Option<u64>),
    End(String, String, u16),
}

/// In-process S3 (s3s-fs) on 127.0.0.1.
pub struct S3Server {
    pub addr: SocketAddr,
    pub root: TempDir,
    pub log: Arc<Mutex<Vec<Event>>>,
    /// Extra delay before answering each PUT (to widen "mid-upload" windows).
    pub put_delay: Arc<Mutex<Duration>>,
    accept: Mutex<Option<JoinHandle<()>>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = TempDir::new("s3");
        std::fs::create_dir_all(root.path().join(BUCKET)).expect("bucket dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let s = S3Server {
            addr,
            root,
            log: Arc::default(),
            put_delay: Arc::new(Mutex::new(Duration::ZERO)),
            accept: Mutex::new(None),
            conns: Arc::default(),
        };
        s.serve(listener);
        s
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let fs = s3s_fs::FileSystem::new(self.root.path()).expect("s3s-fs");
        let mut b = S3ServiceBuilder::new(fs);
        b.set_auth(SimpleAuth::from_single(AK, SK));
        let service = b.build();
        let log = self.log.clone();
        let delay = self.put_delay.clone();
        let conns = self.conns.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { continue };
                let service = service.clone();
                let log = log.clone();
                let delay = delay.clone();
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let service = service.clone();
                    let log = log.clone();
                    let method = req.method().to_string();
                    let path = req.uri().path().to_string();
                    let d = if method == "PUT" { *delay.lock().unwrap() } else { Duration::ZERO };
                    let len =
                        req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
                    log.lock().unwrap().push(Event::Start(method.clone(), path.clone(), len));
                    async move {
                        if !d.is_zero() {
                            tokio::time::sleep(d).await;
                        }
                        let r = hyper::service::Service::call(&service, req).await;
                        let status = r.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                        log.lock().unwrap().push(Event::End(method, path, status));
                        r
                    }
                });
                let conn = tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(sock), svc).await;
                });
                conns.lock().unwrap().push(conn);
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    /// Refuse connections and cut the open ones (storage outage).
    pub fn stop(&self) {
        if let Some(t) = self.accept.lock().unwrap().take() {
            t.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// Serve again on the same port with the same data.
    pub async fn restart(&self) {
        self.stop();
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("rebind {}: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    pub fn config(&self) -> StorageConfig {
        s3_config(&self.endpoint())
    }

    pub fn store(&self) -> Store {
        Store::new(&self.config()).expect("s3 store")
    }

    /// The object as s3s-fs keeps it on disk (independent of the client under test).
    pub fn object_on_disk(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.path().join(BUCKET).join(key)).ok()
    }

    pub fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Store config for the test server at `endpoint`.
pub fn s3_config(endpoint: &str) -> StorageConfig {
    StorageConfig {
        kind: StorageKind::S3,
        bucket: BUCKET.into(),
        root: Some("/".into()),
        region: "us-east-1".into(),
        endpoint: endpoint.into(),
        access_key_id: AK.into(),
        secret_access_key: SK.into(),
        disable_config_load: true,
        ..StorageConfig::default()
    }
}

/// Deterministic pseudo-random bytes for object `i` of `len` bytes.
pub fn payload(i: u64, len: usize) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Files in a spool directory with the given extension.
pub fn spool_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().filter(|e| e.path().extension().is_some_and(|x| x == ext)).count())
        .unwrap_or(0)
}
