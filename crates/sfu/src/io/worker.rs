//! One media worker: a thread with its own [`Sfu`], driven by a current-thread tokio
//! runtime. It takes [`Command`]s from the control plane, bridge messages from the other
//! workers, datagrams routed to it (worker 0 reads the sockets and routes), and
//! ICE-TCP frames; it sends its own UDP output with `sendmmsg`.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::task::Poll;
use std::time::Instant;

use str0m::net::{Protocol, Transmit};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::core::Sfu;
use crate::core::bridge::Bridge;
use crate::core::command::{Command, Reply};
use crate::core::config::SfuEvent;
use crate::core::error::SfuError;
use crate::core::placement::worker_of_stun;
use crate::core::relay::RelayClosed;
use crate::core::tcp_framing::frame;
use crate::io::batch_send::SendBatch;
use crate::io::tcp::TcpIn;

/// Source address → worker, for datagrams that are not STUN checks.
pub(crate) type Routes = Arc<RwLock<HashMap<SocketAddr, usize>>>;

/// A control-plane command and where its answer goes.
pub(crate) struct Cmd {
    pub cmd: Command,
    pub reply: oneshot::Sender<Result<Reply, SfuError>>,
}

/// Bridge messages a worker may have queued before senders drop (frames are dropped,
/// never waited for: two workers must not block on each other).
pub(crate) const BRIDGE_QUEUE: usize = 16 * 1024;
/// Batches of routed datagrams queued per worker.
pub(crate) const DATAGRAM_QUEUE: usize = 4 * 1024;

/// A datagram worker 0 read for another worker.
pub(crate) struct Datagram {
    pub data: Vec<u8>,
    pub source: SocketAddr,
    pub local: SocketAddr,
}

/// Everything a worker's loop owns.
pub(crate) struct WorkerIo {
    /// Worker 0 only: the sockets it reads.
    pub read_socks: Vec<(std::net::UdpSocket, SocketAddr)>,
    /// Duplicates of every socket's descriptor, for sending.
    pub send_socks: Vec<(std::net::UdpSocket, SocketAddr)>,
    pub cmds: mpsc::UnboundedReceiver<Cmd>,
    pub bridge_rx: mpsc::Receiver<(usize, Bridge)>,
    pub bridge_txs: Vec<mpsc::Sender<(usize, Bridge)>>,
    pub dgram_rx: mpsc::Receiver<Vec<Datagram>>,
    pub dgram_txs: Vec<mpsc::Sender<Vec<Datagram>>>,
    pub tcp_rx: mpsc::Receiver<TcpIn>,
    /// Held so `tcp_rx` never closes, even with no listener.
    pub tcp_tx: mpsc::Sender<TcpIn>,
    pub routes: Routes,
    pub events: broadcast::Sender<SfuEvent>,
    pub relay_closed: mpsc::UnboundedSender<RelayClosed>,
}

pub(crate) async fn run(mut sfu: Sfu, io: WorkerIo) {
    let WorkerIo {
        read_socks,
        send_socks,
        mut cmds,
        mut bridge_rx,
        bridge_txs,
        mut dgram_rx,
        dgram_txs,
        mut tcp_rx,
        tcp_tx: _tcp_tx,
        routes,
        events,
        relay_closed,
    } = io;
    let (me, workers) = sfu.worker();
    let mut readers = Vec::new();
    for (s, id) in read_socks {
        match UdpSocket::from_std(s) {
            Ok(s) => readers.push((s, id)),
            Err(e) => tracing::error!("media socket: {e}"),
        }
    }
    let mut senders = Vec::new();
    for (s, id) in send_socks {
        // SAFETY: `s` owns its descriptor (a dup of the media socket) and the AsyncFd
        // owns `s` for its whole life, so the descriptor stays open and unchanged.
        #[allow(unsafe_code)]
        let registered = unsafe { AsyncFd::register_with_interest(s, Interest::WRITABLE) };
        match registered {
            Ok(s) => senders.push((s, id)),
            Err(e) => tracing::error!("media socket: {e}"),
        }
    }
    let by_identity: HashMap<SocketAddr, usize> = senders.iter().enumerate().map(|(i, (_, id))| (*id, i)).collect();
    let mut tcp_conns: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut buf = vec![0u8; 2048];
    let mut batch = SendBatch::new();
    let mut out: Vec<Vec<Transmit>> = senders.iter().map(|_| Vec::new()).collect();
    let mut bridge_out: Vec<(usize, Bridge)> = Vec::new();
    let mut routed: Vec<Vec<Datagram>> = (0..workers).map(|_| Vec::new()).collect();
    loop {
        let now = Instant::now();
        if now >= sfu.poll_timeout() {
            guard("timeout", || sfu.handle_timeout(now));
        }
        // Routes first: a peer's next datagram (e.g. its DTLS hello) may follow our
        // STUN answer, and must reach this worker.
        let hints = sfu.take_route_hints();
        if !hints.is_empty()
            && let Ok(mut r) = routes.write()
        {
            // ICE-TCP connections route themselves (by their first check).
            for h in hints.into_iter().filter(|h| h.proto == Protocol::Udp) {
                if h.add {
                    r.insert(h.addr, me);
                } else if r.get(&h.addr) == Some(&me) {
                    r.remove(&h.addr);
                }
            }
        }
        sfu.drain_bridge(&mut bridge_out);
        for (dest, msg) in bridge_out.drain(..) {
            if let Some(tx) = bridge_txs.get(dest)
                && tx.try_send((me, msg)).is_err()
            {
                sfu.metrics().bridge_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
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
            if let Some((s, _)) = senders.get(idx) {
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
                Some(Cmd { cmd, reply }) => guard("command", || {
                    // A panic drops `reply`: the caller gets "media plane stopped".
                    let _ = reply.send(sfu.handle(cmd, Instant::now()));
                }),
                None => return,
            },
            m = bridge_rx.recv() => {
                if let Some((from, msg)) = m {
                    let now = Instant::now();
                    guard("bridge", || sfu.handle_bridge(now, from, msg));
                    for _ in 0..255 {
                        match bridge_rx.try_recv() {
                            Ok((from, msg)) => guard("bridge", || sfu.handle_bridge(now, from, msg)),
                            Err(_) => break,
                        }
                    }
                }
            }
            batch_in = dgram_rx.recv(), if me != 0 => {
                if let Some(v) = batch_in {
                    let now = Instant::now();
                    for d in v {
                        guard("datagram", || sfu.handle_datagram(now, Protocol::Udp, d.source, d.local, &d.data));
                    }
                }
            }
            (idx, res) = poll_fn(|cx| {
                for (i, (s, _)) in readers.iter().enumerate() {
                    let mut rb = tokio::io::ReadBuf::new(&mut buf);
                    if let Poll::Ready(r) = s.poll_recv_from(cx, &mut rb) {
                        return Poll::Ready((i, r.map(|a| (a, rb.filled().len()))));
                    }
                }
                Poll::Pending
            }), if !readers.is_empty() => {
                if let Ok((src, n)) = res {
                    let (sock, local) = &readers[idx];
                    let now = Instant::now();
                    let table = if workers > 1 { routes.read().ok() } else { None };
                    let mut dispatch = |sfu: &mut Sfu, src: SocketAddr, data: &[u8]| {
                        let w = match &table {
                            None => 0,
                            Some(t) => worker_of_stun(data, workers)
                                .or_else(|| t.get(&src).copied())
                                .unwrap_or(0),
                        };
                        if w == me {
                            guard("datagram", || sfu.handle_datagram(now, Protocol::Udp, src, *local, data));
                        } else if let Some(q) = routed.get_mut(w) {
                            q.push(Datagram { data: data.to_vec(), source: src, local: *local });
                        }
                    };
                    dispatch(&mut sfu, src, &buf[..n]);
                    // Drain what else is queued on this socket without re-polling everything.
                    for _ in 0..63 {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, src)) => dispatch(&mut sfu, src, &buf[..n]),
                            Err(_) => break,
                        }
                    }
                    drop(table);
                    for (w, q) in routed.iter_mut().enumerate() {
                        let n = q.len() as u64;
                        if n > 0
                            && let Some(tx) = dgram_txs.get(w)
                            && tx.try_send(std::mem::take(q)).is_err() {
                                sfu.metrics().datagrams_dropped.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
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
async fn send_all(sock: &AsyncFd<std::net::UdpSocket>, batch: &mut SendBatch, msgs: &[(&[u8], SocketAddr)]) {
    let mut off = 0;
    let mut waits = 0;
    while off < msgs.len() {
        match batch.send(sock.get_ref(), &msgs[off..]) {
            Ok(n) => off += n.max(1),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                waits += 1;
                if waits > 64 {
                    return;
                }
                match sock.writable().await {
                    Ok(mut g) => g.clear_ready(),
                    Err(_) => return,
                }
            }
            Err(_) => off += 1,
        }
    }
}

/// Run one step of the media plane; a panic inside (a library bug reached by some
/// input) is logged and contained so one bad peer cannot stop media for everyone.
pub(crate) fn guard(what: &str, f: impl FnOnce()) {
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
