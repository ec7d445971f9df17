//! The I/O edge of the media plane: binds the UDP sockets and the passive ICE-TCP
//! listeners and starts the media workers ([`crate::io::worker`]), each a thread with its
//! own [`Sfu`] on a current-thread tokio runtime. The control plane talks to them
//! through [`MediaHandle`] ([`crate::io::handle`]).
//!
//! Socket layout: one reader per UDP socket (worker 0) routes each datagram to its
//! worker: a STUN check by the worker character its ufrag starts with, anything else
//! by the source address a worker proved with STUN (the shared route table, written
//! by the workers, read by the reader). Every worker sends its own datagrams with
//! `sendmmsg` on a duplicate of the socket's file descriptor. docs/performance.md
//! has the measurements behind this choice (vs one SO_REUSEPORT socket per worker).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use wishcast_api::Strategy;

use crate::core::Sfu;
use crate::core::config::SfuConfig;
use crate::core::metrics::Metrics;
use crate::core::placement::MAX_WORKERS;
use crate::io::addrs::{Binding, with_port};
use crate::io::handle::MediaHandle;
use crate::io::tcp::{TcpIn, accept_loop};
use crate::io::worker::{self, Routes, WorkerIo};

/// What to bind and advertise.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    pub udp: Vec<Binding>,
    pub tcp: Vec<Binding>,
    /// Test/firewall mode: advertise only the TCP candidates.
    pub advertise_udp: bool,
    pub strategy: Strategy,
    /// Media worker threads; 0 = one per core (`webrtc.workers`).
    pub workers: usize,
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The worker count `webrtc.workers = n` means on this machine.
pub fn effective_workers(n: usize) -> usize {
    let n = if n == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { n };
    n.clamp(1, MAX_WORKERS)
}

/// Bind every socket, then start the media workers.
pub async fn start(cfg: DriverConfig) -> io::Result<MediaHandle> {
    let workers = effective_workers(cfg.workers);
    let mut sockets: Vec<(std::net::UdpSocket, SocketAddr)> = Vec::new();
    let mut udp_port = 0u16;
    let mut udp_candidates = Vec::new();
    for b in &cfg.udp {
        let want = if b.bind.port() == 0 && udp_port != 0 { with_port(b, udp_port) } else { b.clone() };
        let sock = std::net::UdpSocket::bind(want.bind)
            .map_err(|e| io::Error::new(e.kind(), format!("webrtc.listen: cannot bind UDP {}: {e}", want.bind)))?;
        sock.set_nonblocking(true)?;
        set_buffers(&sock, SOCKET_BUFFER);
        let real = sock.local_addr()?;
        udp_port = real.port();
        let fixed = with_port(&want, real.port());
        // The address str0m sees as the destination of datagrams on this socket.
        let identity = fixed.advertise.first().copied().unwrap_or(real);
        if cfg.advertise_udp {
            udp_candidates.extend(fixed.advertise.iter().copied());
        }
        sockets.push((sock, identity));
    }
    let mut tcp_txs = Vec::with_capacity(workers);
    let mut tcp_rxs = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (tx, rx) = mpsc::channel::<TcpIn>(4096);
        tcp_txs.push(tx);
        tcp_rxs.push(rx);
    }
    let mut tcp_candidates = Vec::new();
    let mut tcp_addrs = Vec::new();
    let mut tcp_port = 0u16;
    for b in &cfg.tcp {
        let want = if b.bind.port() == 0 && tcp_port != 0 { with_port(b, tcp_port) } else { b.clone() };
        let l = TcpListener::bind(want.bind)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("webrtc.tcp_listen: cannot bind TCP {}: {e}", want.bind)))?;
        let real = l.local_addr()?;
        tcp_port = real.port();
        let fixed = with_port(&want, real.port());
        let identity = fixed.advertise.first().copied().unwrap_or(real);
        tcp_candidates.extend(fixed.advertise.iter().copied());
        tcp_addrs.push(real);
        tokio::spawn(accept_loop(l, identity, tcp_txs.clone()));
    }
    let metrics = Arc::new(Metrics::default());
    let (events, _) = broadcast::channel(1024);
    let (relay_tx, relay_rx) = mpsc::unbounded_channel();
    let udp_addrs: Vec<SocketAddr> = sockets.iter().filter_map(|(s, _)| s.local_addr().ok()).collect();
    let routes: Routes = Arc::new(RwLock::new(HashMap::new()));

    // Channels between workers: commands, bridge messages, routed datagrams.
    let mut cmd_txs = Vec::new();
    let mut cmd_rxs = Vec::new();
    let mut bridge_txs = Vec::new();
    let mut bridge_rxs = Vec::new();
    let mut dgram_txs = Vec::new();
    let mut dgram_rxs = Vec::new();
    for _ in 0..workers {
        let (t, r) = mpsc::unbounded_channel();
        cmd_txs.push(t);
        cmd_rxs.push(r);
        let (t, r) = mpsc::channel(worker::BRIDGE_QUEUE);
        bridge_txs.push(t);
        bridge_rxs.push(r);
        let (t, r) = mpsc::channel(worker::DATAGRAM_QUEUE);
        dgram_txs.push(t);
        dgram_rxs.push(r);
    }
    let mut loads = Vec::new();
    let mut cert = None;
    let epoch = Instant::now();
    let epoch_ms = unix_ms();
    let mut tcp_rxs = tcp_rxs.into_iter();
    let mut cmd_rxs = cmd_rxs.into_iter();
    let mut bridge_rxs = bridge_rxs.into_iter();
    let mut dgram_rxs = dgram_rxs.into_iter();
    for (w, tcp_tx) in tcp_txs.iter().enumerate() {
        let sfu_cfg = SfuConfig {
            udp_candidates: udp_candidates.clone(),
            tcp_candidates: tcp_candidates.clone(),
            strategy: cfg.strategy.clone(),
            worker: w,
            workers,
            ..Default::default()
        };
        let mut sfu = Sfu::new(sfu_cfg, epoch, epoch_ms, metrics.clone());
        // One DTLS certificate per node: all workers share worker 0's.
        match &cert {
            None => cert = sfu.dtls_cert().cloned(),
            Some(c) => sfu.set_dtls_cert(Some(c.clone())),
        }
        loads.push(sfu.load_gauge());
        // Worker 0 owns the sockets for reading; every worker sends on a duplicate.
        let mut send_socks = Vec::with_capacity(sockets.len());
        for (s, id) in &sockets {
            send_socks.push((s.try_clone()?, *id));
        }
        let read_socks = if w == 0 {
            let mut v = Vec::new();
            for (s, id) in &sockets {
                v.push((s.try_clone()?, *id));
            }
            v
        } else {
            Vec::new()
        };
        let (Some(tcp_rx), Some(cmds), Some(bridge_rx), Some(dgram_rx)) =
            (tcp_rxs.next(), cmd_rxs.next(), bridge_rxs.next(), dgram_rxs.next())
        else {
            return Err(io::Error::other("media worker channels"));
        };
        let io = WorkerIo {
            read_socks,
            send_socks,
            cmds,
            bridge_rx,
            bridge_txs: bridge_txs.clone(),
            dgram_rx,
            dgram_txs: dgram_txs.clone(),
            tcp_rx,
            tcp_tx: tcp_tx.clone(),
            routes: routes.clone(),
            events: events.clone(),
            relay_closed: relay_tx.clone(),
        };
        std::thread::Builder::new().name(format!("wishcast-mw{w}")).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("media runtime failed to start: {e}");
                    return;
                }
            };
            rt.block_on(worker::run(sfu, io))
        })?;
    }
    drop(sockets);
    Ok(MediaHandle::new(
        cmd_txs,
        loads.into_iter().map(|l: Arc<AtomicU64>| l).collect(),
        metrics,
        events,
        udp_addrs,
        tcp_addrs,
        relay_rx,
    ))
}

/// Kernel buffer size asked for on media sockets: a keyframe fanned out to hundreds of
/// subscribers is a large burst, and so is their feedback.
const SOCKET_BUFFER: libc::c_int = 8 * 1024 * 1024;

/// Best effort: raise SO_RCVBUF/SO_SNDBUF (the kernel caps them at net.core.*mem_max;
/// as root the FORCE variants lift the cap).
#[allow(unsafe_code)] // setsockopt
fn set_buffers(sock: &std::net::UdpSocket, size: libc::c_int) {
    use std::os::fd::AsRawFd;
    let fd = sock.as_raw_fd();
    for (force, plain) in [(libc::SO_RCVBUFFORCE, libc::SO_RCVBUF), (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)] {
        let p = (&size as *const libc::c_int).cast::<libc::c_void>();
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `fd` is a live socket and `p` points at a c_int of `len` bytes.
        let forced = unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, force, p, len) } == 0;
        if !forced {
            // SAFETY: as above.
            let _ = unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, plain, p, len) };
        }
    }
}
