//! `wishcast bench`: a load generator for any WHIP/WHEP server, built on our own
//! stack. One WHIP publisher ([`publish`], a `wishcast_client::Publisher`) sends a
//! synthetic 720p-like stream (VP8 or H.264, 2 Mbit/s, 30 fps, a keyframe every
//! 2 s at ~10x a delta frame, plus 20 ms Opus-sized audio); N WHEP subscribers
//! complete ICE and DTLS and then only COUNT packets, sequence gaps, losses and
//! frames ([`count`]). Subscribers are str0m `Rtc`s in RTP mode (no depacketizer)
//! sharing one DTLS certificate, one UDP socket each, all owned by ONE event-loop
//! thread ([`fleet`]: mio readiness, `recvmmsg` batches, ~1 ms rounds, a deadline
//! heap); `--count headers` skips SRTP decryption and feedback for an even cheaper
//! client. Joins run on the async side ([`join`]), at most `--concurrency` in flight
//! and spread over `--ramp-ms`. A measurement window of `--seconds` opens after the
//! join phase; delivery, loss and — given `--server-pid` — the server's CPU per
//! forwarded packet, busiest thread, UDP receive drops and RSS per subscriber (from
//! /proc, [`procstat`]) are reported ([`report`]) as a table or one JSON object.
//! Wire it as a CLI subcommand with [`BenchArgs`] and [`main`].

pub mod args;
pub mod count;
pub mod fleet;
pub mod join;
pub mod mmsg;
pub mod procstat;
pub mod publish;
pub mod report;
mod sub;

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;
use wishcast_client::whip::WhipClient;

pub use args::{BenchArgs, BenchCodec};
pub use report::Report;

/// Entry point for `wishcast bench`: builds its own (single-threaded) tokio runtime,
/// runs the benchmark and prints the report. Exit code 0 when every subscriber
/// joined, 1 when some failed, 2 when the benchmark could not run.
pub fn main(args: BenchArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wishcast bench: cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(&args)) {
        Ok(r) => {
            if args.json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                print!("{}", r.table());
            }
            if r.failed == 0 && r.connected > 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("wishcast bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn progress(args: &BenchArgs, msg: &str) {
    if !args.json {
        eprintln!("bench: {msg}");
    }
}

/// Run the whole benchmark and return the report (nothing is printed but progress
/// lines on stderr, unless `--json`).
pub async fn run(args: &BenchArgs) -> Result<Report, String> {
    args.validate()?;
    let whep = args.whep_url()?;
    let pid = args.server_pid;
    let h264 = args.codec == BenchCodec::H264;
    let ticks =
        fleet::FrameTicks { video: 90_000.0 / args.fps as f64, audio: 48_000.0 * publish::AUDIO_PTIME.as_secs_f64() };
    let cfg = fleet::FleetConfig { h264, mode: args.count, ticks, round: Duration::from_micros(args.loop_round_us) };
    let (fleet, fleet_thread) = fleet::spawn(cfg).map_err(|e| format!("fleet: {e}"))?;
    let cert = str0m::crypto::from_feature_flags()
        .dtls_provider
        .generate_certificate()
        .ok_or("cannot generate a DTLS certificate")?;

    let publisher = if args.no_publish {
        None
    } else {
        progress(args, &format!("publishing to {}", args.whip));
        let p = publish::start(args).await?;
        // Let the stream (and a server-side GOP cache) get going.
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some((p, Instant::now()))
    };
    let rss_before = pid.and_then(procstat::rss_bytes);

    progress(args, &format!("joining {} subscribers at {whep}", args.subscribers));
    let ctx = Arc::new(join::JoinCtx {
        whep: whep.clone(),
        token: args.token.clone(),
        http: WhipClient::default(),
        cert,
        h264,
        bind: args.bind,
        fleet: fleet.clone(),
        timeout: Duration::from_millis(args.join_timeout_ms),
    });
    let ramp_start = Instant::now();
    // (server CPU, own CPU, server UDP drops)
    let join_sample = || {
        let server_drops = pid.and_then(procstat::process_udp_drops);
        (pid.and_then(procstat::cpu_seconds), procstat::own_cpu_seconds(), server_drops)
    };
    let join_cpu0 = join_sample();
    let joins = join_all(args, ctx.clone()).await;
    let join_cpu1 = join_sample();
    let ramp_seconds = ramp_start.elapsed().as_secs_f64();
    let rss_joined = pid.and_then(procstat::rss_bytes);
    let join_packets = fleet_total(&fleet).await;
    let ports: HashSet<u16> = joins.iter().filter_map(|j| j.local_port).collect();

    tokio::time::sleep(Duration::from_millis(args.settle_ms)).await;
    progress(args, &format!("measuring for {} s", args.seconds));
    let loop_cpu = || procstat::thread_cpu_seconds(fleet.tid.load(std::sync::atomic::Ordering::Relaxed));
    let sample = || {
        (
            pid.and_then(procstat::cpu_seconds),
            procstat::own_cpu_seconds().unwrap_or(0.0),
            loop_cpu(),
            procstat::udp_drops(&ports),
            procstat::machine_busy_seconds(),
            pid.and_then(procstat::process_udp_drops),
            pid.map(procstat::threads_cpu_seconds).unwrap_or_default(),
        )
    };
    fleet.send(fleet::Cmd::OpenWindow);
    let t0 = Instant::now();
    let s0 = sample();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    let s1 = sample();
    let (tx, rx) = oneshot::channel();
    fleet.send(fleet::Cmd::CloseWindow(tx));
    let window_seconds = t0.elapsed().as_secs_f64();
    let subs = rx.await.map_err(|_| "the fleet loop died")?;
    let pub_state = publisher.as_ref().map(|(p, _)| p.state());
    let rss_end = pid.and_then(procstat::rss_bytes);

    progress(args, "closing sessions");
    let published = match publisher {
        Some((p, since)) => {
            let secs = since.elapsed().as_secs_f64() + 0.5;
            let state = pub_state.unwrap_or_default();
            Some((p.finish().await, secs, state))
        }
        None => None,
    };
    fleet.send(fleet::Cmd::Stop);
    delete_all(args, &joins).await;
    let _ = tokio::task::spawn_blocking(move || fleet_thread.join()).await;

    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
    let server = pid.map(|pid| report::ServerFigures {
        pid,
        cpu_seconds: diff(s0.0, s1.0).unwrap_or(0.0),
        join_phase_cpu_seconds: diff(join_cpu0.0, join_cpu1.0),
        join_phase_packets: join_packets,
        udp_drops_join_phase: join_cpu0.2.zip(join_cpu1.2).map(|(a, b)| b.saturating_sub(a)),
        udp_drops: s0.5.zip(s1.5).map(|(a, b)| b.saturating_sub(a)),
        busiest_thread: procstat::busiest_thread(&s0.6, &s1.6),
        threads: procstat::thread_deltas(&s0.6, &s1.6).into_iter().take(6).collect(),
        rss_end_bytes: rss_end,
        rss_before_bytes: rss_before,
        rss_joined_bytes: rss_joined,
        ..Default::default()
    });
    let head = Report {
        whip: args.whip.clone(),
        whep,
        codec: format!("{:?}", args.codec).to_lowercase(),
        subscribers: args.subscribers,
        ..Default::default()
    };
    let samples = report::Samples {
        window_seconds,
        ramp_seconds,
        server,
        client_cpu: s1.1 - s0.1,
        client_join_cpu: diff(join_cpu0.1, join_cpu1.1),
        machine: s0.4.zip(s1.4).map(|(a, b)| (b.0 - a.0, b.1)),
        loop_cpu: diff(s0.2, s1.2),
        drops: s0.3.zip(s1.3).map(|(a, b)| b.saturating_sub(a)),
        publisher: published,
    };
    let mut report = Report::build(head, &joins, &subs, samples);
    if args.no_publish {
        // Frame expectations assume our own publisher's frame rate and ptime.
        let d = &mut report.delivery;
        (d.video_frame_delivery_percent, d.video_frame_delivery_percent_min, d.audio_delivery_percent) =
            (None, None, None);
    }
    Ok(report)
}

async fn fleet_total(fleet: &fleet::FleetHandle) -> u64 {
    let (tx, rx) = oneshot::channel();
    fleet.send(fleet::Cmd::TotalPackets(tx));
    rx.await.unwrap_or(0)
}

/// Join every subscriber: start i at ramp * i / n, at most `concurrency` in flight.
async fn join_all(args: &BenchArgs, ctx: Arc<join::JoinCtx>) -> Vec<join::Joined> {
    let n = args.subscribers;
    let sem = Arc::new(Semaphore::new(args.concurrency));
    let start = tokio::time::Instant::now();
    let mut set = JoinSet::new();
    for i in 0..n {
        if args.ramp_ms > 0 {
            let at = start + Duration::from_millis(args.ramp_ms) * i as u32 / n as u32;
            tokio::time::sleep_until(at).await;
        }
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let ctx = ctx.clone();
        set.spawn(async move {
            let r = join::join(&ctx, i).await;
            drop(permit);
            r
        });
    }
    let mut out: Vec<join::Joined> = set.join_all().await;
    out.sort_by_key(|j| j.id);
    out
}

/// DELETE every subscriber session that was created (best effort).
async fn delete_all(args: &BenchArgs, joins: &[join::Joined]) {
    let http = WhipClient::default();
    let sem = Arc::new(Semaphore::new(args.concurrency));
    let mut set = JoinSet::new();
    for url in joins.iter().filter_map(|j| j.session_url.clone()) {
        let (http, sem, token) = (http.clone(), sem.clone(), args.token.clone());
        set.spawn(async move {
            let _permit = sem.acquire().await;
            let _ = http.delete(&url, token.as_deref()).await;
        });
    }
    set.join_all().await;
}
