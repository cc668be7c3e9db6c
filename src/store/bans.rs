//! Bans: every block Picket made or would have made (dry-run), kept as history so repeat
//! offenders get longer bans and enforced bans are restored after a restart.

use std::net::IpAddr;

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::base::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    pub id: i64,
    pub ip: String,
    pub created: Timestamp,
    pub expires: Timestamp,
    /// `enforce` or `dry-run`.
    pub mode: String,
    pub reason: String,
    pub by_user: Option<String>,
    pub lifted: Option<Timestamp>,
}

/// What to record.
pub struct NewBan<'a> {
    pub ip: IpAddr,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub mode: &'a str,
    pub reason: &'a str,
    pub by_user: Option<&'a str>,
}

pub fn record(conn: &Connection, b: &NewBan) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO bans (ip, created, expires, mode, reason, by_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            b.ip.to_string(),
            b.created.as_micros(),
            b.expires.as_micros(),
            b.mode,
            b.reason,
            b.by_user
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Bans of `ip` created since `since` (the offender's history).
pub fn count_since(conn: &Connection, ip: IpAddr, since: Timestamp) -> rusqlite::Result<u32> {
    conn.query_row(
        "SELECT count(*) FROM bans WHERE ip = ?1 AND created >= ?2",
        params![ip.to_string(), since.as_micros()],
        |r| r.get(0),
    )
}

/// Marks every running ban of `ip` lifted; how many there were.
pub fn lift(conn: &Connection, ip: IpAddr, at: Timestamp) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE bans SET lifted = ?2 WHERE ip = ?1 AND lifted IS NULL AND expires > ?2",
        params![ip.to_string(), at.as_micros()],
    )
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ban> {
    Ok(Ban {
        id: r.get(0)?,
        ip: r.get(1)?,
        created: Timestamp::from_micros(r.get(2)?),
        expires: Timestamp::from_micros(r.get(3)?),
        mode: r.get(4)?,
        reason: r.get(5)?,
        by_user: r.get(6)?,
        lifted: r.get::<_, Option<i64>>(7)?.map(Timestamp::from_micros),
    })
}

/// Bans still running at `now` (not expired, not lifted), newest first.
pub fn active(conn: &Connection, now: Timestamp) -> rusqlite::Result<Vec<Ban>> {
    let mut stmt = conn.prepare(
        "SELECT id, ip, created, expires, mode, reason, by_user, lifted FROM bans
         WHERE expires > ?1 AND lifted IS NULL ORDER BY created DESC",
    )?;
    let rows = stmt.query_map([now.as_micros()], row)?;
    rows.collect()
}

/// The newest `limit` bans, running or not.
pub fn recent(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<Ban>> {
    let mut stmt = conn.prepare(
        "SELECT id, ip, created, expires, mode, reason, by_user, lifted FROM bans
         ORDER BY created DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], row)?;
    rows.collect()
}
