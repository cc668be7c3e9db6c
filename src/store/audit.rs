//! The audit log: every state change and every failed login, with who, when, from where
//! and what. Append-only from the application's side.

use rusqlite::{params, params_from_iter, types::Value, Connection};

use crate::base::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub ts: Timestamp,
    pub user: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ok: bool,
}

/// What to record; `id` and `ts` are given by [`record`].
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    pub user: Option<&'a str>,
    pub address: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub ok: bool,
}

pub fn record(conn: &Connection, e: &NewEntry) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO audit (ts, user, address, action, target, detail, ok) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![Timestamp::now().as_micros(), e.user, e.address, e.action, e.target, e.detail, e.ok],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Newest first; `before_id` pages.
pub fn query(
    conn: &Connection,
    before_id: Option<i64>,
    limit: usize,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut sql =
        String::from("SELECT id, ts, user, address, action, target, detail, ok FROM audit");
    let mut args = Vec::new();
    if let Some(b) = before_id {
        sql.push_str(" WHERE id < ?");
        args.push(Value::Integer(b));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(Value::Integer(limit.max(1) as i64));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(AuditEntry {
            id: r.get(0)?,
            ts: Timestamp::from_micros(r.get(1)?),
            user: r.get(2)?,
            address: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            detail: r.get(6)?,
            ok: r.get(7)?,
        })
    })?;
    rows.collect()
}
