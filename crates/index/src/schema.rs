//! Tables and migrations. Migrations are versioned and recorded in
//! `seaql_migrations` (the table and layout `sea-orm-migration` uses, so its
//! migrator can take over later); each runs once, in a transaction, at start-up.
//! Statements are built with sea-query, so one definition serves SQLite and
//! PostgreSQL.

use sea_orm::sea_query::{ColumnDef, Index, IndexCreateStatement, OnConflict, Query, Table, TableCreateStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::IndexError;
use crate::tx::{begin_write, now};

/// `recordings`: one row per stream and UTC day (the seed's table).
pub const RECORDINGS: &str = "recordings";
/// `recording_sessions`: one row per recording session a node reported.
pub const SESSIONS: &str = "recording_sessions";
pub const MIGRATIONS_TABLE: &str = "seaql_migrations";

fn recordings() -> TableCreateStatement {
    Table::create()
        .table(RECORDINGS)
        .if_not_exists()
        .col(ColumnDef::new("id").uuid().not_null().primary_key())
        .col(ColumnDef::new("stream").string().not_null())
        .col(ColumnDef::new("year").integer().not_null())
        .col(ColumnDef::new("month").integer().not_null())
        .col(ColumnDef::new("day").integer().not_null())
        .col(ColumnDef::new("mpd_path").string().not_null())
        .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
        .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
        .to_owned()
}

fn recordings_unique() -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .name("idx_recordings_stream_date")
        .table(RECORDINGS)
        .col("stream")
        .col("year")
        .col("month")
        .col("day")
        .unique()
        .to_owned()
}

fn sessions() -> TableCreateStatement {
    Table::create()
        .table(SESSIONS)
        .if_not_exists()
        .col(ColumnDef::new("id").string().not_null().primary_key())
        .col(ColumnDef::new("stream").string().not_null())
        .col(ColumnDef::new("node").string().not_null())
        .col(ColumnDef::new("year").integer().not_null())
        .col(ColumnDef::new("month").integer().not_null())
        .col(ColumnDef::new("day").integer().not_null())
        .col(ColumnDef::new("mpd_path").string().not_null())
        .col(ColumnDef::new("started_at").timestamp_with_time_zone().not_null())
        .col(ColumnDef::new("ended_at").timestamp_with_time_zone().null())
        .col(ColumnDef::new("duration_ms").big_integer().not_null())
        .col(ColumnDef::new("bytes").big_integer().not_null())
        .col(ColumnDef::new("segments").big_integer().not_null())
        .col(ColumnDef::new("status").string().not_null())
        .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
        .to_owned()
}

fn sessions_by_day() -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .name("idx_recording_sessions_stream_date")
        .table(SESSIONS)
        .col("stream")
        .col("year")
        .col("month")
        .col("day")
        .to_owned()
}

/// Object reads look sessions up by manifest path (is a folder shared by several
/// streams? see `Index::folder_has_other_stream`).
fn sessions_by_mpd_path() -> IndexCreateStatement {
    Index::create().if_not_exists().name("idx_recording_sessions_mpd_path").table(SESSIONS).col("mpd_path").to_owned()
}

/// One migration: a name (sorted by it) and its statements.
struct Migration {
    version: &'static str,
    up: fn(DbBackend) -> Vec<sea_orm::Statement>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: "m20261121_000001_create_recordings_and_sessions",
        up: |b| {
            vec![
                b.build(&recordings()),
                b.build(&recordings_unique()),
                b.build(&sessions()),
                b.build(&sessions_by_day()),
            ]
        },
    },
    Migration { version: "m20261206_000001_sessions_by_mpd_path", up: |b| vec![b.build(&sessions_by_mpd_path())] },
];

fn q(e: sea_orm::DbErr) -> IndexError {
    IndexError::Migrate(e.to_string())
}

/// Apply every migration not yet recorded. Safe when several managers start at once:
/// PostgreSQL takes an advisory lock, SQLite an immediate (write) transaction, and
/// every statement is `IF NOT EXISTS`.
pub async fn migrate(db: &DatabaseConnection) -> Result<Vec<&'static str>, IndexError> {
    let backend = db.get_database_backend();
    let txn = begin_write(db).await.map_err(q)?;
    if backend == DbBackend::Postgres {
        // Arbitrary constant: "wishcast index migrations".
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7233386522104611)").await.map_err(q)?;
    }
    let table = Table::create()
        .table(MIGRATIONS_TABLE)
        .if_not_exists()
        .col(ColumnDef::new("version").string().not_null().primary_key())
        .col(ColumnDef::new("applied_at").big_integer().not_null())
        .to_owned();
    txn.execute(&table).await.map_err(q)?;
    let rows = txn.query_all(&Query::select().column("version").from(MIGRATIONS_TABLE).to_owned()).await.map_err(q)?;
    let applied: Vec<String> = rows.iter().filter_map(|r| r.try_get::<String>("", "version").ok()).collect();
    let mut ran = Vec::new();
    for m in MIGRATIONS {
        if applied.iter().any(|v| v == m.version) {
            continue;
        }
        for stmt in (m.up)(backend) {
            txn.execute_raw(stmt).await.map_err(|e| IndexError::Migrate(format!("{}: {e}", m.version)))?;
        }
        let mut insert = Query::insert();
        insert.into_table(MIGRATIONS_TABLE).columns(["version", "applied_at"]);
        insert.values([m.version.into(), now().timestamp().into()]).map_err(|e| IndexError::Migrate(e.to_string()))?;
        insert.on_conflict(OnConflict::column("version").do_nothing().to_owned());
        txn.execute(&insert).await.map_err(q)?;
        ran.push(m.version);
    }
    txn.commit().await.map_err(q)?;
    Ok(ran)
}

/// The migrations this build knows, in order.
pub fn versions() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}
