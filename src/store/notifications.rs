//! Notification deliveries (table `notifications`, migration 9): one row per message a
//! channel sent or tried to send (a digest carries several alerts), updated as its
//! retries go. What the Settings page lists, failures highlighted. Kept bounded: rows
//! older than [`KEEP_DAYS`] and beyond [`KEEP_ROWS`] are deleted by [`prune`].

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::base::timestamp::Timestamp;

/// Days a delivery row is kept.
pub const KEEP_DAYS: i64 = 30;
/// Most delivery rows kept.
pub const KEEP_ROWS: i64 = 10_000;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Sent,
    /// Failed at least once; another attempt is scheduled.
    Retrying,
    /// Given up on.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Retrying => "retrying",
            Status::Failed => "failed",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sent" => Ok(Status::Sent),
            "retrying" => Ok(Status::Retrying),
            "failed" => Ok(Status::Failed),
            _ => Err(format!(
                "unknown status `{s}`: use sent, retrying or failed"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub status: String,
    pub attempts: u32,
    pub alerts: u32,
    pub subject: String,
    pub error: Option<String>,
}

/// A first attempt's outcome.
pub struct NewDelivery<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub status: Status,
    pub attempts: u32,
    pub alerts: u32,
    pub subject: &'a str,
    pub error: Option<&'a str>,
}

pub fn record(conn: &Connection, d: &NewDelivery, now: Timestamp) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO notifications (channel, kind, created, updated, status, attempts, alerts, subject, error)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            d.channel,
            d.kind,
            now.as_micros(),
            d.status.as_str(),
            d.attempts,
            d.alerts,
            d.subject,
            d.error
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A later attempt's outcome.
pub fn update(
    conn: &Connection,
    id: i64,
    status: Status,
    attempts: u32,
    error: Option<&str>,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE notifications SET status = ?2, attempts = ?3, error = ?4, updated = ?5 WHERE id = ?1",
        params![id, status.as_str(), attempts, error, now.as_micros()],
    )?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        channel: r.get(1)?,
        kind: r.get(2)?,
        created: Timestamp::from_micros(r.get(3)?),
        updated: Timestamp::from_micros(r.get(4)?),
        status: r.get(5)?,
        attempts: r.get(6)?,
        alerts: r.get(7)?,
        subject: r.get(8)?,
        error: r.get(9)?,
    })
}

/// The newest `limit` deliveries, of one status when given.
pub fn recent(
    conn: &Connection,
    status: Option<Status>,
    limit: usize,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, channel, kind, created, updated, status, attempts, alerts, subject, error
         FROM notifications WHERE ?1 IS NULL OR status = ?1
         ORDER BY created DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![status.map(Status::as_str), limit.max(1) as i64],
        row,
    )?;
    rows.collect()
}

/// How many deliveries failed since `since`.
pub fn failures_since(conn: &Connection, since: Timestamp) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM notifications WHERE status = 'failed' AND updated >= ?1",
        [since.as_micros()],
        |r| r.get(0),
    )
}

/// Deletes rows older than [`KEEP_DAYS`] and the oldest beyond [`KEEP_ROWS`]; how many.
pub fn prune(conn: &Connection, now: Timestamp) -> rusqlite::Result<usize> {
    let cutoff = now.saturating_add_secs(-KEEP_DAYS * 86_400).as_micros();
    let mut n = conn.execute("DELETE FROM notifications WHERE created < ?1", [cutoff])?;
    n += conn.execute(
        "DELETE FROM notifications WHERE id <= (SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        [KEEP_ROWS],
    )?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(channel: &'a str, status: Status) -> NewDelivery<'a> {
        NewDelivery {
            channel,
            kind: "webhook",
            status,
            attempts: 1,
            alerts: 1,
            subject: "[Picket] high: x",
            error: None,
        }
    }

    #[test]
    fn deliveries_are_recorded_updated_listed_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let t = Timestamp::from_secs(1_800_000_000);
        let a = record(&conn, &new("ops", Status::Sent), t).unwrap();
        let b = record(
            &conn,
            &new("mail", Status::Retrying),
            t.saturating_add_secs(1),
        )
        .unwrap();
        update(
            &conn,
            b,
            Status::Failed,
            3,
            Some("refused"),
            t.saturating_add_secs(5),
        )
        .unwrap();
        let all = recent(&conn, None, 10).unwrap();
        assert_eq!(
            all.iter().map(|d| d.id).collect::<Vec<_>>(),
            [b, a],
            "newest first"
        );
        assert_eq!(all[0].status, "failed");
        assert_eq!(all[0].attempts, 3);
        assert_eq!(all[0].error.as_deref(), Some("refused"));
        let failed = recent(&conn, Some(Status::Failed), 10).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failures_since(&conn, t).unwrap(), 1);
        assert_eq!(failures_since(&conn, t.saturating_add_secs(6)).unwrap(), 0);
    }

    #[test]
    fn old_rows_and_rows_beyond_the_cap_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let now = Timestamp::from_secs(1_800_000_000);
        record(
            &conn,
            &new("old", Status::Sent),
            now.saturating_add_secs(-40 * 86_400),
        )
        .unwrap();
        conn.execute_batch("BEGIN").unwrap();
        for _ in 0..(KEEP_ROWS + 5) {
            record(&conn, &new("new", Status::Sent), now).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        let deleted = prune(&conn, now).unwrap();
        assert_eq!(deleted, 6);
        let left: i64 = conn
            .query_row("SELECT count(*) FROM notifications", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, KEEP_ROWS);
        let old: i64 = conn
            .query_row(
                "SELECT count(*) FROM notifications WHERE channel = 'old'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 0);
    }
}
