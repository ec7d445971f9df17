//! Serving a router over HTTP/1.1 with the bounds `axum::serve` lacks: a deadline for a
//! request's headers (which also closes idle keep-alive connections), a deadline
//! between body chunks, and a cap on open connections (beyond it, new connections wait
//! in the kernel's backlog). Handlers see the peer as `ConnectInfo<SocketAddr>`.

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The connection bounds (`[http]` keys `header_timeout_ms`, `body_timeout_ms`,
/// `max_connections`).
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// From the connection (or the previous response) to the end of a request's headers.
    pub header_read: Duration,
    /// Longest wait for the next chunk of a request body.
    pub body_read: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Accept and serve until the task is dropped. Accept errors (e.g. out of file
/// descriptors) are logged and retried after a pause instead of spinning.
pub async fn serve(listener: TcpListener, app: Router, limits: ServeLimits) -> io::Result<()> {
    let app = app.layer(RequestBodyTimeoutLayer::new(limits.body_read));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("HTTP accept failed: {e}; retrying in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move {
                    Ok::<Response, Infallible>(
                        app.oneshot(req.map(axum::body::Body::new)).await.unwrap_or_else(|e| match e {}),
                    )
                }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "HTTP connection ended: {e}");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::routing::post;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::time::{Instant, timeout};

    const LIMITS: ServeLimits = ServeLimits {
        header_read: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
        max_connections: 2,
    };

    async fn server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let app = Router::new().route(
            "/echo",
            post(|ConnectInfo(peer): ConnectInfo<SocketAddr>, body: Bytes| async move {
                format!("{} {}", peer.ip(), body.len())
            }),
        );
        tokio::spawn(serve(l, app, LIMITS));
        addr
    }

    /// Send `bytes`, then wait (up to 5 s) for the server to close; returns what it
    /// sent back and how long it took.
    async fn send_and_wait_for_close(addr: SocketAddr, bytes: &[u8]) -> (String, Duration) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let t0 = Instant::now();
        s.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let r = timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(r.is_ok(), "the server kept the connection open: {:?}", String::from_utf8_lossy(&out));
        (String::from_utf8_lossy(&out).into_owned(), t0.elapsed())
    }

    #[tokio::test]
    async fn a_half_sent_header_is_cut_off() {
        let addr = server().await;
        let (got, took) = send_and_wait_for_close(addr, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le").await;
        assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "{took:?}");
        assert!(!got.contains("200 OK"), "{got}");
    }

    #[tokio::test]
    async fn three_of_a_hundred_body_bytes_are_cut_off() {
        let addr = server().await;
        let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
        let (got, took) = send_and_wait_for_close(addr, req).await;
        assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "{took:?}");
        assert!(!got.contains("200 OK"), "{got}");
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_and_complete_requests_are_served() {
        let addr = server().await;
        let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
        let (got, took) = send_and_wait_for_close(addr, req).await;
        assert!(got.starts_with("HTTP/1.1 200 OK") && got.ends_with("127.0.0.1 3"), "{got}");
        assert!(took >= Duration::from_millis(250), "closed after the idle deadline: {took:?}");
    }

    #[tokio::test]
    async fn connections_beyond_the_cap_wait() {
        let addr = server().await;
        let _a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A third connection is accepted by the kernel but not served until a slot frees
        // (here: when the two idle ones hit the header deadline).
        let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (got, took) = send_and_wait_for_close(addr, req).await;
        assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
        assert!(took >= Duration::from_millis(200), "served only after a slot freed: {took:?}");
    }
}
