//! The `wishcast` binary: CLI parsing and wiring only.
//!
//! * `wishcast node [-c node.toml]`: one media node.
//! * `wishcast manager [-c manager.toml]`: the cluster manager.
//! * `wishcast run [--nodes N]` (the default): a manager plus N self-registering nodes
//!   in one process, for a quick start.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod export;

#[derive(Parser)]
#[command(name = "wishcast", version, about = "WebRTC media cluster: WHIP/WHEP SFU node and cluster manager")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a media node (WHIP/WHEP SFU). Without a config file every key has its default.
    Node {
        /// Path to node.toml (Live777's live777.toml keys are accepted).
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Run the cluster manager (Liveman's liveman.toml keys are accepted).
    Manager {
        /// Path to manager.toml.
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Run a manager and N nodes in one process (the default command).
    Run(RunArgs),
    /// Read a password on stdin and print its argon2id hash for `[[auth.accounts]] password`.
    HashPassword,
    /// Load-test any WHIP/WHEP server: one synthetic publisher, N counting subscribers.
    Bench(wishcast_bench::BenchArgs),
    /// Export one UTC day of a stream's recording as one MP4 (from `[recorder.storage]`).
    Export(export::ExportArgs),
}

/// `wishcast run` listens on loopback unless told otherwise (docs/auth.md, "Threat model").
const DEFAULT_RUN_LISTEN: &str = "127.0.0.1:8888";

/// The startup warning for a server with auth off on an address other machines can reach.
fn open_warning(what: &str, addr: SocketAddr, auth_enabled: bool) -> Option<String> {
    if auth_enabled || addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "warning: {what} listens on {addr} with auth off: anyone who can reach it may publish, watch, record and \
         administer. Set `[auth] secret`/`tokens`, or listen on 127.0.0.1"
    ))
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Number of media nodes.
    #[arg(long, default_value_t = 2)]
    nodes: u16,
    /// Manager config (its `http.listen` is overridden by --listen).
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Node config used as the template for every node (listen addresses and `[cluster]` are set by `run`).
    #[arg(long)]
    node_config: Option<PathBuf>,
    /// Manager HTTP address; the nodes listen on the same IP. Loopback by default: pass
    /// `--listen 0.0.0.0:8888` to serve other machines (then set `[auth]`).
    #[arg(long, default_value = DEFAULT_RUN_LISTEN)]
    listen: String,
    /// Node i uses HTTP and UDP port base+10*i and ICE-TCP port base+10*i+1; 0 = any free ports.
    #[arg(long, default_value_t = 7777)]
    base_port: u16,
    /// Region reported by the nodes.
    #[arg(long, default_value = "")]
    region: String,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            nodes: 2,
            config: None,
            node_config: None,
            listen: DEFAULT_RUN_LISTEN.into(),
            base_port: 7777,
            region: String::new(),
        }
    }
}

fn read(path: Option<&PathBuf>) -> Result<String, String> {
    match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display())),
        None => Ok(String::new()),
    }
}

fn load_node_config(path: Option<&PathBuf>) -> Result<wishcast_node::NodeConfig, String> {
    let (mut cfg, unknown) = wishcast_node::config::parse(&read(path)?).map_err(|e| e.to_string())?;
    for k in unknown {
        eprintln!("warning: unknown config key `{k}` ignored");
    }
    if !cfg.webrtc.ice_lite {
        eprintln!("warning: config key `webrtc.ice_lite = false` has no effect: wishcast nodes are always ICE-lite");
    }
    wishcast_node::config::apply_env(&mut cfg, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

fn load_manager_config(path: Option<&PathBuf>) -> Result<wishcast_manager::ManagerConfig, String> {
    let (mut cfg, unknown) = wishcast_manager::config::parse(&read(path)?).map_err(|e| e.to_string())?;
    for k in unknown {
        eprintln!("warning: config key `{k}` ignored");
    }
    wishcast_manager::config::apply_env(&mut cfg, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{level},str0m=warn,dimpl=warn,is=warn,sctp_proto=warn,hyper=warn,reqwest=warn"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("wishcast: cannot start runtime: {e}");
        ExitCode::FAILURE
    })
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("wishcast: {e}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Node { config } => node(config),
        Command::Manager { config } => manager(config),
        Command::Run(args) => run(args),
        Command::HashPassword => hash_password(),
        Command::Bench(args) => wishcast_bench::main(args),
        Command::Export(args) => export::main(args),
    }
}

fn hash_password() -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() || line.trim_end_matches(['\r', '\n']).is_empty() {
        eprintln!("wishcast: type the password on stdin, e.g. `echo -n secret | wishcast hash-password`");
        return ExitCode::from(2);
    }
    let mut salt = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut salt));
    if let Err(e) = random {
        return fail(format!("cannot read /dev/urandom for a salt: {e}"));
    }
    match wishcast_manager::accounts::hash_password(line.trim_end_matches(['\r', '\n']), &salt) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn node(config: Option<PathBuf>) -> ExitCode {
    let cfg = match load_node_config(config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wishcast: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg.log.level);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let auth_on = cfg.auth.enabled();
    rt.block_on(async move {
        let node = match wishcast_node::start(cfg).await {
            Ok(n) => n,
            Err(e) => return fail(e),
        };
        if let Some(w) = open_warning("the node", node.http_addr, auth_on) {
            eprintln!("{w}");
        }
        println!("wishcast node listening on http://{}", node.http_addr);
        println!(
            "  WHIP: http://{0}/whip/<stream>   WHEP: http://{0}/whep/<stream>   media UDP {1:?} TCP {2:?}",
            node.http_addr, node.media.udp_addrs, node.media.tcp_addrs
        );
        let mut node = node;
        tokio::select! {
            r = &mut node.task => {
                eprintln!("wishcast: http server stopped: {r:?}");
                ExitCode::FAILURE
            }
            _ = shutdown_signal() => {
                node.shutdown().await;
                ExitCode::SUCCESS
            }
        }
    })
}

fn print_manager(m: &wishcast_manager::RunningManager) {
    println!("wishcast manager listening on {}", m.public_url);
    println!("  dashboard: {0}/   WHIP: {0}/whip/<stream>   WHEP: {0}/whep/<stream>", m.public_url);
    println!("  nodes: {0}/api/nodes/   streams: {0}/api/streams/", m.public_url);
}

async fn serve_manager(mut m: wishcast_manager::RunningManager) -> ExitCode {
    let Some(task) = m.task.take() else { return ExitCode::FAILURE };
    tokio::select! {
        r = task => {
            eprintln!("wishcast: manager http server stopped: {r:?}");
            ExitCode::FAILURE
        }
        _ = shutdown_signal() => ExitCode::SUCCESS,
    }
}

fn manager(config: Option<PathBuf>) -> ExitCode {
    let cfg = match load_manager_config(config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wishcast: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg.log.level);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let auth_on = cfg.auth.auth_config().enabled();
    rt.block_on(async move {
        let m = match wishcast_manager::start(cfg).await {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        if let Some(w) = open_warning("the manager", m.http_addr, auth_on) {
            eprintln!("{w}");
        }
        print_manager(&m);
        serve_manager(m).await
    })
}

/// A free TCP port on `host` (bound and released: a quick-start convenience).
fn free_port(host: std::net::IpAddr) -> Result<u16, String> {
    TcpListener::bind(SocketAddr::new(host, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port on {host}: {e}"))
}

fn run(args: RunArgs) -> ExitCode {
    let prepared = (|| -> Result<_, String> {
        let mut mcfg = load_manager_config(args.config.as_ref())?;
        mcfg.http.listen = args.listen.clone();
        let listen: SocketAddr = mcfg.validate().map_err(|e| format!("--listen: {e}"))?;
        let template = load_node_config(args.node_config.as_ref())?;
        if args.nodes == 0 {
            return Err("--nodes must be at least 1".into());
        }
        if args.base_port != 0 && u32::from(args.base_port) + 10 * u32::from(args.nodes) > 65535 {
            return Err("--base-port is too high for that many nodes".into());
        }
        Ok((mcfg, listen, template))
    })();
    let (mcfg, listen, template) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("wishcast: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&mcfg.log.level);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async move {
        // Nodes share the manager's credentials, so client tokens work on both.
        // Nodes authenticate their heartbeats with a manager token: a static one, else an
        // admin JWT signed with the manager's secret (valid as long as this process runs).
        let cluster_token = mcfg.auth.tokens.first().cloned().unwrap_or_else(|| {
            if mcfg.auth.secret.is_empty() {
                return String::new();
            }
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let claims = wishcast_auth::Claims { id: "*".into(), exp: now + 10 * 365 * 86_400, mode: 7 };
            wishcast_auth::sign_hs256(mcfg.auth.secret.as_bytes(), &claims)
        });
        let auth = mcfg.auth.auth_config();
        if let Some(w) = open_warning("`wishcast run` (the manager and its nodes)", listen, auth.enabled()) {
            eprintln!("{w}");
        }
        let recorder_storage = mcfg.recorder.storage.clone();
        let m = match wishcast_manager::start(mcfg).await {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        let host = listen.ip();
        let loopback = if host.is_ipv6() { "[::1]".to_string() } else { "127.0.0.1".to_string() };
        let mut nodes = Vec::new();
        for i in 0..args.nodes {
            let mut cfg = template.clone();
            let base = if args.base_port == 0 { 0 } else { args.base_port + 10 * i };
            let http_port = if base == 0 {
                match free_port(host) {
                    Ok(p) => p,
                    Err(e) => return fail(e),
                }
            } else {
                base
            };
            let tcp_port = if base == 0 { 0 } else { base + 1 };
            cfg.http.listen = SocketAddr::new(host, http_port).to_string();
            cfg.webrtc.listen = SocketAddr::new(host, base).to_string();
            cfg.webrtc.tcp_listen = SocketAddr::new(host, tcp_port).to_string();
            cfg.auth = auth.clone();
            cfg.cluster.manager = m.public_url.clone();
            cfg.cluster.token = cluster_token.clone();
            cfg.cluster.alias = format!("node{}", i + 1);
            cfg.cluster.region = args.region.clone();
            let node_host = if host.is_unspecified() {
                loopback.clone()
            } else {
                SocketAddr::new(host, 0).to_string().trim_end_matches(":0").to_string()
            };
            cfg.cluster.public_url = format!("http://{node_host}:{http_port}");
            // Recording is on in `run`: every node gets its own spool and journal and
            // writes to the manager's storage, so playback works out of the box.
            let mut rec = cfg.recorder.clone().unwrap_or_default();
            rec.spool_dir = format!("./recordings/node{}/spool", i + 1);
            rec.index_path = format!("./recordings/node{}/index.jsonl", i + 1);
            rec.storage = recorder_storage.clone();
            cfg.recorder = Some(rec);
            match wishcast_node::start(cfg).await {
                Ok(n) => {
                    println!(
                        "  node{}: http://{}  media UDP {:?} TCP {:?}",
                        i + 1,
                        n.http_addr,
                        n.media.udp_addrs,
                        n.media.tcp_addrs
                    );
                    nodes.push(n);
                }
                Err(e) => return fail(format!("node{}: {e}", i + 1)),
            }
        }
        print_manager(&m);
        let code = serve_manager(m).await;
        for n in &nodes {
            n.shutdown().await;
        }
        for n in nodes {
            n.task.abort();
        }
        code
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_listens_on_loopback_unless_told_otherwise() {
        let parsed = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Run(a)) => a.listen,
            _ => panic!("not run"),
        };
        assert_eq!(parsed(&["wishcast", "run"]), "127.0.0.1:8888");
        assert_eq!(RunArgs::default().listen, "127.0.0.1:8888", "`wishcast` alone is `wishcast run`");
        assert_eq!(parsed(&["wishcast", "run", "--listen", "0.0.0.0:8888"]), "0.0.0.0:8888");
    }

    #[test]
    fn auth_off_on_a_reachable_address_is_warned_about() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(open_warning("x", a("0.0.0.0:8888"), false).is_some_and(|w| w.contains("auth off")));
        assert!(open_warning("x", a("192.0.2.1:8888"), false).is_some());
        assert!(open_warning("x", a("[::]:8888"), false).is_some());
        assert_eq!(open_warning("x", a("127.0.0.1:8888"), false), None);
        assert_eq!(open_warning("x", a("[::1]:8888"), false), None);
        assert_eq!(open_warning("x", a("0.0.0.0:8888"), true), None);
    }
}
