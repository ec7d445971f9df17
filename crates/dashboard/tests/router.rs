//! The router over real HTTP: `/`, `/dashboard/`, `/dashboard/{file}`, the redirect
//! and a 404, as a manager or node would serve them when merged beside its API.

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_raw(addr: std::net::SocketAddr, path: &str, extra: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn routes_beside_an_api() {
    let app: Router = Router::new().route("/api/info", get(|| async { "api" })).merge(wishcast_dashboard::router());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await });

    let root = get_raw(addr, "/", "").await;
    assert!(root.starts_with("HTTP/1.1 200"), "{root}");
    assert!(root.to_ascii_lowercase().contains("content-type: text/html; charset=utf-8"));
    assert!(root.contains("wishcast dashboard"));
    let dash = get_raw(addr, "/dashboard/", "").await;
    assert_eq!(dash.split("\r\n\r\n").nth(1), root.split("\r\n\r\n").nth(1));

    let js = get_raw(addr, "/dashboard/js/app.js", "").await;
    assert!(js.starts_with("HTTP/1.1 200"), "{js}");
    let etag = js
        .lines()
        .find_map(|l| l.strip_prefix("etag: ").or_else(|| l.strip_prefix("ETag: ")))
        .expect("etag header")
        .trim()
        .to_string();
    let again = get_raw(addr, "/dashboard/js/app.js", &format!("If-None-Match: {etag}\r\n")).await;
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");

    let redirect = get_raw(addr, "/dashboard", "").await;
    assert!(redirect.starts_with("HTTP/1.1 308"), "{redirect}");
    assert!(redirect.to_ascii_lowercase().contains("location: /dashboard/"));

    let missing = get_raw(addr, "/dashboard/js/none.js", "").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let api = get_raw(addr, "/api/info", "").await;
    assert!(api.ends_with("api"), "the API beside the dashboard is untouched: {api}");
    let other = get_raw(addr, "/api/playback", "").await;
    assert!(other.starts_with("HTTP/1.1 404"), "no catch-all: API 404s stay 404s: {other}");
}
