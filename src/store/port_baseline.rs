//! The listening ports expected on this host (`port_baseline`): learned from the first
//! snapshot Picket ever takes, then added to and removed from by admins. Whether the
//! first snapshot was learned is kept in `meta` (`ports.learned`), so an emptied
//! baseline is not learned again.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::base::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub proto: String,
    pub port: u16,
    /// `learned` (the first snapshot) or `admin`.
    pub source: String,
    pub process: Option<String>,
    pub note: Option<String>,
    pub added: Timestamp,
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT proto, port, source, process, note, added FROM port_baseline ORDER BY proto, port",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Entry {
            proto: r.get(0)?,
            port: r.get(1)?,
            source: r.get(2)?,
            process: r.get(3)?,
            note: r.get(4)?,
            added: Timestamp::from_micros(r.get(5)?),
        })
    })?;
    rows.collect()
}

/// Adds (or replaces) an entry.
pub fn put(conn: &Connection, e: &Entry) -> rusqlite::Result<()> {
    insert(conn, "OR REPLACE", e)
}

/// `INSERT {conflict}` of one entry.
fn insert(conn: &Connection, conflict: &str, e: &Entry) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT {conflict} INTO port_baseline (proto, port, source, process, note, added)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ),
        params![
            e.proto,
            e.port,
            e.source,
            e.process,
            e.note,
            e.added.as_micros()
        ],
    )?;
    Ok(())
}

/// Removes an entry; `false` when there was none.
pub fn remove(conn: &Connection, proto: &str, port: u16) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM port_baseline WHERE proto = ?1 AND port = ?2",
        params![proto, port],
    )? > 0)
}

/// Whether the first snapshot was learned.
pub fn learned(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM meta WHERE key = 'ports.learned'", [], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// Stores the first snapshot's ports as the baseline and marks it learned, in one
/// transaction.
pub fn learn(conn: &Connection, entries: &[Entry]) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    for e in entries {
        // A port an admin already added keeps its note.
        insert(&tx, "OR IGNORE", e)?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('ports.learned', ?1)",
        [Timestamp::now().to_string()],
    )?;
    tx.commit()
}
