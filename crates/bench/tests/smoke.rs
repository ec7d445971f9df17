//! Bench smoke test: an in-process node on loopback, one synthetic publisher and 20
//! counting subscribers for 5 s. Asserts that everyone joined, that every subscriber
//! got media, and that nothing was lost; timing figures are not asserted.

use wishcast_bench::{BenchArgs, BenchCodec};
use wishcast_node::NodeConfig;

async fn node(workers: usize) -> wishcast_node::RunningNode {
    let mut cfg = NodeConfig::default();
    cfg.webrtc.workers = workers;
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.webrtc.listen = "127.0.0.1:0".into();
    cfg.webrtc.tcp_listen = "127.0.0.1:0".into();
    wishcast_node::start(cfg).await.expect("node starts")
}

async fn smoke(codec: BenchCodec, subscribers: usize, seconds: f64) {
    smoke_on(codec, subscribers, seconds, 0).await
}

async fn smoke_on(codec: BenchCodec, subscribers: usize, seconds: f64, workers: usize) {
    let node = node(workers).await;
    assert_eq!(node.media.workers(), wishcast_sfu_workers(workers));
    let mut args = BenchArgs::new(format!("http://{}/whip/bench", node.http_addr));
    args.subscribers = subscribers;
    args.seconds = seconds;
    args.ramp_ms = 500;
    args.codec = codec;
    args.json = true; // no progress lines
    let r = wishcast_bench::run(&args).await.expect("bench runs");
    eprintln!("{}", r.table());

    assert_eq!(r.connected, subscribers, "all subscribers join: {:?}", r.failures);
    assert_eq!(r.failed, 0);
    assert_eq!(r.delivery.subscribers_without_packets, 0, "every subscriber gets packets");
    assert!(r.delivery.per_subscriber_pps_min > 0.0);
    assert!(r.delivery.video_packets_per_subscriber_per_second > 0.0, "video flows");
    assert!(r.delivery.expected > 0);
    assert_eq!(r.delivery.lost, 0, "no loss on loopback");
    assert_eq!(r.delivery.loss_percent, 0.0);
    let p = r.publisher.as_ref().expect("publisher figures");
    assert!(p.keyframes >= 2 && p.audio_frames > 0);
    // The report serializes as one JSON object.
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["connected"], subscribers);
    node.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_vp8_subscribers_connect_and_lose_nothing() {
    smoke(BenchCodec::Vp8, 20, 5.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_stream_reaches_subscribers() {
    smoke(BenchCodec::H264, 4, 2.0).await;
}

/// `webrtc.workers = 0` means one per core.
fn wishcast_sfu_workers(n: usize) -> usize {
    if n == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(32) } else { n }
}

/// Three media workers whatever the machine: players spread over them, frames cross
/// workers, and still nobody misses a packet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_on_three_workers_lose_nothing() {
    smoke_on(BenchCodec::Vp8, 12, 3.0, 3).await;
}
