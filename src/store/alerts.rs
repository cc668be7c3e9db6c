//! Alerts in SQLite: upserted by the engine's key (a suppressed repeat updates count,
//! last_seen and evidence), read back for `picket alerts` and the API, and changed in
//! status by people. The `status` column is the truth; the JSON's copy is overridden on read.

use rusqlite::{params, params_from_iter, types::Value, Connection, OptionalExtension};

use crate::base::timestamp::Timestamp;
use crate::model::{Alert, AlertStatus};

/// Inserts a new alert or updates the one with the same key (never its status); returns
/// its row id, its stored status (what a person set it to, not the engine's `open`) and
/// its incident (none yet for a new alert).
pub fn upsert(conn: &Connection, a: &Alert) -> rusqlite::Result<(i64, AlertStatus, Option<i64>)> {
    let json = serde_json::to_string(a)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO alerts (key, rule, severity, status, first_seen, last_seen, count, src_ip, json)
         VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen, count = excluded.count, json = excluded.json
         RETURNING id, status, incident",
    )?;
    stmt.query_row(
        params![
            a.key,
            a.rule,
            a.severity.as_str(),
            a.first_seen.as_micros(),
            a.last_seen.as_micros(),
            a.count as i64,
            a.group.get("src_ip"),
            json
        ],
        |r| {
            let status: String = r.get(1)?;
            Ok((
                r.get(0)?,
                status.parse().unwrap_or(AlertStatus::Open),
                r.get(2)?,
            ))
        },
    )
}

/// An alert with its row id.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredAlert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: Alert,
}

/// Filters for an alert listing, newest (by last_seen, then id) first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub status: Option<AlertStatus>,
    pub severities: Vec<crate::model::Severity>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub rule: Option<String>,
    /// Free text: a substring of the title, the rule or the group's values (in the JSON).
    pub text: Option<String>,
    /// Only alerts after this (last_seen, id) in the listing's order: cursor pagination.
    pub after: Option<(Timestamp, i64)>,
    pub limit: usize,
}

pub fn query(conn: &Connection, q: &AlertQuery) -> rusqlite::Result<Vec<StoredAlert>> {
    let mut sql = String::from("SELECT id, status, json FROM alerts WHERE 1=1");
    let mut args: Vec<Value> = Vec::new();
    super::sql::push_state(
        &mut sql,
        &mut args,
        q.status.map(|s| s.as_str()),
        &q.severities,
        q.since,
    );
    if let Some(t) = q.until {
        sql.push_str(" AND last_seen < ?");
        args.push(Value::Integer(t.as_micros()));
    }
    if let Some(r) = &q.rule {
        sql.push_str(" AND rule = ?");
        args.push(Value::Text(r.clone()));
    }
    if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(" AND (rule LIKE ? ESCAPE '\\' OR json_extract(json, '$.title') LIKE ? ESCAPE '\\' OR json_extract(json, '$.group') LIKE ? ESCAPE '\\')");
        let p = super::sql::like_pattern(t);
        for _ in 0..3 {
            args.push(Value::Text(p.clone()));
        }
    }
    super::sql::push_page(&mut sql, &mut args, q.after, q.limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let (id, status, json): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let mut alert: Alert = serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?;
        alert.status = status.parse().unwrap_or(AlertStatus::Open);
        out.push(StoredAlert { id, alert });
    }
    Ok(out)
}

/// How many alerts each status has.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(AlertStatus, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT status, count(*) FROM alerts GROUP BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (s, n) = row?;
        if let Ok(s) = s.parse() {
            out.push((s, n));
        }
    }
    Ok(out)
}

/// Alerts per rule (for the rules list's hit counts).
pub fn per_rule(conn: &Connection) -> rusqlite::Result<std::collections::HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached("SELECT rule, count(*) FROM alerts GROUP BY rule")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Sets an alert's status; `false` when there is no such alert.
pub fn set_status(conn: &Connection, id: i64, status: AlertStatus) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE alerts SET status = ?1 WHERE id = ?2",
        params![status.as_str(), id],
    )? == 1)
}

/// One alert by id.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<StoredAlert>> {
    let row: Option<(String, String)> = conn
        .query_row("SELECT status, json FROM alerts WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(match row {
        Some((status, json)) => {
            let mut alert: Alert = serde_json::from_str(&json).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            alert.status = status.parse().unwrap_or(AlertStatus::Open);
            Some(StoredAlert { id, alert })
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn alert(count: u64, last: i64) -> Alert {
        Alert {
            key: "ssh-brute-force|203.0.113.9|1".into(),
            rule: "ssh-brute-force".into(),
            title: "t".into(),
            severity: Severity::High,
            mitre: vec!["T1110.001".into()],
            group: [("src_ip".to_string(), "203.0.113.9".to_string())].into(),
            count,
            first_seen: Timestamp::from_secs(1),
            last_seen: Timestamp::from_secs(last),
            status: AlertStatus::Open,
            evidence: vec!["<script>".into()],
            response: vec![],
            ban_secs: None,
            source: None,
            target: None,
            kind: None,
            is_new: true,
        }
    }

    #[test]
    fn upsert_updates_counts_but_keeps_a_persons_status() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        upsert(&conn, &alert(5, 10)).unwrap();
        let id = query(
            &conn,
            &AlertQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap()[0]
            .id;
        assert!(set_status(&conn, id, AlertStatus::Acknowledged).unwrap());
        // The update reports the stored status, for the stream to pass on.
        assert_eq!(
            upsert(&conn, &alert(7, 20)).unwrap(),
            (id, AlertStatus::Acknowledged, None)
        );
        let got = get(&conn, id).unwrap().unwrap();
        assert_eq!(
            (got.alert.count, got.alert.status),
            (7, AlertStatus::Acknowledged)
        );
        assert_eq!(got.alert.last_seen, Timestamp::from_secs(20));
        assert!(query(
            &conn,
            &AlertQuery {
                status: Some(AlertStatus::Open),
                limit: 10,
                ..Default::default()
            }
        )
        .unwrap()
        .is_empty());
        assert!(!set_status(&conn, 999, AlertStatus::Resolved).unwrap());
    }
}
