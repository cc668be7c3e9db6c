//! Host metrics as downsampled time series: every sample for a day, one-minute averages
//! for 30 days, one-hour averages for 400 days. One row per time and resolution holds all
//! series (a JSON object), so a year of a host is a few tens of megabytes at most.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use crate::base::timestamp::Timestamp;

/// The resolutions kept, in seconds (0: every sample), with how long each is kept.
pub const TIERS: &[(i64, i64)] = &[(0, 86_400), (60, 30 * 86_400), (3600, 400 * 86_400)];

pub type Values = BTreeMap<String, f64>;

fn to_json(v: &Values) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

fn from_json(s: &str) -> Values {
    serde_json::from_str(s).unwrap_or_default()
}

const SEC: i64 = 1_000_000;

/// Running sums and counts per series, for averages.
type Sums = BTreeMap<String, (f64, u32)>;

fn add(sums: &mut Sums, values: Values, keep: impl Fn(&str) -> bool) {
    for (k, v) in values {
        if keep(&k) {
            let e = sums.entry(k).or_default();
            e.0 += v;
            e.1 += 1;
        }
    }
}

fn average(sums: Sums) -> Values {
    sums.into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect()
}

/// Stores a sample, then, when it starts a new minute (hour), the previous minute's
/// (hour's) average, and prunes what each resolution no longer keeps. One transaction.
pub fn record(conn: &Connection, ts: Timestamp, values: &Values) -> rusqlite::Result<()> {
    // IMMEDIATE: reads then writes (see store::checks::save_run).
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let t = ts.as_micros();
    let previous: Option<i64> =
        tx.query_row("SELECT max(ts) FROM metrics WHERE res = 0", [], |r| {
            r.get(0)
        })?;
    tx.execute(
        "INSERT OR REPLACE INTO metrics (res, ts, json) VALUES (0, ?1, ?2)",
        params![t, to_json(values)],
    )?;
    if let Some(prev) = previous {
        for w in TIERS.windows(2) {
            let (from, to) = (w[0].0, w[1].0);
            let bucket = |x: i64| x.div_euclid(to * SEC) * to * SEC;
            if bucket(prev) != bucket(t) {
                roll_up(&tx, from, to, bucket(prev))?;
            }
        }
    }
    for (res, keep) in TIERS {
        tx.execute(
            "DELETE FROM metrics WHERE res = ?1 AND ts < ?2",
            params![res, t - keep * SEC],
        )?;
    }
    tx.commit()
}

/// Averages the rows of resolution `from` in the bucket starting at `start` into one row
/// of resolution `to`. A series missing from some rows is averaged over those it is in.
fn roll_up(conn: &Connection, from: i64, to: i64, start: i64) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT json FROM metrics WHERE res = ?1 AND ts >= ?2 AND ts < ?3")?;
    let rows = stmt.query_map(params![from, start, start + to * SEC], |r| {
        r.get::<_, String>(0)
    })?;
    let mut sums = Sums::new();
    for row in rows {
        add(&mut sums, from_json(&row?), |_| true);
    }
    if sums.is_empty() {
        return Ok(());
    }
    let avg = average(sums);
    conn.execute(
        "INSERT OR REPLACE INTO metrics (res, ts, json) VALUES (?1, ?2, ?3)",
        params![to, start, to_json(&avg)],
    )?;
    Ok(())
}

/// The resolution to read for a span drawn as `points` points: the coarsest kept long
/// enough whose step is not wider than a point (a day in 360 points reads one-minute
/// averages, not 8,640 samples).
pub fn resolution_for(span_secs: i64, points: usize) -> i64 {
    let per_point = span_secs / points.max(1) as i64;
    TIERS
        .iter()
        .filter(|(res, keep)| span_secs <= *keep && *res <= per_point.max(0))
        .map(|(res, _)| *res)
        .max()
        .unwrap_or_else(|| {
            // Longer than any tier keeps: the longest-kept one.
            TIERS[TIERS.len() - 1].0
        })
}

/// The history of a span drawn as at most `points` points: read from the resolution
/// [`resolution_for`] picks, or, while that one has no rows yet (a daemon started minutes
/// ago has no minute averages), from the finer ones that cover the span. Gives the
/// resolution used.
pub fn history_for_span(
    conn: &Connection,
    since: Timestamp,
    span_secs: i64,
    series: &[String],
    points: usize,
) -> rusqlite::Result<(i64, Vec<Point>)> {
    let res = resolution_for(span_secs, points);
    let mut tiers: Vec<i64> = TIERS
        .iter()
        .filter(|(r, keep)| *r <= res && span_secs <= *keep)
        .map(|(r, _)| *r)
        .collect();
    tiers.sort_unstable_by(|a, b| b.cmp(a));
    for r in tiers {
        let h = history(conn, r, since, series, points)?;
        if !h.is_empty() {
            return Ok((r, h));
        }
    }
    Ok((res, Vec::new()))
}

/// One point of a history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    pub t: Timestamp,
    pub v: Values,
}

/// The chosen series since `since` at resolution `res`, oldest first, averaged into at
/// most `max_points` buckets of equal time. An empty `series` means all of them.
pub fn history(
    conn: &Connection,
    res: i64,
    since: Timestamp,
    series: &[String],
    max_points: usize,
) -> rusqlite::Result<Vec<Point>> {
    let now = Timestamp::now().as_micros();
    let from = since.as_micros();
    let width = ((now - from).max(1) / max_points.max(1) as i64).max(res.max(1) * SEC);
    let mut stmt =
        conn.prepare("SELECT ts, json FROM metrics WHERE res = ?1 AND ts >= ?2 ORDER BY ts")?;
    let rows = stmt.query_map(params![res, from], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out: Vec<Point> = Vec::new();
    let mut acc: Option<(i64, Sums)> = None;
    let flush = |acc: &mut Option<(i64, Sums)>, out: &mut Vec<Point>| {
        if let Some((b, sums)) = acc.take() {
            out.push(Point {
                t: Timestamp::from_micros(b),
                v: average(sums),
            });
        }
    };
    for row in rows {
        let (ts, json) = row?;
        // Fixed boundaries (multiples of the width), so points stay put between refreshes.
        let bucket = ts.div_euclid(width) * width;
        if acc.as_ref().is_some_and(|(b, _)| *b != bucket) {
            flush(&mut acc, &mut out);
        }
        let sums = &mut acc.get_or_insert_with(|| (bucket, Sums::new())).1;
        add(sums, from_json(&json), |k| {
            series.is_empty() || series.iter().any(|s| s == k)
        });
    }
    flush(&mut acc, &mut out);
    Ok(out)
}

/// The series names of the newest sample.
pub fn names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT json FROM metrics WHERE res = 0 ORDER BY ts DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    Ok(json
        .map(|j| from_json(&j).into_keys().collect())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(cpu: f64) -> Values {
        [("cpu".to_string(), cpu), ("load1".to_string(), cpu / 100.0)].into()
    }

    #[test]
    fn samples_roll_up_into_minutes_and_hours_and_old_rows_go() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        // Two hours of 10 s samples, 1 hour + 2 days ago: cpu 10 in the first hour, 30 after.
        let start = (Timestamp::now().as_micros() / (3600 * SEC) - 50) * 3600 * SEC;
        for i in 0..720 {
            let t = start + i * 10 * SEC;
            let cpu = if i < 360 { 10.0 } else { 30.0 };
            record(&conn, Timestamp::from_micros(t), &vals(cpu)).unwrap();
        }
        // One sample now: the raw rows of two days ago are pruned.
        record(&conn, Timestamp::now(), &vals(50.0)).unwrap();
        let count = |res: i64| -> i64 {
            conn.query_row("SELECT count(*) FROM metrics WHERE res = ?1", [res], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(count(0), 1, "raw samples older than a day are gone");
        assert_eq!(count(60), 120, "two hours of minutes");
        assert_eq!(count(3600), 2);
        let hours = history(&conn, 3600, Timestamp::from_micros(start), &[], 1000).unwrap();
        assert_eq!(hours.len(), 2);
        assert_eq!(hours[0].v["cpu"], 10.0);
        assert_eq!(hours[1].v["cpu"], 30.0);
        assert!((hours[1].v["load1"] - 0.3).abs() < 1e-9);
        // At most N points: minutes averaged into 4 buckets over the span up to now.
        let few = history(&conn, 60, Timestamp::from_micros(start), &["cpu".into()], 4).unwrap();
        assert!(few.len() <= 4 && !few.is_empty(), "{few:?}");
        assert!(few.iter().all(|p| p.v.keys().all(|k| k == "cpu")));
        assert_eq!(names(&conn).unwrap(), vec!["cpu", "load1"]);
    }

    #[test]
    fn a_young_store_answers_a_day_from_its_samples() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let now = Timestamp::now().as_micros();
        // Three samples within one minute (seconds 30–32 of the previous one): samples
        // straddling a minute's start would roll up a minute average and make the test
        // depend on the clock.
        let start = now.div_euclid(60 * SEC) * 60 * SEC - 30 * SEC;
        for i in 0..3 {
            record(&conn, Timestamp::from_micros(start + i * SEC), &vals(10.0)).unwrap();
        }
        let since = Timestamp::from_micros(now - 86_400 * SEC);
        let (res, points) = history_for_span(&conn, since, 86_400, &[], 360).unwrap();
        assert_eq!(res, 0, "no minute averages yet: the samples answer");
        assert!(!points.is_empty());
        assert_eq!(resolution_for(86_400, 360), 60);
    }

    #[test]
    fn the_resolution_follows_the_span() {
        assert_eq!(resolution_for(3600, 360), 0);
        assert_eq!(resolution_for(3600, 20), 60);
        assert_eq!(resolution_for(86_400, 2000), 0);
        assert_eq!(resolution_for(86_400, 360), 60);
        assert_eq!(resolution_for(7 * 86_400, 360), 60);
        assert_eq!(resolution_for(90 * 86_400, 360), 3600);
        assert_eq!(resolution_for(900 * 86_400, 360), 3600);
    }
}
