//! Two helpers every write of the index shares: the wall clock as a database timestamp,
//! and the write transaction (immediate on SQLite). A leaf module, so the schema
//! migrations and the store both use it without depending on each other.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::prelude::ChronoDateTimeUtc as Time;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub(crate) fn now() -> Time {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    Time::from_timestamp_millis(ms).unwrap_or_default()
}

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock at once, so a
/// read-then-write transaction never fails with SQLITE_BUSY half-way), plain `BEGIN`
/// elsewhere.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}
