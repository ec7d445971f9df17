//! Joining one subscriber: bind its UDP socket, build an RTP-mode `Rtc` that shares
//! the fleet's DTLS certificate, POST the WHEP offer, apply the answer, hand the
//! peer to the fleet loop and wait for its first media packet.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::config::DtlsCert;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::{Candidate, Output, Rtc};
use tokio::sync::oneshot;
use wishcast_client::whip::WhipClient;

use crate::fleet::{Cmd, FleetHandle, NewSub};

/// Receive buffer per subscriber socket: a 2 Mbps keyframe (~60 packets) must fit
/// even when the loop thread is briefly late.
const RCVBUF: libc::c_int = 1 << 20;

/// Everything the joins share.
pub struct JoinCtx {
    pub whep: String,
    pub token: Option<String>,
    pub http: WhipClient,
    pub cert: DtlsCert,
    pub h264: bool,
    pub bind: IpAddr,
    pub fleet: FleetHandle,
    pub timeout: Duration,
}

/// How a join ended.
#[derive(Debug, Clone)]
pub struct Joined {
    pub id: usize,
    pub error: Option<String>,
    /// The WHEP session resource (to DELETE at the end), if the POST succeeded.
    pub session_url: Option<String>,
    pub local_port: Option<u16>,
}

struct Built {
    rtc: Rtc,
    offer: SdpOffer,
    pending: SdpPendingOffer,
    video: Mid,
    audio: Mid,
}

fn build(cert: &DtlsCert, h264: bool, local: SocketAddr) -> Result<Built, String> {
    let mut b = Rtc::builder().clear_codecs().set_rtp_mode(true).set_dtls_cert(cert.clone());
    b = if h264 { b.enable_h264(true) } else { b.enable_vp8(true) };
    let mut rtc = b.enable_opus(true, false).build(Instant::now());
    let c = Candidate::host(local, "udp").map_err(|e| format!("candidate: {e}"))?;
    rtc.add_local_candidate(c);
    let mut api = rtc.sdp_api();
    let video = api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    let audio = api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
    let (offer, pending) = api.apply().ok_or("no offer")?;
    // Nothing can be sent before the answer (no remote candidates): just drain.
    while let Ok(o) = rtc.poll_output() {
        if matches!(o, Output::Timeout(_)) {
            break;
        }
    }
    Ok(Built { rtc, offer, pending, video, audio })
}

fn pts(rtc: &Rtc, mid: Mid) -> Vec<u8> {
    rtc.media(mid).map(|m| m.remote_pts().iter().map(|pt| **pt).collect()).unwrap_or_default()
}

#[allow(unsafe_code)] // setsockopt(SO_RCVBUF)
fn bind(ip: IpAddr) -> Result<UdpSocket, String> {
    let s = UdpSocket::bind((ip, 0)).map_err(|e| format!("bind {ip}: {e}"))?;
    s.set_nonblocking(true).map_err(|e| e.to_string())?;
    // SAFETY: a valid fd and a c_int option value of the right size.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&RCVBUF as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    Ok(s)
}

/// Join subscriber `id`; resolves when it got media, failed, or timed out.
pub async fn join(ctx: &JoinCtx, id: usize) -> Joined {
    let mut out = Joined { id, error: None, session_url: None, local_port: None };
    let socket = match bind(ctx.bind) {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    out.local_port = Some(local.port());
    let Built { mut rtc, offer, pending, video, audio } = match build(&ctx.cert, ctx.h264, local) {
        Ok(x) => x,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let posted_at = Instant::now();
    let answer = match ctx.http.offer(&ctx.whep, &offer.to_sdp_string(), ctx.token.as_deref()).await {
        Ok(a) => a,
        Err(e) => {
            out.error = Some(format!("WHEP POST: {e}"));
            return out;
        }
    };
    let answered_at = Instant::now();
    out.session_url = Some(answer.location.clone());
    let applied = SdpAnswer::from_sdp_string(&answer.sdp)
        .map_err(|e| e.to_string())
        .and_then(|sdp| rtc.sdp_api().accept_answer(pending, sdp).map_err(|e| e.to_string()));
    if let Err(e) = applied {
        out.error = Some(format!("answer rejected: {e}"));
        return out;
    }
    let (video_pts, audio_pts) = (pts(&rtc, video), pts(&rtc, audio));
    let (tx, rx) = oneshot::channel();
    let sub = NewSub { id, rtc, socket, posted_at, answered_at, video_pts, audio_pts, joined: tx };
    ctx.fleet.send(Cmd::Add(Box::new(sub)));
    let deadline = tokio::time::Instant::from_std(posted_at + ctx.timeout);
    match tokio::time::timeout_at(deadline, rx).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => out.error = Some(e),
        Ok(Err(_)) => out.error = Some("fleet stopped".into()),
        Err(_) => {
            ctx.fleet.send(Cmd::Abandon(id));
            out.error = Some(format!("no media within {:?} of the POST", ctx.timeout));
        }
    }
    out
}
