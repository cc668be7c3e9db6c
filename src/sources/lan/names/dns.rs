//! Reverse DNS: a PTR query for each address's reverse name (`d.c.b.a.in-addr.arpa`,
//! or the 32 nibbles of `ip6.arpa`), to the nameservers of `/etc/resolv.conf` in its
//! order: the first at once, the next only for the queries the one before has not
//! settled a third of the way to the deadline (as a stub resolver would). An answer
//! counts only from a nameserver asked, with the query's id and question.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::exchange::{exchange, Outgoing, Verdict};
use super::wire::{self, Labels, PtrAnswer, Question};
use super::{clean_dns_name, NamesError};

/// Where a stub resolver's servers are listed.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";
/// resolv.conf's MAXNS: the C library reads no more than three.
pub const MAX_NAMESERVERS: usize = 3;

/// The nameservers in resolv.conf text: the first three `nameserver` lines with an IPv4
/// or IPv6 address. Scoped IPv6 addresses (`fe80::1%eth0`) are left out.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next()? == "nameserver").then_some(())?;
            f.next()?.parse::<IpAddr>().ok()
        })
        .take(MAX_NAMESERVERS)
        .collect()
}

/// The nameservers of this host's `/etc/resolv.conf` (none when it is unreadable).
pub fn system_nameservers() -> Vec<IpAddr> {
    std::fs::read_to_string(RESOLV_CONF)
        .map(|t| nameservers(&t))
        .unwrap_or_default()
}

/// The name a PTR query asks for (RFC 1035 §3.5, RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> Labels {
    let mut labels: Labels = Vec::new();
    match ip {
        IpAddr::V4(v4) => {
            for octet in v4.octets().iter().rev() {
                labels.push(octet.to_string().into_bytes());
            }
            labels.push(b"in-addr".to_vec());
        }
        IpAddr::V6(v6) => {
            for byte in v6.octets().iter().rev() {
                labels.push(format!("{:x}", byte & 0xF).into_bytes());
                labels.push(format!("{:x}", byte >> 4).into_bytes());
            }
            labels.push(b"ip6".to_vec());
        }
    }
    labels.push(b"arpa".to_vec());
    labels
}

/// Looks up `targets` (one query id each, from `ids`) at `servers` until `deadline`.
pub fn lookup(
    targets: &[IpAddr],
    ids: &[u16],
    servers: &[IpAddr],
    deadline: Instant,
) -> (Vec<Option<String>>, Vec<NamesError>) {
    let servers: Vec<SocketAddr> = servers
        .iter()
        .take(MAX_NAMESERVERS)
        .map(|s| SocketAddr::new(*s, 53))
        .collect();
    let qnames: Vec<Labels> = targets.iter().map(|t| reverse_name(*t)).collect();
    let mut outgoing = Vec::new();
    let mut by_id: HashMap<u16, usize> = HashMap::new();
    for (t, ((ip, qname), id)) in targets.iter().zip(&qnames).zip(ids).enumerate() {
        // A link-local address is the same on every link: the resolver cannot know it.
        if matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()) {
            continue;
        }
        by_id.insert(*id, t);
        let packet = wire::query(*id, true, qname, wire::TYPE_PTR);
        for (wave, to) in servers.iter().enumerate() {
            outgoing.push(Outgoing {
                target: t,
                to: *to,
                packet: packet.clone(),
                wave,
            });
        }
    }
    exchange(
        targets.len(),
        outgoing,
        servers.len(),
        deadline,
        |msg, from| {
            if !servers.contains(&from) {
                return None;
            }
            let (id, t) = wire::asked(msg, &by_id)?;
            let verdict = match wire::read_ptr_response(msg, id, &qnames[t], Question::Required)? {
                PtrAnswer::Names(names) => names
                    .iter()
                    .find_map(|n| clean_dns_name(n))
                    .map_or(Verdict::Nameless, Verdict::Name),
                PtrAnswer::None => Verdict::Nameless,
                PtrAnswer::Failed => Verdict::Unsettled,
            };
            Some((t, verdict))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_gives_the_first_three_nameservers() {
        let text = "# generated\nsearch example\nnameserver 198.51.100.53\n\
                    nameserver 2001:db8::53\n  nameserver\tfe80::1%eth0\noptions ndots:1\n\
                    nameserver 203.0.113.53\nnameserver 203.0.113.54\n";
        let want: Vec<IpAddr> = ["198.51.100.53", "2001:db8::53", "203.0.113.53"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(nameservers(text), want);
        assert!(nameservers("").is_empty());
        assert!(nameservers("nameserver not-an-address\n").is_empty());
    }

    #[test]
    fn reverse_names_for_ipv4_and_ipv6() {
        let text = |ip: &str| {
            reverse_name(ip.parse().unwrap())
                .iter()
                .map(|l| String::from_utf8(l.clone()).unwrap())
                .collect::<Vec<_>>()
                .join(".")
        };
        assert_eq!(text("198.51.100.10"), "10.100.51.198.in-addr.arpa");
        assert_eq!(
            text("2001:db8::567:89ab"),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }
}
