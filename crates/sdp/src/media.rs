//! The small enums describing an m-section: what it carries and which way.

use std::fmt;

/// What an m-section carries (`m=audio`, `m=video`, `m=application`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Audio,
    Video,
    /// Data channels (SCTP over DTLS).
    Application,
}

impl MediaKind {
    /// Parses the `<media>` field of an m= line (exact, lower-case).
    #[must_use]
    pub fn from_sdp(s: &str) -> Option<MediaKind> {
        match s {
            "audio" => Some(MediaKind::Audio),
            "video" => Some(MediaKind::Video),
            "application" => Some(MediaKind::Application),
            _ => None,
        }
    }

    /// The `<media>` token as written in SDP.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Application => "application",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction attribute of an m-section, from the offerer's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`, also the default when no direction attribute is present.
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// Parses a direction attribute name (`sendrecv`, `sendonly`, `recvonly`, `inactive`).
    #[must_use]
    pub fn from_sdp(s: &str) -> Option<Direction> {
        match s {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The attribute name as written in SDP.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// True if the offerer will send media (`sendrecv` or `sendonly`).
    #[must_use]
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// True if the offerer wants to receive media (`sendrecv` or `recvonly`).
    #[must_use]
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in [MediaKind::Audio, MediaKind::Video, MediaKind::Application] {
            assert_eq!(MediaKind::from_sdp(k.as_str()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(MediaKind::from_sdp("Audio"), None);
        assert_eq!(MediaKind::from_sdp("text"), None);
    }

    #[test]
    fn directions_round_trip() {
        for d in [Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive] {
            assert_eq!(Direction::from_sdp(d.as_str()), Some(d));
            assert_eq!(d.to_string(), d.as_str());
        }
        assert_eq!(Direction::default(), Direction::SendRecv);
        assert!(Direction::SendOnly.sends() && !Direction::SendOnly.receives());
        assert!(Direction::RecvOnly.receives() && !Direction::RecvOnly.sends());
        assert!(!Direction::Inactive.sends() && !Direction::Inactive.receives());
        assert_eq!(Direction::from_sdp("SENDONLY"), None);
    }
}
