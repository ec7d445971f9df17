//! `GET /metrics`: Prometheus text exposition (0.0.4, no auth, like Live777) through
//! `prometheus-client`. The media plane counts in plain atomics
//! ([`wishcast_sfu::Metrics`]); a collector reads them at scrape time, so
//! the packet path pays nothing for the exposition.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, prometheus_text};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::registry::Registry;
use wishcast_sfu::{KEYFRAME_WAIT_BUCKETS_MS, Metrics};

use crate::state::AppState;
use wishcast_http::metrics::{counter, family, gauge};

/// Process CPU seconds from /proc (user + system), if available.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Reads one node's media-plane atomics on each scrape.
struct MediaCollector(Arc<Metrics>);

impl std::fmt::Debug for MediaCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaCollector")
    }
}

impl Collector for MediaCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        use MetricType::{Counter, Gauge};
        let m = &*self.0;
        let g = Metrics::get;
        let e = &mut e;
        gauge(e, "wishcast_streams", "Streams on this node.", g(&m.streams))?;
        let sessions = [("publish", g(&m.publishers)), ("subscribe", g(&m.subscribers))];
        family(e, Gauge, "wishcast_sessions", "Sessions by kind.", "kind", &sessions)?;
        let packets = [("in", g(&m.rtp_packets_in)), ("out", g(&m.rtp_packets_out))];
        family(e, Counter, "wishcast_rtp_packets", "RTP packets.", "direction", &packets)?;
        let bytes = [("in", g(&m.rtp_bytes_in)), ("out", g(&m.rtp_bytes_out))];
        family(e, Counter, "wishcast_rtp_bytes", "RTP bytes.", "direction", &bytes)?;
        // Live777-compatible names.
        gauge(e, "live777_stream", "Streams (Live777 name).", g(&m.streams))?;
        gauge(e, "live777_publish", "Publishers (Live777 name).", g(&m.publishers))?;
        gauge(e, "live777_subscribe", "Subscribers (Live777 name).", g(&m.subscribers))?;
        family(e, Counter, "live777_rtp_bytes", "RTP bytes (Live777 name).", "direction", &bytes)?;
        counter(e, "wishcast_nacks_received", "NACKs received from subscribers.", g(&m.nacks_received))?;
        counter(e, "wishcast_nacks_sent", "NACKs sent to publishers.", g(&m.nacks_sent))?;
        counter(
            e,
            "wishcast_plis_received",
            "Keyframe requests (PLI/FIR) received from subscribers.",
            g(&m.plis_received),
        )?;
        counter(
            e,
            "wishcast_keyframe_requests_sent",
            "Keyframe requests sent to publishers (after coalescing).",
            g(&m.keyframe_requests_sent),
        )?;
        let datagrams = [("in", g(&m.datagrams_in)), ("out", g(&m.datagrams_out))];
        family(
            e,
            Counter,
            "wishcast_datagrams",
            "Datagrams (UDP or ICE-TCP frames) on the media sockets.",
            "direction",
            &datagrams,
        )?;
        counter(e, "wishcast_datagrams_unrouted", "Datagrams that matched no session.", g(&m.datagrams_unrouted))?;
        counter(
            e,
            "wishcast_datagrams_dropped",
            "Datagrams the socket reader could not hand to a busy media worker.",
            g(&m.datagrams_dropped),
        )?;
        counter(
            e,
            "wishcast_bridge_dropped",
            "Messages between media workers dropped because the receiver was behind.",
            g(&m.bridge_dropped),
        )?;
        // The atomics hold cumulative (`le`) counts; the encoder wants each bucket's own.
        // (Read one by one while workers observe, so keep them monotonic.)
        let bounds = KEYFRAME_WAIT_BUCKETS_MS.iter().map(|le| *le as f64 / 1000.0).chain([f64::INFINITY]);
        let mut below = 0;
        let buckets: Vec<(f64, u64)> = bounds
            .zip(&m.keyframe_wait_buckets)
            .map(|(le, c)| {
                let cumulative = g(c).max(below);
                let own = cumulative - below;
                below = cumulative;
                (le, own)
            })
            .collect();
        let count = g(&m.keyframe_wait_count);
        let sum = g(&m.keyframe_wait_sum_ms) as f64 / 1000.0;
        e.encode_descriptor(
            "wishcast_keyframe_wait_seconds",
            "Subscriber join to first keyframe sent.",
            None,
            MetricType::Histogram,
        )?
        .encode_histogram::<prometheus_client::encoding::NoLabelSet>(sum, count, &buckets, None)?;
        if let Some(cpu) = process_cpu_seconds() {
            ConstCounter::new(cpu).encode(e.encode_descriptor(
                "process_cpu_seconds",
                "CPU time of the process.",
                None,
                Counter,
            )?)?;
        }
        Ok(())
    }
}

pub fn render(m: &Arc<Metrics>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(MediaCollector(m.clone())));
    let mut o = String::with_capacity(4096);
    // Writing into a String cannot fail.
    let _ = prometheus_text::encode(&mut o, &registry);
    o
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([("content-type", prometheus_text::CONTENT_TYPE)], render(&state.media.metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    /// Exactly what the hand-written renderer this replaced printed for these values
    /// (names, HELP/TYPE lines, labels, order, cumulative buckets), process CPU aside.
    #[test]
    fn exposition_is_unchanged() {
        let m = Arc::new(Metrics::default());
        let set = [
            (&m.streams, 1),
            (&m.publishers, 2),
            (&m.subscribers, 3),
            (&m.rtp_packets_in, 4),
            (&m.rtp_packets_out, 5),
            (&m.rtp_bytes_in, 6),
            (&m.rtp_bytes_out, 7),
            (&m.nacks_received, 8),
            (&m.nacks_sent, 9),
            (&m.plis_received, 10),
            (&m.keyframe_requests_sent, 11),
            (&m.datagrams_in, 12),
            (&m.datagrams_out, 13),
            (&m.datagrams_unrouted, 14),
            (&m.datagrams_dropped, 15),
            (&m.bridge_dropped, 16),
        ];
        for (a, v) in set {
            a.store(v, Relaxed);
        }
        for ms in [5, 300, 7000] {
            m.observe_keyframe_wait(ms);
        }
        let text = render(&m);
        let got: Vec<&str> = text.lines().filter(|l| !l.contains("process_cpu_seconds")).collect();
        let want = r#"# HELP wishcast_streams Streams on this node.
# TYPE wishcast_streams gauge
wishcast_streams 1
# HELP wishcast_sessions Sessions by kind.
# TYPE wishcast_sessions gauge
wishcast_sessions{kind="publish"} 2
wishcast_sessions{kind="subscribe"} 3
# HELP wishcast_rtp_packets_total RTP packets.
# TYPE wishcast_rtp_packets_total counter
wishcast_rtp_packets_total{direction="in"} 4
wishcast_rtp_packets_total{direction="out"} 5
# HELP wishcast_rtp_bytes_total RTP bytes.
# TYPE wishcast_rtp_bytes_total counter
wishcast_rtp_bytes_total{direction="in"} 6
wishcast_rtp_bytes_total{direction="out"} 7
# HELP live777_stream Streams (Live777 name).
# TYPE live777_stream gauge
live777_stream 1
# HELP live777_publish Publishers (Live777 name).
# TYPE live777_publish gauge
live777_publish 2
# HELP live777_subscribe Subscribers (Live777 name).
# TYPE live777_subscribe gauge
live777_subscribe 3
# HELP live777_rtp_bytes_total RTP bytes (Live777 name).
# TYPE live777_rtp_bytes_total counter
live777_rtp_bytes_total{direction="in"} 6
live777_rtp_bytes_total{direction="out"} 7
# HELP wishcast_nacks_received_total NACKs received from subscribers.
# TYPE wishcast_nacks_received_total counter
wishcast_nacks_received_total 8
# HELP wishcast_nacks_sent_total NACKs sent to publishers.
# TYPE wishcast_nacks_sent_total counter
wishcast_nacks_sent_total 9
# HELP wishcast_plis_received_total Keyframe requests (PLI/FIR) received from subscribers.
# TYPE wishcast_plis_received_total counter
wishcast_plis_received_total 10
# HELP wishcast_keyframe_requests_sent_total Keyframe requests sent to publishers (after coalescing).
# TYPE wishcast_keyframe_requests_sent_total counter
wishcast_keyframe_requests_sent_total 11
# HELP wishcast_datagrams_total Datagrams (UDP or ICE-TCP frames) on the media sockets.
# TYPE wishcast_datagrams_total counter
wishcast_datagrams_total{direction="in"} 12
wishcast_datagrams_total{direction="out"} 13
# HELP wishcast_datagrams_unrouted_total Datagrams that matched no session.
# TYPE wishcast_datagrams_unrouted_total counter
wishcast_datagrams_unrouted_total 14
# HELP wishcast_datagrams_dropped_total Datagrams the socket reader could not hand to a busy media worker.
# TYPE wishcast_datagrams_dropped_total counter
wishcast_datagrams_dropped_total 15
# HELP wishcast_bridge_dropped_total Messages between media workers dropped because the receiver was behind.
# TYPE wishcast_bridge_dropped_total counter
wishcast_bridge_dropped_total 16
# HELP wishcast_keyframe_wait_seconds Subscriber join to first keyframe sent.
# TYPE wishcast_keyframe_wait_seconds histogram
wishcast_keyframe_wait_seconds_bucket{le="0.01"} 1
wishcast_keyframe_wait_seconds_bucket{le="0.05"} 1
wishcast_keyframe_wait_seconds_bucket{le="0.1"} 1
wishcast_keyframe_wait_seconds_bucket{le="0.25"} 1
wishcast_keyframe_wait_seconds_bucket{le="0.5"} 2
wishcast_keyframe_wait_seconds_bucket{le="1"} 2
wishcast_keyframe_wait_seconds_bucket{le="2.5"} 2
wishcast_keyframe_wait_seconds_bucket{le="5"} 2
wishcast_keyframe_wait_seconds_bucket{le="+Inf"} 3
wishcast_keyframe_wait_seconds_sum 7.305
wishcast_keyframe_wait_seconds_count 3"#;
        assert_eq!(got, want.lines().collect::<Vec<_>>(), "{text}");
    }

    #[test]
    fn process_cpu_is_a_counter_when_proc_is_there() {
        let text = render(&Arc::new(Metrics::default()));
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(text.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), "{text}");
        }
    }
}
