//! The I/O edge of the media plane: binds the UDP sockets and the passive ICE-TCP
//! listeners, and runs one [`Sfu`] on one tokio task. The control plane talks to it
//! through [`MediaHandle::call`], which runs a closure on the media task.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use str0m::net::Protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{broadcast, mpsc, oneshot};
use wishcast_api::Strategy;

use crate::addrs::{with_port, Binding};
use crate::core::{RelayClosed, Sfu, SfuConfig, SfuEvent};
use crate::error::SfuError;
use crate::metrics::Metrics;
use crate::batch_send::SendBatch;
use crate::tcp_framing::{frame, FrameReader};

type Cmd = Box<dyn FnOnce(&mut Sfu, Instant) + Send>;

/// What to bind and advertise.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    pub udp: Vec<Binding>,
    pub tcp: Vec<Binding>,
    /// Test/firewall mode: advertise only the TCP candidates.
    pub advertise_udp: bool,
    pub strategy: Strategy,
}

/// A cheap, cloneable handle to the running media plane.
#[derive(Clone)]
pub struct MediaHandle {
    tx: mpsc::UnboundedSender<Cmd>,
    pub metrics: Arc<Metrics>,
    pub events: broadcast::Sender<SfuEvent>,
    /// Bound UDP sockets (real ports).
    pub udp_addrs: Vec<SocketAddr>,
    /// Bound TCP listeners (real ports).
    pub tcp_addrs: Vec<SocketAddr>,
    relay_closed: Arc<std::sync::Mutex<Option<mpsc::UnboundedReceiver<RelayClosed>>>>,
}

impl MediaHandle {
    /// Ended cascade relays whose remote sessions should be DELETEd (taken once).
    pub fn take_relay_closed(&self) -> Option<mpsc::UnboundedReceiver<RelayClosed>> {
        self.relay_closed.lock().ok()?.take()
    }

    /// Run `f` on the media task and return its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sfu, Instant) -> R + Send + 'static,
    ) -> Result<R, SfuError> {
        let (tx, rx) = oneshot::channel();
        let cmd: Cmd = Box::new(move |sfu, now| {
            let _ = tx.send(f(sfu, now));
        });
        self.tx
            .send(cmd)
            .map_err(|_| SfuError::Internal("media plane stopped".into()))?;
        rx.await.map_err(|_| SfuError::Internal("media plane stopped".into()))
    }
}

enum TcpIn {
    Open(SocketAddr, mpsc::Sender<Vec<u8>>),
    Frame { remote: SocketAddr, local: SocketAddr, data: Vec<u8> },
    Closed(SocketAddr),
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Bind every socket, then spawn the media task.
pub async fn start(cfg: DriverConfig) -> io::Result<MediaHandle> {
    let mut sockets: Vec<(std::net::UdpSocket, SocketAddr)> = Vec::new();
    let mut udp_port = 0u16;
    let mut udp_candidates = Vec::new();
    for b in &cfg.udp {
        let want = if b.bind.port() == 0 && udp_port != 0 { with_port(b, udp_port) } else { b.clone() };
        let sock = std::net::UdpSocket::bind(want.bind).map_err(|e| {
            io::Error::new(e.kind(), format!("webrtc.listen: cannot bind UDP {}: {e}", want.bind))
        })?;
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
    let (tcp_tx, tcp_rx) = mpsc::channel::<TcpIn>(4096);
    let mut tcp_candidates = Vec::new();
    let mut tcp_addrs = Vec::new();
    let mut tcp_port = 0u16;
    for b in &cfg.tcp {
        let want = if b.bind.port() == 0 && tcp_port != 0 { with_port(b, tcp_port) } else { b.clone() };
        let l = TcpListener::bind(want.bind).await.map_err(|e| {
            io::Error::new(e.kind(), format!("webrtc.tcp_listen: cannot bind TCP {}: {e}", want.bind))
        })?;
        let real = l.local_addr()?;
        tcp_port = real.port();
        let fixed = with_port(&want, real.port());
        let identity = fixed.advertise.first().copied().unwrap_or(real);
        tcp_candidates.extend(fixed.advertise.iter().copied());
        tcp_addrs.push(real);
        tokio::spawn(accept_loop(l, identity, tcp_tx.clone()));
    }
    let metrics = Arc::new(Metrics::default());
    let sfu_cfg = SfuConfig {
        udp_candidates,
        tcp_candidates,
        strategy: cfg.strategy.clone(),
        ..Default::default()
    };
    let sfu = Sfu::new(sfu_cfg, Instant::now(), unix_ms(), metrics.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(1024);
    let (relay_tx, relay_rx) = mpsc::unbounded_channel();
    let udp_addrs = sockets.iter().filter_map(|(s, _)| s.local_addr().ok()).collect();
    // The media loop gets a thread of its own (a current-thread runtime): no work
    // stealing, no cross-thread wake-ups on the packet path.
    let ev = events.clone();
    std::thread::Builder::new()
        .name("wishcast-media".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("media runtime failed to start: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let mut socks = Vec::with_capacity(sockets.len());
                for (s, id) in sockets {
                    match UdpSocket::from_std(s) {
                        Ok(s) => socks.push((s, id)),
                        Err(e) => tracing::error!("media socket: {e}"),
                    }
                }
                run(sfu, socks, rx, tcp_rx, tcp_tx, ev, relay_tx).await
            })
        })?;
    Ok(MediaHandle {
        tx,
        metrics,
        events,
        udp_addrs,
        tcp_addrs,
        relay_closed: Arc::new(std::sync::Mutex::new(Some(relay_rx))),
    })
}

async fn accept_loop(l: TcpListener, local: SocketAddr, to_core: mpsc::Sender<TcpIn>) {
    loop {
        let Ok((stream, remote)) = l.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(tcp_conn(stream, remote, local, to_core.clone()));
    }
}

async fn tcp_conn(stream: TcpStream, remote: SocketAddr, local: SocketAddr, to_core: mpsc::Sender<TcpIn>) {
    let (mut rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(1024);
    if to_core.send(TcpIn::Open(remote, out_tx)).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(buf) = out_rx.recv().await {
            if wr.write_all(&buf).await.is_err() {
                break;
            }
        }
    });
    let mut reader = FrameReader::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                reader.extend(&buf[..n]);
                while let Some(data) = reader.next_frame() {
                    if to_core.send(TcpIn::Frame { remote, local, data }).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    writer.abort();
    let _ = to_core.send(TcpIn::Closed(remote)).await;
}

async fn run(
    mut sfu: Sfu,
    sockets: Vec<(UdpSocket, SocketAddr)>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    mut tcp_rx: mpsc::Receiver<TcpIn>,
    // Held so `tcp_rx` never closes, even with no listener.
    _tcp_tx: mpsc::Sender<TcpIn>,
    events: broadcast::Sender<SfuEvent>,
    relay_closed: mpsc::UnboundedSender<RelayClosed>,
) {
    let by_identity: HashMap<SocketAddr, usize> =
        sockets.iter().enumerate().map(|(i, (_, id))| (*id, i)).collect();
    let mut tcp_conns: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut buf = vec![0u8; 2048];
    let mut batch = SendBatch::new();
    let mut out: Vec<Vec<str0m::net::Transmit>> = sockets.iter().map(|_| Vec::new()).collect();
    loop {
        let now = Instant::now();
        if now >= sfu.poll_timeout() {
            guard("timeout", || sfu.handle_timeout(now));
        }
        // Flush output: UDP in sendmmsg batches per socket, ICE-TCP framed.
        while let Some(t) = sfu.poll_transmit() {
            match t.proto {
                Protocol::Udp => {
                    let idx = by_identity.get(&t.source).copied().unwrap_or(0);
                    if let Some(q) = out.get_mut(idx) {
                        q.push(t);
                    }
                }
                _ => {
                    if let (Some(conn), Some(framed)) = (tcp_conns.get(&t.destination), frame(&t.contents)) {
                        let _ = conn.try_send(framed);
                    }
                }
            }
        }
        for (idx, q) in out.iter_mut().enumerate() {
            if q.is_empty() {
                continue;
            }
            if let Some((s, _)) = sockets.get(idx) {
                let msgs: Vec<(&[u8], SocketAddr)> = q.iter().map(|t| (&t.contents[..], t.destination)).collect();
                send_all(s, &mut batch, &msgs).await;
            }
            q.clear();
        }
        for e in sfu.take_events() {
            let _ = events.send(e);
        }
        for r in sfu.take_closed_relays() {
            let _ = relay_closed.send(r);
        }
        let deadline = tokio::time::Instant::from_std(sfu.poll_timeout());
        tokio::select! {
            biased;
            cmd = cmds.recv() => match cmd {
                Some(cmd) => guard("command", || cmd(&mut sfu, Instant::now())),
                None => return,
            },
            (idx, res) = poll_fn(|cx| {
                for (i, (s, _)) in sockets.iter().enumerate() {
                    let mut rb = tokio::io::ReadBuf::new(&mut buf);
                    if let Poll::Ready(r) = s.poll_recv_from(cx, &mut rb) {
                        return Poll::Ready((i, r.map(|a| (a, rb.filled().len()))));
                    }
                }
                Poll::Pending
            }) => {
                if let Ok((src, n)) = res {
                    let (sock, local) = &sockets[idx];
                    let now = Instant::now();
                    guard("datagram", || sfu.handle_datagram(now, Protocol::Udp, src, *local, &buf[..n]));
                    // Drain what else is queued on this socket without re-polling everything.
                    for _ in 0..63 {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, src)) => guard("datagram", || sfu.handle_datagram(now, Protocol::Udp, src, *local, &buf[..n])),
                            Err(_) => break,
                        }
                    }
                }
            }
            msg = tcp_rx.recv() => match msg {
                Some(TcpIn::Open(remote, tx)) => { tcp_conns.insert(remote, tx); }
                Some(TcpIn::Frame { remote, local, data }) => {
                    guard("datagram", || sfu.handle_datagram(Instant::now(), Protocol::Tcp, remote, local, &data));
                }
                Some(TcpIn::Closed(remote)) => { tcp_conns.remove(&remote); }
                None => {}
            },
            _ = tokio::time::sleep_until(deadline) => guard("timeout", || sfu.handle_timeout(Instant::now())),
        }
    }
}

/// Send every message, waiting for writability when the socket buffer is full.
/// A datagram the kernel refuses (e.g. unreachable) is dropped, not retried.
async fn send_all(sock: &UdpSocket, batch: &mut SendBatch, msgs: &[(&[u8], SocketAddr)]) {
    let mut off = 0;
    let mut waits = 0;
    while off < msgs.len() {
        match sock.try_io(tokio::io::Interest::WRITABLE, || batch.send(sock, &msgs[off..])) {
            Ok(n) => off += n.max(1),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                waits += 1;
                if waits > 64 || sock.writable().await.is_err() {
                    return;
                }
            }
            Err(_) => off += 1,
        }
    }
}

/// Run one step of the media plane; a panic inside (a library bug reached by some
/// input) is logged and contained so one bad peer cannot stop media for everyone.
fn guard(what: &str, f: impl FnOnce()) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(()) => {}
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!("media plane panic contained ({what}): {msg}");
        }
    }
}

/// Kernel buffer size asked for on media sockets: a keyframe fanned out to hundreds of
/// subscribers is a large burst, and so is their feedback.
const SOCKET_BUFFER: libc::c_int = 8 * 1024 * 1024;

/// Best effort: raise SO_RCVBUF/SO_SNDBUF (the kernel caps them at net.core.*mem_max;
/// as root the FORCE variants lift the cap).
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
