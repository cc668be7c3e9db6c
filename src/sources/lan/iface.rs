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

/// One entry of the kernel's interface address list, read out of its C form.
struct IfAddr {
    name: String,
    flags: u32,
    /// An IPv4 or IPv6 address with its prefix length.
    ip: Option<(IpAddr, u8)>,
    /// The hardware address of an AF_PACKET entry.
    mac: Option<[u8; 6]>,
}

/// Every entry of `getifaddrs`, in the kernel's order.
fn ifaddrs() -> Vec<IfAddr> {
    let mut out = Vec::new();
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
            if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
                continue;
            }
            let mut e = IfAddr {
                name: std::ffi::CStr::from_ptr(ifa.ifa_name)
                    .to_string_lossy()
                    .into_owned(),
                flags: ifa.ifa_flags,
                ip: None,
                mac: None,
            };
            let mask = ifa.ifa_netmask;
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_PACKET => {
                    let ll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    if ll.sll_halen == 6 {
                        let mut mac = [0u8; 6];
                        mac.copy_from_slice(&ll.sll_addr[..6]);
                        e.mac = Some(mac);
                    }
                }
                libc::AF_INET if !mask.is_null() => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let m = &*(mask as *const libc::sockaddr_in);
                    let addr = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                    e.ip = Some((IpAddr::V4(addr), m.sin_addr.s_addr.count_ones() as u8));
                }
                libc::AF_INET6 if !mask.is_null() => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let m = &*(mask as *const libc::sockaddr_in6);
                    let prefix: u32 = m.sin6_addr.s6_addr.iter().map(|b| b.count_ones()).sum();
                    e.ip = Some((
                        IpAddr::V6(std::net::Ipv6Addr::from(a.sin6_addr.s6_addr)),
                        prefix as u8,
                    ));
                }
                _ => {}
            }
            out.push(e);
        }
        libc::freeifaddrs(head);
    }
    out
}

/// The interfaces that are up, have a MAC and are not loopback.
pub fn list() -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    for e in ifaddrs() {
        if e.flags & libc::IFF_UP as u32 == 0 || e.flags & libc::IFF_LOOPBACK as u32 != 0 {
            continue;
        }
        let slot = match out.iter().position(|i| i.name == e.name) {
            Some(i) => i,
            None => {
                let index = std::ffi::CString::new(e.name.as_str())
                    // SAFETY: a NUL-terminated name that lives for the call.
                    .map(|c| unsafe { libc::if_nametoindex(c.as_ptr()) } as i32)
                    .unwrap_or(0);
                out.push(Interface {
                    name: e.name,
                    index,
                    mac: None,
                    ipv4: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(mac) = e.mac {
            out[slot].mac = Some(mac);
        }
        if let Some((IpAddr::V4(a), prefix)) = e.ip {
            out[slot].ipv4.push((a, prefix));
        }
    }
    out.retain(|i| i.mac.is_some_and(|m| m != [0; 6]));
    out
}

/// Every address this host has, IPv4 and IPv6, with its prefix length, on every
/// interface (loopback and down ones included): what counts as "this host" when a flow's
/// ends are told apart from its peers', and what `block_ip` must never block.
pub fn local_networks() -> Vec<(IpAddr, u8)> {
    ifaddrs().into_iter().filter_map(|e| e.ip).collect()
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
