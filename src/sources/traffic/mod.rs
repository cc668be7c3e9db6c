//! Who uses the bandwidth: byte, packet and connection counts per address, read from the
//! kernel's connection tracking when it has byte accounting (every flow this host routes
//! or terminates, short-lived ones and UDP included), else from this host's own TCP
//! sockets (`sock_diag`). Traffic this host forwards is counted per LAN device; traffic
//! it exchanges itself, per remote address.

pub(crate) mod conntrack;
pub(crate) mod meter;
pub(crate) mod sockets;
pub(crate) mod worker;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// `traffic:` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficConfig {
    /// Seconds between readings; 0 turns traffic accounting off.
    pub interval_secs: u64,
    /// Turn on the kernel's per-connection byte counters (`net.netfilter.nf_conntrack_acct`)
    /// when connection tracking is loaded without them and Picket runs as root. Off, or
    /// without the permission, this host's own TCP sockets are counted instead.
    pub enable_accounting: bool,
    /// A TRAFFIC_PEAK event when one address sends and receives this many packets within
    /// one minute (0: never).
    pub peak_packets_per_min: u64,
    /// A TRAFFIC_PEAK event when one address opens this many connections within one
    /// minute (0: never).
    pub peak_connections_per_min: u64,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        TrafficConfig {
            interval_secs: 10,
            enable_accounting: true,
            // 1,000 packets a second for a whole minute: a flood or a bulk transfer.
            peak_packets_per_min: 60_000,
            // Five new connections a second: a scan or a brute force, not browsing.
            peak_connections_per_min: 300,
        }
    }
}

/// Where a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The kernel's connection tracking table, with byte accounting.
    Conntrack,
    /// This host's TCP sockets.
    Sockets,
}

pub use crate::model::traffic::Scope;

/// Packet and byte counters of one flow in each direction, as the kernel keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub orig_packets: u64,
    pub orig_bytes: u64,
    pub reply_packets: u64,
    pub reply_bytes: u64,
}

/// One connection (or conntrack flow) with its counters since it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Stable for the flow's life: the socket cookie, or a hash of conntrack's tuple.
    pub key: u64,
    /// Who sent the first packet (for a socket: this host's end).
    pub orig_src: IpAddr,
    pub orig_dst: IpAddr,
    /// Where the answers come from: `orig_dst`, unless the destination was rewritten
    /// (DNAT, a port forward to a LAN device).
    pub reply_src: IpAddr,
    pub counters: Counters,
}
