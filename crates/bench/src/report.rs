//! The bench report: figures computed from the fleet's per-subscriber counters, the
//! publisher's counters and /proc samples; printed as a table or one JSON object.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use wishcast_client::IceConnectionState;

use crate::count::percentile;
use crate::fleet::SubStats;
use crate::join::Joined;
use crate::publish::PubStats;

/// p50 / p95 / max of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Millis {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Millis {
    pub fn of(mut v: Vec<f64>) -> Millis {
        Millis {
            count: v.len(),
            p50: percentile(&mut v, 0.5).unwrap_or(0.0),
            p95: percentile(&mut v, 0.95).unwrap_or(0.0),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    /// RTP packets received by all subscribers in the window (after de-duplication).
    pub packets: u64,
    pub packets_per_second: f64,
    /// Per connected subscriber: min / mean / max packets per second.
    pub per_subscriber_pps_min: f64,
    pub per_subscriber_pps_mean: f64,
    pub per_subscriber_pps_max: f64,
    pub video_packets_per_subscriber_per_second: f64,
    pub kbps_per_subscriber: f64,
    /// Sequence numbers the server sent in the window, and how many never arrived.
    pub expected: u64,
    pub lost: u64,
    pub loss_percent: f64,
    /// Forward sequence jumps seen and late (reordered/retransmitted) packets.
    pub gaps: u64,
    pub late: u64,
    pub subscribers_with_loss: usize,
    pub subscribers_without_packets: usize,
    /// Video frames received per subscriber, and the share of the frames the RTP
    /// timestamps say were sent (all subscribers, and the worst one); the same for
    /// audio packets. This catches what sequence gaps cannot: a server that
    /// re-packetizes renumbers, so frames it dropped whole leave no sequence gap.
    /// Assumes the bench's own publisher (nominal --fps and 20 ms audio).
    pub video_frames_per_subscriber: f64,
    pub video_frame_delivery_percent: Option<f64>,
    pub video_frame_delivery_percent_min: Option<f64>,
    pub audio_delivery_percent: Option<f64>,
    /// Datagrams each subscriber sent back (STUN, RTCP feedback), per second.
    pub feedback_datagrams_per_subscriber_per_second: f64,
    /// Header mode: RTP packets of no negotiated media payload type (RTX, padding probes).
    pub other_packets: u64,
    /// Datagrams the kernel dropped on the subscribers' sockets in the window (client overload).
    pub client_socket_drops: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerFigures {
    pub pid: u32,
    /// utime+stime over the window.
    pub cpu_seconds: f64,
    /// Mean share of one core over the window, percent.
    pub cpu_percent: f64,
    pub us_per_packet: Option<f64>,
    pub packets_per_second_per_core: Option<f64>,
    /// CPU the server spent during the join phase (signalling, ICE, DTLS, first media).
    pub join_phase_cpu_seconds: Option<f64>,
    /// Media packets the subscribers received during the join phase.
    pub join_phase_packets: u64,
    pub join_cpu_ms_per_subscriber: Option<f64>,
    /// The same, less the join phase's packets at the window's CPU per packet: the
    /// cost of a join itself.
    pub join_cpu_ms_per_subscriber_net: Option<f64>,
    /// The server thread that used the most CPU in the window (name, seconds) and its
    /// share of one core: near 100 % means a single-threaded bottleneck.
    pub busiest_thread: Option<(String, f64)>,
    pub busiest_thread_percent: Option<f64>,
    /// The busiest server threads (name, CPU seconds in the window; % of a core in
    /// `threads_percent`): shows how the media workers share the load.
    pub threads: Vec<(String, f64)>,
    pub threads_percent: Vec<(String, f64)>,
    /// Datagrams the kernel dropped on the server's UDP sockets because it did not
    /// read them in time, in the window and during the join phase.
    pub udp_drops: Option<u64>,
    pub udp_drops_join_phase: Option<u64>,
    /// VmRSS before the first subscriber, once all joined, and at the window's end.
    pub rss_before_bytes: Option<u64>,
    pub rss_joined_bytes: Option<u64>,
    pub rss_end_bytes: Option<u64>,
    /// (joined - before) / connected, and (end - before) / connected.
    pub rss_per_subscriber_bytes: Option<f64>,
    pub rss_per_subscriber_end_bytes: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientFigures {
    /// This process (publisher, HTTP, fleet) over the window.
    pub cpu_seconds: f64,
    pub cpu_percent: f64,
    /// The fleet's event-loop thread alone.
    pub loop_cpu_seconds: Option<f64>,
    pub us_per_packet: Option<f64>,
    /// This process during the join phase, per joined subscriber.
    pub join_cpu_ms_per_subscriber: Option<f64>,
}

/// The whole machine over the window: shows whether other processes competed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineFigures {
    pub cores: usize,
    /// Busy share of all cores, percent.
    pub busy_percent: f64,
    /// Busy CPU not accounted to the server (if known) or this process, in cores.
    pub other_cores: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PublisherFigures {
    /// False if the server dropped the publisher (e.g. its STUN consent checks were
    /// lost in an overflowing server socket): the stream then stops for everyone.
    pub connected_at_window_end: bool,
    pub ice_state_at_window_end: String,
    pub video_frames: u64,
    pub keyframes: u64,
    pub audio_frames: u64,
    pub video_kbps: f64,
    pub datagrams_out: u64,
    pub keyframe_requests: u64,
    pub write_errors: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub whip: String,
    pub whep: String,
    pub codec: String,
    pub subscribers: usize,
    pub connected: usize,
    pub failed: usize,
    /// Distinct failure reasons and how often they occurred.
    pub failures: BTreeMap<String, usize>,
    /// WHEP POST → first media packet.
    pub join_ms: Millis,
    /// WHEP POST → 201 answer.
    pub answer_ms: Millis,
    /// WHEP POST → DTLS connected.
    pub connect_ms: Millis,
    /// WHEP POST → first video keyframe packet.
    pub first_keyframe_ms: Millis,
    /// Wall time of the join phase.
    pub ramp_seconds: f64,
    pub window_seconds: f64,
    pub delivery: Delivery,
    pub server: Option<ServerFigures>,
    pub client: ClientFigures,
    pub machine: Option<MachineFigures>,
    pub publisher: Option<PublisherFigures>,
}

/// Window-relative samples taken by `run`.
pub struct Samples {
    pub window_seconds: f64,
    pub ramp_seconds: f64,
    pub server: Option<ServerFigures>,
    pub client_cpu: f64,
    pub client_join_cpu: Option<f64>,
    pub loop_cpu: Option<f64>,
    /// (busy CPU seconds of the machine in the window, cores).
    pub machine: Option<(f64, usize)>,
    pub drops: Option<u64>,
    /// What was sent, for how long, and the connection state at the window's end.
    pub publisher: Option<(PubStats, f64, wishcast_client::PeerState)>,
}

fn ms(d: Option<std::time::Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

impl Report {
    pub fn build(mut head: Report, joins: &[Joined], subs: &[SubStats], s: Samples) -> Report {
        for j in joins {
            if let Some(e) = &j.error {
                let e: String = e.chars().take(160).collect();
                *head.failures.entry(e).or_default() += 1;
            }
        }
        let ok: Vec<&SubStats> =
            subs.iter().filter(|st| joins.iter().any(|j| j.id == st.id && j.error.is_none())).collect();
        head.connected = ok.len();
        head.failed = head.subscribers - head.connected;
        head.join_ms = Millis::of(ok.iter().filter_map(|s| ms(s.first_media)).collect());
        head.answer_ms = Millis::of(ok.iter().map(|s| s.answer.as_secs_f64() * 1000.0).collect());
        head.connect_ms = Millis::of(ok.iter().filter_map(|s| ms(s.connect)).collect());
        head.first_keyframe_ms = Millis::of(ok.iter().filter_map(|s| ms(s.first_keyframe)).collect());
        head.window_seconds = s.window_seconds;
        head.ramp_seconds = s.ramp_seconds;

        let w = s.window_seconds.max(1e-9);
        let d = &mut head.delivery;
        let pps: Vec<f64> = ok.iter().map(|s| s.window_packets as f64 / w).collect();
        d.packets = ok.iter().map(|s| s.window_packets).sum();
        d.packets_per_second = d.packets as f64 / w;
        d.per_subscriber_pps_min = pps.iter().copied().fold(f64::INFINITY, f64::min);
        d.per_subscriber_pps_max = pps.iter().copied().fold(0.0, f64::max);
        if pps.is_empty() {
            d.per_subscriber_pps_min = 0.0;
        } else {
            d.per_subscriber_pps_mean = d.packets_per_second / pps.len() as f64;
            let n = pps.len() as f64;
            d.video_packets_per_subscriber_per_second =
                ok.iter().map(|s| s.window_video_packets).sum::<u64>() as f64 / w / n;
            d.kbps_per_subscriber = ok.iter().map(|s| s.window_bytes).sum::<u64>() as f64 * 8.0 / 1000.0 / w / n;
        }
        d.expected = ok.iter().map(|s| s.window_expected).sum();
        d.lost = ok.iter().map(|s| s.window_lost).sum();
        d.loss_percent = if d.expected > 0 { d.lost as f64 * 100.0 / d.expected as f64 } else { 0.0 };
        d.gaps = ok.iter().map(|s| s.window_gaps).sum();
        d.late = ok.iter().map(|s| s.window_late).sum();
        d.subscribers_with_loss = ok.iter().filter(|s| s.window_lost > 0).count();
        d.subscribers_without_packets = ok.iter().filter(|s| s.window_packets == 0).count();
        d.client_socket_drops = s.drops;
        d.other_packets = ok.iter().map(|s| s.window_other_packets).sum();
        if !ok.is_empty() {
            let n = ok.len() as f64;
            d.feedback_datagrams_per_subscriber_per_second =
                ok.iter().map(|s| s.window_datagrams_out).sum::<u64>() as f64 / w / n;
            d.video_frames_per_subscriber = ok.iter().map(|s| s.window_video_frames).sum::<u64>() as f64 / n;
        }
        let pct = |got: u64, want: u64| (want > 0).then(|| got as f64 * 100.0 / want as f64);
        d.video_frame_delivery_percent = pct(
            ok.iter().map(|s| s.window_video_frames).sum(),
            ok.iter().map(|s| s.window_video_frames_expected).sum(),
        );
        d.video_frame_delivery_percent_min =
            ok.iter().filter_map(|s| pct(s.window_video_frames, s.window_video_frames_expected)).min_by(f64::total_cmp);
        d.audio_delivery_percent = pct(
            ok.iter().map(|s| s.window_audio_packets).sum(),
            ok.iter().map(|s| s.window_audio_packets_expected).sum(),
        );

        let packets = d.packets;
        if let Some(mut srv) = s.server {
            srv.cpu_percent = srv.cpu_seconds * 100.0 / w;
            srv.busiest_thread_percent = srv.busiest_thread.as_ref().map(|t| t.1 * 100.0 / w);
            srv.threads_percent = srv.threads.iter().map(|(n, t)| (n.clone(), t * 100.0 / w)).collect();
            if packets > 0 && srv.cpu_seconds > 0.0 {
                srv.us_per_packet = Some(srv.cpu_seconds * 1e6 / packets as f64);
                srv.packets_per_second_per_core = Some(packets as f64 / srv.cpu_seconds);
            }
            if head.connected > 0 {
                let n = head.connected as f64;
                srv.join_cpu_ms_per_subscriber = srv.join_phase_cpu_seconds.map(|c| c * 1000.0 / n);
                if let (Some(c), Some(us)) = (srv.join_phase_cpu_seconds, srv.us_per_packet) {
                    let net = c - srv.join_phase_packets as f64 * us / 1e6;
                    srv.join_cpu_ms_per_subscriber_net = Some(net.max(0.0) * 1000.0 / n);
                }
                let per = |b: Option<u64>| srv.rss_before_bytes.zip(b).map(|(a, b)| (b as f64 - a as f64) / n);
                srv.rss_per_subscriber_bytes = per(srv.rss_joined_bytes);
                srv.rss_per_subscriber_end_bytes = per(srv.rss_end_bytes);
            }
            head.server = Some(srv);
        }
        head.client = ClientFigures {
            cpu_seconds: s.client_cpu,
            cpu_percent: s.client_cpu * 100.0 / w,
            loop_cpu_seconds: s.loop_cpu,
            us_per_packet: (packets > 0).then(|| s.client_cpu * 1e6 / packets as f64),
            join_cpu_ms_per_subscriber: s
                .client_join_cpu
                .filter(|_| head.connected > 0)
                .map(|c| c * 1000.0 / head.connected as f64),
        };
        let server_cpu = head.server.as_ref().map_or(0.0, |x| x.cpu_seconds);
        head.machine = s.machine.map(|(busy, cores)| MachineFigures {
            cores,
            busy_percent: busy * 100.0 / w / cores as f64,
            other_cores: ((busy - server_cpu - s.client_cpu) / w).max(0.0),
        });
        head.publisher = s.publisher.map(|(p, secs, state)| PublisherFigures {
            connected_at_window_end: state.connected
                && !state.closed
                && matches!(state.ice, IceConnectionState::Connected | IceConnectionState::Completed),
            ice_state_at_window_end: format!("{:?}", state.ice),
            video_frames: p.video_frames,
            keyframes: p.keyframes,
            audio_frames: p.audio_frames,
            video_kbps: p.video_bytes as f64 * 8.0 / 1000.0 / secs.max(1e-9),
            datagrams_out: p.datagrams_out,
            keyframe_requests: p.keyframe_requests,
            write_errors: p.write_errors,
        });
        head
    }

    /// A readable table.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let d = &self.delivery;
        let _ = writeln!(o, "wishcast bench  {} → {}  ({})", self.whip, self.whep, self.codec);
        let row = |o: &mut String, k: &str, v: String| {
            let _ = writeln!(o, "  {k:<28} {v}");
        };
        row(
            &mut o,
            "subscribers",
            format!("{} connected, {} failed (of {})", self.connected, self.failed, self.subscribers),
        );
        for (e, n) in &self.failures {
            row(&mut o, "  failure", format!("{n} × {e}"));
        }
        let m = |x: &Millis| match x.count {
            0 => "n/a".to_string(),
            n => format!("p50 {:.1}  p95 {:.1}  max {:.1} ms  (n={n})", x.p50, x.p95, x.max),
        };
        row(&mut o, "join (POST → first packet)", m(&self.join_ms));
        row(&mut o, "POST → 201 answer", m(&self.answer_ms));
        row(&mut o, "POST → DTLS connected", m(&self.connect_ms));
        row(&mut o, "POST → first keyframe", m(&self.first_keyframe_ms));
        row(&mut o, "join phase", format!("{:.2} s", self.ramp_seconds));
        row(&mut o, "window", format!("{:.2} s", self.window_seconds));
        row(&mut o, "packets delivered", format!("{} ({:.0}/s)", d.packets, d.packets_per_second));
        row(
            &mut o,
            "per subscriber",
            format!(
                "{:.1} pkt/s mean (min {:.1}, max {:.1}), video {:.1} pkt/s, {:.0} kbit/s",
                d.per_subscriber_pps_mean,
                d.per_subscriber_pps_min,
                d.per_subscriber_pps_max,
                d.video_packets_per_subscriber_per_second,
                d.kbps_per_subscriber
            ),
        );
        row(
            &mut o,
            "loss",
            format!(
                "{:.3} % ({} of {}; {} gaps, {} late, {} subscribers with loss, {} without packets)",
                d.loss_percent,
                d.lost,
                d.expected,
                d.gaps,
                d.late,
                d.subscribers_with_loss,
                d.subscribers_without_packets
            ),
        );
        if let (Some(pct), Some(min)) = (d.video_frame_delivery_percent, d.video_frame_delivery_percent_min) {
            row(
                &mut o,
                "frames delivered",
                format!(
                    "video {pct:.2} % ({:.0} per subscriber, worst subscriber {min:.2} %), audio {}",
                    d.video_frames_per_subscriber,
                    d.audio_delivery_percent.map_or("n/a".into(), |a| format!("{a:.2} %"))
                ),
            );
        }
        row(
            &mut o,
            "feedback sent",
            format!("{:.1} datagrams/s per subscriber", d.feedback_datagrams_per_subscriber_per_second),
        );
        if d.other_packets > 0 {
            row(&mut o, "other RTP (RTX, probes)", d.other_packets.to_string());
        }
        if let Some(x) = d.client_socket_drops {
            row(&mut o, "client socket drops", x.to_string());
        }
        if let Some(s) = &self.server {
            let opt = |v: Option<f64>, unit: &str, prec: usize| v.map_or("n/a".into(), |v| format!("{v:.prec$}{unit}"));
            row(&mut o, "server pid", s.pid.to_string());
            row(&mut o, "server CPU", format!("{:.2} s ({:.1} % of a core)", s.cpu_seconds, s.cpu_percent));
            if let (Some((name, _)), Some(pct)) = (&s.busiest_thread, s.busiest_thread_percent) {
                row(&mut o, "busiest server thread", format!("{name}: {pct:.1} % of a core"));
            }
            if !s.threads_percent.is_empty() {
                let list: Vec<String> =
                    s.threads_percent.iter().filter(|(_, p)| *p >= 0.5).map(|(n, p)| format!("{n} {p:.0} %")).collect();
                row(&mut o, "server threads", list.join(", "));
            }
            row(&mut o, "server CPU per packet", opt(s.us_per_packet, " µs", 2));
            row(&mut o, "server packets/s per core", opt(s.packets_per_second_per_core, "", 0));
            let n = |v: Option<u64>| v.map_or("n/a".into(), |v| v.to_string());
            row(
                &mut o,
                "server UDP receive drops",
                format!("{} in the window, {} while joining", n(s.udp_drops), n(s.udp_drops_join_phase)),
            );
            row(
                &mut o,
                "server CPU per join",
                format!(
                    "{} ({} without the join phase's forwarding)",
                    opt(s.join_cpu_ms_per_subscriber, " ms", 2),
                    opt(s.join_cpu_ms_per_subscriber_net, " ms", 2)
                ),
            );
            row(
                &mut o,
                "server RSS per subscriber",
                format!(
                    "{} when joined, {} at the end",
                    opt(s.rss_per_subscriber_bytes.map(|b| b / 1024.0), " KiB", 1),
                    opt(s.rss_per_subscriber_end_bytes.map(|b| b / 1024.0), " KiB", 1)
                ),
            );
        }
        let c = &self.client;
        row(
            &mut o,
            "client CPU",
            format!(
                "{:.2} s ({:.1} % of a core; fleet loop {}; {} µs/packet)",
                c.cpu_seconds,
                c.cpu_percent,
                c.loop_cpu_seconds.map_or("n/a".into(), |v| format!("{v:.2} s")),
                c.us_per_packet.map_or("n/a".into(), |v| format!("{v:.2}"))
            ),
        );
        row(&mut o, "client CPU per join", c.join_cpu_ms_per_subscriber.map_or("n/a".into(), |v| format!("{v:.2} ms")));
        if let Some(m) = &self.machine {
            row(
                &mut o,
                "machine",
                format!(
                    "{} cores {:.0} % busy; other processes used {:.2} cores",
                    m.cores, m.busy_percent, m.other_cores
                ),
            );
        }
        if let Some(p) = &self.publisher {
            row(
                &mut o,
                "publisher",
                format!(
                    "{} frames ({} key), {} audio, {:.0} kbit/s video, {} datagrams, {} keyframe requests",
                    p.video_frames, p.keyframes, p.audio_frames, p.video_kbps, p.datagrams_out, p.keyframe_requests
                ),
            );
            if !p.connected_at_window_end {
                row(
                    &mut o,
                    "WARNING",
                    format!("the publisher was not connected at the window's end (ICE {})", p.ice_state_at_window_end),
                );
            }
        }
        if d.lost == 0 && d.video_frame_delivery_percent.is_some_and(|p| p < 99.0) {
            row(
                &mut o,
                "NOTE",
                "frames were lost without sequence gaps: the server renumbers what it \
                 forwards, so these losses happened before it (e.g. its own receive drops)"
                    .into(),
            );
        }
        if self.connected > 0 && self.delivery.packets == 0 {
            row(&mut o, "WARNING", "no media reached any subscriber in the window".into());
        }
        o
    }
}
