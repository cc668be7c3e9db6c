//! Incidents: alerts that share an address or a user within a window, grouped so a
//! person follows one attack instead of a dozen alerts. Each has a timeline of its
//! alerts, the actions taken (bans, kills), notes and changes by people.
//!
//! Grouping happens in the store writer's transaction, as each new alert is stored, and
//! on event time (the alert's `first_seen` against the incident's `last_seen`), so a
//! replay of a log groups its alerts as watching it live did.

use rusqlite::{params, params_from_iter, types::Value, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::base::timestamp::Timestamp;
use crate::model::{Alert, Severity};

/// `incidents:` in picket.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentConfig {
    /// An alert joins an active incident of its address or user when it comes at most
    /// this many seconds after the incident's last alert.
    pub window_secs: u64,
    /// An active incident with no new alert for this many seconds closes by itself; 0
    /// keeps incidents open until a person closes them.
    pub close_after_secs: u64,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            window_secs: 3600,
            close_after_secs: 86_400,
        }
    }
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Active,
    Closed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Active => "active",
            IncidentStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for IncidentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(IncidentStatus::Active),
            "closed" => Ok(IncidentStatus::Closed),
            _ => Err(format!(
                "unknown incident status `{s}`: use active or closed"
            )),
        }
    }
}

/// An incident as the API, the CLI and `schemas/incident.schema.json` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    /// The address its alerts share, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The user its alerts share, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: Severity,
    /// When it began: its first alert's first_seen.
    pub timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_log: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub rule: String,
    pub status: IncidentStatus,
    pub owner: Option<String>,
    pub last_seen: Timestamp,
    /// How many alerts it groups.
    pub alerts: i64,
    pub closed: Option<Timestamp>,
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: i64,
    pub ts: Timestamp,
    /// `alert`, `action`, `note`, `status` or `owner`.
    pub kind: String,
    /// A person's name, or the rule for Picket's own entries.
    pub actor: Option<String>,
    pub text: String,
    /// The alert's row, for `alert` entries.
    pub alert: Option<i64>,
}

const COLUMNS: &str = "id, ip, user, type, severity, first_seen, source_log, target, rule, status, owner, last_seen, alerts, closed";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Incident> {
    let severity: String = r.get(4)?;
    let status: String = r.get(9)?;
    Ok(Incident {
        id: r.get(0)?,
        ip: r.get(1)?,
        user: r.get(2)?,
        kind: r.get(3)?,
        severity: severity.parse().unwrap_or(Severity::Medium),
        timestamp: Timestamp::from_micros(r.get(5)?),
        source_log: r.get(6)?,
        target: r.get(7)?,
        rule: r.get(8)?,
        status: status.parse().unwrap_or(IncidentStatus::Active),
        owner: r.get(10)?,
        last_seen: Timestamp::from_micros(r.get(11)?),
        alerts: r.get(12)?,
        closed: r.get::<_, Option<i64>>(13)?.map(Timestamp::from_micros),
    })
}

/// The address and the user an alert's group names (the user a brute force tried, the
/// account a sudo rule watched).
fn shared_keys(a: &Alert) -> (Option<String>, Option<String>) {
    let ip = a
        .group
        .get("src_ip")
        .and_then(|s| s.parse::<std::net::IpAddr>().ok())
        .map(|ip| crate::model::ip::canonical(ip).to_string());
    let user = ["user", "target_user"]
        .iter()
        .find_map(|k| a.group.get(*k))
        .filter(|u| !u.is_empty())
        .cloned();
    (ip, user)
}

/// An incident's severity (as stored) after an alert of `alert`'s: the higher of the two.
fn raised(stored: &str, alert: Severity) -> Severity {
    stored.parse::<Severity>().map_or(alert, |s| s.max(alert))
}

/// Puts a newly stored alert (row `alert_id`) into the active incident of its address or
/// user whose last alert is at most `cfg.window_secs` older, or opens a new incident.
/// Alerts with neither an address nor a user get an incident of their own. Returns the
/// incident's id.
pub fn attach(
    conn: &Connection,
    alert_id: i64,
    a: &Alert,
    cfg: &IncidentConfig,
) -> rusqlite::Result<i64> {
    let (ip, user) = shared_keys(a);
    let earliest = a
        .first_seen
        .saturating_add_secs(-(cfg.window_secs.min(i64::MAX as u64) as i64))
        .as_micros();
    let found: Option<(i64, String)> = if ip.is_some() || user.is_some() {
        conn.prepare_cached(
            "SELECT id, severity FROM incidents
             WHERE status = 'active' AND last_seen >= ?3
               AND ((?1 IS NOT NULL AND ip = ?1) OR (?2 IS NOT NULL AND user = ?2))
             ORDER BY last_seen DESC, id DESC LIMIT 1",
        )?
        .query_row(params![ip, user, earliest], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
    } else {
        None
    };
    let id = match found {
        Some((id, severity)) => {
            let severity = raised(&severity, a.severity);
            conn.prepare_cached(
                "UPDATE incidents SET last_seen = max(last_seen, ?2), severity = ?3,
                     alerts = alerts + 1, ip = coalesce(ip, ?4), user = coalesce(user, ?5)
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                a.last_seen.as_micros(),
                severity.as_str(),
                ip,
                user
            ])?;
            id
        }
        None => conn
            .prepare_cached(
                "INSERT INTO incidents (ip, user, type, severity, rule, source_log, target,
                     status, first_seen, last_seen, alerts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9, 1) RETURNING id",
            )?
            .query_row(
                params![
                    ip,
                    user,
                    a.kind.as_deref().unwrap_or(&a.rule),
                    a.severity.as_str(),
                    a.rule,
                    a.source,
                    // Something to name: the alert's target, else what its group names.
                    a.target.as_ref().or_else(|| a.group.values().next()),
                    a.first_seen.as_micros(),
                    a.last_seen.as_micros()
                ],
                |r| r.get(0),
            )?,
    };
    conn.prepare_cached("UPDATE alerts SET incident = ?1 WHERE id = ?2")?
        .execute(params![id, alert_id])?;
    add_entry(
        conn,
        id,
        a.first_seen,
        "alert",
        Some(&a.rule),
        &format!("[{}] {}", a.severity.as_str(), a.title),
        Some(alert_id),
    )?;
    Ok(id)
}

/// Keeps an incident's last_seen and severity up with a suppressed alert's updates.
pub fn touch(conn: &Connection, incident: i64, a: &Alert) -> rusqlite::Result<()> {
    let severity: Option<String> = conn
        .prepare_cached("SELECT severity FROM incidents WHERE id = ?1")?
        .query_row([incident], |r| r.get(0))
        .optional()?;
    let Some(severity) = severity else {
        return Ok(());
    };
    let severity = raised(&severity, a.severity);
    conn.prepare_cached(
        "UPDATE incidents SET last_seen = max(last_seen, ?2), severity = ?3 WHERE id = ?1",
    )?
    .execute(params![
        incident,
        a.last_seen.as_micros(),
        severity.as_str()
    ])?;
    Ok(())
}

/// Appends a line to an incident's timeline.
pub fn add_entry(
    conn: &Connection,
    incident: i64,
    ts: Timestamp,
    kind: &str,
    actor: Option<&str>,
    text: &str,
    alert: Option<i64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO incident_timeline (incident, ts, kind, actor, text, alert)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![incident, ts.as_micros(), kind, actor, text, alert])?;
    Ok(())
}

/// Records an action (a ban, a kill) on the incident of the alert keyed `alert_key`, or,
/// failing that, on the active incident of `ip`; the incident's id, or `None` when there
/// is none yet (the responder acts before the alert's commit).
pub fn record_action(
    conn: &Connection,
    alert_key: Option<&str>,
    ip: Option<std::net::IpAddr>,
    actor: Option<&str>,
    text: &str,
) -> rusqlite::Result<Option<i64>> {
    let mut incident: Option<i64> = None;
    if let Some(key) = alert_key {
        incident = conn
            .prepare_cached("SELECT incident FROM alerts WHERE key = ?1")?
            .query_row([key], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten();
    }
    if incident.is_none() {
        if let Some(ip) = ip {
            let ip = crate::model::ip::canonical(ip).to_string();
            incident = conn
                .prepare_cached(
                    "SELECT id FROM incidents WHERE ip = ?1 AND status = 'active'
                     ORDER BY last_seen DESC LIMIT 1",
                )?
                .query_row([ip], |r| r.get(0))
                .optional()?;
        }
    }
    let Some(id) = incident else {
        return Ok(None);
    };
    add_entry(conn, id, Timestamp::now(), "action", actor, text, None)?;
    Ok(Some(id))
}

/// Closes active incidents whose last alert is older than `close_after_secs` before
/// `now` (a thousand at a time); their ids.
pub fn close_quiet(
    conn: &Connection,
    cfg: &IncidentConfig,
    now: Timestamp,
) -> rusqlite::Result<Vec<i64>> {
    if cfg.close_after_secs == 0 {
        return Ok(Vec::new());
    }
    let cutoff = now
        .saturating_add_secs(-(cfg.close_after_secs.min(i64::MAX as u64) as i64))
        .as_micros();
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM incidents WHERE status = 'active' AND last_seen < ?1 LIMIT 1000",
        )?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let text = format!(
        "closed: no new alert for {}",
        crate::model::duration::format_secs(cfg.close_after_secs)
    );
    for id in &ids {
        set_status(conn, *id, IncidentStatus::Closed, None, Some(&text), now)?;
    }
    Ok(ids)
}

/// Changes an incident's status, with a timeline entry; `false` when there is no such
/// incident or it already had that status.
pub fn set_status(
    conn: &Connection,
    id: i64,
    status: IncidentStatus,
    by: Option<&str>,
    text: Option<&str>,
    now: Timestamp,
) -> rusqlite::Result<bool> {
    let closed = (status == IncidentStatus::Closed).then_some(now.as_micros());
    let changed = conn.execute(
        "UPDATE incidents SET status = ?2, closed = ?3 WHERE id = ?1 AND status != ?2",
        params![id, status.as_str(), closed],
    )? == 1;
    if changed {
        let default = match status {
            IncidentStatus::Closed => "closed",
            IncidentStatus::Active => "reopened",
        };
        add_entry(conn, id, now, "status", by, text.unwrap_or(default), None)?;
    }
    Ok(changed)
}

/// Sets (or with `None` clears) an incident's owner; `false` when there is no such
/// incident.
pub fn set_owner(
    conn: &Connection,
    id: i64,
    owner: Option<&str>,
    by: Option<&str>,
    now: Timestamp,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE incidents SET owner = ?2 WHERE id = ?1",
        params![id, owner],
    )? == 1;
    if changed {
        let text = match owner {
            Some(o) => format!("owner: {o}"),
            None => "owner cleared".to_string(),
        };
        add_entry(conn, id, now, "owner", by, &text, None)?;
    }
    Ok(changed)
}

/// Adds a person's note; `false` when there is no such incident.
pub fn add_note(
    conn: &Connection,
    id: i64,
    by: Option<&str>,
    text: &str,
    now: Timestamp,
) -> rusqlite::Result<bool> {
    if get(conn, id)?.is_none() {
        return Ok(false);
    }
    add_entry(conn, id, now, "note", by, text, None)?;
    Ok(true)
}

/// Filters for a listing, newest (by last_seen, then id) first.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    pub status: Option<IncidentStatus>,
    pub severities: Vec<Severity>,
    pub since: Option<Timestamp>,
    /// An address, or a substring of the user, type, rule, target or owner.
    pub text: Option<String>,
    /// Only incidents after this (last_seen, id) in the listing's order: cursor pagination.
    pub after: Option<(Timestamp, i64)>,
    pub limit: usize,
}

pub fn query(conn: &Connection, q: &IncidentQuery) -> rusqlite::Result<Vec<Incident>> {
    let mut sql = format!("SELECT {COLUMNS} FROM incidents WHERE 1=1");
    let mut args: Vec<Value> = Vec::new();
    super::sql::push_state(
        &mut sql,
        &mut args,
        q.status.map(|s| s.as_str()),
        &q.severities,
        q.since,
    );
    if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(" AND (ip = ? OR user LIKE ? ESCAPE '\\' OR type LIKE ? ESCAPE '\\' OR rule LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\' OR owner LIKE ? ESCAPE '\\')");
        args.push(Value::Text(t.to_string()));
        let p = super::sql::like_pattern(t);
        for _ in 0..5 {
            args.push(Value::Text(p.clone()));
        }
    }
    super::sql::push_page(&mut sql, &mut args, q.after, q.limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Incident>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// An incident's timeline, oldest first (at most `limit` lines, the latest kept).
pub fn timeline(conn: &Connection, id: i64, limit: usize) -> rusqlite::Result<Vec<Entry>> {
    let mut out: Vec<Entry> = conn
        .prepare_cached(
            "SELECT id, ts, kind, actor, text, alert FROM incident_timeline
             WHERE incident = ?1 ORDER BY id DESC LIMIT ?2",
        )?
        .query_map(params![id, limit.max(1) as i64], |r| {
            Ok(Entry {
                id: r.get(0)?,
                ts: Timestamp::from_micros(r.get(1)?),
                kind: r.get(2)?,
                actor: r.get(3)?,
                text: r.get(4)?,
                alert: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// The ids of an incident's alerts, newest first.
pub fn alert_ids(conn: &Connection, id: i64, limit: usize) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT id FROM alerts WHERE incident = ?1 ORDER BY last_seen DESC, id DESC LIMIT ?2",
    )?
    .query_map(params![id, limit.max(1) as i64], |r| r.get(0))?
    .collect()
}

/// How many incidents each status has.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(IncidentStatus, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT status, count(*) FROM incidents GROUP BY status")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlertStatus;

    fn alert(rule: &str, group: &[(&str, &str)], first: i64, sev: Severity) -> Alert {
        Alert {
            key: format!("{rule}|{group:?}|{first}"),
            rule: rule.into(),
            title: format!("{rule} title"),
            severity: sev,
            mitre: vec![],
            group: group
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            count: 1,
            first_seen: Timestamp::from_secs(first),
            last_seen: Timestamp::from_secs(first),
            status: AlertStatus::Open,
            evidence: vec![],
            response: vec![],
            ban_secs: None,
            source: Some("/var/log/auth.log".into()),
            target: Some("sshd".into()),
            kind: None,
            is_new: true,
        }
    }

    fn store(conn: &Connection, a: &Alert, cfg: &IncidentConfig) -> i64 {
        let (id, _, incident) = crate::store::alerts::upsert(conn, a).unwrap();
        assert_eq!(incident, None);
        attach(conn, id, a, cfg).unwrap()
    }

    #[test]
    fn alerts_sharing_an_address_or_user_within_the_window_make_one_incident() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let cfg = IncidentConfig::default();
        let ip = [("src_ip", "203.0.113.66")];
        let a = store(
            &conn,
            &alert("ssh-brute-force", &ip, 1000, Severity::Medium),
            &cfg,
        );
        // Same address 10 minutes later: same incident, severity raised.
        let both = [("src_ip", "203.0.113.66"), ("user", "root")];
        let b = store(
            &conn,
            &alert(
                "ssh-login-after-brute-force",
                &both,
                1600,
                Severity::Critical,
            ),
            &cfg,
        );
        assert_eq!(a, b);
        // The user alone now leads to it too.
        let c = store(
            &conn,
            &alert("sudo-failures", &[("user", "root")], 1700, Severity::High),
            &cfg,
        );
        assert_eq!(a, c);
        // A different address: a new incident. The same one past the window: another.
        let d = store(
            &conn,
            &alert(
                "ssh-brute-force",
                &[("src_ip", "198.51.100.9")],
                1700,
                Severity::Medium,
            ),
            &cfg,
        );
        assert_ne!(a, d);
        let e = store(
            &conn,
            &alert("ssh-brute-force", &ip, 1700 + 3601, Severity::Low),
            &cfg,
        );
        assert_ne!(a, e);
        let i = get(&conn, a).unwrap().unwrap();
        assert_eq!(
            (i.ip.as_deref(), i.user.as_deref(), i.alerts, i.severity),
            (Some("203.0.113.66"), Some("root"), 3, Severity::Critical)
        );
        assert_eq!(
            (i.kind.as_str(), i.rule.as_str()),
            ("ssh-brute-force", "ssh-brute-force")
        );
        assert_eq!(i.source_log.as_deref(), Some("/var/log/auth.log"));
        assert_eq!(i.timestamp, Timestamp::from_secs(1000));
        assert_eq!(i.last_seen, Timestamp::from_secs(1700));
        let t = timeline(&conn, a, 100).unwrap();
        assert_eq!(t.len(), 3);
        assert!(t.iter().all(|e| e.kind == "alert" && e.alert.is_some()));
        assert_eq!(alert_ids(&conn, a, 10).unwrap().len(), 3);
        // An IPv4-mapped address is the same address.
        let f = store(
            &conn,
            &alert(
                "x",
                &[("src_ip", "::ffff:198.51.100.9")],
                1800,
                Severity::Low,
            ),
            &cfg,
        );
        assert_eq!(f, d);
    }

    #[test]
    fn people_close_reopen_own_and_annotate_and_quiet_ones_close() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let cfg = IncidentConfig::default();
        let a = alert(
            "ssh-brute-force",
            &[("src_ip", "203.0.113.66")],
            1000,
            Severity::High,
        );
        let id = store(&conn, &a, &cfg);
        let now = Timestamp::from_secs(2000);
        assert!(set_owner(&conn, id, Some("alice"), Some("alice"), now).unwrap());
        assert!(add_note(&conn, id, Some("alice"), "<b>looking</b>", now).unwrap());
        assert!(set_status(&conn, id, IncidentStatus::Closed, Some("alice"), None, now).unwrap());
        assert!(!set_status(&conn, id, IncidentStatus::Closed, Some("alice"), None, now).unwrap());
        let i = get(&conn, id).unwrap().unwrap();
        assert_eq!(
            (i.status, i.owner.as_deref(), i.closed),
            (IncidentStatus::Closed, Some("alice"), Some(now))
        );
        // A closed incident takes no new alerts: the next one opens another.
        let b = alert(
            "ssh-brute-force",
            &[("src_ip", "203.0.113.66")],
            1100,
            Severity::High,
        );
        let other = store(&conn, &b, &cfg);
        assert_ne!(other, id);
        let ip: std::net::IpAddr = "203.0.113.66".parse().unwrap();
        assert_eq!(
            record_action(
                &conn,
                Some(&b.key),
                None,
                Some("ssh-brute-force"),
                "blocked"
            )
            .unwrap(),
            Some(other)
        );
        assert_eq!(
            record_action(&conn, None, Some(ip), None, "blocked by hand").unwrap(),
            Some(other)
        );
        let stranger = "192.0.2.1".parse().ok();
        assert_eq!(
            record_action(&conn, Some("nope"), stranger, None, "x").unwrap(),
            None
        );
        let kinds: Vec<String> = timeline(&conn, other, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["alert", "action", "action"]);
        let kinds: Vec<String> = timeline(&conn, id, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["alert", "owner", "note", "status"]);
        assert!(!add_note(&conn, 999, None, "x", now).unwrap());
        // Quiet for a day: closed by Picket.
        assert_eq!(
            close_quiet(&conn, &cfg, Timestamp::from_secs(1100 + 86_401)).unwrap(),
            [other]
        );
        assert_eq!(
            get(&conn, other).unwrap().unwrap().status,
            IncidentStatus::Closed
        );
        let listed = query(
            &conn,
            &IncidentQuery {
                text: Some("203.0.113.66".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(counts(&conn).unwrap(), vec![(IncidentStatus::Closed, 2)]);
    }
}
