//! LAN devices: one row per MAC with its latest address, vendor, name, trust and risk,
//! first and last seen and whether it is online, and each device's history.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::base::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: i64,
    pub mac: String,
    pub ip: Option<String>,
    /// Its latest IPv6 address, from the neighbour table (often link-local).
    pub ipv6: Option<String>,
    pub name: Option<String>,
    pub vendor: Option<String>,
    /// Its name from reverse DNS, mDNS or NetBIOS.
    pub hostname: Option<String>,
    /// Which gave it: `dns`, `mdns` or `netbios`.
    pub hostname_source: Option<String>,
    /// A locally administered (randomized) MAC: no vendor, and it may change.
    pub randomized: bool,
    pub interface: Option<String>,
    pub trusted: bool,
    pub risk_score: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub online: bool,
}

impl Device {
    /// What people call it: the name a person gave, else its host name, else its maker.
    pub fn label(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.hostname.as_deref())
            .or(self.vendor.as_deref())
    }
}

const COLUMNS: &str = "id, mac, ip, name, vendor, hostname, randomized, interface, trusted, risk_score, first_seen, last_seen, online, ipv6, hostname_source";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        mac: r.get(1)?,
        ip: r.get(2)?,
        name: r.get(3)?,
        vendor: r.get(4)?,
        hostname: r.get(5)?,
        randomized: r.get(6)?,
        interface: r.get(7)?,
        trusted: r.get(8)?,
        risk_score: r.get(9)?,
        first_seen: Timestamp::from_micros(r.get(10)?),
        last_seen: Timestamp::from_micros(r.get(11)?),
        online: r.get(12)?,
        ipv6: r.get(13)?,
        hostname_source: r.get(14)?,
    })
}

pub fn by_mac(conn: &Connection, mac: &str) -> rusqlite::Result<Option<Device>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM devices WHERE mac = ?1"))?
        .query_row([mac], from_row)
        .optional()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Device>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM devices WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Other devices whose latest address is `ip`.
pub fn holders_of(conn: &Connection, ip: &str, except_mac: &str) -> rusqlite::Result<Vec<Device>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM devices WHERE ip = ?1 AND mac != ?2 ORDER BY last_seen DESC"
    ))?
    .query_map([ip, except_mac], from_row)?
    .collect()
}

/// The device whose latest IPv4 or IPv6 address is `ip` (the most recently seen one).
pub fn by_address(conn: &Connection, ip: &str) -> rusqlite::Result<Option<Device>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM devices WHERE ip = ?1 OR ipv6 = ?1 ORDER BY last_seen DESC LIMIT 1"
    ))?
    .query_row([ip], from_row)
    .optional()
}

/// What a newly seen device is known by.
pub struct NewDevice<'a> {
    pub mac: &'a str,
    /// Its IPv4 address; none for a device seen only over IPv6.
    pub ip: Option<&'a str>,
    pub vendor: Option<&'a str>,
    pub randomized: bool,
    pub interface: &'a str,
    pub now: Timestamp,
}

pub fn insert(conn: &Connection, d: &NewDevice) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO devices (mac, ip, vendor, randomized, interface, first_seen, last_seen, online)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1) RETURNING id",
    )?
    .query_row(
        params![d.mac, d.ip, d.vendor, d.randomized, d.interface, d.now.as_micros()],
        |r| r.get(0),
    )
}

/// Records a sighting: its address and interface now, online, last seen `now`.
pub fn seen(
    conn: &Connection,
    id: i64,
    ip: &str,
    interface: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE devices SET ip = ?2, interface = ?3, last_seen = ?4, online = 1 WHERE id = ?1",
    )?
    .execute(params![id, ip, interface, now.as_micros()])?;
    Ok(())
}

/// Records an IPv6 sighting: the address, online, last seen `now`.
pub fn seen_ipv6(
    conn: &Connection,
    id: i64,
    ipv6: &str,
    interface: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE devices SET ipv6 = ?2, interface = coalesce(interface, ?3), last_seen = ?4, online = 1
         WHERE id = ?1",
    )?
    .execute(params![id, ipv6, interface, now.as_micros()])?;
    Ok(())
}

/// Marks offline the online devices last seen before `before`; returns them.
pub fn gone_quiet(conn: &Connection, before: Timestamp) -> rusqlite::Result<Vec<Device>> {
    let quiet: Vec<Device> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM devices WHERE online = 1 AND last_seen < ?1"
        ))?
        .query_map([before.as_micros()], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    for d in &quiet {
        conn.prepare_cached("UPDATE devices SET online = 0 WHERE id = ?1")?
            .execute([d.id])?;
    }
    Ok(quiet)
}

/// A device whose names are due for a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesDue {
    pub id: i64,
    /// The address to look up: its IPv4 address, else its IPv6 one.
    pub address: String,
    pub hostname: Option<String>,
    pub hostname_source: Option<String>,
    /// The address its names were last looked up for, if ever.
    pub names_ip: Option<String>,
}

/// Online devices whose names are due: never looked up, looked up for another address,
/// or last looked up before `named_before` (those with a hostname) or `nameless_before`
/// (those without). Longest waiting first, at most `limit`.
pub fn names_due(
    conn: &Connection,
    named_before: Timestamp,
    nameless_before: Timestamp,
    limit: usize,
) -> rusqlite::Result<Vec<NamesDue>> {
    conn.prepare_cached(
        "SELECT id, coalesce(ip, ipv6), hostname, hostname_source, names_ip FROM devices
         WHERE online = 1 AND coalesce(ip, ipv6) IS NOT NULL
           AND (names_checked IS NULL OR names_ip IS NOT coalesce(ip, ipv6)
                OR names_checked < CASE WHEN hostname IS NULL THEN ?2 ELSE ?1 END)
         ORDER BY names_checked IS NOT NULL, names_checked, id
         LIMIT ?3",
    )?
    .query_map(
        params![
            named_before.as_micros(),
            nameless_before.as_micros(),
            limit.min(i64::MAX as usize) as i64
        ],
        |r| {
            Ok(NamesDue {
                id: r.get(0)?,
                address: r.get(1)?,
                hostname: r.get(2)?,
                hostname_source: r.get(3)?,
                names_ip: r.get(4)?,
            })
        },
    )?
    .collect()
}

/// Records a names lookup of `address` at `now`, and the hostname it leaves the device
/// with and the protocol that gave it (none: no hostname).
pub fn set_hostname(
    conn: &Connection,
    id: i64,
    address: &str,
    hostname: Option<&str>,
    source: Option<&str>,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE devices SET hostname = ?2, hostname_source = ?3, names_checked = ?4, names_ip = ?5
         WHERE id = ?1",
    )?
    .execute(params![id, hostname, source, now.as_micros(), address])?;
    Ok(())
}

pub fn add_history(
    conn: &Connection,
    device: i64,
    ts: Timestamp,
    kind: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO device_history (device, ts, kind, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![device, ts.as_micros(), kind, detail])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub ts: Timestamp,
    pub kind: String,
    pub detail: String,
}

/// A device's history, newest first.
pub fn history(
    conn: &Connection,
    device: i64,
    limit: usize,
) -> rusqlite::Result<Vec<HistoryEntry>> {
    conn.prepare_cached(
        "SELECT ts, kind, detail FROM device_history WHERE device = ?1 ORDER BY id DESC LIMIT ?2",
    )?
    .query_map(params![device, limit.max(1) as i64], |r| {
        Ok(HistoryEntry {
            ts: Timestamp::from_micros(r.get(0)?),
            kind: r.get(1)?,
            detail: r.get(2)?,
        })
    })?
    .collect()
}

/// How many devices there are, and how many were first seen since `since`.
pub fn counts(conn: &Connection, since: Timestamp) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached("SELECT count(*), coalesce(sum(first_seen >= ?1), 0) FROM devices")?
        .query_row([since.as_micros()], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// Every device, online first, then by address.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Device>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM devices ORDER BY online DESC, ip, mac"
    ))?
    .query_map([], from_row)?
    .collect()
}

/// A person's changes: trust, name, risk. `false` when there is no such device.
pub fn set_trusted(conn: &Connection, id: i64, trusted: bool) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE devices SET trusted = ?2 WHERE id = ?1",
        params![id, trusted],
    )? == 1)
}

pub fn rename(conn: &Connection, id: i64, name: Option<&str>) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE devices SET name = ?2 WHERE id = ?1",
        params![id, name],
    )? == 1)
}

pub fn set_risk(conn: &Connection, id: i64, risk: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE devices SET risk_score = ?2 WHERE id = ?1",
        params![id, risk],
    )? == 1)
}
