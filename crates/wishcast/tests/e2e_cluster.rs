//! End-to-end cluster tests: the compiled `wishcast` binary (a manager and media
//! nodes) against headless Chromium (tests/browser/cluster.mjs, via playwright-core),
//! and a real coturn (`/usr/bin/turnserver`) for the TURN test.
//!
//! Needs Chromium, Node.js + `npm ci`, and coturn: `scripts/install-test-deps`.
//! Missing dependencies make these tests FAIL, never skip.
//! Under nextest they run one at a time (.config/nextest.toml, group `browser`).

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::procs::{Proc, TempDir, nanos};
use common::{INSTALL_HINT, chromium_path, repo_root, require_browser_deps, run_with_timeout, serial};

/// How long one browser scenario may take (nextest kills the test at 120 s).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(105);

/// `node tests/browser/cluster.mjs --base URL --scenario NAME extra…`: panics with the
/// script's output and every process's log unless it exits 0; returns its JSON line.
fn cluster_scenario(base: &str, scenario: &str, extra: &[&str], procs: &[&Proc]) -> String {
    require_browser_deps();
    let root = repo_root();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg(root.join("tests/browser/cluster.mjs"))
        .args(["--base", base, "--scenario", scenario, "--timeout-s", &(SCRIPT_TIMEOUT.as_secs() - 5).to_string()])
        .args(extra);
    if let Some(p) = chromium_path() {
        cmd.env("CHROMIUM_PATH", p);
    }
    let shown = format!("{cmd:?}");
    let started = Instant::now();
    let (status, out, err) = run_with_timeout(cmd, SCRIPT_TIMEOUT);
    println!("browser cluster {scenario}: {} ({:.1} s)", out.trim(), started.elapsed().as_secs_f64());
    // The script's human-readable summary (figures) goes to stderr.
    for l in err
        .lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with('{') && !l.starts_with('[') && !l.starts_with("    at "))
    {
        println!("  {l}");
    }
    if !status.is_some_and(|s| s.success()) {
        let why = match status {
            None => format!("timed out after {} s", SCRIPT_TIMEOUT.as_secs()),
            Some(s) => format!("exited with {s}"),
        };
        let logs: Vec<String> = procs.iter().map(|p| p.logs()).collect();
        panic!(
            "browser cluster {scenario} FAILED: {why}\ncommand: {shown}\n--- script stdout ---\n{out}\n--- script stderr ---\n{err}\n{}",
            logs.join("\n")
        );
    }
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or_default().to_string();
    assert!(line.contains("\"ok\":true"), "no ok result line from the script: {out}");
    line
}

/// The JSON value after `"key":` in `json` (an object or array, brackets balanced).
fn json_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[start..];
    let (open, close) = match rest.chars().next()? {
        '{' => ('{', '}'),
        '[' => ('[', ']'),
        _ => return rest.split([',', '}']).next(),
    };
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(&rest[..=i]);
            }
        }
    }
    None
}

// --- 1. Cascade: 3 nodes with sub_max 2, 1 publisher + 5 viewers via the manager ----

/// `wishcast run` with three nodes whose `strategy.each_stream_max_sub = 2`: one
/// Chromium publisher and five Chromium viewers through the manager's /whip and /whep
/// all decode, so the stream is cascaded at least twice (GET /api/cascade/ and the
/// relay publishers in GET /api/streams/), and no node carries more than 2 viewers.
/// Prints the cascade set-up time (WHEP POST on a full node → first decoded frame) and
/// the proxy overhead (WHEP POST → 201 via the manager vs. directly on a node, median
/// of 10).
#[test]
fn five_chromium_viewers_on_three_nodes_with_sub_max_2_cascade_through_the_manager() {
    let _g = serial();
    require_browser_deps();
    let node_cfg = "[http]\ncors = true\n\n[strategy]\neach_stream_max_sub = 2\n";
    let manager_cfg = "[http]\ncors = true\n";
    let (cluster, url) = Proc::run(3, manager_cfg, node_cfg);
    let out = cluster_scenario(&url, "cascade", &["--nodes", "3"], &[&cluster]);
    let nodes_printed = cluster
        .stdout()
        .lines()
        .filter(|l| l.trim_start().strip_prefix("node").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())))
        .count();
    assert_eq!(nodes_printed, 3, "`wishcast run` prints its 3 nodes:\n{}", cluster.stdout());
    println!(
        "cascade set-up time (WHEP POST on a full node -> first decoded frame), ms: {}; joins without a cascade: {}",
        json_field(&out, "cascadeSetupMs").unwrap_or("?"),
        json_field(&out, "plainJoinMs").unwrap_or("?")
    );
    println!("proxy overhead (WHEP POST -> 201, median of 10): {}", json_field(&out, "proxyOverhead").unwrap_or("?"));
}

// --- 2. Redirect mode --------------------------------------------------------------

/// Manager with `[placement] mode = "redirect"` and auth, two static nodes (separate
/// `wishcast node` processes sharing the client token): Chromium's fetch follows the
/// 307 for the WHIP/WHEP POST (offer re-sent to the node, `?token=` kept), trickle
/// PATCH and DELETE go to the node's Location, and the viewer decodes.
#[test]
fn redirect_mode_chromium_follows_the_307_to_a_node() {
    let _g = serial();
    require_browser_deps();
    let node_cfg = r#"
[http]
listen = "127.0.0.1:0"
cors = true

[webrtc]
listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"

[auth]
tokens = ["client-token", "node-token"]
"#;
    let (n1, u1) = Proc::node("node a", node_cfg);
    let (n2, u2) = Proc::node("node b", node_cfg);
    let manager_cfg = format!(
        r#"
[http]
listen = "127.0.0.1:0"
cors = true

[auth]
tokens = ["client-token"]

[placement]
mode = "redirect"

[[nodes]]
alias = "a"
url = "{u1}"
token = "node-token"

[[nodes]]
alias = "b"
url = "{u2}"
token = "node-token"
"#
    );
    let (m, url) = Proc::manager(&manager_cfg);
    cluster_scenario(&url, "redirect", &["--nodes", "2", "--token", "client-token"], &[&m, &n1, &n2]);
}

// --- 3. coturn ---------------------------------------------------------------------------

/// A real coturn (`turnserver --use-auth-secret`) on loopback.
struct Turn {
    proc: Proc,
    port: u16,
}

/// A port free for both UDP and TCP on 127.0.0.1, below the ephemeral range (so the
/// nodes' ephemeral media ports cannot take it).
fn free_low_port(from: u16, span: u16) -> u16 {
    let seed = (std::process::id() ^ nanos()) as u64;
    for i in 0..2000u64 {
        let port = from + ((seed.wrapping_mul(2654435761).wrapping_add(i * 7919)) % span as u64) as u16;
        let udp = UdpSocket::bind(("127.0.0.1", port));
        let tcp = TcpListener::bind(("127.0.0.1", port));
        if udp.is_ok() && tcp.is_ok() {
            return port;
        }
    }
    panic!("no free port in {from}..{}", from + span);
}

/// Whether a STUN Binding request to 127.0.0.1:port gets a Binding success response.
fn stun_binding_ok(port: u16) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else { return false };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(200)));
    let mut req = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    req.extend_from_slice(b"wishcast-e2e");
    if sock.send_to(&req, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 1500];
    matches!(sock.recv_from(&mut buf), Ok((n, _)) if n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 && buf[8..20] == req[8..20])
}

impl Turn {
    fn start(secret: &str) -> Turn {
        let bin = Path::new("/usr/bin/turnserver");
        assert!(bin.is_file(), "coturn is not installed (/usr/bin/turnserver missing); {INSTALL_HINT}");
        let dir = TempDir::new("coturn");
        // An empty config file: never read the system's /etc/turnserver.conf.
        let conf = dir.write("turnserver.conf", "");
        let port = free_low_port(10_000, 10_000);
        let relay_base = free_low_port(20_000, 12_000).min(32_000 - 200);
        let d = dir.0.clone();
        let s = |p: &str| d.join(p).to_string_lossy().into_owned();
        let args: Vec<String> = vec![
            "-c".into(),
            conf.to_string_lossy().into_owned(),
            "--use-auth-secret".into(),
            format!("--static-auth-secret={secret}"),
            "--realm=wishcast".into(),
            "--listening-ip=127.0.0.1".into(),
            format!("--listening-port={port}"),
            "--relay-ip=127.0.0.1".into(),
            format!("--min-port={relay_base}"),
            format!("--max-port={}", relay_base + 199),
            // The nodes' ICE-lite host candidates are 127.0.0.1.
            "--allow-loopback-peers".into(),
            "--no-cli".into(),
            "--no-tls".into(),
            "--no-dtls".into(),
            "--no-rfc5780".into(),
            "--relay-threads=1".into(),
            "--verbose".into(),
            "--log-file=stdout".into(),
            "--simple-log".into(),
            format!("--pidfile={}", s("turnserver.pid")),
            format!("--userdb={}", s("turndb")),
        ];
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        // Started once it logs anything; ready once it answers a STUN Binding request.
        let (mut proc, _) = Proc::spawn("coturn", bin, &argv, dir, Duration::from_secs(15), |_| Some(String::new()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stun_binding_ok(port) {
            let exited = proc.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "coturn does not answer STUN on 127.0.0.1:{port} (exit status {exited:?})\n{}",
                proc.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Turn { proc, port }
    }
}

/// A real coturn with `--use-auth-secret`; the manager's `[extra_ice.coturn]` puts its
/// REST credentials in the WHIP/WHEP 201 `Link` headers; the Chromium publisher and
/// viewer use them with `iceTransportPolicy: "relay"`, connect through coturn (selected
/// local candidate type `relay`) and the viewer decodes. A wrong credential gets 401.
#[test]
fn coturn_rest_credentials_from_the_manager_relay_chromium_through_a_real_turnserver() {
    let _g = serial();
    require_browser_deps();
    let secret = "wishcast-coturn-secret";
    let turn = Turn::start(secret);
    let turn_url = format!("turn:127.0.0.1:{}?transport=udp", turn.port);
    let manager_cfg = format!(
        "[http]\ncors = true\n\n[extra_ice.coturn]\nsecret = \"{secret}\"\nurls = [\"{turn_url}\"]\nttl = 600\n"
    );
    let (cluster, url) = Proc::run(1, &manager_cfg, "[http]\ncors = true\n");
    cluster_scenario(&url, "coturn", &["--nodes", "1", "--turn-url", &turn_url], &[&cluster, &turn.proc]);
    // coturn's own account: allocations with the REST username and permissions for
    // the node's loopback address succeeded.
    let log = turn.proc.stdout();
    let allocs = log.lines().filter(|l| l.contains("ALLOCATE processed, success")).count();
    let perms = log
        .lines()
        .filter(|l| l.contains("CREATE_PERMISSION processed, success") || l.contains("CHANNEL_BIND processed, success"))
        .count();
    println!("coturn: {allocs} successful allocations, {perms} permissions/channel binds");
    assert!(
        allocs >= 2 && perms >= 2,
        "coturn log shows {allocs} allocations and {perms} permissions:\n{}",
        turn.proc.logs()
    );
}
