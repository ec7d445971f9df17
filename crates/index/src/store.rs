//! [`Index`]: the connection pool and every query of the recordings index —
//! idempotent upserts of node reports (sessions and their day rows, one
//! transaction per batch), the playback lists, and the retention queries.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::prelude::ChronoDateTimeUtc as Time;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, OnConflict, Order, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, QueryResult,
};
use wishcast_api::record::{PlaybackDay, RecordingReport, RecordingStatus};

use crate::error::{IndexError, classify};
use crate::merge::merge;
use crate::schema::{RECORDINGS, SESSIONS};
use crate::tx::{begin_write, now};
use crate::url::{self, Backend, Target};
use crate::validate::check_reports;

/// `[database]` settings.
#[derive(Clone)]
pub struct IndexConfig {
    /// `sqlite://./liveman.db?mode=rwc`, `sqlite::memory:` or `postgres://user:password@host:5432/db`.
    pub url: String,
    pub max_connections: u32,
    /// Time allowed to open a connection (at start-up and later from the pool).
    pub connect_timeout: Duration,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            url: "sqlite://./liveman.db?mode=rwc".into(),
            max_connections: 10,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for IndexConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexConfig")
            .field("url", &url::redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The recordings index. Cheap to clone (a shared pool).
#[derive(Clone)]
pub struct Index {
    db: DatabaseConnection,
    target: Arc<Target>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("url", &self.target.redacted).finish()
    }
}

/// How long an SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SESSION_COLS: [&str; 14] = [
    "id",
    "stream",
    "node",
    "year",
    "month",
    "day",
    "mpd_path",
    "started_at",
    "ended_at",
    "duration_ms",
    "bytes",
    "segments",
    "status",
    "updated_at",
];

fn ms_time(field: &str, ms: i64) -> Result<Time, IndexError> {
    Time::from_timestamp_millis(ms)
        .ok_or_else(|| IndexError::Invalid(format!("`{field}`: {ms} is not a Unix time in milliseconds")))
}

fn big(field: &str, v: u64) -> Result<i64, IndexError> {
    i64::try_from(v).map_err(|_| IndexError::Invalid(format!("`{field}`: {v} is too large")))
}

fn session_values(r: &RecordingReport, now: Time) -> Result<Vec<SimpleExpr>, IndexError> {
    let ended: Option<Time> = r.ended_at.map(|e| ms_time("endedAt", e)).transpose()?;
    Ok(vec![
        r.id.as_str().into(),
        r.stream.as_str().into(),
        r.node.as_str().into(),
        r.year.into(),
        (r.month as i32).into(),
        (r.day as i32).into(),
        r.mpd_path.as_str().into(),
        ms_time("startedAt", r.started_at)?.into(),
        ended.into(),
        big("durationMs", r.duration_ms)?.into(),
        big("bytes", r.bytes)?.into(),
        i64::from(r.segments).into(),
        r.status.as_str().into(),
        now.into(),
    ])
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> IndexError {
    IndexError::Query(format!("unreadable {what} row: {e}"))
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, IndexError> {
    row.try_get::<T>("", col).map_err(|e| corrupt(col, e))
}

fn unsigned(row: &QueryResult, col: &str) -> Result<u32, IndexError> {
    let v: i32 = get(row, col)?;
    u32::try_from(v).map_err(|e| corrupt(col, e))
}

fn session_from_row(row: &QueryResult) -> Result<RecordingReport, IndexError> {
    let status: String = get(row, "status")?;
    let big_u = |col: &str| -> Result<u64, IndexError> {
        let v: i64 = get(row, col)?;
        u64::try_from(v).map_err(|e| corrupt(col, e))
    };
    Ok(RecordingReport {
        id: get(row, "id")?,
        node: get(row, "node")?,
        stream: get(row, "stream")?,
        year: get(row, "year")?,
        month: unsigned(row, "month")?,
        day: unsigned(row, "day")?,
        mpd_path: get(row, "mpd_path")?,
        started_at: get::<Time>(row, "started_at")?.timestamp_millis(),
        ended_at: get::<Option<Time>>(row, "ended_at")?.map(|t| t.timestamp_millis()),
        duration_ms: big_u("duration_ms")?,
        bytes: big_u("bytes")?,
        segments: u32::try_from(big_u("segments")?).map_err(|e| corrupt("segments", e))?,
        status: RecordingStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown status `{status}`")))?,
    })
}

fn day_from_row(row: &QueryResult) -> Result<PlaybackDay, IndexError> {
    Ok(PlaybackDay {
        year: get(row, "year")?,
        month: unsigned(row, "month")?,
        day: unsigned(row, "day")?,
        mpd_path: get(row, "mpd_path")?,
    })
}

fn by_day(q: &mut SelectStatement, stream: &str, y: i32, m: u32, d: u32) {
    q.and_where(Expr::col("stream").eq(stream))
        .and_where(Expr::col("year").eq(y))
        .and_where(Expr::col("month").eq(m as i32))
        .and_where(Expr::col("day").eq(d as i32));
}

fn connect_error(target: &Target, e: DbErr) -> IndexError {
    let mut reason = e.to_string();
    if let Some(pw) = url::password(&target.url) {
        reason = reason.replace(&pw, "***");
    }
    IndexError::Connect { url: target.redacted.clone(), reason }
}

impl Index {
    /// Open the database (SQLite: create the file and its directories, WAL, busy
    /// timeout), then run the migrations.
    pub async fn connect(cfg: &IndexConfig) -> Result<Index, IndexError> {
        if cfg.max_connections == 0 {
            return Err(IndexError::Config("`database.max_connections` must be at least 1".into()));
        }
        if cfg.connect_timeout.is_zero() {
            return Err(IndexError::Config("`database.connect_timeout` must be at least 1 second".into()));
        }
        let cwd = std::env::current_dir()
            .map_err(|e| IndexError::Config(format!("cannot read the working directory: {e}")))?;
        let target = url::parse(&cfg.url, &cwd)?;
        let mut opt = ConnectOptions::new(target.url.clone());
        opt.max_connections(cfg.max_connections)
            .connect_timeout(cfg.connect_timeout)
            .acquire_timeout(cfg.connect_timeout)
            .sqlx_logging(false);
        if target.backend == Backend::Sqlite {
            if let Some(dir) = target.sqlite_file.as_ref().and_then(|f| f.parent()) {
                std::fs::create_dir_all(dir).map_err(|e| IndexError::Connect {
                    url: target.redacted.clone(),
                    reason: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            let file = !target.is_memory();
            if !file {
                // An in-memory database lives as long as one connection to it.
                opt.min_connections(1).idle_timeout(None::<Duration>).max_lifetime(None::<Duration>);
            }
            opt.map_sqlx_sqlite_opts(move |o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                let o = o.busy_timeout(SQLITE_BUSY_TIMEOUT);
                if file { o.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Full) } else { o }
            });
        }
        let db = Database::connect(opt).await.map_err(|e| connect_error(&target, e))?;
        let ran = crate::schema::migrate(&db).await?;
        if !ran.is_empty() {
            tracing::info!(url = %target.redacted, migrations = ?ran, "recordings index: migrations applied");
        }
        Ok(Index { db, target: Arc::new(target) })
    }

    /// The database URL without its password.
    pub fn redacted_url(&self) -> &str {
        &self.target.redacted
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Postgres => "postgres",
            DbBackend::Sqlite => "sqlite",
            _ => "other",
        }
    }

    /// Close every pooled connection (the index is unusable afterwards).
    pub async fn close(&self) {
        let _ = self.db.close_by_ref().await;
    }

    /// Store reports (idempotent, one transaction): each session row is inserted
    /// or merged without going backwards (see [`crate::merge`]), and the day row of
    /// every session that changed is inserted or its `mpd_path`/`updated_at` updated.
    /// Returns how many reports are stored (all of them, including those that
    /// changed nothing).
    pub async fn upsert_reports(&self, reports: &[RecordingReport]) -> Result<usize, IndexError> {
        check_reports(reports).map_err(IndexError::Invalid)?;
        if reports.is_empty() {
            return Ok(0);
        }
        let now = now();
        // Rows are locked in one global order — sessions by id, then days by
        // (stream, date) — so concurrent batches on PostgreSQL cannot deadlock.
        let mut order: Vec<&RecordingReport> = reports.iter().collect();
        order.sort_by(|a, b| a.id.cmp(&b.id)); // stable: a session's reports keep their order
        let mut days = BTreeSet::new();
        let txn = begin_write(&self.db).await.map_err(classify)?;
        for r in order {
            if self.upsert_session(&txn, r, now).await? {
                days.insert((r.stream.as_str(), r.year, r.month, r.day, r.mpd_path.as_str()));
            }
        }
        for (stream, year, month, d, mpd_path) in days {
            let mut day = Query::insert();
            day.into_table(RECORDINGS).columns([
                "id",
                "stream",
                "year",
                "month",
                "day",
                "mpd_path",
                "created_at",
                "updated_at",
            ]);
            day.values([
                uuid::Uuid::new_v4().into(),
                stream.into(),
                year.into(),
                (month as i32).into(),
                (d as i32).into(),
                mpd_path.into(),
                now.into(),
                now.into(),
            ])
            .map_err(|e| IndexError::Query(e.to_string()))?;
            day.on_conflict(
                OnConflict::columns(["stream", "year", "month", "day"])
                    .update_columns(["mpd_path", "updated_at"])
                    .to_owned(),
            );
            txn.execute(&day).await.map_err(classify)?;
        }
        txn.commit().await.map_err(classify)?;
        Ok(reports.len())
    }

    /// Insert a session or merge a report into it; true when the row changed.
    async fn upsert_session(
        &self,
        txn: &DatabaseTransaction,
        r: &RecordingReport,
        now: Time,
    ) -> Result<bool, IndexError> {
        let mut insert = Query::insert();
        insert.into_table(SESSIONS).columns(SESSION_COLS);
        insert.values(session_values(r, now)?).map_err(|e| IndexError::Query(e.to_string()))?;
        insert.on_conflict(OnConflict::column("id").do_nothing().to_owned());
        if txn.execute(&insert).await.map_err(classify)?.rows_affected() > 0 {
            return Ok(true);
        }
        let mut sel = Query::select();
        sel.columns(SESSION_COLS).from(SESSIONS).and_where(Expr::col("id").eq(r.id.as_str()));
        if txn.get_database_backend() == DbBackend::Postgres {
            sel.lock(LockType::Update);
        }
        let row = txn.query_one(&sel).await.map_err(classify)?;
        let row = row.ok_or_else(|| IndexError::Query(format!("session `{}` vanished during the upsert", r.id)))?;
        let old = session_from_row(&row)?;
        let Some(m) = merge(&old, r)? else { return Ok(false) };
        let mut upd = Query::update();
        upd.table(SESSIONS).and_where(Expr::col("id").eq(r.id.as_str()));
        for (col, v) in SESSION_COLS.iter().zip(session_values(&m, now)?).skip(1) {
            upd.value(*col, v);
        }
        txn.execute(&upd).await.map_err(classify)?;
        Ok(true)
    }

    /// Streams with at least one day, sorted.
    pub async fn streams(&self) -> Result<Vec<String>, IndexError> {
        let q = Query::select().distinct().column("stream").from(RECORDINGS).order_by("stream", Order::Asc).to_owned();
        let rows = self.db.query_all(&q).await.map_err(classify)?;
        rows.iter().map(|r| get(r, "stream")).collect()
    }

    /// The days of a stream, oldest first.
    pub async fn days(&self, stream: &str) -> Result<Vec<PlaybackDay>, IndexError> {
        let q = Query::select()
            .columns(["year", "month", "day", "mpd_path"])
            .from(RECORDINGS)
            .and_where(Expr::col("stream").eq(stream))
            .order_by("year", Order::Asc)
            .order_by("month", Order::Asc)
            .order_by("day", Order::Asc)
            .to_owned();
        let rows = self.db.query_all(&q).await.map_err(classify)?;
        rows.iter().map(day_from_row).collect()
    }

    /// The sessions of a stream's day, by start time.
    pub async fn sessions(&self, stream: &str, y: i32, m: u32, d: u32) -> Result<Vec<RecordingReport>, IndexError> {
        let mut q = Query::select();
        q.columns(SESSION_COLS).from(SESSIONS);
        by_day(&mut q, stream, y, m, d);
        let rows = self.db.query_all(&q).await.map_err(classify)?;
        let mut out = rows.iter().map(session_from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        Ok(out)
    }

    /// Days strictly before `y-m-d` (retention candidates), by stream then date.
    pub async fn days_before(&self, y: i32, m: u32, d: u32) -> Result<Vec<(String, PlaybackDay)>, IndexError> {
        let key = i64::from(y) * 10_000 + i64::from(m) * 100 + i64::from(d);
        let date = Expr::col("year").mul(10_000).add(Expr::col("month").mul(100)).add(Expr::col("day"));
        let q = Query::select()
            .columns(["stream", "year", "month", "day", "mpd_path"])
            .from(RECORDINGS)
            .and_where(date.lt(key))
            .order_by("stream", Order::Asc)
            .order_by("year", Order::Asc)
            .order_by("month", Order::Asc)
            .order_by("day", Order::Asc)
            .to_owned();
        let rows = self.db.query_all(&q).await.map_err(classify)?;
        rows.iter().map(|r| Ok((get(r, "stream")?, day_from_row(r)?))).collect()
    }

    /// Remove a stream's day and its sessions (after retention removed its objects).
    pub async fn delete_day(&self, stream: &str, y: i32, m: u32, d: u32) -> Result<(), IndexError> {
        let txn = begin_write(&self.db).await.map_err(classify)?;
        for table in [SESSIONS, RECORDINGS] {
            let mut del = Query::delete();
            del.from_table(table)
                .and_where(Expr::col("stream").eq(stream))
                .and_where(Expr::col("year").eq(y))
                .and_where(Expr::col("month").eq(m as i32))
                .and_where(Expr::col("day").eq(d as i32));
            txn.execute(&del).await.map_err(classify)?;
        }
        txn.commit().await.map_err(classify)
    }

    /// True if a session of a stream other than `stream` writes into the day folder of
    /// `mpd_path` (`{folder}/{YYYY}/{MM}/{DD}/manifest.mpd`): a folder of the old,
    /// lossy layout that several streams share, which only admins may read.
    pub async fn folder_has_other_stream(&self, mpd_path: &str, stream: &str) -> Result<bool, IndexError> {
        let q = Query::select()
            .column("id")
            .from(SESSIONS)
            .and_where(Expr::col("mpd_path").eq(mpd_path))
            .and_where(Expr::col("stream").ne(stream))
            .limit(1)
            .to_owned();
        Ok(!self.db.query_all(&q).await.map_err(classify)?.is_empty())
    }

    /// Check the database answers.
    pub async fn ping(&self) -> Result<(), IndexError> {
        self.db.ping().await.map_err(classify)
    }

    /// The raw connection (tests, administration).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}
