//! Database URLs: which backend a `[database] url` names, the SQLite file it opens
//! (made absolute; `mode=rwc` added so the file is created), and a redacted form for
//! messages (no password). Pure functions, no I/O.

use std::path::{Path, PathBuf};

use crate::error::IndexError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `[database] url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub backend: Backend,
    /// The URL handed to the driver.
    pub url: String,
    /// The URL without its password, for messages.
    pub redacted: String,
    /// SQLite: the database file (absolute), `None` for `sqlite::memory:`.
    pub sqlite_file: Option<PathBuf>,
}

impl Target {
    pub fn is_memory(&self) -> bool {
        self.backend == Backend::Sqlite && self.sqlite_file.is_none()
    }
}

/// Parse `url`; relative SQLite paths are resolved against `cwd`.
pub fn parse(url: &str, cwd: &Path) -> Result<Target, IndexError> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
        let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
        if host.is_empty() || host.starts_with('/') {
            return Err(IndexError::Config(format!(
                "`database.url` `{}` names no host; write postgres://user:password@host:5432/dbname",
                redact(url)
            )));
        }
        return Ok(Target {
            backend: Backend::Postgres,
            url: url.to_string(),
            redacted: redact(url),
            sqlite_file: None,
        });
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(IndexError::Config(format!(
            "`database.url` `{}` must start with sqlite: (e.g. sqlite://./liveman.db?mode=rwc) or postgres://",
            redact(url)
        )));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    if path == ":memory:" || path.is_empty() && query.contains("mode=memory") {
        return Ok(Target {
            backend: Backend::Sqlite,
            url: url.to_string(),
            redacted: url.to_string(),
            sqlite_file: None,
        });
    }
    if path.is_empty() {
        return Err(IndexError::Config(
            "`database.url` names no SQLite file; write e.g. sqlite://./liveman.db?mode=rwc or sqlite:///var/lib/wishcast/index.db"
                .into(),
        ));
    }
    let file = if Path::new(path).is_absolute() { PathBuf::from(path) } else { cwd.join(path) };
    let file = clean(&file);
    let mut query = query.to_string();
    if !query.split('&').any(|kv| kv.starts_with("mode=")) {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("mode=rwc");
    }
    let url = format!("sqlite://{}?{query}", file.display());
    Ok(Target { backend: Backend::Sqlite, redacted: url.clone(), url, sqlite_file: Some(file) })
}

/// Drop `.` components (`/srv/./liveman.db` → `/srv/liveman.db`).
fn clean(p: &Path) -> PathBuf {
    p.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// `scheme://user:password@host/db?password=x` → `scheme://user:***@host/db?password=***`.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), url),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}{authority}{path}");
    if let Some(q) = query {
        let q: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword") => {
                    format!("{k}=***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&q.join("&"));
    }
    out
}

/// The password of a URL, if any (to scrub it from driver messages).
pub(crate) fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let pw = userinfo.split_once(':')?.1;
    (!pw.is_empty()).then(|| pw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CWD: &str = "/srv/wishcast";

    fn p(url: &str) -> Result<Target, IndexError> {
        parse(url, Path::new(CWD))
    }

    #[test]
    fn sqlite_relative_default_becomes_absolute_with_rwc() {
        let t = p("sqlite://./liveman.db").unwrap();
        assert_eq!(t.backend, Backend::Sqlite);
        assert_eq!(t.url, "sqlite:///srv/wishcast/liveman.db?mode=rwc");
        assert_eq!(t.sqlite_file.as_deref(), Some(Path::new("/srv/wishcast/liveman.db")));
        assert_eq!(p("sqlite://./liveman.db?mode=rwc").unwrap().url, "sqlite:///srv/wishcast/liveman.db?mode=rwc");
        assert_eq!(p("sqlite:data/x.db").unwrap().url, "sqlite:///srv/wishcast/data/x.db?mode=rwc");
    }

    #[test]
    fn sqlite_absolute_and_explicit_mode_are_kept() {
        let t = p("sqlite:///var/lib/w/index.db?mode=rw").unwrap();
        assert_eq!(t.url, "sqlite:///var/lib/w/index.db?mode=rw");
        let t = p("sqlite:///var/lib/w/index.db?cache=shared").unwrap();
        assert_eq!(t.url, "sqlite:///var/lib/w/index.db?cache=shared&mode=rwc");
    }

    #[test]
    fn sqlite_memory() {
        assert!(p("sqlite::memory:").unwrap().is_memory());
        assert!(p("sqlite://:memory:").unwrap().is_memory());
        assert!(!p("sqlite://./x.db").unwrap().is_memory());
    }

    #[test]
    fn malformed_urls_are_refused_with_the_key() {
        for bad in [
            "",
            "mysql://x/y",
            "sqlite:",
            "sqlite://",
            "sqlite://?mode=rwc",
            "postgres://",
            "postgres:///db",
            "liveman.db",
        ] {
            let e = p(bad).unwrap_err().to_string();
            assert!(e.contains("database.url"), "{bad}: {e}");
        }
    }

    #[test]
    fn postgres_passwords_never_show() {
        let t = p("postgresql://user:s3cr3t@db.example:5432/live777?sslmode=disable&password=other").unwrap();
        assert_eq!(t.backend, Backend::Postgres);
        assert_eq!(t.redacted, "postgresql://user:***@db.example:5432/live777?sslmode=disable&password=***");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://u:p:q@h"), "postgres://u:***@h");
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(password("postgres://u:p@h/db").as_deref(), Some("p"));
        assert_eq!(password("postgres://u@h/db"), None);
        let e = p("mysql://u:hunter2@h/db").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
