//! LAN device discovery: which hosts share this machine's networks, from ARP scans
//! (with CAP_NET_RAW) or else a ping sweep and the kernel's neighbour table, turned into
//! device state and NEW_DEVICE / DEVICE_JOINED / DEVICE_LEFT / DEVICE_IP_CHANGED /
//! DEVICE_MAC_CHANGED events for the rule engine; and the devices' names from reverse DNS,
//! mDNS or NetBIOS.

pub(crate) mod arp_scan;
pub(crate) mod iface;
pub(crate) mod names;
pub mod neigh;
pub mod oui;
pub(crate) mod ping;
pub mod tracker;
pub(crate) mod worker;

use serde::{Deserialize, Serialize};

/// `lan:` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanConfig {
    /// Seconds between discovery rounds; 0 turns LAN discovery off.
    pub interval_secs: u64,
    /// A device unseen this many seconds is offline (DEVICE_LEFT).
    pub absent_secs: u64,
    /// ARP-scan the subnets (needs CAP_NET_RAW). Otherwise, or without the capability,
    /// the subnets are ping-swept with unprivileged ICMP sockets (when
    /// `net.ipv4.ping_group_range` allows) and the kernel's neighbour table is read.
    pub active: bool,
    /// Interfaces to watch; empty: every interface that is up, not loopback, with IPv4.
    pub interfaces: Vec<String>,
    /// Most addresses scanned per interface (a /16 is cut to this many).
    pub scan_limit: usize,
    /// ARP requests per second.
    pub rate_per_sec: u32,
    /// Look up the devices' names: reverse DNS (the nameservers of /etc/resolv.conf),
    /// and mDNS and NetBIOS asked of each device itself. A device is looked up when it
    /// is first seen, when its address changes, and then every few hours.
    pub names: bool,
    /// How long one round's name lookups may take, for all its devices at once
    /// (100 to 3000 ms).
    pub names_timeout_ms: u64,
}

impl Default for LanConfig {
    fn default() -> Self {
        LanConfig {
            interval_secs: 300,
            absent_secs: 1800,
            active: true,
            interfaces: Vec::new(),
            scan_limit: 1024,
            rate_per_sec: 500,
            names: true,
            names_timeout_ms: 1000,
        }
    }
}
