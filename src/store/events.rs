//! Reading events back: the query behind `picket events` and `/api/events`.

use rusqlite::{params_from_iter, types::Value, Connection};

use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};

/// Filters for an event listing. Newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub types: Vec<EventType>,
    pub src_ip: Option<String>,
    /// Free text: a substring of the raw line (which holds the user, address and command).
    pub text: Option<String>,
    /// Only events after this (ts, id) in the listing's order: cursor pagination.
    pub after: Option<(Timestamp, i64)>,
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
    super::sql::push_in(
        &mut sql,
        &mut args,
        "type",
        q.types.iter().map(|t| t.as_str()),
    );
    if let Some(ip) = &q.src_ip {
        sql.push_str(" AND src_ip = ?");
        args.push(Value::Text(ip.clone()));
    }
    if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(" AND json_extract(json, '$.line') LIKE ? ESCAPE '\\'");
        args.push(Value::Text(super::sql::like_pattern(t)));
    }
    if let Some((ts, id)) = q.after {
        sql.push_str(" AND (ts, id) < (?, ?)");
        args.push(Value::Integer(ts.as_micros()));
        args.push(Value::Integer(id));
    }
    sql.push_str(" ORDER BY ts DESC, id DESC LIMIT ?");
    args.push(Value::Integer(q.limit.max(1) as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
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

/// Events and alerts per time bucket since `since`, oldest first: the Overview's
/// activity chart. Alerts are counted by first_seen and severity.
pub fn timeline(
    conn: &Connection,
    since: Timestamp,
    bucket_secs: i64,
) -> rusqlite::Result<Vec<(Timestamp, i64, [i64; 4])>> {
    let width = bucket_secs.max(1) * 1_000_000;
    let start = since.as_micros().div_euclid(width) * width;
    let mut buckets: std::collections::BTreeMap<i64, (i64, [i64; 4])> = Default::default();
    let mut stmt = conn
        .prepare_cached("SELECT (ts - ?1) / ?2, count(*) FROM events WHERE ts >= ?1 GROUP BY 1")?;
    let rows = stmt.query_map([start, width], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (b, n) = row?;
        buckets.entry(b).or_default().0 += n;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT (first_seen - ?1) / ?2, severity, count(*) FROM alerts WHERE first_seen >= ?1 GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map([start, width], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (b, sev, n) = row?;
        let i = match sev.as_str() {
            "low" => 0,
            "medium" => 1,
            "high" => 2,
            _ => 3,
        };
        buckets.entry(b).or_default().1[i] += n;
    }
    let now_bucket = (Timestamp::now().as_micros() - start).div_euclid(width);
    let last = buckets
        .keys()
        .next_back()
        .copied()
        .unwrap_or(0)
        .max(now_bucket);
    Ok((0..=last.min(10_000))
        .map(|b| {
            let (e, a) = buckets.get(&b).copied().unwrap_or_default();
            (Timestamp::from_micros(start + b * width), e, a)
        })
        .collect())
}

/// Events since `since`.
pub fn count_since(conn: &Connection, since: Timestamp) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM events WHERE ts >= ?1",
        [since.as_micros()],
        |r| r.get(0),
    )
}

/// How many events are stored.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
}
