//! `picket run`'s traffic loop: every `traffic.interval_secs`, read the flows (connection
//! tracking with accounting, else this host's TCP sockets), add what each address did
//! to the store's series, and send a TRAFFIC_PEAK event when one address passes a
//! per-minute threshold.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::meter::{Meter, Usage};
use super::{conntrack, sockets, Scope, Source, TrafficConfig};
use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};
use crate::sources::lan::iface;

/// The source name of traffic events.
pub const SOURCE: &str = "traffic";

/// What the counts being shown are, for the dashboard and `picket traffic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `forwarded`: this host routes traffic, counted per LAN device; `host`: only this
    /// host's own traffic, counted per remote address (also when it routes but only its
    /// sockets can be read: they show nothing routed).
    pub view: Scope,
    /// Whether this host routes packets (IPv4 or IPv6 forwarding on).
    #[serde(default)]
    pub forwarding: bool,
    pub source: Source,
    pub interval_secs: u64,
    pub updated: Timestamp,
    /// Why the source is what it is, in words.
    pub note: String,
}

/// Whether this host routes IPv4 or IPv6 packets.
pub fn forwarding() -> bool {
    [
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv6/conf/all/forwarding",
    ]
    .iter()
    .any(|p| std::fs::read_to_string(p).is_ok_and(|s| s.trim() == "1"))
}

/// Reads both sources each time: connection tracking (turning its byte counting on once,
/// when allowed) and this host's TCP sockets. Both are metered every time, so choosing
/// one or the other loses no interval.
pub struct Reader {
    enable_accounting: bool,
    tried_enabling: bool,
    table: PathBuf,
    conntrack: Meter,
    sockets: Meter,
    /// The table stayed empty while this host talked to others: nothing hooks connection
    /// tracking in this namespace (until the table has entries again).
    untracked: bool,
}

/// One interval's usage per address, from the source [`Reader::read`] chose.
pub struct Reading {
    pub source: Source,
    pub usage: HashMap<(IpAddr, Scope), Usage>,
    /// Why the source is what it is, in words.
    pub note: String,
}

impl Reader {
    pub fn new(cfg: &TrafficConfig) -> Reader {
        Reader {
            enable_accounting: cfg.enable_accounting,
            tried_enabling: false,
            table: PathBuf::from(conntrack::TABLE),
            conntrack: Meter::new(),
            sockets: Meter::new(),
            untracked: false,
        }
    }

    /// Whether conntrack counts bytes, after turning it on once when allowed.
    fn counting(&mut self) -> bool {
        let on = conntrack::accounting() == Some(true);
        if on || !self.enable_accounting || self.tried_enabling {
            return on;
        }
        self.tried_enabling = true;
        match conntrack::enable_accounting() {
            Ok(()) => {
                tracing::info!("turned on connection tracking's byte counters (net.netfilter.nf_conntrack_acct = 1) to count traffic per address");
                true
            }
            Err(e) => {
                tracing::warn!("cannot turn on connection tracking's byte counters ({e}); counting this host's TCP connections instead");
                false
            }
        }
    }

    /// Connection tracking when it is loaded, counts bytes and tracks flows here; else
    /// this host's TCP sockets. An empty table is trusted until this host has TCP
    /// connections to others while it stays empty (then nothing hooks connection tracking
    /// in this namespace).
    pub fn read(&mut self, nets: &Networks) -> std::io::Result<Reading> {
        let (is_local, on_lan) = (|a| nets.is_local(a), |a| nets.on_lan(a));
        let sockets = sockets::read()?;
        let by_socket = self.sockets.update(&sockets, &is_local, &on_lan);
        let why = match conntrack::read(&self.table) {
            Ok((flows, lines)) => {
                let by_flow = self.conntrack.update(&flows, &is_local, &on_lan);
                let talking = sockets.iter().any(|f| !is_local(f.orig_dst));
                self.untracked = lines == 0 && (talking || self.untracked);
                if !self.counting() {
                    "connection tracking counts no bytes (net.netfilter.nf_conntrack_acct is 0)"
                } else if self.untracked {
                    "connection tracking is loaded but tracks nothing in this network namespace"
                } else {
                    return Ok(Reading {
                        source: Source::Conntrack,
                        usage: by_flow,
                        note: "connection tracking with byte accounting: every flow, UDP and short-lived ones included".into(),
                    });
                }
            }
            Err(_) => "connection tracking is not loaded",
        };
        Ok(Reading {
            source: Source::Sockets,
            usage: by_socket,
            note: format!("{why}: this host's TCP connections are counted (UDP is not, nor connections that open and close between two readings)"),
        })
    }
}

/// This host's addresses and networks, to tell its own end of a flow from its peers'.
pub struct Networks(Vec<(IpAddr, u8)>);

impl Networks {
    pub fn now() -> Networks {
        Networks(iface::local_networks())
    }

    fn is_local(&self, a: IpAddr) -> bool {
        a.is_loopback() || self.0.iter().any(|(own, _)| *own == a)
    }

    fn on_lan(&self, a: IpAddr) -> bool {
        self.0
            .iter()
            .any(|&(own, prefix)| !own.is_loopback() && within(own, prefix, a))
    }
}

fn within(net: IpAddr, prefix: u8, a: IpAddr) -> bool {
    match (net, a) {
        (IpAddr::V4(n), IpAddr::V4(a)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Per-minute sums per address, to fire TRAFFIC_PEAK once per address and minute.
#[derive(Default)]
pub struct Peaks {
    minute: i64,
    sums: HashMap<(IpAddr, Scope), (Usage, bool)>,
}

impl Peaks {
    /// Adds a reading; returns the addresses that passed a threshold in this minute for
    /// the first time, with the minute's sums so far.
    pub fn add(
        &mut self,
        at: Timestamp,
        usage: &HashMap<(IpAddr, Scope), Usage>,
        cfg: &TrafficConfig,
    ) -> Vec<((IpAddr, Scope), Usage)> {
        let minute = at.as_micros().div_euclid(60_000_000);
        if minute != self.minute {
            self.minute = minute;
            self.sums.clear();
        }
        let mut out = Vec::new();
        for (key, u) in usage {
            let (sum, fired) = self.sums.entry(*key).or_default();
            sum.tx_bytes += u.tx_bytes;
            sum.rx_bytes += u.rx_bytes;
            sum.tx_packets += u.tx_packets;
            sum.rx_packets += u.rx_packets;
            sum.connections += u.connections;
            let over = |n: u64, limit: u64| limit > 0 && n >= limit;
            if !*fired
                && (over(sum.packets(), cfg.peak_packets_per_min)
                    || over(sum.connections, cfg.peak_connections_per_min))
            {
                *fired = true;
                out.push((*key, *sum));
            }
        }
        out
    }
}

/// The TRAFFIC_PEAK event for an address, with the LAN device it is, when known.
pub fn peak_event(
    conn: &Connection,
    at: Timestamp,
    (addr, scope): (IpAddr, Scope),
    u: Usage,
) -> rusqlite::Result<Event> {
    let text = format!(
        "{addr} ({}) sent and received {} packets ({} bytes) and began {} connections within a minute",
        scope.as_str(),
        u.packets(),
        u.tx_bytes + u.rx_bytes,
        u.connections
    );
    let mut e = Event::new(at, EventType::TrafficPeak, SOURCE, &text);
    e.src_ip = Some(addr);
    let x = &mut e.extra;
    x.insert(Cow::Borrowed("scope"), scope.as_str().into());
    x.insert(Cow::Borrowed("packets"), u.packets().to_string());
    x.insert(
        Cow::Borrowed("bytes"),
        (u.tx_bytes + u.rx_bytes).to_string(),
    );
    x.insert(Cow::Borrowed("connections"), u.connections.to_string());
    if let Some(d) = crate::store::devices::by_address(conn, &addr.to_string())? {
        if let Some(n) = d.label() {
            x.insert(Cow::Borrowed("name"), n.to_owned());
        }
        x.insert(Cow::Borrowed("device"), d.id.to_string());
        x.insert(Cow::Borrowed("mac"), d.mac);
        x.insert(Cow::Borrowed("trusted"), d.trusted.to_string());
    }
    Ok(e)
}

/// `picket run`'s traffic loop, until `stop`; events go to `send` (the engine).
pub fn run(
    cfg: TrafficConfig,
    data_dir: &Path,
    send: impl Fn(Vec<Event>) -> bool,
    stop: &crate::base::stop::Stop,
) {
    let conn = match crate::store::open(data_dir) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("traffic is not counted: {e}");
            return;
        }
    };
    let (mut reader, mut peaks) = (Reader::new(&cfg), Peaks::default());
    let mut said: Option<String> = None;
    let mut failing = false;
    while !stop.is_set() {
        match reader.read(&Networks::now()) {
            Ok(Reading {
                source,
                usage,
                note,
            }) => {
                if said.as_deref() != Some(note.as_str()) {
                    tracing::info!("traffic: {note}");
                    said = Some(note.clone());
                }
                let now = Timestamp::now();
                let forwarding = forwarding();
                let status = Status {
                    view: if forwarding && source == Source::Conntrack {
                        Scope::Forwarded
                    } else {
                        Scope::Host
                    },
                    forwarding,
                    source,
                    interval_secs: cfg.interval_secs,
                    updated: now,
                    note,
                };
                let stored = crate::store::traffic::record(&conn, now, &usage).and_then(|()| {
                    let json = serde_json::to_string(&status).unwrap_or_default();
                    crate::store::traffic::save_status(&conn, &json)
                });
                let events: rusqlite::Result<Vec<Event>> = peaks
                    .add(now, &usage, &cfg)
                    .into_iter()
                    .map(|(key, u)| peak_event(&conn, now, key, u))
                    .collect();
                match stored.and(events) {
                    Ok(events) => {
                        failing = false;
                        if !events.is_empty() && !send(events) {
                            return;
                        }
                    }
                    Err(e) if !failing => {
                        tracing::warn!("cannot store traffic: {e}");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
            Err(e) if !failing => {
                tracing::warn!("cannot read this host's connections: {e}");
                failing = true;
            }
            Err(_) => {}
        }
        stop.sleep(Duration::from_secs(cfg.interval_secs));
    }
}

/// This loop as a pipeline source.
pub struct TrafficSource {
    pub cfg: TrafficConfig,
    pub data_dir: PathBuf,
}

impl crate::sources::Source for TrafficSource {
    fn id(&self) -> String {
        "traffic".to_string()
    }

    fn describe(&self) -> String {
        format!(
            "counting traffic per address every {} s",
            self.cfg.interval_secs
        )
    }

    fn run(self: Box<Self>, ctx: crate::sources::Context) {
        run(
            self.cfg,
            &self.data_dir,
            |events| ctx.output.events(events).is_ok(),
            &ctx.stop,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_tell_this_host_and_its_lan() {
        let nets = Networks(vec![
            ("198.51.100.1".parse().unwrap(), 24),
            ("2001:db8::1".parse().unwrap(), 64),
            ("127.0.0.1".parse().unwrap(), 8),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(nets.is_local(ip("198.51.100.1")) && nets.is_local(ip("::1")));
        assert!(!nets.is_local(ip("198.51.100.2")));
        assert!(nets.on_lan(ip("198.51.100.200")) && nets.on_lan(ip("2001:db8::99")));
        assert!(!nets.on_lan(ip("203.0.113.1")) && !nets.on_lan(ip("127.0.0.2")));
        assert!(within(ip("0.0.0.0"), 0, ip("203.0.113.1")));
    }

    #[test]
    fn a_peak_fires_once_per_address_and_minute() {
        let cfg = TrafficConfig {
            peak_packets_per_min: 100,
            peak_connections_per_min: 10,
            ..TrafficConfig::default()
        };
        let a = ("198.51.100.10".parse::<IpAddr>().unwrap(), Scope::Forwarded);
        let b = ("203.0.113.9".parse::<IpAddr>().unwrap(), Scope::Host);
        let t0 = Timestamp::from_micros(1_800_000_000_000_000);
        let u = |packets: u64, connections: u64| Usage {
            tx_packets: packets,
            connections,
            ..Usage::default()
        };
        let mut p = Peaks::default();
        assert!(p
            .add(t0, &HashMap::from([(a, u(60, 0)), (b, u(0, 5))]), &cfg)
            .is_empty());
        let fired = p.add(
            t0.saturating_add_secs(10),
            &HashMap::from([(a, u(60, 0)), (b, u(0, 5))]),
            &cfg,
        );
        assert_eq!(fired.len(), 2);
        assert!(fired.iter().any(|(k, s)| *k == a && s.packets() == 120));
        assert!(p
            .add(
                t0.saturating_add_secs(20),
                &HashMap::from([(a, u(500, 0))]),
                &cfg
            )
            .is_empty());
        // A new minute starts over.
        let next = Timestamp::from_micros((t0.as_micros() / 60_000_000 + 1) * 60_000_000);
        assert_eq!(p.add(next, &HashMap::from([(a, u(100, 0))]), &cfg).len(), 1);
    }
}
