//! Traffic per address as time series: sums per minute kept for two days and per hour
//! kept for 90, one row per address, scope and bucket. Counts only add up, so a reading
//! every few seconds lands in its minute and hour by `+=`.

use std::collections::HashMap;
use std::net::IpAddr;

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::base::timestamp::Timestamp;
use crate::model::traffic::Scope;
use crate::model::traffic::Usage;

/// Bucket sizes in seconds, with how long each is kept.
pub const TIERS: &[(i64, i64)] = &[(60, 2 * 86_400), (3600, 90 * 86_400)];

const SEC: i64 = 1_000_000;

/// Adds one interval's usage to its minute and hour, and prunes old buckets.
pub fn record(
    conn: &Connection,
    at: Timestamp,
    usage: &HashMap<(IpAddr, Scope), Usage>,
) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut add = tx.prepare_cached(
            "INSERT INTO traffic (res, ts, addr, scope, tx_bytes, rx_bytes, tx_packets, rx_packets, connections)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (res, ts, addr, scope) DO UPDATE SET
               tx_bytes = tx_bytes + excluded.tx_bytes,
               rx_bytes = rx_bytes + excluded.rx_bytes,
               tx_packets = tx_packets + excluded.tx_packets,
               rx_packets = rx_packets + excluded.rx_packets,
               connections = connections + excluded.connections",
        )?;
        let t = at.as_micros();
        for ((addr, scope), u) in usage {
            for (res, _) in TIERS {
                let bucket = t.div_euclid(res * SEC) * res * SEC;
                add.execute(params![
                    res,
                    bucket,
                    addr.to_string(),
                    scope.as_str(),
                    u.tx_bytes as i64,
                    u.rx_bytes as i64,
                    u.tx_packets as i64,
                    u.rx_packets as i64,
                    u.connections as i64,
                ])?;
            }
        }
        for (res, keep) in TIERS {
            tx.execute(
                "DELETE FROM traffic WHERE res = ?1 AND ts < ?2",
                params![res, t - keep * SEC],
            )?;
        }
    }
    tx.commit()
}

/// The finest bucket size that still holds `since`.
pub fn resolution_for(since: Timestamp, now: Timestamp) -> i64 {
    let span = (now.as_micros() - since.as_micros()) / SEC;
    TIERS
        .iter()
        .find(|(_, keep)| span <= *keep)
        .map_or(TIERS[TIERS.len() - 1].0, |(res, _)| *res)
}

/// One address's totals over a span.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Total {
    pub addr: String,
    pub scope: String,
    pub tx_bytes: i64,
    pub rx_bytes: i64,
    pub tx_packets: i64,
    pub rx_packets: i64,
    pub connections: i64,
}

/// The addresses that moved the most bytes since `since` (of `scope`, or both), most first.
pub fn top(
    conn: &Connection,
    since: Timestamp,
    scope: Option<Scope>,
    limit: usize,
) -> rusqlite::Result<Vec<Total>> {
    let res = resolution_for(since, Timestamp::now());
    let start = since.as_micros().div_euclid(res * SEC) * res * SEC;
    let mut stmt = conn.prepare_cached(
        "SELECT addr, scope, sum(tx_bytes), sum(rx_bytes), sum(tx_packets), sum(rx_packets), sum(connections)
         FROM traffic WHERE res = ?1 AND ts >= ?2 AND (?3 IS NULL OR scope = ?3)
         GROUP BY addr, scope ORDER BY sum(tx_bytes) + sum(rx_bytes) DESC, addr LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![res, start, scope.map(Scope::as_str), limit as i64],
        |r| {
            Ok(Total {
                addr: r.get(0)?,
                scope: r.get(1)?,
                tx_bytes: r.get(2)?,
                rx_bytes: r.get(3)?,
                tx_packets: r.get(4)?,
                rx_packets: r.get(5)?,
                connections: r.get(6)?,
            })
        },
    )?;
    rows.collect()
}

/// One bucket of a series.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Point {
    /// The bucket's start, RFC 3339.
    pub ts: Timestamp,
    pub tx_bytes: i64,
    pub rx_bytes: i64,
    pub tx_packets: i64,
    pub rx_packets: i64,
    pub connections: i64,
}

/// The buckets of size `res` since `since` of the addresses `addrs` (a device's IPv4 and
/// IPv6 addresses), summed over both scopes, oldest first; empty buckets are left out.
pub fn series(
    conn: &Connection,
    addrs: &[String],
    since: Timestamp,
    res: i64,
) -> rusqlite::Result<Vec<Point>> {
    let mut by_ts: std::collections::BTreeMap<i64, Point> = Default::default();
    let mut stmt = conn.prepare_cached(
        "SELECT ts, sum(tx_bytes), sum(rx_bytes), sum(tx_packets), sum(rx_packets), sum(connections)
         FROM traffic WHERE res = ?1 AND addr = ?2 AND ts >= ?3 GROUP BY ts",
    )?;
    let start = since.as_micros().div_euclid(res * SEC) * res * SEC;
    for addr in addrs {
        let rows = stmt.query_map(params![res, addr, start], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                [
                    r.get::<_, i64>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ],
            ))
        })?;
        for row in rows {
            let (ts, v) = row?;
            let p = by_ts.entry(ts).or_insert_with(|| Point {
                ts: Timestamp::from_micros(ts),
                tx_bytes: 0,
                rx_bytes: 0,
                tx_packets: 0,
                rx_packets: 0,
                connections: 0,
            });
            p.tx_bytes += v[0];
            p.rx_bytes += v[1];
            p.tx_packets += v[2];
            p.rx_packets += v[3];
            p.connections += v[4];
        }
    }
    Ok(by_ts.into_values().collect())
}

/// The checkpoint that holds the traffic reader's status (JSON) for the API and CLI.
pub const STATUS: &str = "traffic.status";

pub fn save_status(conn: &Connection, json: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO checkpoints (name, value, updated) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        params![STATUS, json, Timestamp::now().as_micros()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(tx: u64, conns: u64) -> Usage {
        Usage {
            tx_bytes: tx,
            rx_bytes: 2 * tx,
            tx_packets: 1,
            rx_packets: 2,
            connections: conns,
        }
    }

    #[test]
    fn readings_add_up_per_minute_and_hour_and_top_and_series_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let minute_start = Timestamp::from_micros(now.as_micros().div_euclid(60 * SEC) * 60 * SEC);
        let a: IpAddr = "198.51.100.10".parse().unwrap();
        let b: IpAddr = "203.0.113.9".parse().unwrap();
        let first = HashMap::from([
            ((a, Scope::Forwarded), usage(1000, 2)),
            ((b, Scope::Host), usage(10, 1)),
        ]);
        record(&conn, minute_start, &first).unwrap();
        record(
            &conn,
            minute_start.saturating_add_secs(5),
            &HashMap::from([((a, Scope::Forwarded), usage(500, 0))]),
        )
        .unwrap();
        let since = minute_start.saturating_add_secs(-600);
        let t = top(&conn, since, None, 10).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].addr.as_str(), t[0].scope.as_str()),
            ("198.51.100.10", "forwarded")
        );
        assert_eq!(
            (t[0].tx_bytes, t[0].rx_bytes, t[0].connections),
            (1500, 3000, 2)
        );
        assert_eq!(top(&conn, since, Some(Scope::Host), 10).unwrap().len(), 1);
        let s = series(&conn, &[a.to_string(), "2001:db8::10".into()], since, 60).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].ts, s[0].tx_bytes, s[0].tx_packets),
            (minute_start, 1500, 2)
        );
        // The hour tier holds the same sums.
        let h = series(
            &conn,
            &[a.to_string()],
            since.saturating_add_secs(-3600),
            3600,
        )
        .unwrap();
        assert_eq!(h.iter().map(|p| p.tx_bytes).sum::<i64>(), 1500);
        // Two days on, the minutes are gone and the hours stay.
        let later = minute_start.saturating_add_secs(2 * 86_400 + 120);
        record(&conn, later, &HashMap::new()).unwrap();
        assert!(series(&conn, &[a.to_string()], since, 60)
            .unwrap()
            .is_empty());
        assert_eq!(
            series(
                &conn,
                &[a.to_string()],
                since.saturating_add_secs(-3600),
                3600
            )
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn the_resolution_follows_the_span() {
        let now = Timestamp::now();
        assert_eq!(resolution_for(now.saturating_add_secs(-3600), now), 60);
        assert_eq!(
            resolution_for(now.saturating_add_secs(-7 * 86_400), now),
            3600
        );
        assert_eq!(
            resolution_for(now.saturating_add_secs(-400 * 86_400), now),
            3600
        );
    }
}
