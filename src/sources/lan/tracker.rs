//! Turns what a discovery round saw into device state and events: a MAC never seen is
//! NEW_DEVICE; a known one back after being offline is DEVICE_JOINED; a known one at
//! another address is DEVICE_IP_CHANGED; an address now answered by another MAC than
//! before is DEVICE_MAC_CHANGED (with `extra.conflict` when both answered in the same
//! round and `extra.gateway` when it is the default gateway's: ARP spoofing); a device
//! unseen for the configured absence is DEVICE_LEFT. Trusted devices get the same events,
//! marked `extra.trusted: "true"`, so rules can leave them out while their history is kept.
//! It also records what a names lookup found ([`apply_names`]): a hostname changing is
//! written in the device's history, without an event.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use rusqlite::Connection;

use super::iface::mac_text;
use super::names::Name;
use super::neigh::{Neighbour, Neighbour6};
use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};
use crate::store::devices::{self, Device, NamesDue, NewDevice};

/// The source name of LAN events.
pub const SOURCE: &str = "lan";

/// The default gateway from `/proc/net/route` text (the destination-0 route's gateway).
pub fn parse_default_gateway(text: &str) -> Option<Ipv4Addr> {
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || f[1] != "00000000" {
            return None;
        }
        let g = u32::from_str_radix(f[2], 16).ok().filter(|g| *g != 0)?;
        // The kernel prints it in host (little-endian) byte order.
        Some(Ipv4Addr::from(g.to_le_bytes()))
    })
}

pub fn default_gateway() -> Option<Ipv4Addr> {
    parse_default_gateway(&std::fs::read_to_string("/proc/net/route").ok()?)
}

/// What the tracker needs besides the sightings.
pub struct Round<'a> {
    pub now: Timestamp,
    /// A device unseen this long goes offline (DEVICE_LEFT).
    pub absent_secs: u64,
    pub gateway: Option<Ipv4Addr>,
    /// The vendor of a (globally administered) MAC.
    pub vendor_of: &'a dyn Fn([u8; 6]) -> Option<String>,
}

fn event(kind: EventType, d: &Device, ip: &str, text: String, now: Timestamp) -> Event {
    let mut e = Event::new(now, kind, SOURCE, &text);
    e.src_ip = ip.parse().ok();
    let extra = &mut e.extra;
    extra.insert(Cow::Borrowed("mac"), d.mac.clone());
    extra.insert(Cow::Borrowed("device"), d.id.to_string());
    if let Some(v) = &d.vendor {
        extra.insert(Cow::Borrowed("vendor"), v.clone());
    }
    if let Some(n) = &d.name {
        extra.insert(Cow::Borrowed("name"), n.clone());
    }
    if let Some(h) = &d.hostname {
        extra.insert(Cow::Borrowed("hostname"), h.clone());
    }
    if let Some(i) = &d.interface {
        extra.insert(Cow::Borrowed("interface"), i.clone());
    }
    extra.insert(Cow::Borrowed("randomized"), d.randomized.to_string());
    extra.insert(Cow::Borrowed("trusted"), d.trusted.to_string());
    e
}

fn describe(d: &Device) -> String {
    let who = d.label().unwrap_or(if d.randomized {
        "randomized MAC"
    } else {
        "unknown vendor"
    });
    format!("{} ({who})", d.mac)
}

/// Records a MAC seen for the first time, with its vendor unless it is randomized.
fn insert(
    conn: &Connection,
    r: &Round,
    mac: [u8; 6],
    ip: Option<&str>,
    interface: &str,
) -> rusqlite::Result<i64> {
    let randomized = super::oui::is_locally_administered(mac);
    let vendor = if randomized { None } else { (r.vendor_of)(mac) };
    devices::insert(
        conn,
        &NewDevice {
            mac: &mac_text(mac),
            ip,
            vendor: vendor.as_deref(),
            randomized,
            interface,
            now: r.now,
        },
    )
}

/// Applies one round's sightings to the store and returns the events they mean.
pub fn apply(conn: &Connection, seen: &[Neighbour], r: &Round) -> rusqlite::Result<Vec<Event>> {
    let mut out = Vec::new();
    let now = r.now;
    for (i, n) in seen.iter().enumerate() {
        let (mac, ip) = (mac_text(n.mac), n.ip.to_string());
        let before = devices::by_mac(conn, &mac)?;
        let id = match &before {
            None => insert(conn, r, n.mac, Some(&ip), &n.interface)?,
            Some(d) => {
                devices::seen(conn, d.id, &ip, &n.interface, now)?;
                d.id
            }
        };
        let Some(d) = devices::get(conn, id)? else {
            continue;
        };
        let mut push = |kind: EventType,
                        text: String,
                        extra: &[(&'static str, String)]|
         -> rusqlite::Result<()> {
            let mut e = event(kind, &d, &ip, text.clone(), now);
            for (k, v) in extra {
                e.extra.insert(Cow::Borrowed(*k), v.clone());
            }
            devices::add_history(conn, d.id, now, kind.as_str(), &text)?;
            out.push(e);
            Ok(())
        };
        match &before {
            None => push(
                EventType::NewDevice,
                format!("new device {ip} {} on {}", describe(&d), n.interface),
                &[],
            )?,
            Some(b) => {
                if !b.online {
                    let away = (now.as_micros() - b.last_seen.as_micros()).max(0) / 1_000_000;
                    push(
                        EventType::DeviceJoined,
                        format!("{ip} {} is back after {away} s", describe(&d)),
                        &[("absent_secs", away.to_string())],
                    )?;
                }
                if let Some(old) = b.ip.as_deref().filter(|old| *old != ip) {
                    push(
                        EventType::DeviceIpChanged,
                        format!("{} moved from {old} to {ip}", describe(&d)),
                        &[("old_ip", old.to_string())],
                    )?;
                }
            }
        }
        // Another MAC had this address: it changed hands, or two answer for it.
        for other in devices::holders_of(conn, &ip, &mac)? {
            let conflict = seen
                .iter()
                .enumerate()
                .any(|(j, s)| j != i && s.ip == n.ip && mac_text(s.mac) == other.mac);
            // Both answer: told once per round, by the newer of the two.
            if conflict && (other.first_seen, other.id) > (d.first_seen, d.id) {
                continue;
            }
            let gateway = r.gateway.is_some_and(|g| g == n.ip);
            let text = format!(
                "{ip}{} is answered by {} instead of {}{}",
                if gateway { " (the gateway)" } else { "" },
                describe(&d),
                other.mac,
                if conflict { ": both answer" } else { "" }
            );
            let mut extra = vec![("old_mac", other.mac.clone())];
            if gateway {
                extra.push(("gateway", "true".into()));
            }
            if conflict {
                extra.push(("conflict", "true".into()));
            } else {
                // The old holder no longer has the address.
                conn.prepare_cached("UPDATE devices SET ip = NULL WHERE id = ?1")?
                    .execute([other.id])?;
            }
            push(EventType::DeviceMacChanged, text, &extra)?;
        }
    }
    let before = now.saturating_add_secs(-(r.absent_secs.min(i64::MAX as u64) as i64));
    for d in devices::gone_quiet(conn, before)? {
        let ip = d.ip.clone().unwrap_or_default();
        let text = format!(
            "{} {} left (unseen for {} s)",
            ip,
            describe(&d),
            r.absent_secs
        );
        devices::add_history(conn, d.id, now, EventType::DeviceLeft.as_str(), &text)?;
        out.push(event(EventType::DeviceLeft, &d, &ip, text, now));
    }
    Ok(out)
}

/// Applies a round's IPv6 sightings (after [`apply`], which already handled the devices
/// that left): a MAC never seen is NEW_DEVICE, one back from offline DEVICE_JOINED;
/// otherwise only the device's IPv6 address and last seen change. IPv6 addresses change
/// by design (privacy addresses), so changes of them raise nothing.
pub fn apply_ipv6(
    conn: &Connection,
    seen: &[Neighbour6],
    r: &Round,
) -> rusqlite::Result<Vec<Event>> {
    let mut out = Vec::new();
    for n in seen {
        let (mac, ip) = (mac_text(n.mac), n.ip.to_string());
        let before = devices::by_mac(conn, &mac)?;
        let id = match &before {
            Some(d) => d.id,
            None => insert(conn, r, n.mac, None, &n.interface)?,
        };
        devices::seen_ipv6(conn, id, &ip, &n.interface, r.now)?;
        let Some(d) = devices::get(conn, id)? else {
            continue;
        };
        let said = match &before {
            None => Some((
                EventType::NewDevice,
                format!("new device {ip} {} on {}", describe(&d), n.interface),
            )),
            Some(b) if !b.online => Some((
                EventType::DeviceJoined,
                format!("{ip} {} is back", describe(&d)),
            )),
            Some(_) => None,
        };
        if let Some((kind, text)) = said {
            devices::add_history(conn, d.id, r.now, kind.as_str(), &text)?;
            out.push(event(kind, &d, &ip, text, r.now));
        }
    }
    Ok(out)
}

/// The history kind of a hostname that changed or was dropped. A name is no security
/// change by itself (no event, no rule), but who a device says it is belongs in its
/// history.
pub const HOSTNAME_CHANGED: &str = "HOSTNAME_CHANGED";

/// Records a names lookup: `found[i]` is what was found for `due[i]`. A name found
/// replaces the old one. None found keeps the old name, since a device that is asleep or
/// busy answers nothing for a round; unless the address changed since that name was
/// found, as the old name belonged to the old address. A known name replaced by another
/// or dropped goes into the device's history; a first name does not (it comes with
/// NEW_DEVICE's round).
pub fn apply_names(
    conn: &Connection,
    due: &[NamesDue],
    found: &[Option<Name>],
    now: Timestamp,
) -> rusqlite::Result<()> {
    for (d, name) in due.iter().zip(found) {
        let moved = d.names_ip.as_deref().is_some_and(|ip| ip != d.address);
        let (after, via) = match name {
            Some(n) => (Some(n.name.as_str()), Some(n.source.as_str())),
            None if moved => (None, None),
            None => (d.hostname.as_deref(), d.hostname_source.as_deref()),
        };
        devices::set_hostname(conn, d.id, &d.address, after, via, now)?;
        let text = match (d.hostname.as_deref(), after) {
            (Some(old), Some(new)) if !old.eq_ignore_ascii_case(new) => format!(
                "hostname {old} is now {new} ({}) at {}",
                via.unwrap_or("?"),
                d.address
            ),
            (Some(old), None) => format!("hostname {old} dropped: {} has no name", d.address),
            _ => continue,
        };
        devices::add_history(conn, d.id, now, HOSTNAME_CHANGED, &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(ip: &str, mac: [u8; 6]) -> Neighbour {
        Neighbour {
            ip: ip.parse().unwrap(),
            mac,
            interface: "br0".into(),
        }
    }

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn sightings_become_device_events() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let vendor = |m: [u8; 6]| {
            (m[..3] == [0xb8, 0x27, 0xeb]).then(|| "Raspberry Pi Foundation".to_string())
        };
        let round = |secs: i64| Round {
            now: Timestamp::from_secs(secs),
            absent_secs: 60,
            gateway: Some("198.51.100.1".parse().unwrap()),
            vendor_of: &vendor,
        };
        let (gw, pi, phone) = (
            [0x00, 0x1b, 0x21, 0, 0, 1],
            [0xb8, 0x27, 0xeb, 0, 0, 2],
            [0x02, 0x11, 0x22, 0, 0, 3],
        );
        let e = apply(
            &conn,
            &[
                n("198.51.100.1", gw),
                n("198.51.100.10", pi),
                n("198.51.100.11", phone),
            ],
            &round(0),
        )
        .unwrap();
        assert_eq!(kinds(&e), ["NEW_DEVICE"; 3]);
        assert_eq!(
            e[1].extra.get("vendor").map(String::as_str),
            Some("Raspberry Pi Foundation")
        );
        assert_eq!(
            e[2].extra.get("randomized").map(String::as_str),
            Some("true")
        );
        assert!(!e[2].extra.contains_key("vendor"));
        // Same again: nothing new.
        assert!(apply(
            &conn,
            &[n("198.51.100.1", gw), n("198.51.100.10", pi)],
            &round(30)
        )
        .unwrap()
        .is_empty());
        // The phone, unseen for over a minute, left; the Pi moved.
        let e = apply(
            &conn,
            &[n("198.51.100.1", gw), n("198.51.100.12", pi)],
            &round(70),
        )
        .unwrap();
        assert_eq!(kinds(&e), ["DEVICE_IP_CHANGED", "DEVICE_LEFT"]);
        assert_eq!(
            e[0].extra.get("old_ip").map(String::as_str),
            Some("198.51.100.10")
        );
        // Back: joined, with how long it was away.
        let e = apply(
            &conn,
            &[n("198.51.100.1", gw), n("198.51.100.11", phone)],
            &round(100),
        )
        .unwrap();
        assert_eq!(kinds(&e), ["DEVICE_JOINED"]);
        assert_eq!(
            e[0].extra.get("absent_secs").map(String::as_str),
            Some("100")
        );
        // Someone else answers for the gateway too: a conflict on the gateway's address.
        let evil = [0x02, 0xde, 0xad, 0, 0, 9];
        let e = apply(
            &conn,
            &[n("198.51.100.1", gw), n("198.51.100.1", evil)],
            &round(110),
        )
        .unwrap();
        let changed: Vec<&Event> = e
            .iter()
            .filter(|e| e.kind == EventType::DeviceMacChanged)
            .collect();
        assert_eq!(changed.len(), 1, "{e:?}");
        assert_eq!(
            changed[0].extra.get("gateway").map(String::as_str),
            Some("true")
        );
        assert_eq!(
            changed[0].extra.get("conflict").map(String::as_str),
            Some("true")
        );
        assert_eq!(
            changed[0].extra.get("old_mac").map(String::as_str),
            Some("00:1b:21:00:00:01")
        );
        assert_eq!(
            changed[0].extra.get("mac").map(String::as_str),
            Some("02:de:ad:00:00:09")
        );
        // While both keep answering, once a round, and always naming the newcomer.
        let e = apply(
            &conn,
            &[n("198.51.100.1", gw), n("198.51.100.1", evil)],
            &round(120),
        )
        .unwrap();
        assert_eq!(kinds(&e), ["DEVICE_MAC_CHANGED"]);
        assert_eq!(
            e[0].extra.get("mac").map(String::as_str),
            Some("02:de:ad:00:00:09")
        );
        // A device's history keeps all of it.
        let pi_id = devices::by_mac(&conn, "b8:27:eb:00:00:02")
            .unwrap()
            .unwrap()
            .id;
        let h = devices::history(&conn, pi_id, 10).unwrap();
        assert_eq!(
            h.iter().map(|h| h.kind.as_str()).collect::<Vec<_>>(),
            ["DEVICE_IP_CHANGED", "NEW_DEVICE"]
        );
    }

    #[test]
    fn names_are_looked_up_when_due_and_their_changes_kept_in_history() {
        use crate::sources::lan::names::{Name, Source};
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let vendor = |_: [u8; 6]| None;
        let round = |secs: i64| Round {
            now: Timestamp::from_secs(secs),
            absent_secs: 1_000_000,
            gateway: None,
            vendor_of: &vendor,
        };
        let (pc, nas) = ([0x00, 0x1b, 0x21, 0, 0, 1], [0x00, 0x11, 0x32, 0, 0, 2]);
        apply(
            &conn,
            &[n("198.51.100.10", pc), n("198.51.100.13", nas)],
            &round(0),
        )
        .unwrap();
        let hour = 3600;
        let due = |secs: i64| {
            let now = Timestamp::from_secs(secs);
            devices::names_due(
                &conn,
                now.saturating_add_secs(-6 * hour),
                now.saturating_add_secs(-hour),
                100,
            )
            .unwrap()
        };
        let name = |n: &str, source| {
            Some(Name {
                name: n.into(),
                source,
            })
        };
        let hostname = |mac: &str| {
            let d = devices::by_mac(&conn, mac).unwrap().unwrap();
            (d.hostname, d.hostname_source)
        };
        // Both new: both due. The PC is named over mDNS; the NAS answers nothing.
        let d = due(0);
        assert_eq!(
            d.iter().map(|d| d.address.as_str()).collect::<Vec<_>>(),
            ["198.51.100.10", "198.51.100.13"]
        );
        apply_names(
            &conn,
            &d,
            &[name("pc.local", Source::Mdns), None],
            Timestamp::from_secs(0),
        )
        .unwrap();
        assert_eq!(
            hostname("00:1b:21:00:00:01"),
            (Some("pc.local".into()), Some("mdns".into()))
        );
        assert_eq!(hostname("00:11:32:00:00:02"), (None, None));
        // Nothing is due a minute later; the nameless NAS is asked again after an hour,
        // the named PC after six.
        assert!(due(60).is_empty());
        assert_eq!(due(hour + 1).len(), 1);
        assert_eq!(due(6 * hour + 1).len(), 2);
        // The PC moves: due at once. Its new address has a DNS name: a change, in its
        // history.
        apply(&conn, &[n("198.51.100.20", pc)], &round(120)).unwrap();
        let d = due(130);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].address.as_str(), d[0].names_ip.as_deref()),
            ("198.51.100.20", Some("198.51.100.10"))
        );
        apply_names(
            &conn,
            &d,
            &[name("pc.example", Source::Dns)],
            Timestamp::from_secs(130),
        )
        .unwrap();
        assert_eq!(
            hostname("00:1b:21:00:00:01"),
            (Some("pc.example".into()), Some("dns".into()))
        );
        // Silent for a round at the same address: the name stays.
        let d = due(7 * hour);
        assert_eq!(d.len(), 2);
        apply_names(&conn, &d, &[None, None], Timestamp::from_secs(7 * hour)).unwrap();
        assert_eq!(
            hostname("00:1b:21:00:00:01").0.as_deref(),
            Some("pc.example")
        );
        // It moves again and its new address has no name: the old one is dropped.
        apply(&conn, &[n("198.51.100.21", pc)], &round(7 * hour + 10)).unwrap();
        let d = due(7 * hour + 20);
        assert_eq!(d.len(), 1);
        apply_names(&conn, &d, &[None], Timestamp::from_secs(7 * hour + 20)).unwrap();
        assert_eq!(hostname("00:1b:21:00:00:01"), (None, None));
        let id = devices::by_mac(&conn, "00:1b:21:00:00:01")
            .unwrap()
            .unwrap()
            .id;
        let h: Vec<String> = devices::history(&conn, id, 10)
            .unwrap()
            .into_iter()
            .filter(|h| h.kind == HOSTNAME_CHANGED)
            .map(|h| h.detail)
            .collect();
        assert_eq!(
            h,
            [
                "hostname pc.example dropped: 198.51.100.21 has no name",
                "hostname pc.local is now pc.example (dns) at 198.51.100.20",
            ]
        );
        // Offline devices are not asked.
        conn.execute("UPDATE devices SET online = 0", []).unwrap();
        assert!(due(30 * hour).is_empty());
    }

    #[test]
    fn the_default_gateway_comes_from_the_route_table() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    eth0\t00000000\t016433C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                    eth0\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            parse_default_gateway(text),
            Some("198.51.100.1".parse().unwrap())
        );
        assert_eq!(parse_default_gateway("Iface\n"), None);
    }
}
