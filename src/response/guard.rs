//! Addresses Picket must never block: loopback, every address of this host, and the
//! allowlist from picket.yaml (CIDRs). A self-ban or a ban of the admin's own address is
//! the failure users of other tools complain about most; this is checked before anything
//! is run, whatever asked for the ban.

use std::net::IpAddr;

use crate::model::ip::Cidr;

/// What the never-block list spares (`response.allowlist_applies_to`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Its addresses still raise alerts (people see them); nothing is done to them.
    #[default]
    Actions,
    /// Their alerts are not raised either: trusted scanners, monitoring, the office NAT.
    Alerts,
}

/// The never-block list.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<Cidr>,
}

/// Why an address is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protected {
    Loopback,
    ThisHost,
    Allowlist(String),
    /// A dashboard admin is signed in from it.
    Admin,
    /// Unspecified, multicast or broadcast: not a peer that could attack.
    NotAPeer,
}

impl std::fmt::Display for Protected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Protected::Loopback => write!(f, "it is a loopback address"),
            Protected::ThisHost => write!(f, "it is one of this host's addresses"),
            Protected::Allowlist(c) => write!(f, "it is in the allowlist ({c})"),
            Protected::Admin => write!(f, "a dashboard admin is signed in from it"),
            Protected::NotAPeer => write!(f, "it is not a single remote host's address"),
        }
    }
}

/// This host's addresses, from the kernel (`getifaddrs`).
pub fn host_addresses() -> Vec<IpAddr> {
    crate::sources::lan::iface::local_networks()
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

impl Guard {
    pub fn new(allow: Vec<Cidr>) -> Guard {
        Guard { allow }
    }

    /// Why `ip` must not be blocked, if it must not.
    /// Whether an alert's address (its group's `src_ip`) is protected: alerts that the
    /// `alerts` scope keeps from being raised.
    pub fn spares_alert(&self, a: &crate::model::Alert) -> bool {
        a.group
            .get("src_ip")
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| self.protects(ip).is_some())
    }

    pub fn protects(&self, ip: IpAddr) -> Option<Protected> {
        let ip = crate::model::ip::canonical(ip);
        if ip.is_loopback() {
            return Some(Protected::Loopback);
        }
        if ip.is_unspecified()
            || ip.is_multicast()
            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
        {
            return Some(Protected::NotAPeer);
        }
        if host_addresses()
            .into_iter()
            .any(|h| crate::model::ip::canonical(h) == ip)
        {
            return Some(Protected::ThisHost);
        }
        self.allow
            .iter()
            .find(|c| c.contains(ip))
            .map(|c| Protected::Allowlist(c.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_this_host_and_the_allowlist_are_never_blocked() {
        let g = Guard::new(vec![Cidr::parse("198.51.100.0/24").unwrap()]);
        assert_eq!(
            g.protects("127.0.0.1".parse().unwrap()),
            Some(Protected::Loopback)
        );
        assert_eq!(
            g.protects("::1".parse().unwrap()),
            Some(Protected::Loopback)
        );
        assert_eq!(
            g.protects("::ffff:127.0.0.1".parse().unwrap()),
            Some(Protected::Loopback),
            "IPv4-mapped loopback"
        );
        assert!(matches!(
            g.protects("198.51.100.7".parse().unwrap()),
            Some(Protected::Allowlist(_))
        ));
        assert_eq!(
            g.protects("0.0.0.0".parse().unwrap()),
            Some(Protected::NotAPeer)
        );
        assert_eq!(g.protects("203.0.113.66".parse().unwrap()), None);
        for h in host_addresses().into_iter().filter(|h| !h.is_loopback()) {
            assert_eq!(g.protects(h), Some(Protected::ThisHost), "{h}");
        }
    }

    #[test]
    fn cidrs_parse_strictly() {
        assert!(Cidr::parse("203.0.113.0/24").is_ok());
        assert!(Cidr::parse("2001:db8::/32").is_ok());
        assert!(Cidr::parse("10.0.0.1").is_ok());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("1.2.3.4; rm -rf /").is_err());
    }
}
