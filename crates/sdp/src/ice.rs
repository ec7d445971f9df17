//! ICE lines: `a=candidate:` syntax and `a=ice-ufrag` / `a=ice-pwd` values.

use crate::error::{SdpError, snippet};

const CANDIDATE_FORM: &str =
    "`a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <host|srflx|prflx|relay> [...]`";

/// Longest accepted ufrag / pwd (RFC 8839 allows 256 chars).
const MAX_CREDENTIAL_LEN: usize = 256;

/// Checks the value after `a=` of a candidate line (it starts with
/// `candidate:`). Field rules follow RFC 8839 section 5.1.
pub(crate) fn check_candidate(no: usize, value: &str) -> Result<(), SdpError> {
    let bad = |why: String| {
        SdpError::at(no, format!("malformed candidate `a={}`: {why}; expected {CANDIDATE_FORM}", snippet(value)))
    };
    let rest = value
        .strip_prefix("candidate:")
        .ok_or_else(|| bad("the attribute must be `candidate:` (lower-case, followed by a colon)".into()))?;
    let f: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split(' ').collect() };
    if f.iter().any(|x| x.is_empty()) {
        return Err(bad("fields must be separated by single spaces".into()));
    }
    let [foundation, component, transport, priority, address, port, typ, kind, ..] = f.as_slice() else {
        return Err(bad(format!("needs at least 8 space-separated fields, found {}", f.len())));
    };
    if foundation.len() > 32 || !foundation.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(format!("foundation `{}` must be 1-32 visible ASCII characters", snippet(foundation))));
    }
    if !matches!(digits_u32(component), Some(1..=256)) {
        return Err(bad(format!("component `{}` must be a number 1-256", snippet(component))));
    }
    if !transport.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad(format!("transport `{}` must be a word such as `udp` or `tcp`", snippet(transport))));
    }
    if digits_u32(priority).is_none() {
        return Err(bad(format!("priority `{}` must be a number 0-4294967295", snippet(priority))));
    }
    if !address.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(format!("address `{}` must be an IP address or host name", snippet(address))));
    }
    if !matches!(digits_u32(port), Some(0..=65535)) {
        return Err(bad(format!("port `{}` must be a number 0-65535", snippet(port))));
    }
    if *typ != "typ" {
        return Err(bad(format!("the 7th field must be the word `typ`, got `{}`", snippet(typ))));
    }
    if !matches!(*kind, "host" | "srflx" | "prflx" | "relay") {
        return Err(bad(format!("candidate type `{}` must be host, srflx, prflx or relay", snippet(kind))));
    }
    Ok(())
}

fn digits_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Checks an `a=ice-ufrag` / `a=ice-pwd` value and returns it owned.
pub(crate) fn check_credential(no: usize, attr: &str, value: Option<&str>) -> Result<String, SdpError> {
    let v = value.unwrap_or("");
    if v.is_empty() {
        return Err(SdpError::at(no, format!("`a={attr}` has no value; expected `a={attr}:<value>`")));
    }
    if v.len() > MAX_CREDENTIAL_LEN || !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(SdpError::at(
            no,
            format!("`a={attr}:{}` must be 1-{MAX_CREDENTIAL_LEN} visible ASCII characters without spaces", snippet(v)),
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_candidates() {
        for c in [
            "candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0",
            "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 192.168.0.196 rport 46243 generation 0 network-cost 999",
            "candidate:3 1 TCP 2105458943 2001:db8::1 9 typ host tcptype active",
            "candidate:0 1 UDP 2122252543 4f6c0f5e-7a7b-4c1a-9d6e-2d2b8a0f1c33.local 53210 typ host",
            "candidate:a1b2c3d4e5f60718293a4b5c6d7e8f90 1 udp 16777215 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0",
            "candidate:1 256 udp 0 10.0.0.1 0 typ prflx",
        ] {
            check_candidate(1, c).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
    }

    #[test]
    fn bad_candidates() {
        for (c, needle) in [
            ("candidate", "must be `candidate:`"),
            ("Candidate:1 1 udp 1 1.2.3.4 5 typ host", "must be `candidate:`"),
            ("candidate:", "at least 8"),
            ("candidate:1 1 udp 2122260223 192.168.0.196 46243 typ", "found 7"),
            ("candidate:1 1 udp 2122260223 192.168.0.196 46243", "found 6"),
            ("candidate:1  1 udp 2122260223 192.168.0.196 46243 typ host", "single spaces"),
            ("candidate:1 x udp 2122260223 192.168.0.196 46243 typ host", "component"),
            ("candidate:1 0 udp 2122260223 192.168.0.196 46243 typ host", "component"),
            ("candidate:1 99999999999999999999 udp 1 1.2.3.4 5 typ host", "component"),
            ("candidate:1 1 udp 4294967296 192.168.0.196 46243 typ host", "priority"),
            ("candidate:1 1 udp -5 192.168.0.196 46243 typ host", "priority"),
            ("candidate:1 1 udp 1 192.168.0.196 65536 typ host", "port"),
            ("candidate:1 1 udp 1 192.168.0.196 port typ host", "port"),
            ("candidate:1 1 udp 1 192.168.0.196 5 type host", "`typ`"),
            ("candidate:1 1 udp 1 192.168.0.196 5 typ hots", "candidate type"),
            ("candidate:1 1 ud/p 1 192.168.0.196 5 typ host", "transport"),
            ("candidate:1 1 udp 1 ádress 5 typ host", "address"),
            ("candidate:ü 1 udp 1 1.2.3.4 5 typ host", "foundation"),
            ("candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host", "foundation"),
        ] {
            let e = check_candidate(4, c).unwrap_err();
            assert_eq!(e.line(), Some(4));
            assert!(e.message().contains(needle), "{c}: {e}");
            assert!(e.message().contains("expected `a=candidate:<foundation>"), "{e}");
        }
    }

    #[test]
    fn credentials() {
        assert_eq!(check_credential(1, "ice-ufrag", Some("EsAw")).unwrap(), "EsAw");
        assert_eq!(
            check_credential(1, "ice-pwd", Some("bP+XJMM09aR8AiX1jdukzR6Y/x")).unwrap(),
            "bP+XJMM09aR8AiX1jdukzR6Y/x"
        );
        assert!(check_credential(1, "ice-ufrag", None).unwrap_err().message().contains("no value"));
        assert!(check_credential(1, "ice-ufrag", Some("")).is_err());
        assert!(check_credential(1, "ice-pwd", Some("a b")).unwrap_err().message().contains("without spaces"));
        assert!(check_credential(1, "ice-pwd", Some("pässwörd")).is_err());
        assert!(check_credential(1, "ice-pwd", Some(&"x".repeat(257))).is_err());
        assert!(check_credential(1, "ice-pwd", Some(&"x".repeat(256))).is_ok());
    }
}
