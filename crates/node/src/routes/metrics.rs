//! `GET /metrics`: Prometheus text exposition (no auth, like Live777).

use std::fmt::Write;

use axum::extract::State;
use axum::response::IntoResponse;
use wishcast_sfu::{KEYFRAME_WAIT_BUCKETS_MS, Metrics};

use crate::state::AppState;

fn counter(out: &mut String, name: &str, help: &str, labels: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name}{labels} {v}");
}

fn gauge(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

/// Process CPU seconds from /proc (user + system), if available.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

pub fn render(m: &Metrics) -> String {
    let g = Metrics::get;
    let mut o = String::with_capacity(4096);
    gauge(&mut o, "wishcast_streams", "Streams on this node.", g(&m.streams));
    let _ = writeln!(
        o,
        "# HELP wishcast_sessions Sessions by kind.\n# TYPE wishcast_sessions gauge\nwishcast_sessions{{kind=\"publish\"}} {}\nwishcast_sessions{{kind=\"subscribe\"}} {}",
        g(&m.publishers),
        g(&m.subscribers)
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_rtp_packets_total RTP packets.\n# TYPE wishcast_rtp_packets_total counter\nwishcast_rtp_packets_total{{direction=\"in\"}} {}\nwishcast_rtp_packets_total{{direction=\"out\"}} {}",
        g(&m.rtp_packets_in),
        g(&m.rtp_packets_out)
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_rtp_bytes_total RTP bytes.\n# TYPE wishcast_rtp_bytes_total counter\nwishcast_rtp_bytes_total{{direction=\"in\"}} {}\nwishcast_rtp_bytes_total{{direction=\"out\"}} {}",
        g(&m.rtp_bytes_in),
        g(&m.rtp_bytes_out)
    );
    // Live777-compatible names.
    gauge(&mut o, "live777_stream", "Streams (Live777 name).", g(&m.streams));
    gauge(&mut o, "live777_publish", "Publishers (Live777 name).", g(&m.publishers));
    gauge(&mut o, "live777_subscribe", "Subscribers (Live777 name).", g(&m.subscribers));
    let _ = writeln!(
        o,
        "# HELP live777_rtp_bytes_total RTP bytes (Live777 name).\n# TYPE live777_rtp_bytes_total counter\nlive777_rtp_bytes_total{{direction=\"in\"}} {}\nlive777_rtp_bytes_total{{direction=\"out\"}} {}",
        g(&m.rtp_bytes_in),
        g(&m.rtp_bytes_out)
    );
    counter(&mut o, "wishcast_nacks_received_total", "NACKs received from subscribers.", "", g(&m.nacks_received));
    counter(&mut o, "wishcast_nacks_sent_total", "NACKs sent to publishers.", "", g(&m.nacks_sent));
    counter(
        &mut o,
        "wishcast_plis_received_total",
        "Keyframe requests (PLI/FIR) received from subscribers.",
        "",
        g(&m.plis_received),
    );
    counter(
        &mut o,
        "wishcast_keyframe_requests_sent_total",
        "Keyframe requests sent to publishers (after coalescing).",
        "",
        g(&m.keyframe_requests_sent),
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_datagrams_total Datagrams (UDP or ICE-TCP frames) on the media sockets.\n# TYPE wishcast_datagrams_total counter\nwishcast_datagrams_total{{direction=\"in\"}} {}\nwishcast_datagrams_total{{direction=\"out\"}} {}",
        g(&m.datagrams_in),
        g(&m.datagrams_out)
    );
    counter(
        &mut o,
        "wishcast_datagrams_unrouted_total",
        "Datagrams that matched no session.",
        "",
        g(&m.datagrams_unrouted),
    );
    counter(
        &mut o,
        "wishcast_datagrams_dropped_total",
        "Datagrams the socket reader could not hand to a busy media worker.",
        "",
        g(&m.datagrams_dropped),
    );
    counter(
        &mut o,
        "wishcast_bridge_dropped_total",
        "Messages between media workers dropped because the receiver was behind.",
        "",
        g(&m.bridge_dropped),
    );
    let _ = writeln!(
        o,
        "# HELP wishcast_keyframe_wait_seconds Subscriber join to first keyframe sent.\n# TYPE wishcast_keyframe_wait_seconds histogram"
    );
    for (i, le) in KEYFRAME_WAIT_BUCKETS_MS.iter().enumerate() {
        let _ = writeln!(
            o,
            "wishcast_keyframe_wait_seconds_bucket{{le=\"{}\"}} {}",
            *le as f64 / 1000.0,
            g(&m.keyframe_wait_buckets[i])
        );
    }
    let _ = writeln!(o, "wishcast_keyframe_wait_seconds_bucket{{le=\"+Inf\"}} {}", g(&m.keyframe_wait_buckets[8]));
    let _ = writeln!(o, "wishcast_keyframe_wait_seconds_sum {}", g(&m.keyframe_wait_sum_ms) as f64 / 1000.0);
    let _ = writeln!(o, "wishcast_keyframe_wait_seconds_count {}", g(&m.keyframe_wait_count));
    if let Some(cpu) = process_cpu_seconds() {
        let _ = writeln!(
            o,
            "# HELP process_cpu_seconds_total CPU time of the process.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}"
        );
    }
    o
}

pub async fn metrics(axum::extract::State(state): State<AppState>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], render(&state.media.metrics))
}
