//! Errors of the recordings index. Each says what was wrong; none carries a
//! database password (URLs are redacted with [`crate::url::redact`]).

use sea_orm::{DbErr, RuntimeErr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexError {
    /// The `[database]` settings are unusable (bad URL, zero connections...).
    Config(String),
    /// The database could not be reached or opened at start-up.
    Connect { url: String, reason: String },
    /// A migration failed.
    Migrate(String),
    /// The database is (currently) unreachable: callers answer 503 and retry later.
    Unavailable(String),
    /// A report is malformed (see [`crate::validate`]).
    Invalid(String),
    /// A report contradicts what is stored (a session id reused for another stream,
    /// node or day).
    Conflict(String),
    /// Any other database error.
    Query(String),
}

impl IndexError {
    /// True when retrying later may succeed (connection lost, pool exhausted,
    /// database locked).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, IndexError::Unavailable(_) | IndexError::Connect { .. })
    }
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::Config(m) => write!(f, "database config: {m}"),
            IndexError::Connect { url, reason } => write!(f, "cannot connect to database `{url}`: {reason}"),
            IndexError::Migrate(m) => write!(f, "database migration failed: {m}"),
            IndexError::Unavailable(m) => write!(f, "database unavailable: {m}"),
            IndexError::Invalid(m) => write!(f, "invalid report: {m}"),
            IndexError::Conflict(m) => write!(f, "{m}"),
            IndexError::Query(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for IndexError {}

/// Classify a database error: lost connections, pool time-outs and a locked SQLite
/// file are [`IndexError::Unavailable`]; the rest [`IndexError::Query`].
pub(crate) fn classify(e: DbErr) -> IndexError {
    let msg = e.to_string();
    let unavailable = match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => sqlx_unavailable(s),
        _ => false,
    };
    if unavailable { IndexError::Unavailable(msg) } else { IndexError::Query(msg) }
}

fn sqlx_unavailable(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Protocol(_) => true,
        E::Database(d) => {
            // SQLite: SQLITE_BUSY (5) / SQLITE_LOCKED (6) and their extended codes.
            // PostgreSQL: class 08 (connection exception), 57P01-57P03 (admin
            // shutdown, crash, cannot connect now), 3D000 (database dropped under
            // us), 40001/40P01 (serialization failure, deadlock: retry).
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(
                code.as_str(),
                "5" | "6" | "517" | "262" | "3D000" | "57P01" | "57P02" | "57P03" | "40001" | "40P01"
            ) || code.starts_with("08")
        }
        _ => false,
    }
}
