//! Which addresses the media sockets bind and which the node advertises as ICE
//! candidates (interface enumeration for wildcard binds, public-IP overrides).

use std::net::{IpAddr, SocketAddr};

/// One socket to bind and the addresses it is advertised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub bind: SocketAddr,
    pub advertise: Vec<SocketAddr>,
}

/// Interface addresses usable for a wildcard bind of the given family.
pub fn interface_ips(v6: bool) -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(ifs) = if_addrs::get_if_addrs() {
        for i in ifs {
            let ip = i.ip();
            if ip.is_loopback() || ip.is_ipv6() != v6 {
                continue;
            }
            if let IpAddr::V6(v) = ip {
                // link-local needs a scope id the SDP cannot carry
                if (v.segments()[0] & 0xffc0) == 0xfe80 {
                    continue;
                }
            }
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

/// Plan the sockets for a listen address. A wildcard address becomes one socket per
/// non-loopback interface address (loopback if that is all there is). With public IPs
/// (1:1 NAT), one socket binds the listen address as given (wildcard included, so the
/// NAT may forward to any interface) and advertises only the public addresses.
pub fn plan(listen: SocketAddr, public_ips: &[IpAddr], interfaces: &[IpAddr]) -> Vec<Binding> {
    if !public_ips.is_empty() {
        return vec![Binding {
            bind: listen,
            advertise: public_ips.iter().map(|ip| SocketAddr::new(*ip, listen.port())).collect(),
        }];
    }
    let ips: Vec<IpAddr> = if listen.ip().is_unspecified() {
        if interfaces.is_empty() {
            vec![if listen.is_ipv6() {
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
            } else {
                IpAddr::from([127, 0, 0, 1])
            }]
        } else {
            interfaces.to_vec()
        }
    } else {
        vec![listen.ip()]
    };
    ips.into_iter()
        .map(|ip| {
            let a = SocketAddr::new(ip, listen.port());
            Binding { bind: a, advertise: vec![a] }
        })
        .collect()
}

/// After binding (port 0 may have become a real port), fix the advertised ports.
pub fn with_port(b: &Binding, port: u16) -> Binding {
    Binding {
        bind: SocketAddr::new(b.bind.ip(), port),
        advertise: b.advertise.iter().map(|a| SocketAddr::new(a.ip(), port)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_uses_interfaces_or_loopback() {
        let l: SocketAddr = "0.0.0.0:7777".parse().unwrap();
        let p = plan(l, &[], &[]);
        assert_eq!(p[0].bind, "127.0.0.1:7777".parse().unwrap());
        let ifs = ["192.0.2.2".parse().unwrap(), "198.51.100.1".parse().unwrap()];
        let p = plan(l, &[], &ifs);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].advertise, vec!["198.51.100.1:7777".parse().unwrap()]);
    }

    #[test]
    fn public_ip_replaces_advertised() {
        let l: SocketAddr = "10.0.0.5:7777".parse().unwrap();
        let p = plan(l, &["203.0.113.7".parse().unwrap()], &[]);
        assert_eq!(p[0].bind, l);
        assert_eq!(p[0].advertise, vec!["203.0.113.7:7777".parse().unwrap()]);
        let w: SocketAddr = "0.0.0.0:7777".parse().unwrap();
        let ifs = ["192.0.2.2".parse().unwrap(), "198.51.100.1".parse().unwrap()];
        let p = plan(w, &["203.0.113.7".parse().unwrap(), "203.0.113.8".parse().unwrap()], &ifs);
        assert_eq!(p.len(), 1, "one wildcard socket behind 1:1 NAT");
        assert_eq!(p[0].bind, w);
        assert_eq!(p[0].advertise.len(), 2);
    }
}
