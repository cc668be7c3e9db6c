//! Reading events back: the query behind `picket events` and `/api/events`.

use rusqlite::{params_from_iter, types::Value, Connection};

use crate::event::{Event, EventType};
use crate::timestamp::Timestamp;

/// Filters for an event listing. Newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub types: Vec<EventType>,
    pub src_ip: Option<String>,
    /// Only rows with an id below this (cursor pagination).
    pub before_id: Option<i64>,
    pub limit: usize,
}

/// An event with its row id.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: Event,
}

pub fn query(conn: &Connection, q: &EventQuery) -> rusqlite::Result<Vec<StoredEvent>> {
    let mut sql = String::from("SELECT id, json FROM events WHERE 1=1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(s) = q.since {
        sql.push_str(" AND ts >= ?");
        args.push(Value::Integer(s.as_micros()));
    }
    if let Some(u) = q.until {
        sql.push_str(" AND ts < ?");
        args.push(Value::Integer(u.as_micros()));
    }
    if !q.types.is_empty() {
        sql.push_str(" AND type IN (");
        for (i, t) in q.types.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ",?" });
            args.push(Value::Text(t.as_str().to_string()));
        }
        sql.push(')');
    }
    if let Some(ip) = &q.src_ip {
        sql.push_str(" AND src_ip = ?");
        args.push(Value::Text(ip.clone()));
    }
    if let Some(b) = q.before_id {
        sql.push_str(" AND id < ?");
        args.push(Value::Integer(b));
    }
    sql.push_str(" ORDER BY ts DESC, id DESC LIMIT ?");
    args.push(Value::Integer(q.limit.max(1) as i64));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let id: i64 = r.get(0)?;
        let json: String = r.get(1)?;
        Ok((id, json))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row?;
        let event: Event = serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?;
        out.push(StoredEvent { id, event });
    }
    Ok(out)
}

/// How many events are stored.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
}
