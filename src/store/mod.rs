//! SQLite, the only store: schema and migrations, the single writer thread, and reads.
//!
//! Writes go through one `writer::Writer` thread that batches inserts in transactions and
//! commits each batch's events together with the source checkpoints they came from, so a
//! crash can never save an offset without its events (lines lost) or events without their
//! offset (lines read twice). Readers (CLI, API) open their own connections; WAL lets them
//! read while the writer writes.

pub(crate) mod accounts;
pub mod alerts;
pub(crate) mod audit;
pub(crate) mod bans;
pub(crate) mod checks;
pub mod devices;
pub(crate) mod events;
pub(crate) mod incidents;
pub(crate) mod metrics;
pub(crate) mod migrations;
pub mod notifications;
pub(crate) mod port_baseline;
pub(crate) mod sink;
mod sql;
pub mod traffic;
pub(crate) mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// Store errors, each naming the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the data directory {path}: {source} (choose another with --data-dir)")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path} has schema version {found}, newer than this Picket knows ({known}); upgrade Picket")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the store's writer thread has stopped")]
    WriterGone,
}

/// The database file inside a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("picket.sqlite")
}

/// Opens (creating and migrating if needed) the database in `data_dir`.
pub fn open(data_dir: &Path) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let path = db_path(data_dir);
    let conn = Connection::open(&path).map_err(|source| StoreError::Open {
        path: path.clone(),
        source,
    })?;
    configure(&conn).map_err(|source| StoreError::Sql {
        path: path.clone(),
        source,
    })?;
    migrations::migrate(&conn, &path)?;
    Ok(conn)
}

/// Opens an existing database for reading only; does not create or migrate.
pub fn open_read_only(data_dir: &Path) -> Result<Connection, StoreError> {
    let path = db_path(data_dir);
    let conn = Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.clone(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|source| StoreError::Sql {
            path: path.clone(),
            source,
        })?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Reads a saved source checkpoint (a file tail's state, a journal cursor).
pub fn load_checkpoint(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT value FROM checkpoints WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .optional()
}
