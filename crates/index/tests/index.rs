//! The recordings index against real databases: every test runs on a fresh SQLite
//! file and on a fresh database of the local PostgreSQL (`WISHCAST_TEST_POSTGRES`).

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, Statement};
use wishcast_index::testdb::TestDb;
use wishcast_index::{Index, IndexError, PlaybackDay, RecordingReport, RecordingStatus};

fn report(id: &str, stream: &str, (year, month, day): (i32, u32, u32), duration_ms: u64) -> RecordingReport {
    RecordingReport {
        id: id.into(),
        node: "node-1".into(),
        stream: stream.into(),
        year,
        month,
        day,
        mpd_path: format!("{stream}/{year:04}/{month:02}/{day:02}/manifest.mpd"),
        started_at: 1_753_315_200_000 + duration_ms as i64,
        ended_at: None,
        duration_ms,
        bytes: duration_ms * 250,
        segments: (duration_ms / 2000) as u32,
        status: RecordingStatus::Active,
    }
}

fn completed(mut r: RecordingReport) -> RecordingReport {
    r.status = RecordingStatus::Completed;
    r.ended_at = Some(r.started_at + r.duration_ms as i64);
    r
}

fn day(stream: &str, (year, month, day): (i32, u32, u32)) -> PlaybackDay {
    PlaybackDay { year, month, day, mpd_path: format!("{stream}/{year:04}/{month:02}/{day:02}/manifest.mpd") }
}

async fn count(ix: &Index, table: &str) -> i64 {
    let b = ix.connection().get_database_backend();
    let row = ix
        .connection()
        .query_one_raw(Statement::from_string(b, format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn migrations(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    assert_eq!(count(&ix, "recordings").await, 0);
    assert_eq!(count(&ix, "recording_sessions").await, 0);
    assert_eq!(count(&ix, "seaql_migrations").await, wishcast_index::migration_versions().len() as i64);
    // The seed's columns, in order, with the seed's types.
    let b = ix.connection().get_database_backend();
    let cols: Vec<(String, String)> = if ix.backend() == "postgres" {
        let rows = ix
            .connection()
            .query_all_raw(Statement::from_string(
                b,
                "SELECT column_name::text AS name, data_type::text AS ty FROM information_schema.columns \
                 WHERE table_name = 'recordings' AND table_schema = current_schema() ORDER BY ordinal_position",
            ))
            .await
            .unwrap();
        rows.iter().map(|r| (r.try_get("", "name").unwrap(), r.try_get("", "ty").unwrap())).collect()
    } else {
        let rows = ix
            .connection()
            .query_all_raw(Statement::from_string(
                b,
                "SELECT name, type AS ty FROM pragma_table_info('recordings') ORDER BY cid",
            ))
            .await
            .unwrap();
        rows.iter().map(|r| (r.try_get("", "name").unwrap(), r.try_get("", "ty").unwrap())).collect()
    };
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["id", "stream", "year", "month", "day", "mpd_path", "created_at", "updated_at"]);
    if ix.backend() == "postgres" {
        let types: Vec<&str> = cols.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            types,
            [
                "uuid",
                "character varying",
                "integer",
                "integer",
                "integer",
                "character varying",
                "timestamp with time zone",
                "timestamp with time zone"
            ]
        );
    }
    // Connecting again (a restart) runs nothing and keeps working.
    ix.close().await;
    let ix = Index::connect(&db.config()).await.unwrap();
    assert_eq!(count(&ix, "seaql_migrations").await, wishcast_index::migration_versions().len() as i64);
    ix.ping().await.unwrap();
}

async fn upsert_is_idempotent(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    let r = report("a1", "cam", (2025, 7, 24), 4000);
    for _ in 0..3 {
        assert_eq!(ix.upsert_reports(&[r.clone(), r.clone()]).await.unwrap(), 2);
    }
    assert_eq!(count(&ix, "recording_sessions").await, 1);
    assert_eq!(count(&ix, "recordings").await, 1);
    assert_eq!(ix.sessions("cam", 2025, 7, 24).await.unwrap(), vec![r.clone()]);
    let c = completed(report("a1", "cam", (2025, 7, 24), 6000));
    ix.upsert_reports(std::slice::from_ref(&c)).await.unwrap();
    assert_eq!(ix.sessions("cam", 2025, 7, 24).await.unwrap(), vec![RecordingReport { started_at: r.started_at, ..c }]);
    assert_eq!(ix.upsert_reports(&[]).await.unwrap(), 0);
}

async fn never_backwards(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    let done = completed(report("s", "cam", (2025, 7, 24), 6000));
    ix.upsert_reports(&[report("s", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    ix.upsert_reports(std::slice::from_ref(&done)).await.unwrap();
    // Late resends of older progress.
    let mut late = report("s", "cam", (2025, 7, 24), 4000);
    late.started_at = done.started_at;
    ix.upsert_reports(&[late.clone(), report("s", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    let got = ix.sessions("cam", 2025, 7, 24).await.unwrap();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.status, RecordingStatus::Completed);
    assert_eq!((g.duration_ms, g.bytes, g.segments), (6000, done.bytes, 3));
    assert_eq!(g.ended_at, done.ended_at);
}

async fn streams_and_days(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[
        report("1", "zeta", (2025, 1, 2), 2000),
        report("2", "alpha", (2025, 7, 24), 2000),
        report("3", "alpha", (2024, 12, 31), 2000),
        report("4", "alpha", (2025, 2, 1), 2000),
        report("5", "alpha", (2025, 7, 24), 2000),
    ])
    .await
    .unwrap();
    assert_eq!(ix.streams().await.unwrap(), ["alpha", "zeta"]);
    assert_eq!(
        ix.days("alpha").await.unwrap(),
        vec![day("alpha", (2024, 12, 31)), day("alpha", (2025, 2, 1)), day("alpha", (2025, 7, 24))]
    );
    assert_eq!(ix.days("nobody").await.unwrap(), vec![]);
    let ids: Vec<String> = ix.sessions("alpha", 2025, 7, 24).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["2", "5"], "two sessions, one day row");
    assert_eq!(count(&ix, "recordings").await, 4);
    assert!(ix.sessions("alpha", 2025, 7, 25).await.unwrap().is_empty());
}

async fn unique_constraint(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[report("1", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    let b = ix.connection().get_database_backend();
    let now = if ix.backend() == "postgres" { "now()" } else { "'2025-07-24 00:00:00+00:00'" };
    let id = if ix.backend() == "postgres" { "gen_random_uuid()" } else { "randomblob(16)" };
    let dup = format!(
        "INSERT INTO recordings (id, stream, year, month, day, mpd_path, created_at, updated_at) \
         VALUES ({id}, 'cam', 2025, 7, 24, 'x', {now}, {now})"
    );
    let e = ix.connection().execute_raw(Statement::from_string(b, dup)).await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("unique") || e.to_string().contains("duplicate"), "{e}");
    let other_day = format!(
        "INSERT INTO recordings (id, stream, year, month, day, mpd_path, created_at, updated_at) \
         VALUES ({id}, 'cam', 2025, 7, 25, 'x', {now}, {now})"
    );
    ix.connection().execute_raw(Statement::from_string(b, other_day)).await.unwrap();
    assert_eq!(count(&ix, "recordings").await, 2);
}

async fn retention(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[
        report("1", "a", (2024, 12, 31), 2000),
        report("2", "a", (2025, 7, 23), 2000),
        report("3", "a", (2025, 7, 24), 2000),
        report("4", "b", (2025, 6, 30), 2000),
        report("5", "b", (2025, 7, 23), 2000),
    ])
    .await
    .unwrap();
    let old = ix.days_before(2025, 7, 24).await.unwrap();
    assert_eq!(
        old,
        vec![
            ("a".to_string(), day("a", (2024, 12, 31))),
            ("a".to_string(), day("a", (2025, 7, 23))),
            ("b".to_string(), day("b", (2025, 6, 30))),
            ("b".to_string(), day("b", (2025, 7, 23))),
        ]
    );
    assert_eq!(ix.days_before(2024, 12, 31).await.unwrap(), vec![]);
    for (s, d) in &old {
        ix.delete_day(s, d.year, d.month, d.day).await.unwrap();
    }
    assert_eq!(ix.days_before(2025, 7, 24).await.unwrap(), vec![]);
    assert_eq!(ix.streams().await.unwrap(), ["a"]);
    assert_eq!(ix.days("a").await.unwrap(), vec![day("a", (2025, 7, 24))]);
    assert_eq!(count(&ix, "recording_sessions").await, 1, "sessions of deleted days are gone");
}

async fn durable_across_reconnect(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    let rs: Vec<RecordingReport> = (0..20)
        .map(|i| completed(report(&format!("r{i}"), "cam", (2025, 7, 1 + i % 3), 2000 + u64::from(i))))
        .collect();
    assert_eq!(ix.upsert_reports(&rs).await.unwrap(), 20);
    ix.close().await;
    drop(ix);
    let ix = Index::connect(&db.config()).await.unwrap();
    assert_eq!(ix.days("cam").await.unwrap().len(), 3);
    let mut got = Vec::new();
    for d in 1..=3 {
        got.extend(ix.sessions("cam", 2025, 7, d).await.unwrap());
    }
    let got: BTreeSet<String> = got.iter().map(|r| format!("{r:?}")).collect();
    let want: BTreeSet<String> = rs.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(got, want);
}

async fn a_batch_is_one_transaction(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[report("x", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    let mut moved = report("x", "other", (2025, 7, 24), 4000);
    moved.node = "node-1".into();
    // "a" is stored first (ids are processed in order), then "x" fails.
    let e = ix.upsert_reports(&[moved, report("a", "cam2", (2025, 7, 24), 2000)]).await.unwrap_err();
    assert!(matches!(&e, IndexError::Conflict(m) if m.contains("`x`")), "{e}");
    assert_eq!(ix.streams().await.unwrap(), ["cam"], "the first report of the failed batch was rolled back");
    let mut bad = report("z", "cam", (2025, 7, 24), 2000);
    bad.month = 13;
    assert!(matches!(ix.upsert_reports(&[bad]).await, Err(IndexError::Invalid(m)) if m.contains("month")));
}

async fn concurrent_writers(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    let tasks: Vec<_> = (0..8u32)
        .map(|t| {
            let ix = ix.clone();
            tokio::spawn(async move {
                for i in 0..10u32 {
                    let r = report(&format!("t{t}-{i}"), &format!("s{t}"), (2025, 7, 1 + i % 5), 2000);
                    ix.upsert_reports(std::slice::from_ref(&r)).await.unwrap();
                    ix.upsert_reports(&[completed(r)]).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(count(&ix, "recording_sessions").await, 80);
    assert_eq!(count(&ix, "recordings").await, 40);
    // A second index on the same database (another manager) sees everything.
    let other = Index::connect(&db.config()).await.unwrap();
    assert_eq!(other.streams().await.unwrap().len(), 8);
}

async fn overlapping_batches_do_not_deadlock(db: TestDb) {
    let ix = Index::connect(&db.config()).await.unwrap();
    // Four writers send the same 30 sessions (3 days) in different orders, growing.
    let tasks: Vec<_> = (0..4u64)
        .map(|t| {
            let ix = ix.clone();
            tokio::spawn(async move {
                for round in 0..5u64 {
                    let mut batch: Vec<RecordingReport> = (0..30u32)
                        .map(|i| report(&format!("s{i:02}"), "cam", (2025, 7, 1 + i % 3), 2000 * (round + 1)))
                        .collect();
                    match t % 3 {
                        0 => batch.reverse(),
                        1 => batch.rotate_left((7 * (round as usize + 1)) % 30),
                        _ => {}
                    }
                    ix.upsert_reports(&batch).await.unwrap_or_else(|e| panic!("writer {t} round {round}: {e}"));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(count(&ix, "recording_sessions").await, 30);
    assert_eq!(count(&ix, "recordings").await, 3);
    for d in 1..=3 {
        for s in ix.sessions("cam", 2025, 7, d).await.unwrap() {
            assert_eq!(s.duration_ms, 10_000, "{}: the largest report wins", s.id);
        }
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(wishcast_index::testdb::TestDb::sqlite()).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(wishcast_index::testdb::TestDb::postgres().await).await })*
        }
    };
}

both!(
    migrations,
    upsert_is_idempotent,
    never_backwards,
    streams_and_days,
    unique_constraint,
    retention,
    durable_across_reconnect,
    a_batch_is_one_transaction,
    concurrent_writers,
    overlapping_batches_do_not_deadlock
);

#[tokio::test]
async fn sqlite_file_and_directories_are_created() {
    let db = TestDb::sqlite();
    let file = db.sqlite_file().unwrap();
    assert!(!file.exists());
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[report("1", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    assert!(file.exists(), "{}", file.display());
    let wal = file.with_extension("db-wal");
    assert!(wal.exists(), "WAL journal at {}", wal.display());
}

#[tokio::test]
async fn connect_errors_name_the_target_without_the_password() {
    let cfg = wishcast_index::IndexConfig {
        url: "postgres://wishcast:hunter2secret@127.0.0.1:1/db".into(),
        max_connections: 1,
        connect_timeout: std::time::Duration::from_secs(2),
    };
    let e = Index::connect(&cfg).await.unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, IndexError::Connect { .. }), "{m}");
    assert!(m.contains("postgres://wishcast:***@127.0.0.1:1/db"), "{m}");
    assert!(!m.contains("hunter2secret"), "{m}");
    assert!(!format!("{e:?} {cfg:?}").contains("hunter2secret"));

    let cfg = wishcast_index::IndexConfig { url: "sqlite:///proc/wishcast/x/index.db".into(), ..cfg };
    let m = Index::connect(&cfg).await.unwrap_err().to_string();
    assert!(m.contains("/proc/wishcast/x"), "{m}");

    let cfg = wishcast_index::IndexConfig { url: "mysql://x/y".into(), ..cfg };
    assert!(matches!(Index::connect(&cfg).await, Err(IndexError::Config(m)) if m.contains("database.url")));
}

#[tokio::test]
async fn a_dropped_postgres_database_is_unavailable_not_a_crash() {
    let db = TestDb::postgres().await;
    let ix = Index::connect(&db.config()).await.unwrap();
    ix.upsert_reports(&[report("1", "cam", (2025, 7, 24), 2000)]).await.unwrap();
    db.drop_postgres().await;
    let e = ix.upsert_reports(&[report("2", "cam", (2025, 7, 24), 2000)]).await.unwrap_err();
    assert!(e.is_unavailable(), "{e:?}");
    assert!(ix.ping().await.unwrap_err().is_unavailable());
}
