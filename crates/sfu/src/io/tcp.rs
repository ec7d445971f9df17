//! Passive ICE-TCP (RFC 6544): accepts connections, splits them into RFC 4571
//! frames and hands each connection to the worker its first STUN check names.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::core::placement::worker_of_stun;
use crate::core::tcp_framing::FrameReader;

/// What a worker hears about its ICE-TCP connections.
pub(crate) enum TcpIn {
    Open(SocketAddr, mpsc::Sender<Vec<u8>>),
    Frame { remote: SocketAddr, local: SocketAddr, data: Vec<u8> },
    Closed(SocketAddr),
}

/// Accept ICE-TCP connections on `l` (advertised as `local`) forever.
pub(crate) async fn accept_loop(l: TcpListener, local: SocketAddr, to_workers: Vec<mpsc::Sender<TcpIn>>) {
    loop {
        let Ok((stream, remote)) = l.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(tcp_conn(stream, remote, local, to_workers.clone()));
    }
}

/// One ICE-TCP connection. It belongs to the worker its first STUN check names.
async fn tcp_conn(stream: TcpStream, remote: SocketAddr, local: SocketAddr, to_workers: Vec<mpsc::Sender<TcpIn>>) {
    let (mut rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(1024);
    let writer = tokio::spawn(async move {
        while let Some(buf) = out_rx.recv().await {
            if wr.write_all(&buf).await.is_err() {
                break;
            }
        }
    });
    let mut reader = FrameReader::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out_tx = Some(out_tx);
    let mut to_core: Option<mpsc::Sender<TcpIn>> = None;
    'read: loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                reader.extend(&buf[..n]);
                while let Some(data) = reader.next_frame() {
                    if to_core.is_none() {
                        let w = worker_of_stun(&data, to_workers.len()).unwrap_or(0);
                        let Some(tx) = to_workers.get(w).cloned() else { break 'read };
                        if let Some(o) = out_tx.take()
                            && tx.send(TcpIn::Open(remote, o)).await.is_err()
                        {
                            break 'read;
                        }
                        to_core = Some(tx);
                    }
                    if let Some(tx) = &to_core
                        && tx.send(TcpIn::Frame { remote, local, data }).await.is_err()
                    {
                        break 'read;
                    }
                }
            }
        }
    }
    writer.abort();
    if let Some(tx) = to_core {
        let _ = tx.send(TcpIn::Closed(remote)).await;
    }
}
