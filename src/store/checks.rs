//! Configuration check results: each check's latest result with the time it got its
//! status (so "failing since Tuesday" survives restarts), and one row per run with the
//! security score, which is the score's history.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use crate::base::timestamp::Timestamp;
use crate::model::check::CheckResult;
use crate::model::score::{OpenAlerts, Score};
use crate::model::Severity;

/// How long the score's history is kept.
pub const HISTORY_DAYS: i64 = 400;

/// A stored result: the result's JSON fields plus `since`.
pub type StoredResult = Value;

/// One run's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorePoint {
    pub t: Timestamp,
    pub score: i64,
    pub checks_score: f64,
    pub alert_penalty: f64,
    pub pass: i64,
    pub warn: i64,
    pub fail: i64,
}

/// The latest run as a whole.
#[derive(Debug, Clone)]
pub struct LatestRun {
    pub ran_at: Timestamp,
    pub score: Value,
    pub errors: Value,
    pub results: Vec<StoredResult>,
}

/// Open alerts by severity, for the score.
pub fn open_alerts(conn: &Connection) -> rusqlite::Result<OpenAlerts> {
    let mut stmt =
        conn.prepare("SELECT severity, count(*) FROM alerts WHERE status = 'open' GROUP BY 1")?;
    let mut open = OpenAlerts::default();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (sev, n) = row?;
        if let Ok(sev) = sev.parse::<Severity>() {
            open.add(sev, n.max(0) as u64);
        }
    }
    Ok(open)
}

/// Stores one run: results replace the previous ones (a check whose status did not
/// change keeps its `since`; checks no longer present are dropped), and the score joins
/// the history. One transaction: a reader never sees half a run.
pub fn save_run(
    conn: &Connection,
    ts: Timestamp,
    results: &[CheckResult],
    score: &Score,
    errors: &Value,
) -> rusqlite::Result<()> {
    // Callers hold a shared connection (the API's pool); runs are serialized by the runner.
    // IMMEDIATE: this reads then writes, and a deferred transaction that has read cannot
    // wait for another writer (SQLite answers "database is locked" at once).
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut previous = tx.prepare("SELECT status, since FROM check_results WHERE id = ?1")?;
        let mut put = tx.prepare(
            "INSERT OR REPLACE INTO check_results (id, status, severity, category, since, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for r in results {
            let status = r.status.as_str();
            let old: Option<(String, i64)> = previous
                .query_row([&r.id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            let since = match old {
                Some((s, since)) if s == status => since,
                _ => ts.as_micros(),
            };
            let json = serde_json::to_string(r)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            put.execute(params![
                r.id,
                status,
                r.severity.as_str(),
                r.category,
                since,
                json
            ])?;
        }
        let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "DELETE FROM check_results WHERE id NOT IN (SELECT value FROM json_each(?1))",
            [ids],
        )?;
        let count = |s| results.iter().filter(|r| r.status == s).count() as i64;
        use crate::model::check::Status;
        let json = serde_json::json!({ "score": score, "errors": errors }).to_string();
        tx.execute(
            "INSERT OR REPLACE INTO check_runs
               (ts, score, checks_score, alert_penalty, pass, warn, fail, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                ts.as_micros(),
                score.score,
                score.checks_score,
                score.alert_penalty,
                count(Status::Pass),
                count(Status::Warn),
                count(Status::Fail),
                json
            ],
        )?;
        let keep_from = ts.saturating_add_secs(-HISTORY_DAYS * 86_400).as_micros();
        tx.execute("DELETE FROM check_runs WHERE ts < ?1", [keep_from])?;
    }
    tx.commit()
}

/// The latest run and every current result (ordered by id), or `None` before the first.
pub fn latest(conn: &Connection) -> rusqlite::Result<Option<LatestRun>> {
    let run: Option<(i64, String)> = conn
        .query_row(
            "SELECT ts, json FROM check_runs ORDER BY ts DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((ts, json)) = run else {
        return Ok(None);
    };
    let run: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let mut stmt = conn.prepare("SELECT json, since FROM check_results ORDER BY id")?;
    let results = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .map(|row| {
            let (json, since) = row?;
            let mut v: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert(
                    "since".into(),
                    Value::String(Timestamp::from_micros(since).to_string()),
                );
            }
            Ok(v)
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(LatestRun {
        ran_at: Timestamp::from_micros(ts),
        score: run.get("score").cloned().unwrap_or(Value::Null),
        errors: run.get("errors").cloned().unwrap_or(Value::Array(vec![])),
        results,
    }))
}

/// The latest score alone (the top bar's figure).
pub fn latest_score(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT score FROM check_runs ORDER BY ts DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()
}

/// The score's history since `since`, oldest first, at most `limit` points evenly
/// thinned (a year of 15-minute runs is 35,000 rows; a chart needs a few hundred).
pub fn history(
    conn: &Connection,
    since: Timestamp,
    limit: usize,
) -> rusqlite::Result<Vec<ScorePoint>> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM check_runs WHERE ts >= ?1",
        [since.as_micros()],
        |r| r.get(0),
    )?;
    let step = (n as usize).div_ceil(limit.max(1)).max(1) as i64;
    let mut stmt = conn.prepare(
        "SELECT ts, score, checks_score, alert_penalty, pass, warn, fail FROM
           (SELECT *, row_number() OVER (ORDER BY ts DESC) - 1 AS k FROM check_runs WHERE ts >= ?1)
         WHERE k % ?2 = 0 ORDER BY ts",
    )?;
    let rows = stmt.query_map(params![since.as_micros(), step], |r| {
        Ok(ScorePoint {
            t: Timestamp::from_micros(r.get(0)?),
            score: r.get(1)?,
            checks_score: r.get(2)?,
            alert_penalty: r.get(3)?,
            pass: r.get(4)?,
            warn: r.get(5)?,
            fail: r.get(6)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check::Status;
    use crate::model::score::compute;

    fn result(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: id.into(),
            category: "ssh".into(),
            severity: Severity::High,
            status,
            evidence: vec![],
            remediation: "fix".into(),
            description: String::new(),
        }
    }

    fn save(conn: &Connection, secs: i64, results: &[CheckResult]) {
        let score = compute(results, OpenAlerts::default());
        save_run(
            conn,
            Timestamp::from_micros(secs * 1_000_000),
            results,
            &score,
            &Value::Array(vec![]),
        )
        .unwrap();
    }

    #[test]
    fn since_survives_an_unchanged_status_and_moves_on_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        assert!(latest(&conn).unwrap().is_none());
        let t0 = 1_700_000_000;
        save(
            &conn,
            t0,
            &[result("a", Status::Fail), result("b", Status::Pass)],
        );
        save(
            &conn,
            t0 + 60,
            &[result("a", Status::Fail), result("b", Status::Warn)],
        );
        let run = latest(&conn).unwrap().unwrap();
        assert_eq!(run.ran_at.as_micros(), (t0 + 60) * 1_000_000);
        let since = |id: &str| {
            run.results.iter().find(|r| r["id"] == id).unwrap()["since"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            since("a"),
            Timestamp::from_micros(t0 * 1_000_000).to_string()
        );
        assert_eq!(
            since("b"),
            Timestamp::from_micros((t0 + 60) * 1_000_000).to_string()
        );
        // A check that went away is no longer listed.
        save(&conn, t0 + 120, &[result("a", Status::Pass)]);
        let run = latest(&conn).unwrap().unwrap();
        assert_eq!(run.results.len(), 1);
        assert_eq!(run.score["score"], 100);
        assert_eq!(latest_score(&conn).unwrap(), Some(100));
    }

    #[test]
    fn history_is_oldest_first_and_thinned_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let t0 = 1_700_000_000;
        for i in 0..10 {
            let status = if i % 2 == 0 {
                Status::Pass
            } else {
                Status::Fail
            };
            save(&conn, t0 + i * 60, &[result("a", status)]);
        }
        let all = history(&conn, Timestamp::from_micros(0), 100).unwrap();
        assert_eq!(all.len(), 10);
        assert!(all.windows(2).all(|w| w[0].t < w[1].t));
        assert_eq!((all[0].score, all[1].score), (100, 0));
        let thin = history(&conn, Timestamp::from_micros(0), 4).unwrap();
        assert!(thin.len() <= 4, "{}", thin.len());
        assert_eq!(thin.last().unwrap().t, all.last().unwrap().t, "newest kept");
        let recent = history(&conn, Timestamp::from_micros((t0 + 480) * 1_000_000), 100).unwrap();
        assert_eq!(recent.len(), 2);
    }

    #[test]
    fn open_alerts_are_counted_by_severity() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        for (i, (sev, status)) in [("high", "open"), ("high", "open"), ("low", "resolved")]
            .iter()
            .enumerate()
        {
            conn.execute(
                "INSERT INTO alerts (key, rule, severity, status, first_seen, last_seen, count, json)
                 VALUES (?1, 'r', ?2, ?3, 0, 0, 1, '{}')",
                params![i.to_string(), sev, status],
            )
            .unwrap();
        }
        let open = open_alerts(&conn).unwrap();
        assert_eq!((open.high, open.low), (2, 0));
    }
}
