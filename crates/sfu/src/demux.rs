//! Datagram demultiplexing on a shared socket: STUN by local ufrag, everything else by
//! the remote transport address learned from STUN. Hash lookups only, never a scan.

use std::collections::HashMap;
use std::net::SocketAddr;

use str0m::ice::StunMessage;
use str0m::net::Protocol;

use crate::peer::PeerId;

#[derive(Default)]
pub struct Demux {
    by_ufrag: HashMap<String, PeerId>,
    by_addr: HashMap<(Protocol, SocketAddr), PeerId>,
}

impl Demux {
    pub fn add_ufrag(&mut self, ufrag: &str, peer: PeerId) {
        self.by_ufrag.insert(ufrag.to_string(), peer);
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
    pub fn route(
        &mut self,
        proto: Protocol,
        source: SocketAddr,
        data: &[u8],
    ) -> Option<(PeerId, bool)> {
        let first = *data.first()?;
        if first < 2 {
            let msg = StunMessage::parse(data).ok()?;
            // Requests name our ufrag. Responses (to checks our relay peers send as the
            // controlling agent) carry no USERNAME: they route by address below.
            if let Some(peer) = msg.split_username().and_then(|(u, _)| self.by_ufrag.get(u)).copied() {
                let learned = match self.by_addr.insert((proto, source), peer) {
                    Some(prev) => prev != peer,
                    None => true,
                };
                return Some((peer, learned));
            }
        }
        self.by_addr.get(&(proto, source)).map(|p| (*p, false))
    }

    pub fn len(&self) -> (usize, usize) {
        (self.by_ufrag.len(), self.by_addr.len())
    }
}
