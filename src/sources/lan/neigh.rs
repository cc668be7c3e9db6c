//! Passive discovery: the kernel's IPv4 neighbour table (`/proc/net/arp`), which holds
//! every LAN host this machine exchanged packets with recently, without sending anything.

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
