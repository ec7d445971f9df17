//! The recordings index of the manager: which stream has recordings on which UTC
//! day (table `recordings`, exactly the seed's: `id` UUID, `stream`, `year`,
//! `month`, `day`, `mpd_path`, `created_at`, `updated_at`, unique
//! `(stream, year, month, day)`), and every recording session nodes report
//! (table `recording_sessions`: node, start, end, duration, bytes, segments,
//! status). SeaORM over SQLite (default `sqlite://./liveman.db?mode=rwc`) or
//! PostgreSQL; migrations run when [`Index::connect`] opens the database.
//!
//! Nodes push [`RecordingReport`](wishcast_api::record::RecordingReport)s and
//! resend them until acknowledged, so [`Index::upsert_reports`] is idempotent and
//! never moves a session backwards ([`merge`]). Reports are checked field by field
//! first ([`validate`]).

mod error;
pub mod merge;
mod schema;
mod store;
pub mod testdb;
mod tx;
pub mod url;
pub mod validate;

pub use error::IndexError;
pub use schema::versions as migration_versions;
pub use store::{Index, IndexConfig};
pub use wishcast_api::record::{PlaybackDay, RecordingReport, RecordingStatus};
