//! Datagram demultiplexing on a shared socket: STUN by local ufrag, everything else by
//! the remote transport address learned from STUN. Hash lookups only, never a scan.

use std::collections::HashMap;
use std::net::SocketAddr;

use str0m::ice::StunMessage;
use str0m::net::Protocol;

use crate::core::peer::PeerId;

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        return [0; 20];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[derive(Default)]
pub struct Demux {
    /// Local ufrag → (peer, local ICE password).
    by_ufrag: HashMap<String, (PeerId, String)>,
    by_addr: HashMap<(Protocol, SocketAddr), PeerId>,
}

impl Demux {
    pub fn add_ufrag(&mut self, ufrag: &str, pwd: &str, peer: PeerId) {
        self.by_ufrag.insert(ufrag.to_string(), (peer, pwd.to_string()));
    }

    pub fn remove_ufrag(&mut self, ufrag: &str) {
        self.by_ufrag.remove(ufrag);
    }

    /// Route datagrams from a known remote address (a relay's upstream candidates).
    pub fn add_addr(&mut self, proto: Protocol, addr: SocketAddr, peer: PeerId) {
        self.by_addr.insert((proto, addr), peer);
    }

    /// Forget every address that routes to `peer`.
    pub fn remove_peer_addrs(&mut self, addrs: &[(Protocol, SocketAddr)]) {
        for a in addrs {
            self.by_addr.remove(a);
        }
    }

    /// Find the peer a datagram belongs to. For a STUN request the source address is
    /// learned (returned as `Some(new_addr)` when it is new for that peer).
    pub fn route(&mut self, proto: Protocol, source: SocketAddr, data: &[u8]) -> Option<(PeerId, bool)> {
        let first = *data.first()?;
        if first < 2 {
            let msg = StunMessage::parse(data).ok()?;
            // Requests name our ufrag. Responses (to checks our relay peers send as the
            // controlling agent) carry no USERNAME: they route by address below.
            if let Some((peer, pwd)) = msg.split_username().and_then(|(u, _)| self.by_ufrag.get(u)) {
                let peer = *peer;
                if self.by_addr.get(&(proto, source)) == Some(&peer) {
                    return Some((peer, false));
                }
                // Learn a new address only from a check that proves it knows the password,
                // so nobody can bind their address to a session by guessing its ufrag.
                if !msg.verify(pwd.as_bytes(), hmac_sha1) {
                    return Some((peer, false));
                }
                self.by_addr.insert((proto, source), peer);
                return Some((peer, true));
            }
        }
        self.by_addr.get(&(proto, source)).map(|p| (*p, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::ice::TransId;

    fn check(username: &str, pwd: &[u8]) -> Vec<u8> {
        let msg = StunMessage::binding_request(username, TransId::new(), true, 1, 100, false);
        let mut buf = vec![0u8; 512];
        let n = msg.to_bytes(Some(pwd), &mut buf, hmac_sha1).expect("stun serializes");
        buf.truncate(n);
        buf
    }

    #[test]
    fn only_verified_checks_bind_an_address() {
        let mut d = Demux::default();
        let peer = PeerId { index: 0, generation: 0 };
        d.add_ufrag("local", "secretpassword", peer);
        let src: SocketAddr = "192.0.2.9:5000".parse().unwrap();
        // Right ufrag, wrong password: routed to the peer (its ICE agent drops it) but not learned.
        assert_eq!(d.route(Protocol::Udp, src, &check("local:remote", b"guessed")), Some((peer, false)));
        assert_eq!(d.route(Protocol::Udp, src, &[0x16, 0xfe, 0xfd]), None, "DTLS from an unverified address");
        // A verified check binds the address; later non-STUN datagrams route.
        assert_eq!(d.route(Protocol::Udp, src, &check("local:remote", b"secretpassword")), Some((peer, true)));
        assert_eq!(d.route(Protocol::Udp, src, &[0x16, 0xfe, 0xfd]), Some((peer, false)));
        // Unknown ufrag and garbage go nowhere.
        let other: SocketAddr = "192.0.2.10:5000".parse().unwrap();
        assert_eq!(d.route(Protocol::Udp, other, &check("nobody:remote", b"x")), None);
        assert_eq!(d.route(Protocol::Udp, other, &[]), None);
        assert_eq!(d.route(Protocol::Udp, other, &[0, 1, 2]), None);
    }
}
