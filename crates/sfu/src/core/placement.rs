//! Which worker owns what, as pure functions shared by the core and the I/O edge.
//!
//! * A stream's **home** worker (a hash of its name) hosts its publisher, so "one
//!   publisher per stream", stale takeover and relays stay single-threaded decisions.
//! * A session's local ICE ufrag starts with its worker's character, so the socket
//!   reader routes a STUN check to the right worker without a shared table; later
//!   datagrams route by the address that check proved (see `crate::io`).

use str0m::IceCreds;
use str0m::ice::StunMessage;

/// One character per worker; at most this many workers.
const WORKER_CHARS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The most workers a node runs (one ufrag character each).
pub const MAX_WORKERS: usize = WORKER_CHARS.len();

/// The worker that hosts `stream`'s publisher (FNV-1a of the name).
pub fn home_of(stream: &str, workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    let h = stream.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    (h % workers as u64) as usize
}

/// Fresh ICE credentials for a session on `worker` (the ufrag names the worker when
/// there is more than one).
pub fn ice_creds(worker: usize, workers: usize) -> IceCreds {
    let mut c = IceCreds::new();
    if workers > 1 {
        let ch = WORKER_CHARS[worker.min(MAX_WORKERS - 1)] as char;
        c.ufrag = format!("{ch}{}", c.ufrag);
    }
    c
}

/// A new session id: a UUIDv4 (as the API documents) whose last byte is the
/// session's worker when there is more than one, so a session route reaches its
/// worker in one hop ([`session_worker`]). The version and variant bits are kept; 114
/// random bits remain. Clients still treat the id as an opaque string.
pub fn session_id(worker: usize, workers: usize) -> String {
    let mut b = *uuid::Uuid::new_v4().as_bytes();
    if workers > 1 {
        b[15] = worker.min(MAX_WORKERS - 1) as u8;
    }
    uuid::Uuid::from_bytes(b).to_string()
}

/// The worker a session id names (see [`session_id`]); `None` for ids no worker of
/// `workers` could have issued.
pub fn session_worker(id: &str, workers: usize) -> Option<usize> {
    if id.len() != 36 {
        return None;
    }
    let u = uuid::Uuid::try_parse(id).ok()?;
    if workers <= 1 {
        return Some(0);
    }
    let w = u.as_bytes()[15] as usize;
    (w < workers).then_some(w)
}

/// The worker named by a local ufrag, if it names one of `workers`.
pub fn worker_of_ufrag(ufrag: &str, workers: usize) -> Option<usize> {
    let first = *ufrag.as_bytes().first()?;
    let w = WORKER_CHARS.iter().position(|c| *c == first)?;
    (w < workers).then_some(w)
}

/// The worker a STUN request (first byte 0 or 1) is for, from its USERNAME.
pub fn worker_of_stun(data: &[u8], workers: usize) -> Option<usize> {
    if data.first().is_none_or(|b| *b >= 2) {
        return None;
    }
    let msg = StunMessage::parse(data).ok()?;
    let (local, _) = msg.split_username()?;
    worker_of_ufrag(local, workers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::ice::TransId;

    #[test]
    fn home_is_stable_and_in_range() {
        for n in 1..=4 {
            for s in ["a", "b", "live", "stream-42", ""] {
                let h = home_of(s, n);
                assert!(h < n);
                assert_eq!(h, home_of(s, n), "deterministic");
            }
        }
        assert_eq!(home_of("anything", 1), 0);
        // Names spread over workers.
        let on1 = (0..100).filter(|i| home_of(&format!("s{i}"), 2) == 1).count();
        assert!((20..80).contains(&on1), "{on1} of 100 on worker 1");
    }

    #[test]
    fn ufrag_names_its_worker() {
        for w in 0..3 {
            let c = ice_creds(w, 3);
            assert_eq!(worker_of_ufrag(&c.ufrag, 3), Some(w), "{}", c.ufrag);
        }
        // One worker: str0m's ufrag unchanged (no prefix needed).
        assert_eq!(ice_creds(0, 1).ufrag.len(), IceCreds::new().ufrag.len());
        assert_eq!(worker_of_ufrag("", 2), None);
        assert_eq!(worker_of_ufrag("5abc", 2), None, "worker 5 of 2 does not exist");
        assert_eq!(worker_of_ufrag("~abc", 2), None);
    }

    #[test]
    fn session_ids_are_uuids_naming_their_worker() {
        for workers in [1, 2, 3, MAX_WORKERS] {
            for w in 0..workers {
                let id = session_id(w, workers);
                let u = uuid::Uuid::parse_str(&id).expect("a UUID");
                assert_eq!(u.get_version_num(), 4, "{id}");
                assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
                assert_eq!(id, u.hyphenated().to_string(), "hyphenated lowercase");
                assert_eq!(session_worker(&id, workers), Some(w), "{id}");
            }
        }
        assert_ne!(session_id(1, 2), session_id(1, 2));
        assert_eq!(session_worker("not-a-session", 2), None);
        assert_eq!(session_worker("", 1), None);
        assert_eq!(session_worker("0f0e0d0c-0b0a-4908-8706-050403020105", 2), None, "worker 5 of 2");
        assert_eq!(session_worker("0f0e0d0c0b0a490887060504030201050000", 2), None, "not hyphenated");
    }

    #[test]
    fn stun_routes_by_username_and_garbage_does_not() {
        let msg = StunMessage::binding_request("1abcd:remote", TransId::new(), true, 1, 100, false);
        let mut buf = vec![0u8; 512];
        let n = msg.to_bytes(Some(b"pw"), &mut buf, |_, _| [0; 20]).expect("stun serializes");
        assert_eq!(worker_of_stun(&buf[..n], 2), Some(1));
        assert_eq!(worker_of_stun(&buf[..n], 1), None);
        assert_eq!(worker_of_stun(&[], 2), None);
        assert_eq!(worker_of_stun(&[0, 1, 0, 0], 2), None);
        assert_eq!(worker_of_stun(&[0x16, 0xfe, 0xfd], 2), None, "DTLS is not STUN");
        assert_eq!(worker_of_stun(&buf[..n / 2], 2), None, "truncated");
    }
}
