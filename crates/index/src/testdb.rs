//! Throw-away databases for tests (this crate's and the manager's): a fresh SQLite
//! file in a temporary directory, or a uniquely named PostgreSQL database created on
//! the test server (`WISHCAST_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`) — so parallel runs never collide.
//! Both are removed on drop, also when the test panics.

use std::path::PathBuf;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::store::IndexConfig;

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("WISHCAST_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct TestDb {
    pub url: String,
    /// SQLite: the temporary directory holding the file.
    dir: Option<PathBuf>,
    /// PostgreSQL: the database to drop.
    pg_name: Option<String>,
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl TestDb {
    /// A new SQLite file (not created yet: [`crate::Index::connect`] creates it and its
    /// directory).
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("wishcast-index-{}-{}", std::process::id(), unique()));
        let url = format!("sqlite://{}/nested/index.db?mode=rwc", dir.display());
        TestDb { url, dir: Some(dir), pg_name: None }
    }

    /// A new, empty PostgreSQL database. Panics (failing the test) when the server
    /// cannot be reached: a PostgreSQL test never passes without PostgreSQL.
    pub async fn postgres() -> TestDb {
        let admin = postgres_admin_url();
        let name = format!("wishcast_index_{}", unique());
        let db = Database::connect(admin.as_str())
            .await
            .unwrap_or_else(|e| panic!("test PostgreSQL at {} is needed: {e}", crate::url::redact(&admin)));
        db.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("CREATE DATABASE");
        let _ = db.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
        TestDb { url: format!("{base}/{name}"), dir: None, pg_name: Some(name) }
    }

    pub fn config(&self) -> IndexConfig {
        IndexConfig { url: self.url.clone(), max_connections: 5, connect_timeout: Duration::from_secs(10) }
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("nested/index.db"))
    }

    /// Drop the PostgreSQL database now (connections to it are terminated): the next
    /// query of an index on it fails as if the server had gone away.
    pub async fn drop_postgres(&self) {
        if let Some(name) = &self.pg_name {
            drop_pg(name).await;
        }
    }
}

async fn drop_pg(name: &str) {
    if let Ok(db) = Database::connect(postgres_admin_url().as_str()).await {
        let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        let _ = db.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Drop may run inside a runtime: use a thread with its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_pg(&name));
                }
            })
            .join();
        }
    }
}
