//! The `wishcast` binary: CLI parsing and wiring only.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn load_config(path: Option<&PathBuf>) -> Result<wishcast_node::NodeConfig, String> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display()))?,
        None => String::new(),
    };
    let (mut cfg, unknown) = wishcast_node::config::parse(&text).map_err(|e| e.to_string())?;
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

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{level},str0m=warn,dimpl=warn,is=warn,sctp_proto=warn,hyper=warn"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match &cli.command {
        Some(Command::Node { config }) => config.clone(),
        None => None,
    };
    let cfg = match load_config(config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wishcast: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg.log.level);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wishcast: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let node = match wishcast_node::start(cfg).await {
            Ok(n) => n,
            Err(e) => {
                eprintln!("wishcast: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("wishcast node listening on http://{}", node.http_addr);
        println!(
            "  WHIP: http://{0}/whip/<stream>   WHEP: http://{0}/whep/<stream>   media UDP {1:?} TCP {2:?}",
            node.http_addr, node.media.udp_addrs, node.media.tcp_addrs
        );
        tokio::select! {
            r = node.task => {
                eprintln!("wishcast: http server stopped: {r:?}");
                ExitCode::FAILURE
            }
            _ = shutdown_signal() => ExitCode::SUCCESS,
        }
    })
}
