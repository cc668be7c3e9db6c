//! One discovery round (scan or read the neighbour table, track, then look up the names
//! that are due), and the loop `picket run` keeps on `lan.interval_secs`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::arp_scan::{self, ScanError, ScanOptions};
use super::iface::{self, Interface};
use super::neigh::{self, Neighbour, Neighbour6};
use super::{names, tracker, LanConfig};
use crate::base::timestamp::Timestamp;
use crate::model::event::Event;
use crate::store::devices;

/// A device's names are looked up again after this long: names change rarely, and each
/// lookup is a query to the resolver and to the device.
const NAMES_REFRESH_SECS: i64 = 6 * 3600;
/// How often a device with no name is asked again: its name services may start later
/// than it answered ARP, or it was asleep.
const NAMES_RETRY_SECS: i64 = 3600;
/// Most devices looked up in one round; the others wait for the next.
const NAMES_PER_ROUND: usize = 1024;

/// The interfaces `cfg` asks for (all usable ones when it names none), with IPv4.
pub fn interfaces(cfg: &LanConfig) -> Vec<Interface> {
    iface::list()
        .into_iter()
        .filter(|i| !i.ipv4.is_empty())
        .filter(|i| cfg.interfaces.is_empty() || cfg.interfaces.contains(&i.name))
        .collect()
}

/// What one round saw on `ifaces` (from [`interfaces`]): an ARP scan of each when
/// `active` (and permitted), else a ping sweep of them and then the kernel's neighbour
/// table. `active` is turned off, with one message, when the scan is not permitted.
pub fn discover(cfg: &LanConfig, ifaces: &[Interface], active: &mut bool) -> Vec<Neighbour> {
    let mut seen: Vec<Neighbour> = Vec::new();
    if *active {
        let opts = ScanOptions {
            rate_per_sec: cfg.rate_per_sec,
            limit: cfg.scan_limit,
            ..ScanOptions::default()
        };
        for i in ifaces {
            match arp_scan::scan(i, &opts) {
                Ok(found) => seen.extend(found),
                Err(ScanError::NotPermitted) => {
                    tracing::warn!("{}", ScanError::NotPermitted);
                    *active = false;
                    break;
                }
                Err(e) => tracing::warn!("{e}"),
            }
        }
    }
    if !*active {
        // Pinging each address makes the kernel resolve the hosts that are up.
        for i in ifaces {
            if let Err(e) = super::ping::sweep(
                i,
                cfg.scan_limit,
                cfg.rate_per_sec,
                Duration::from_millis(500),
            ) {
                tracing::warn!(
                    "no ping sweep on {} ({e}); reading the neighbour table only",
                    i.name
                );
                break;
            }
        }
        match neigh::read() {
            Ok(all) => seen.extend(
                all.into_iter()
                    .filter(|n| ifaces.iter().any(|i| i.name == n.interface)),
            ),
            Err(e) => tracing::warn!("cannot read /proc/net/arp: {e}"),
        }
    }
    let mut unique: Vec<Neighbour> = Vec::with_capacity(seen.len());
    for n in seen {
        if !unique.iter().any(|u| u.ip == n.ip && u.mac == n.mac) {
            unique.push(n);
        }
    }
    unique
}

/// The IPv6 neighbours on `ifaces`: an echo to each link's all-nodes address
/// first (answering hosts resolve this one by NDP, which lists them in the kernel's
/// table), then the kernel's table over netlink.
pub fn discover_ipv6(ifaces: &[Interface]) -> Vec<Neighbour6> {
    for i in ifaces {
        // Best effort: without ping sockets the table holds what it holds.
        let _ = super::ping::all_nodes(i, Duration::from_millis(300));
    }
    let mut out: Vec<Neighbour6> = Vec::new();
    match neigh::read_ipv6() {
        Ok(all) => {
            for n in all {
                let ours = ifaces.iter().any(|i| i.name == n.interface);
                if ours && !out.iter().any(|o| o.ip == n.ip && o.mac == n.mac) {
                    out.push(n);
                }
            }
        }
        Err(e) => tracing::warn!("cannot read the IPv6 neighbour table: {e}"),
    }
    out
}

/// The vendor of a MAC from the IEEE registry (Debian's ieee-data, else the embedded
/// copy); none for randomized, multicast and unlisted MACs, and for the registry's
/// "Private" placeholder, which names nobody.
pub fn vendor_of(mac: [u8; 6]) -> Option<String> {
    super::oui::registry()
        .lookup(mac)
        .filter(|v| !v.eq_ignore_ascii_case("private"))
        .map(str::to_owned)
}

/// Looks up the names of the online devices that are due (never looked up, moved to
/// another address, or last looked up long ago), all at once within
/// `lan.names_timeout_ms`, and records them.
pub fn name_devices(
    conn: &rusqlite::Connection,
    cfg: &LanConfig,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let due = devices::names_due(
        conn,
        now.saturating_add_secs(-NAMES_REFRESH_SECS),
        now.saturating_add_secs(-NAMES_RETRY_SECS),
        NAMES_PER_ROUND,
    )?;
    // Addresses are stored as Rust wrote them; one that does not parse is not looked up.
    let due: Vec<devices::NamesDue> = due
        .into_iter()
        .filter(|d| d.address.parse::<IpAddr>().is_ok())
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let targets: Vec<IpAddr> = due.iter().filter_map(|d| d.address.parse().ok()).collect();
    let found = names::resolve(&targets, Duration::from_millis(cfg.names_timeout_ms));
    for e in &found.errors {
        tracing::warn!("device names: {e}");
    }
    tracker::apply_names(conn, &due, &found.names, now)
}

/// `picket run`'s discovery loop: a round every `interval_secs`, its events handed to
/// `send` (the engine), until `stop`.
pub fn run(
    cfg: LanConfig,
    data_dir: PathBuf,
    send: impl Fn(Vec<Event>) -> bool,
    stop: &crate::base::stop::Stop,
) {
    let conn = match crate::store::open(&data_dir) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("LAN discovery is off: {e}");
            return;
        }
    };
    let mut active = cfg.active;
    while !stop.is_set() {
        // Looked up each round: interfaces come and go.
        let ifaces = interfaces(&cfg);
        let seen = discover(&cfg, &ifaces, &mut active);
        let round = tracker::Round {
            now: Timestamp::now(),
            absent_secs: cfg.absent_secs,
            gateway: tracker::default_gateway(),
            vendor_of: &vendor_of,
        };
        let seen6 = discover_ipv6(&ifaces);
        let applied = tracker::apply(&conn, &seen, &round).and_then(|mut events| {
            events.extend(tracker::apply_ipv6(&conn, &seen6, &round)?);
            Ok(events)
        });
        match applied {
            Ok(events) if !events.is_empty() => {
                if !send(events) {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("LAN discovery: {e}"),
        }
        if cfg.names {
            if let Err(e) = name_devices(&conn, &cfg, Timestamp::now()) {
                tracing::warn!("device names: {e}");
            }
        }
        stop.sleep(Duration::from_secs(cfg.interval_secs));
    }
}

/// This loop as a pipeline source.
pub struct LanSource {
    pub cfg: LanConfig,
    pub data_dir: PathBuf,
}

impl crate::sources::Source for LanSource {
    fn id(&self) -> String {
        "lan".to_string()
    }

    fn describe(&self) -> String {
        format!("discovering LAN devices every {} s", self.cfg.interval_secs)
    }

    fn run(self: Box<Self>, ctx: crate::sources::Context) {
        run(
            self.cfg,
            self.data_dir,
            |events| ctx.output.events(events).is_ok(),
            &ctx.stop,
        );
    }
}
