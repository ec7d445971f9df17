//! The session part of an offer (before the first m= line): `v=0`, `o=`,
//! `s=`, `t=0 0` in RFC 8866 order, plus session-level ICE credentials and
//! the default direction.

use crate::error::{SdpError, snippet};
use crate::ice::{check_candidate, check_credential};
use crate::lines::{Line, attribute, fields};
use crate::media::Direction;

/// Session-level line types in the order RFC 8866 requires.
const ORDER: &str = "vosiuepcbtrzka";
/// Session-level line types that may appear at most once.
const ONCE: &str = "vosiuczk";

const O_FORM: &str =
    "`o=<username> <sess-id> <sess-version> IN IP4 <address>`, e.g. `o=- 4611731400430051336 2 IN IP4 127.0.0.1`";

/// What the session part of an offer says.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub ice_ufrag: Option<String>,
    pub ice_pwd: Option<String>,
    pub direction: Option<Direction>,
    /// Mids of every `a=group:BUNDLE` line, in order.
    pub bundle_mids: Vec<String>,
    saw_o: bool,
    saw_s: bool,
    saw_t: bool,
    last: Option<char>,
}

impl Session {
    /// Checks the first line, which must be `v=0`.
    pub fn start(first: &Line<'_>) -> Result<Session, SdpError> {
        if first.kind != 'v' {
            return Err(SdpError::at(
                first.no,
                format!("an SDP offer must start with `v=0`, got `{}`", snippet(first.text)),
            ));
        }
        if first.value != "0" {
            return Err(SdpError::at(
                first.no,
                format!("unsupported SDP version `{}`; expected `v=0`", snippet(first.text)),
            ));
        }
        Ok(Session { last: Some('v'), ..Session::default() })
    }

    /// Handles one session-level line (never an m= line).
    pub fn line(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        let header_next = if !self.saw_o {
            'o'
        } else if !self.saw_s {
            's'
        } else {
            l.kind
        };
        if l.kind != header_next {
            self.expect_header(Some(l))?;
        }
        self.check_order(l)?;
        match l.kind {
            'o' => {
                check_origin(l)?;
                self.saw_o = true;
            }
            's' => {
                if l.value.is_empty() {
                    return Err(SdpError::at(l.no, "`s=` must not be empty; use `s=-` when there is no session name"));
                }
                self.saw_s = true;
            }
            't' => {
                if l.value != "0 0" {
                    return Err(SdpError::at(
                        l.no,
                        format!("WebRTC offers use `t=0 0` (an unbounded session), got `{}`", snippet(l.text)),
                    ));
                }
                self.saw_t = true;
            }
            'a' => self.attribute(l)?,
            _ => {}
        }
        Ok(())
    }

    /// Checks that `o=`, `s=` and `t=` have been seen; `next` is the line
    /// about to be handled (an m= line), `None` at the end of input.
    pub fn expect_header(&self, next: Option<&Line<'_>>) -> Result<(), SdpError> {
        let (want, after) = if !self.saw_o {
            (O_FORM.to_string(), "`v=0`")
        } else if !self.saw_s {
            ("`s=<session name>` (e.g. `s=-`)".to_string(), "the o= line")
        } else if !self.saw_t {
            ("`t=0 0`".to_string(), "the session lines")
        } else {
            return Ok(());
        };
        Err(match next {
            Some(l) => SdpError::at(l.no, format!("expected {want} after {after}, got `{}`", snippet(l.text))),
            None => SdpError::whole(format!("the SDP ends early: expected {want} after {after}")),
        })
    }

    fn check_order(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        let rank = |k: char| ORDER.find(k);
        let Some(r) = rank(l.kind) else {
            return Err(SdpError::at(l.no, format!("`{}=` lines only belong inside an m-section", l.kind)));
        };
        if let Some(last) = self.last {
            let last_r = rank(last).unwrap_or(0);
            let repeat_time = l.kind == 't' && last == 'r';
            if l.kind == 'v' {
                return Err(SdpError::at(l.no, "only one `v=` line is allowed, at the very start"));
            }
            if r < last_r && !repeat_time {
                return Err(SdpError::at(
                    l.no,
                    format!(
                        "`{}=` line is out of order (it must come before `{last}=` lines); session lines go in the order v o s i u e p c b t r z k a",
                        l.kind
                    ),
                ));
            }
            if r == last_r && ONCE.contains(l.kind) {
                return Err(SdpError::at(l.no, format!("duplicate `{}=` line", l.kind)));
            }
        }
        self.last = Some(l.kind);
        Ok(())
    }

    fn attribute(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        let (name, value) = attribute(l.value);
        if let Some(d) = Direction::from_sdp(name) {
            if let Some(prev) = self.direction {
                return Err(SdpError::at(
                    l.no,
                    format!("more than one session-level direction (`a={prev}` and `a={d}`); keep one"),
                ));
            }
            self.direction = Some(d);
            return Ok(());
        }
        match name {
            "ice-ufrag" => self.ice_ufrag = Some(check_credential(l.no, name, value)?),
            "ice-pwd" => self.ice_pwd = Some(check_credential(l.no, name, value)?),
            "candidate" => check_candidate(l.no, l.value)?,
            "group" => {
                if let Some(mids) = value.and_then(|v| v.strip_prefix("BUNDLE")) {
                    self.bundle_mids.extend(mids.split_ascii_whitespace().map(str::to_string));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn check_origin(l: &Line<'_>) -> Result<(), SdpError> {
    let bad = |why: &str| SdpError::at(l.no, format!("{why} in `{}`; expected {O_FORM}", snippet(l.text)));
    let f = fields(l.value).ok_or_else(|| bad("fields must be separated by single spaces"))?;
    let [_user, id, version, _net, _addr_type, _addr] = f.as_slice() else {
        return Err(bad("expected 6 fields"));
    };
    let u64_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u64>().is_ok();
    if !u64_ok(id) {
        return Err(bad("sess-id must be a number that fits 64 bits"));
    }
    if !u64_ok(version) {
        return Err(bad("sess-version must be a number that fits 64 bits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::split_lines;

    fn run(input: &str) -> Result<Session, SdpError> {
        let lines = split_lines(input)?;
        let (first, rest) = lines.split_first().expect("input has lines");
        let mut s = Session::start(first)?;
        for l in rest {
            s.line(l)?;
        }
        s.expect_header(None)?;
        Ok(s)
    }

    const HEAD: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

    #[test]
    fn minimal_header() {
        let s = run(HEAD).unwrap();
        assert_eq!(s.ice_ufrag, None);
        assert_eq!(s.direction, None);
    }

    #[test]
    fn full_order_and_attributes() {
        let s = run("v=0\no=alice 1 1 IN IP6 ::1\ns=talk\ni=info\nu=http://x\ne=a@b\ne=c@d\np=+1\nc=IN IP4 0.0.0.0\nb=AS:1\nb=TIAS:1\nt=0 0\nr=1 2 3\nt=0 0\nz=0 0\nk=clear:x\na=ice-ufrag:abcd\na=ice-pwd:0123456789abcdefghijkl\na=sendonly\na=group:BUNDLE 0 1\n").unwrap();
        assert_eq!(s.ice_ufrag.as_deref(), Some("abcd"));
        assert_eq!(s.ice_pwd.as_deref(), Some("0123456789abcdefghijkl"));
        assert_eq!(s.direction, Some(Direction::SendOnly));
        assert_eq!(s.bundle_mids, ["0", "1"]);
    }

    #[test]
    fn bundle_groups() {
        let s = run(&format!("{HEAD}a=group:BUNDLE audio0 video1\na=group:LS a b\na=group:BUNDLE x\na=group:BUNDLE\n"))
            .unwrap();
        assert_eq!(s.bundle_mids, ["audio0", "video1", "x"]);
    }

    #[test]
    fn header_errors() {
        for (input, line, needle) in [
            ("o=- 1 1 IN IP4 0.0.0.0\n", Some(1), "must start with `v=0`"),
            ("v=1\n", Some(1), "unsupported SDP version"),
            ("v=00\n", Some(1), "unsupported SDP version"),
            ("v=0\n", None, "ends early: expected `o="),
            ("v=0\ns=-\n", Some(2), "expected `o=<username>"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\n", None, "expected `s=<session name>`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\nt=0 0\n", Some(3), "expected `s=<session name>`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n", None, "expected `t=0 0`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=\nt=0 0\n", Some(3), "`s=` must not be empty"),
            ("v=0\no=- x 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", Some(2), "sess-id"),
            ("v=0\no=- 99999999999999999999999 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", Some(2), "sess-id"),
            ("v=0\no=- 1 -1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", Some(2), "sess-version"),
            ("v=0\no=- 1 1 IN IP4\ns=-\nt=0 0\n", Some(2), "6 fields"),
            ("v=0\no=-  1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", Some(2), "single spaces"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=3034423619 3042462419\n", Some(4), "`t=0 0`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nv=0\n", Some(5), "only one `v=`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", Some(3), "expected `s="),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\ns=-\nt=0 0\n", Some(4), "duplicate `s=`"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nc=IN IP4 0.0.0.0\n", Some(5), "out of order"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\na=x\nt=0 0\n", Some(5), "out of order"),
            (
                "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=sendonly\na=recvonly\n",
                Some(6),
                "more than one session-level direction",
            ),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=ice-ufrag\n", Some(5), "has no value"),
            ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=candidate:1 1 udp\n", Some(5), "malformed candidate"),
        ] {
            let e = run(input).err().unwrap_or_else(|| panic!("accepted {input:?}"));
            assert_eq!(e.line(), line, "{input:?}: {e}");
            assert!(e.message().contains(needle), "{input:?}: {e}");
        }
    }
}
