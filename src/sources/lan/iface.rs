//! This host's network interfaces as discovery needs them: name, index, MAC and IPv4
//! subnets, from the kernel (`getifaddrs`). Loopback and interfaces that are down are
//! left out: there is no LAN behind them.

use std::net::{IpAddr, Ipv4Addr};

/// One interface with its hardware address and IPv4 networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: i32,
    pub mac: Option<[u8; 6]>,
    /// (this host's address, prefix length).
    pub ipv4: Vec<(Ipv4Addr, u8)>,
}

impl Interface {
    /// Every other address of the interface's IPv4 subnets, at most `limit` in all
    /// (a /16 would be 65,534 hosts: scans are bounded).
    pub fn hosts(&self, limit: usize) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for &(own, prefix) in &self.ipv4 {
            if prefix >= 31 {
                continue;
            }
            let mask = u32::MAX << (32 - prefix);
            let net = u32::from(own) & mask;
            let broadcast = net | !mask;
            for h in net + 1..broadcast {
                if out.len() >= limit {
                    return out;
                }
                if h != u32::from(own) {
                    out.push(Ipv4Addr::from(h));
                }
            }
        }
        out
    }
}

/// The interfaces that are up, have a MAC and are not loopback.
pub fn list() -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list freed below with freeifaddrs; nodes are
    // only read while it lives, and each sockaddr is read as the type its family names.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut p = head;
        while !p.is_null() {
            let ifa = &*p;
            p = ifa.ifa_next;
            let flags = ifa.ifa_flags;
            if ifa.ifa_addr.is_null()
                || flags & libc::IFF_UP as u32 == 0
                || flags & libc::IFF_LOOPBACK as u32 != 0
            {
                continue;
            }
            let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                .to_string_lossy()
                .into_owned();
            let index = libc::if_nametoindex(ifa.ifa_name) as i32;
            let slot = match out.iter().position(|i| i.name == name) {
                Some(i) => i,
                None => {
                    out.push(Interface {
                        name,
                        index,
                        mac: None,
                        ipv4: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_PACKET => {
                    let ll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    if ll.sll_halen == 6 {
                        let mut mac = [0u8; 6];
                        mac.copy_from_slice(&ll.sll_addr[..6]);
                        out[slot].mac = Some(mac);
                    }
                }
                libc::AF_INET if !ifa.ifa_netmask.is_null() => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                    let addr = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                    let prefix = u32::from_be(m.sin_addr.s_addr).count_ones() as u8;
                    out[slot].ipv4.push((addr, prefix));
                }
                _ => {}
            }
        }
        libc::freeifaddrs(head);
    }
    out.retain(|i| i.mac.is_some_and(|m| m != [0; 6]));
    out
}

/// Every address this host has, IPv4 and IPv6, with its prefix length, on every
/// interface (loopback and down ones included): what counts as "this host" when a flow's
/// ends are told apart from its peers'.
pub fn local_networks() -> Vec<(IpAddr, u8)> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: as in `list`: the nodes are read only while the list lives, each sockaddr
    // as the type its family names.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut p = head;
        while !p.is_null() {
            let ifa = &*p;
            p = ifa.ifa_next;
            if ifa.ifa_addr.is_null() || ifa.ifa_netmask.is_null() {
                continue;
            }
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_INET => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                    out.push((
                        IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr))),
                        m.sin_addr.s_addr.count_ones() as u8,
                    ));
                }
                libc::AF_INET6 => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in6);
                    let prefix = m
                        .sin6_addr
                        .s6_addr
                        .iter()
                        .map(|b| b.count_ones())
                        .sum::<u32>();
                    out.push((
                        IpAddr::V6(std::net::Ipv6Addr::from(a.sin6_addr.s6_addr)),
                        prefix as u8,
                    ));
                }
                _ => {}
            }
        }
        libc::freeifaddrs(head);
    }
    out
}

/// A MAC as text, lower-case with colons.
pub fn mac_text(mac: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_a_subnet_skip_network_broadcast_and_self_and_are_bounded() {
        let i = Interface {
            name: "br0".into(),
            index: 1,
            mac: Some([2, 0, 0, 0, 0, 1]),
            ipv4: vec![("198.51.100.1".parse().unwrap(), 24)],
        };
        let h = i.hosts(1000);
        assert_eq!(h.len(), 253);
        assert_eq!(h[0], "198.51.100.2".parse::<Ipv4Addr>().unwrap());
        assert_eq!(
            *h.last().unwrap(),
            "198.51.100.254".parse::<Ipv4Addr>().unwrap()
        );
        assert_eq!(i.hosts(10).len(), 10);
        assert_eq!(
            mac_text([0xb8, 0x27, 0xeb, 0, 0x1, 0xff]),
            "b8:27:eb:00:01:ff"
        );
    }
}
