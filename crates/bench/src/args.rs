//! Command-line options of `wishcast bench`.

use std::net::{IpAddr, Ipv4Addr};

/// Video codec of the synthetic stream.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BenchCodec {
    #[default]
    Vp8,
    H264,
}

impl BenchCodec {
    pub fn client(self) -> wishcast_client::VideoCodec {
        match self {
            BenchCodec::Vp8 => wishcast_client::VideoCodec::Vp8,
            BenchCodec::H264 => wishcast_client::VideoCodec::H264,
        }
    }
}

/// How subscribers count received RTP.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountMode {
    /// Like a browser: str0m (RTP mode) authenticates and decrypts every SRTP packet,
    /// repairs RTX, and sends receiver reports, NACKs and transport-cc feedback.
    #[default]
    Full,
    /// Cheapest: count SRTP packets from their clear-text RTP headers, without
    /// decrypting them; str0m sees only STUN, DTLS and RTCP, so no NACK or
    /// transport-cc feedback is sent and keyframes are not recognised.
    Headers,
}

/// Load test of a WHIP/WHEP server: one synthetic publisher, N counting subscribers.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// WHIP endpoint to publish the synthetic stream to (e.g. http://127.0.0.1:7777/whip/bench).
    #[arg(long)]
    pub whip: String,
    /// WHEP endpoint to subscribe to [default: the --whip URL with /whip/ replaced by /whep/].
    #[arg(long)]
    pub whep: Option<String>,
    /// Number of WHEP subscribers.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub subscribers: usize,
    /// Spread the subscriber joins evenly over this many milliseconds (0 = as fast as --concurrency allows).
    #[arg(long, default_value_t = 0)]
    pub ramp_ms: u64,
    /// Length of the measurement window, which opens --settle-ms after every subscriber has joined or failed.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Wait this long after the last join before the window opens (lets join-time
    /// bursts such as a server's GOP-cache replay drain).
    #[arg(long, default_value_t = 1000)]
    pub settle_ms: u64,
    /// Bearer token for WHIP, WHEP and DELETE requests.
    #[arg(long, env = "WISHCAST_BENCH_TOKEN")]
    pub token: Option<String>,
    /// PID of the server process (same machine): report its CPU per forwarded packet and RSS per subscriber.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Video codec of the synthetic stream.
    #[arg(long, value_enum, default_value_t = BenchCodec::Vp8)]
    pub codec: BenchCodec,
    /// Video bitrate of the synthetic stream, kbit/s.
    #[arg(long, default_value_t = 2000)]
    pub video_kbps: u32,
    /// Video frame rate.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Keyframe interval in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub keyframe_ms: u64,
    /// How subscribers count packets (full = realistic receivers, headers = cheapest).
    #[arg(long, value_enum, default_value_t = CountMode::Full)]
    pub count: CountMode,
    /// Minimum length of a subscriber-loop round in µs: datagrams queue up between
    /// rounds and are read in batches (0 = wake up for every readiness event).
    #[arg(long, default_value_t = 1000)]
    pub loop_round_us: u64,
    /// Joins in flight at once (WHEP POST until first media packet).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// A subscriber that has no media packet this long after its POST counts as failed.
    #[arg(long, default_value_t = 10_000)]
    pub join_timeout_ms: u64,
    /// Local address for the publisher's and subscribers' UDP sockets (host candidates).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Do not publish: subscribe to a stream someone else is sending.
    #[arg(long)]
    pub no_publish: bool,
}

impl BenchArgs {
    /// Options for `whip` with every other option at its default.
    pub fn new(whip: impl Into<String>) -> Self {
        BenchArgs {
            whip: whip.into(),
            whep: None,
            subscribers: 10,
            ramp_ms: 0,
            seconds: 10.0,
            settle_ms: 1000,
            token: None,
            server_pid: None,
            json: false,
            codec: BenchCodec::Vp8,
            video_kbps: 2000,
            fps: 30,
            keyframe_ms: 2000,
            count: CountMode::Full,
            loop_round_us: 1000,
            concurrency: 16,
            join_timeout_ms: 10_000,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            no_publish: false,
        }
    }

    /// The WHEP URL: `--whep`, or `--whip` with `/whip/` replaced by `/whep/`.
    pub fn whep_url(&self) -> Result<String, String> {
        match &self.whep {
            Some(u) => Ok(u.clone()),
            None if self.whip.contains("/whip/") => Ok(self.whip.replacen("/whip/", "/whep/", 1)),
            None => Err("--whep is required when the --whip URL does not contain /whip/".into()),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.fps == 0 || self.fps > 240 {
            return Err("--fps must be 1..=240".into());
        }
        if !(self.seconds > 0.0 && self.seconds.is_finite()) {
            return Err("--seconds must be > 0".into());
        }
        if self.concurrency == 0 {
            return Err("--concurrency must be > 0".into());
        }
        self.whep_url().map(|_| ())
    }
}
