//! Versioned schema migrations, applied in order inside one transaction each; the
//! version lives in SQLite's `user_version`.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// Each entry upgrades the schema by one version. Never edit a released entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: events, source checkpoints, metadata.
    "CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        ts      INTEGER NOT NULL,          -- microseconds since the epoch, UTC
        type    TEXT    NOT NULL,
        host    TEXT,
        program TEXT,
        src_ip  TEXT,
        user    TEXT,
        source  TEXT    NOT NULL,
        json    TEXT    NOT NULL           -- the whole event as JSON
    );
    CREATE INDEX events_ts ON events (ts);
    CREATE INDEX events_type_ts ON events (type, ts);
    CREATE INDEX events_src_ip_ts ON events (src_ip, ts) WHERE src_ip IS NOT NULL;
    CREATE TABLE checkpoints (
        name    TEXT PRIMARY KEY,          -- file:/var/log/auth.log, journald, ...
        value   TEXT NOT NULL,             -- the source's own state, as JSON or a cursor
        updated INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: alerts, upserted by their engine key.
    "CREATE TABLE alerts (
        id         INTEGER PRIMARY KEY,
        key        TEXT    NOT NULL UNIQUE,  -- rule|group|first_seen: stable across updates
        rule       TEXT    NOT NULL,
        severity   TEXT    NOT NULL,
        status     TEXT    NOT NULL DEFAULT 'open',
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        count      INTEGER NOT NULL,
        src_ip     TEXT,
        json       TEXT    NOT NULL         -- the whole alert as JSON (its status is the column's)
    );
    CREATE INDEX alerts_last_seen ON alerts (last_seen);
    CREATE INDEX alerts_status_last_seen ON alerts (status, last_seen);
    CREATE INDEX alerts_rule_last_seen ON alerts (rule, last_seen);",
    // 3: dashboard accounts, their sessions and API tokens, and the audit log.
    "CREATE TABLE users (
        id      INTEGER PRIMARY KEY,
        name    TEXT    NOT NULL UNIQUE,
        role    TEXT    NOT NULL,            -- admin | viewer
        hash    TEXT    NOT NULL,            -- argon2id PHC string
        created INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        hash    BLOB    PRIMARY KEY,         -- SHA-256 of the cookie value
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf    TEXT    NOT NULL,
        address TEXT,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id        INTEGER PRIMARY KEY,
        name      TEXT    NOT NULL,
        user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        hash      BLOB    NOT NULL UNIQUE,   -- SHA-256 of the token
        created   INTEGER NOT NULL,
        last_used INTEGER,
        revoked   INTEGER
    );
    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        ts      INTEGER NOT NULL,
        user    TEXT,
        address TEXT,
        action  TEXT    NOT NULL,
        target  TEXT,
        detail  TEXT,
        ok      INTEGER NOT NULL
    );
    CREATE INDEX alerts_last_seen_id ON alerts (last_seen, id);
    CREATE INDEX events_ts_id ON events (ts, id);",
    // 4: configuration checks: each check's latest result, and every run's score.
    "CREATE TABLE check_results (
        id       TEXT    PRIMARY KEY,        -- the check's id
        status   TEXT    NOT NULL,           -- PASS | WARN | FAIL | NOT_APPLICABLE | ERROR
        severity TEXT    NOT NULL,
        category TEXT    NOT NULL,
        since    INTEGER NOT NULL,           -- when the check got this status
        json     TEXT    NOT NULL            -- the whole result as JSON
    );
    CREATE TABLE check_runs (
        ts            INTEGER PRIMARY KEY,
        score         INTEGER NOT NULL,
        checks_score  REAL    NOT NULL,
        alert_penalty REAL    NOT NULL,
        pass          INTEGER NOT NULL,
        warn          INTEGER NOT NULL,
        fail          INTEGER NOT NULL,
        json          TEXT    NOT NULL       -- the score's parts and the check files' errors
    );",
    // 5: host metrics, downsampled: res 0 (every sample), 60 and 3600 seconds.
    "CREATE TABLE metrics (
        res  INTEGER NOT NULL,
        ts   INTEGER NOT NULL,
        json TEXT    NOT NULL,               -- {series: value}
        PRIMARY KEY (res, ts)
    ) WITHOUT ROWID;",
    // 6: the listening ports expected on this host: learned on the first snapshot, then
    // edited by admins.
    "CREATE TABLE port_baseline (
        proto   TEXT    NOT NULL,            -- tcp | udp
        port    INTEGER NOT NULL,
        source  TEXT    NOT NULL,            -- learned | admin
        process TEXT,
        note    TEXT,
        added   INTEGER NOT NULL,
        PRIMARY KEY (proto, port)
    );",
    // 7: bans, enforced or recorded in dry-run: the history escalation and restarts use.
    "CREATE TABLE bans (
        id      INTEGER PRIMARY KEY,
        ip      TEXT    NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        mode    TEXT    NOT NULL,            -- enforce | dry-run
        reason  TEXT    NOT NULL,            -- the rule's id, or manual
        by_user TEXT,                        -- who, for a ban by hand
        lifted  INTEGER                      -- when it was lifted by hand
    );
    CREATE INDEX bans_ip_created ON bans (ip, created);
    CREATE INDEX bans_expires ON bans (expires);",
    // 8: incidents: alerts that share an address or a user within a window, with a
    // timeline of their alerts, the actions taken, notes and changes by people.
    "CREATE TABLE incidents (
        id         INTEGER PRIMARY KEY,
        ip         TEXT,                     -- the address its alerts share, if any
        user       TEXT,                     -- the user its alerts share, if any
        type       TEXT    NOT NULL,         -- what kind of attack (its first alert's)
        severity   TEXT    NOT NULL,         -- the highest of its alerts'
        rule       TEXT    NOT NULL,         -- its first alert's rule
        source_log TEXT,                     -- where that alert's evidence came from
        target     TEXT,                     -- what was attacked: an account, a service
        status     TEXT    NOT NULL DEFAULT 'active',  -- active | closed
        owner      TEXT,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        alerts     INTEGER NOT NULL DEFAULT 0,
        closed     INTEGER
    );
    CREATE INDEX incidents_ip ON incidents (ip, last_seen) WHERE ip IS NOT NULL;
    CREATE INDEX incidents_user ON incidents (user, last_seen) WHERE user IS NOT NULL;
    CREATE INDEX incidents_last_seen ON incidents (last_seen);
    CREATE TABLE incident_timeline (
        id       INTEGER PRIMARY KEY,
        incident INTEGER NOT NULL REFERENCES incidents (id),
        ts       INTEGER NOT NULL,
        kind     TEXT    NOT NULL,           -- alert | action | note | status | owner
        actor    TEXT,                       -- a person's name, or the rule for Picket's own
        text     TEXT    NOT NULL,
        alert    INTEGER                     -- the alert's row, for kind = alert
    );
    CREATE INDEX incident_timeline_incident ON incident_timeline (incident, id);
    ALTER TABLE alerts ADD COLUMN incident INTEGER;",
    // 9: notification deliveries, one row per message (a digest carries several alerts):
    // what the Settings page shows, failures first.
    "CREATE TABLE notifications (
        id       INTEGER PRIMARY KEY,
        channel  TEXT    NOT NULL,           -- the channel's name in picket.yaml
        kind     TEXT    NOT NULL,           -- webhook | slack | email
        created  INTEGER NOT NULL,
        updated  INTEGER NOT NULL,
        status   TEXT    NOT NULL,           -- sent | retrying | failed
        attempts INTEGER NOT NULL,
        alerts   INTEGER NOT NULL,           -- how many alerts the message carried
        subject  TEXT    NOT NULL,
        error    TEXT                        -- the last failure, if any
    );
    CREATE INDEX notifications_created ON notifications (created);",
    // 10: LAN devices, one per MAC, and what happened to each.
    "CREATE TABLE devices (
        id         INTEGER PRIMARY KEY,
        mac        TEXT    NOT NULL UNIQUE,  -- aa:bb:cc:dd:ee:ff
        ip         TEXT,                     -- its latest IPv4 address
        ipv6       TEXT,                     -- its latest IPv6 address (NDP)
        name       TEXT,                     -- given by a person
        vendor     TEXT,                     -- from the IEEE registry
        hostname   TEXT,                     -- reverse DNS, mDNS, NetBIOS
        randomized INTEGER NOT NULL DEFAULT 0,  -- a locally administered MAC
        interface  TEXT,
        trusted    INTEGER NOT NULL DEFAULT 0,
        risk_score INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        online     INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX devices_ip ON devices (ip);
    CREATE TABLE device_history (
        id     INTEGER PRIMARY KEY,
        device INTEGER NOT NULL REFERENCES devices (id),
        ts     INTEGER NOT NULL,
        kind   TEXT    NOT NULL,             -- the event type, or a person's change
        detail TEXT    NOT NULL
    );
    CREATE INDEX device_history_device ON device_history (device, id);",
    // 11: traffic per address, summed per minute and per hour.
    "CREATE TABLE traffic (
        res         INTEGER NOT NULL,        -- bucket size in seconds: 60 or 3600
        ts          INTEGER NOT NULL,        -- bucket start, µs
        addr        TEXT    NOT NULL,
        scope       TEXT    NOT NULL,        -- host | forwarded
        tx_bytes    INTEGER NOT NULL,        -- sent by addr
        rx_bytes    INTEGER NOT NULL,        -- received by addr
        tx_packets  INTEGER NOT NULL,
        rx_packets  INTEGER NOT NULL,
        connections INTEGER NOT NULL,        -- flows begun in the bucket
        PRIMARY KEY (res, ts, addr, scope)
    ) WITHOUT ROWID;
    CREATE INDEX traffic_addr ON traffic (res, addr, ts);",
    // 12: where a device's hostname came from, and when and for which address its names
    // were last looked up (a lookup is repeated when the address changes or it is old).
    "ALTER TABLE devices ADD COLUMN hostname_source TEXT;  -- dns | mdns | netbios
    ALTER TABLE devices ADD COLUMN names_checked INTEGER; -- microseconds since the epoch
    -- the address looked up:
    ALTER TABLE devices ADD COLUMN names_ip TEXT",
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

pub fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |source| StoreError::Sql {
        path: path.to_path_buf(),
        source,
    };
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql)?;
    if current > latest() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known: latest(),
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        // The newline ends a `--` comment on a step's last line, which would otherwise
        // swallow the version bump and the COMMIT.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {step}\n; PRAGMA user_version = {version}; COMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            sql(e)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_apply_once_and_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::open(dir.path()).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, super::latest());
        drop(conn);
        let conn = super::super::open(dir.path()).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, super::latest());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::open(dir.path()).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let err = super::super::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("upgrade Picket"), "{err}");
    }
}
