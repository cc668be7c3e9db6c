//! The kernel's connection tracking table (`/proc/net/nf_conntrack`): every flow this
//! host routes or terminates, with packet and byte counters in both directions when
//! accounting (`net.netfilter.nf_conntrack_acct`) is on. Entries outlive their
//! connections (a closed TCP flow stays for minutes), so a reading every few seconds
//! sees short-lived connections too.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

use super::{Counters, Flow};

pub const TABLE: &str = "/proc/net/nf_conntrack";
pub const ACCOUNTING: &str = "/proc/sys/net/netfilter/nf_conntrack_acct";

/// One line of the table, e.g.
/// `ipv4 2 tcp 6 117 TIME_WAIT src=A dst=B sport=1 dport=2 packets=6 bytes=400 src=B
/// dst=A sport=2 dport=1 packets=4 bytes=5000 [ASSURED] mark=0 use=2`. `None` for lines
/// without counters (accounting was off when the flow began) or that do not parse.
pub fn parse_line(line: &str) -> Option<Flow> {
    let mut tokens = line.split_ascii_whitespace();
    let family = tokens.next()?;
    let _ = tokens.next()?;
    let proto = tokens.next()?;
    let mut hasher = DefaultHasher::new();
    (family, proto).hash(&mut hasher);
    let (mut src, mut dst, mut packets, mut bytes) = ([None; 2], [None; 2], [None; 2], [None; 2]);
    // Which tuple a key=value belongs to: the second `src=` starts the reply tuple.
    let mut side = 0usize;
    for t in tokens {
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        match k {
            "src" => {
                if src[0].is_some() {
                    side = 1;
                }
                src[side] = Some(v.parse::<IpAddr>().ok()?);
            }
            "dst" => dst[side] = Some(v.parse::<IpAddr>().ok()?),
            "packets" => packets[side] = Some(v.parse::<u64>().ok()?),
            "bytes" => bytes[side] = Some(v.parse::<u64>().ok()?),
            // Ports, ICMP type, code and id: what tells this flow from another.
            "sport" | "dport" | "type" | "code" | "id" if side == 0 => (k, v).hash(&mut hasher),
            "zone" => v.hash(&mut hasher),
            _ => {}
        }
    }
    let (orig_src, orig_dst, reply_src) = (src[0]?, dst[0]?, src[1]?);
    (orig_src, orig_dst).hash(&mut hasher);
    Some(Flow {
        key: hasher.finish(),
        orig_src,
        orig_dst,
        reply_src,
        counters: Counters {
            orig_packets: packets[0]?,
            orig_bytes: bytes[0]?,
            reply_packets: packets[1]?,
            reply_bytes: bytes[1]?,
        },
    })
}

/// The table's flows with counters, and how many lines it had in all (flows without
/// counters included). Errors when the table cannot be read (connection tracking is not
/// loaded, or not here).
pub fn read(path: &Path) -> std::io::Result<(Vec<Flow>, usize)> {
    let file = std::fs::File::open(path)?;
    let mut flows = Vec::new();
    let mut lines = 0;
    for line in std::io::BufReader::with_capacity(64 * 1024, file).lines() {
        let line = line?;
        lines += 1;
        if let Some(f) = parse_line(&line) {
            flows.push(f);
        }
    }
    Ok((flows, lines))
}

/// Whether the kernel counts bytes per flow; `None` when the setting cannot be read.
pub fn accounting() -> Option<bool> {
    let text = std::fs::read_to_string(ACCOUNTING).ok()?;
    Some(text.trim() != "0")
}

/// Turns byte accounting on (root only). Flows that began before keep no counters.
pub fn enable_accounting() -> std::io::Result<()> {
    std::fs::write(ACCOUNTING, "1\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "ipv4     2 tcp      6 117 TIME_WAIT src=198.51.100.10 dst=203.0.113.5 sport=40000 dport=80 packets=6 bytes=400 src=203.0.113.5 dst=198.51.100.10 sport=80 dport=40000 packets=4 bytes=5000 [ASSURED] mark=0 zone=0 use=2";

    #[test]
    fn both_directions_are_read() {
        let f = parse_line(TCP).unwrap();
        assert_eq!(f.orig_src.to_string(), "198.51.100.10");
        assert_eq!(f.orig_dst.to_string(), "203.0.113.5");
        assert_eq!(f.reply_src.to_string(), "203.0.113.5");
        assert_eq!(
            f.counters,
            Counters {
                orig_packets: 6,
                orig_bytes: 400,
                reply_packets: 4,
                reply_bytes: 5000
            }
        );
    }

    #[test]
    fn the_key_follows_the_tuple_not_the_counters_or_state() {
        let a = parse_line(TCP).unwrap();
        let later = TCP
            .replace("117 TIME_WAIT", "431999 ESTABLISHED")
            .replace("packets=6 bytes=400", "packets=60 bytes=4000");
        assert_eq!(parse_line(&later).unwrap().key, a.key);
        let other_port = TCP.replacen("sport=40000", "sport=40001", 1);
        assert_ne!(parse_line(&other_port).unwrap().key, a.key);
        let udp = TCP.replace("tcp      6", "udp      17");
        assert_ne!(parse_line(&udp).unwrap().key, a.key);
    }

    #[test]
    fn icmp_ipv6_and_nat_lines() {
        let icmp = "ipv4     2 icmp     1 29 src=198.51.100.10 dst=203.0.113.5 type=8 code=0 id=77 packets=3 bytes=252 src=203.0.113.5 dst=198.51.100.10 type=0 code=0 id=77 packets=3 bytes=252 mark=0 use=1";
        let f = parse_line(icmp).unwrap();
        assert_eq!(f.counters.orig_packets, 3);
        let other_id = icmp.replacen("id=77", "id=78", 1);
        assert_ne!(parse_line(&other_id).unwrap().key, f.key);
        let v6 = "ipv6     10 udp      17 29 src=2001:db8::10 dst=2001:db8:1::5 sport=5353 dport=53 packets=1 bytes=80 src=2001:db8:1::5 dst=2001:db8::10 sport=53 dport=5353 packets=1 bytes=120 mark=0 use=1";
        assert_eq!(
            parse_line(v6).unwrap().reply_src.to_string(),
            "2001:db8:1::5"
        );
        // A port forward: the reply comes from the LAN host the router rewrote it to.
        let dnat = "ipv4     2 tcp      6 431999 ESTABLISHED src=203.0.113.9 dst=203.0.113.1 sport=5000 dport=8080 packets=2 bytes=120 src=198.51.100.20 dst=203.0.113.9 sport=80 dport=5000 packets=1 bytes=60 [ASSURED] mark=0 use=1";
        assert_eq!(
            parse_line(dnat).unwrap().reply_src.to_string(),
            "198.51.100.20"
        );
    }

    #[test]
    fn lines_without_counters_or_broken_ones_are_skipped() {
        let no_acct = "ipv4     2 tcp      6 117 TIME_WAIT src=198.51.100.10 dst=203.0.113.5 sport=40000 dport=80 src=203.0.113.5 dst=198.51.100.10 sport=80 dport=40000 [ASSURED] mark=0 use=2";
        assert_eq!(parse_line(no_acct), None);
        for bad in [
            "",
            "ipv4",
            "ipv4 2 tcp 6 1 src=999.1.1.1 dst=1.2.3.4 packets=1 bytes=1 src=1.2.3.4 dst=1.1.1.1 packets=1 bytes=1",
            "ipv4 2 tcp 6 1 src=1.1.1.1 dst=1.2.3.4 packets=x bytes=1 src=1.2.3.4 dst=1.1.1.1 packets=1 bytes=1",
            "ipv4 2 tcp 6 1 src=1.1.1.1 dst=1.2.3.4 packets=1 bytes=1",
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
    }
}
