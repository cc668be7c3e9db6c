//! Passive discovery: the kernel's IPv4 neighbour table (`/proc/net/arp`), which holds
//! every LAN host this machine exchanged packets with recently, without sending anything.

use crate::sources::netlink;
use std::net::Ipv4Addr;

/// One resolved neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    pub interface: String,
}

/// The resolved entries of `/proc/net/arp` text: incomplete ones (flags without
/// ATF_COM, MAC all zero) are skipped, as are lines that do not parse.
pub fn parse_proc_arp(text: &str) -> Vec<Neighbour> {
    const ATF_COM: u32 = 0x02;
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
            let mac = parse_mac(f[3])?;
            if flags & ATF_COM == 0 || mac == [0; 6] {
                return None;
            }
            Some(Neighbour {
                ip: f[0].parse().ok()?,
                mac,
                interface: f[5].to_string(),
            })
        })
        .collect()
}

/// `aa:bb:cc:dd:ee:ff` (either case); anything else is `None`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The kernel's IPv4 neighbours now.
pub fn read() -> std::io::Result<Vec<Neighbour>> {
    Ok(parse_proc_arp(&std::fs::read_to_string("/proc/net/arp")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_entries_only() {
        let text =
            "IP address       HW type     Flags       HW address            Mask     Device\n\
                    198.51.100.10    0x1         0x2         b8:27:eb:12:34:56     *        br0\n\
                    198.51.100.11    0x1         0x0         00:00:00:00:00:00     *        br0\n\
                    198.51.100.12    0x1         0x6         DC:A6:32:00:00:01     *        eth0\n\
                    garbage\n\
                    198.51.100.13    0x1         0x2         b8:27:eb:12:34        *        br0\n";
        let n = parse_proc_arp(text);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].mac, [0xb8, 0x27, 0xeb, 0x12, 0x34, 0x56]);
        assert_eq!(
            (n[1].ip.to_string(), n[1].interface.as_str()),
            ("198.51.100.12".into(), "eth0")
        );
        assert_eq!(parse_mac("b8:27:eb:12:34:56:78"), None);
        assert_eq!(parse_mac("b8:27:eb:12:34:5g"), None);
    }
}

/// One resolved IPv6 neighbour (NDP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour6 {
    pub ip: std::net::Ipv6Addr,
    pub mac: [u8; 6],
    pub interface: String,
}

const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// Neighbour states that mean "resolved": reachable, stale, delay, probe, permanent.
const NUD_RESOLVED: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x80;

/// The neighbour in one RTM_NEWNEIGH message's payload (`struct ndmsg` and its
/// attributes), if it is a resolved IPv6 one with a MAC.
fn neighbour6(m: &[u8], name_of: &dyn Fn(i32) -> String) -> Option<Neighbour6> {
    if m.len() < 12 || m[0] as i32 != libc::AF_INET6 {
        return None;
    }
    let ifindex = i32::from_ne_bytes([m[4], m[5], m[6], m[7]]);
    if netlink::u16_at(m, 8) & NUD_RESOLVED == 0 {
        return None;
    }
    let (mut dst, mut lladdr) = (None, None);
    netlink::attributes(&m[12..], |kind, data| match kind {
        NDA_DST => {
            dst = <[u8; 16]>::try_from(data)
                .ok()
                .map(std::net::Ipv6Addr::from)
        }
        NDA_LLADDR => lladdr = <[u8; 6]>::try_from(data).ok(),
        _ => {}
    });
    let (ip, mac) = (dst?, lladdr?);
    (mac != [0; 6] && !ip.is_multicast()).then(|| Neighbour6 {
        ip,
        mac,
        interface: name_of(ifindex),
    })
}

/// Adds the resolved neighbours in a netlink RTM_NEWNEIGH dump (`buf` holds whole
/// messages) to `out`; `false` once the dump has ended (NLMSG_DONE, an error, or a
/// message that does not fit).
pub fn parse_neigh_dump(
    buf: &[u8],
    name_of: &dyn Fn(i32) -> String,
    out: &mut Vec<Neighbour6>,
) -> bool {
    netlink::messages(buf, &mut |kind, m| {
        if kind == RTM_NEWNEIGH {
            out.extend(neighbour6(m, name_of));
        }
    })
}

/// The kernel's IPv6 neighbours now, from a netlink dump.
pub fn read_ipv6() -> std::io::Result<Vec<Neighbour6>> {
    let name_of = |i: i32| {
        let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
        // SAFETY: if_indextoname writes at most IF_NAMESIZE bytes into `buf`.
        let p = unsafe { libc::if_indextoname(i as u32, buf.as_mut_ptr()) };
        if p.is_null() {
            return i.to_string();
        }
        // SAFETY: on success `buf` holds a NUL-terminated name.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    // struct ndmsg: family, padding, ifindex, state, flags, type: all zero but the family.
    let mut body = [0u8; 12];
    body[0] = libc::AF_INET6 as u8;
    let mut out = Vec::new();
    netlink::dump(
        libc::NETLINK_ROUTE,
        &netlink::dump_request(RTM_GETNEIGH, &body),
        |kind, m| {
            if kind == RTM_NEWNEIGH {
                out.extend(neighbour6(m, &name_of));
            }
        },
    )?;
    Ok(out)
}

#[cfg(test)]
mod netlink_tests {
    use super::*;

    /// One RTM_NEWNEIGH message as the kernel lays it out (native endian).
    fn message(family: u8, state: u16, dst: &[u8], lladdr: &[u8]) -> Vec<u8> {
        let attr = |kind: u16, data: &[u8]| {
            let mut a = Vec::new();
            a.extend(((4 + data.len()) as u16).to_ne_bytes());
            a.extend(kind.to_ne_bytes());
            a.extend(data);
            while a.len() % 4 != 0 {
                a.push(0);
            }
            a
        };
        let mut body = vec![family, 0, 0, 0];
        body.extend(3i32.to_ne_bytes());
        body.extend(state.to_ne_bytes());
        body.extend([0, 0]);
        body.extend(attr(NDA_DST, dst));
        body.extend(attr(NDA_LLADDR, lladdr));
        let mut m = Vec::new();
        m.extend(((16 + body.len()) as u32).to_ne_bytes());
        m.extend(RTM_NEWNEIGH.to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend(body);
        m
    }

    #[test]
    fn resolved_ipv6_neighbours_are_read_from_a_dump() {
        let ip: std::net::Ipv6Addr = "fe80::ba27:ebff:fe00:2".parse().unwrap();
        let mac = [0xb8, 0x27, 0xeb, 0, 0, 2];
        let mut buf = message(libc::AF_INET6 as u8, 0x02, &ip.octets(), &mac);
        buf.extend(message(libc::AF_INET6 as u8, 0x01, &ip.octets(), &mac)); // incomplete
        buf.extend(message(libc::AF_INET as u8, 0x02, &[198, 51, 100, 1], &mac)); // IPv4
        let mut out = Vec::new();
        let name = |i: i32| format!("if{i}");
        assert!(parse_neigh_dump(&buf, &name, &mut out));
        assert_eq!(
            out,
            vec![Neighbour6 {
                ip,
                mac,
                interface: "if3".into()
            }]
        );
        // A truncated message ends the dump instead of being read past its end.
        let mut out = Vec::new();
        assert!(!parse_neigh_dump(&buf[..20], &name, &mut out));
        let mut done = vec![0u8; 16];
        done[0..4].copy_from_slice(&16u32.to_ne_bytes());
        done[4..6].copy_from_slice(&netlink::NLMSG_DONE.to_ne_bytes());
        assert!(!parse_neigh_dump(&done, &name, &mut out));
    }
}
