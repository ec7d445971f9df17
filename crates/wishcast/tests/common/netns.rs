//! A network namespace joined to the host by a veth pair, for WebRTC clients
//! that never use loopback (libnice, hence GStreamer webrtcbin): the host end
//! is `10.200.N.1/30`, the namespace end `10.200.N.2/30`. Created by the test
//! (needs root: `ip netns`, `ip link`), deleted on drop, also when the test
//! panics. Nothing else is touched.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use super::INSTALL_HINT;

pub struct Netns {
    /// Namespace name, e.g. `wcgst-12345-0`.
    pub name: String,
    /// Host-side veth interface.
    host_if: String,
    /// The host end's address (the node listens here).
    pub host_ip: String,
    /// The namespace end's address (the client's).
    pub ns_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip` (iproute2): {e}; {INSTALL_HINT}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Netns {
    /// Creates the namespace and the veth pair; panics (the test FAILS) when
    /// that is not possible (not root, no iproute2).
    pub fn create(tag: &str) -> Netns {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let k = N.fetch_add(1, Ordering::Relaxed);
        // 10.200.0.0/16 split into /30s: one per (process, namespace).
        let slot = (pid.wrapping_mul(7).wrapping_add(k)) % 16_000;
        let (b3, b4) = (slot / 64, (slot % 64) * 4);
        let id = format!("{:x}{k}", pid % 0xfffff);
        let ns = Netns {
            name: format!("wc{tag}-{id}"),
            host_if: format!("wch{id}"),
            host_ip: format!("10.200.{b3}.{}", b4 + 1),
            ns_ip: format!("10.200.{b3}.{}", b4 + 2),
        };
        let peer_if = format!("wcn{id}");
        // Leftovers of a crashed run with the same names.
        let _ = ip(&["netns", "del", &ns.name]);
        let _ = ip(&["link", "del", &ns.host_if]);
        let host_cidr = format!("{}/30", ns.host_ip);
        let ns_cidr = format!("{}/30", ns.ns_ip);
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", &ns.name],
            vec!["link", "add", &ns.host_if, "type", "veth", "peer", "name", &peer_if],
            vec!["link", "set", &peer_if, "netns", &ns.name],
            vec!["addr", "add", &host_cidr, "dev", &ns.host_if],
            vec!["link", "set", &ns.host_if, "up"],
            vec!["-n", &ns.name, "addr", "add", &ns_cidr, "dev", &peer_if],
            vec!["-n", &ns.name, "link", "set", &peer_if, "up"],
            vec!["-n", &ns.name, "link", "set", "lo", "up"],
        ];
        for s in steps {
            if let Err(e) = ip(&s) {
                drop(ns);
                panic!(
                    "cannot set up the test network namespace ({e}); the GStreamer tests need root \
                     (CAP_NET_ADMIN) and iproute2"
                );
            }
        }
        ns
    }

    /// `ip netns exec <ns> <program> <args…>`.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace destroys its veth end, and with it the host end.
        let _ = ip(&["netns", "del", &self.name]);
        let _ = ip(&["link", "del", &self.host_if]);
    }
}
