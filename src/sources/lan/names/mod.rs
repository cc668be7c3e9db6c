//! Device names for LAN discovery: reverse DNS, mDNS and NetBIOS, asked for a whole
//! batch of addresses at once and bounded by one deadline. Each protocol has its own
//! module and one socket per address family; all three run side by side, so a round
//! costs one timeout however many devices there are and whichever stay silent.
//!
//! Everything received is hostile: packets are parsed with bounds checks everywhere
//! ([`wire`]), answers count only from the address asked with the query's random id, and
//! a name is kept only if it looks like a host name ([`clean_dns_name`],
//! [`clean_netbios_name`]). This module finds names; it does not store them (the tracker
//! does) and never calls an external program.

pub(crate) mod dns;
mod exchange;
pub(crate) mod mdns;
pub(crate) mod netbios;
pub(crate) mod wire;

use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The longest host name kept (RFC 1035's 255 wire bytes as text, without a final dot).
pub const MAX_NAME_LEN: usize = 253;
/// The longest a lookup may take, whatever the configuration says: a round's names must
/// not hold up the next round's discovery.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3);
/// Most addresses looked up in one batch (query ids are 16 bits; a round has fewer).
pub const MAX_BATCH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    #[error("no {family} UDP socket for name lookups: {source}")]
    Socket {
        family: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("no random query ids: {0}")]
    Random(String),
}

/// Which protocol gave a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Dns,
    Mdns,
    Netbios,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dns => "dns",
            Source::Mdns => "mdns",
            Source::Netbios => "netbios",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [Source::Dns, Source::Mdns, Source::Netbios]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A device's name and the protocol that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    pub source: Source,
}

/// What one lookup found: a name or none per address (in the order given), and what
/// kept a protocol from asking (the others still ran).
#[derive(Debug, Default)]
pub struct Lookup {
    pub names: Vec<Option<Name>>,
    pub errors: Vec<NamesError>,
}

/// Names for `targets` within `timeout` (at most [`MAX_TIMEOUT`]), asking the
/// nameservers of `/etc/resolv.conf`, and each device itself over mDNS and NetBIOS.
pub fn resolve(targets: &[IpAddr], timeout: Duration) -> Lookup {
    resolve_with(targets, &dns::system_nameservers(), timeout)
}

/// [`resolve`] with the nameservers given.
///
/// When several protocols answer, the name from reverse DNS wins, then mDNS, then
/// NetBIOS. DNS is the network's own record of who holds an address (set by whoever
/// runs the DHCP server or the zone) and is the name the rest of the system's tools (logs,
/// `host`, `ss -r`) show for that address, so it is the one that lines up with them; a
/// forged answer would need the resolver's random id. mDNS and NetBIOS are what the
/// device says about itself: anyone on the link can claim any name. Of those, mDNS names
/// are full host names (`printer.local`) that the device's owner usually chose, while
/// NetBIOS names are legacy, cut to 15 characters and upper-cased.
pub fn resolve_with(targets: &[IpAddr], nameservers: &[IpAddr], timeout: Duration) -> Lookup {
    // Beyond the batch's limit, addresses get no name (and no query).
    let mut lookup = Lookup {
        names: vec![None; targets.len()],
        errors: Vec::new(),
    };
    let targets = &targets[..targets.len().min(MAX_BATCH)];
    if targets.is_empty() {
        return lookup;
    }
    let deadline = Instant::now() + timeout.min(MAX_TIMEOUT);
    let ids = match random_ids(targets.len() * 3) {
        Ok(ids) => ids,
        Err(e) => {
            lookup.errors.push(e);
            return lookup;
        }
    };
    let (dns_ids, rest) = ids.split_at(targets.len());
    let (mdns_ids, nb_ids) = rest.split_at(targets.len());
    let (by_dns, by_mdns, by_netbios) = std::thread::scope(|s| {
        let dns = (!nameservers.is_empty())
            .then(|| s.spawn(|| dns::lookup(targets, dns_ids, nameservers, deadline)));
        let mdns = s.spawn(|| mdns::lookup(targets, mdns_ids, deadline));
        let netbios = netbios::lookup(targets, nb_ids, deadline);
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| h.join().unwrap_or_default();
        (dns.map(join).unwrap_or_default(), join(mdns), netbios)
    });
    for (source, (names, errors)) in [
        (Source::Dns, by_dns),
        (Source::Mdns, by_mdns),
        (Source::Netbios, by_netbios),
    ] {
        lookup.errors.extend(errors);
        for (slot, name) in lookup.names.iter_mut().zip(names) {
            if slot.is_none() {
                *slot = name.map(|name| Name { name, source });
            }
        }
    }
    lookup
}

/// `n` distinct random non-zero 16-bit ids: an off-path host cannot guess which id an
/// answer must carry, and distinct ids tell a batch's answers apart.
fn random_ids(n: usize) -> Result<Vec<u16>, NamesError> {
    let n = n.min(u16::MAX as usize - 1);
    let mut seen = vec![false; 1 << 16];
    seen[0] = true;
    let mut out = Vec::with_capacity(n);
    let mut raw = vec![0u8; 2 * n];
    while out.len() < n {
        getrandom::fill(&mut raw).map_err(|e| NamesError::Random(e.to_string()))?;
        for pair in raw.chunks_exact(2) {
            let id = u16::from_be_bytes([pair[0], pair[1]]);
            if out.len() < n && !seen[id as usize] {
                seen[id as usize] = true;
                out.push(id);
            }
        }
    }
    Ok(out)
}

/// A DNS or mDNS name as text fit to store and show: each label non-empty UTF-8 of
/// letters, digits, `-` and `_` (host names, plus the underscore some devices use and
/// the UTF-8 that mDNS allows, RFC 6762 §16), joined by dots, at most
/// [`MAX_NAME_LEN`] bytes, without the final dot. Anything else (control characters,
/// spaces, dots or markup inside a label, the root) makes no name at all: a name cut
/// into something else would mislead more than none.
pub fn clean_dns_name(labels: &[Vec<u8>]) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let mut out = String::new();
    for label in labels {
        let text = std::str::from_utf8(label).ok()?;
        if text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(text);
    }
    (out.len() <= MAX_NAME_LEN).then_some(out)
}

/// A NetBIOS name (15 bytes, space padded) as text: trimmed, and only if what is left is
/// printable ASCII of the characters NetBIOS names use (letters, digits, space and
/// ``!@#$%^&()-_'{}.~``). Names in an OEM code page (bytes over 0x7F) are dropped: their
/// code page is unknown, so their text would be a guess.
pub fn clean_netbios_name(raw: &[u8]) -> Option<String> {
    let end = raw
        .iter()
        .rposition(|b| *b != b' ' && *b != 0)
        .map_or(0, |i| i + 1);
    let name = &raw[..end];
    let ok = |b: &u8| b.is_ascii_alphanumeric() || b" !@#$%^&()-_'{}.~".contains(b);
    if name.is_empty() || name[0] == b' ' || !name.iter().all(ok) {
        return None;
    }
    Some(String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(name: &str) -> Vec<Vec<u8>> {
        wire::tests::labels(name)
    }

    #[test]
    fn dns_names_keep_host_name_characters_only() {
        assert_eq!(
            clean_dns_name(&labels("printer.local.")).as_deref(),
            Some("printer.local")
        );
        assert_eq!(
            clean_dns_name(&labels("my_nas-2.lan")).as_deref(),
            Some("my_nas-2.lan")
        );
        assert_eq!(
            clean_dns_name(&labels("jörgs-mac.local")).as_deref(),
            Some("jörgs-mac.local")
        );
        assert_eq!(clean_dns_name(&[]), None);
        for bad in [
            &[b"a\x1bb".to_vec()][..],
            &[b"<script>".to_vec()],
            &[b"two words".to_vec()],
            &[b"a.b".to_vec()],
            &[b"\xff\xfe".to_vec()],
            &[b"ok".to_vec(), Vec::new()],
            &["rtl\u{202e}txt".as_bytes().to_vec()],
        ] {
            assert_eq!(clean_dns_name(bad), None, "{bad:?}");
        }
        let long: Vec<Vec<u8>> = (0..5).map(|_| vec![b'a'; 63]).collect();
        assert_eq!(clean_dns_name(&long), None);
        let fits: Vec<Vec<u8>> = vec![
            vec![b'a'; 63],
            vec![b'b'; 63],
            vec![b'c'; 63],
            vec![b'd'; 61],
        ];
        assert_eq!(clean_dns_name(&fits).map(|n| n.len()), Some(253));
    }

    #[test]
    fn netbios_names_are_trimmed_and_vetted() {
        assert_eq!(
            clean_netbios_name(b"WINBOX         ").as_deref(),
            Some("WINBOX")
        );
        assert_eq!(clean_netbios_name(b"MY PC\0\0\0").as_deref(), Some("MY PC"));
        assert_eq!(clean_netbios_name(b"               "), None);
        assert_eq!(clean_netbios_name(b" LEADING"), None);
        assert_eq!(clean_netbios_name(b"A<B"), None);
        assert_eq!(clean_netbios_name(b"A\x07B"), None);
    }

    #[test]
    fn ids_are_distinct_and_never_zero() {
        let ids = random_ids(5000).unwrap();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5000);
        assert!(!ids.contains(&0));
    }

    #[test]
    fn sources_round_trip_through_text() {
        for s in [Source::Dns, Source::Mdns, Source::Netbios] {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("llmnr"), None);
    }

    #[test]
    fn nothing_to_look_up_takes_no_time() {
        let l = resolve_with(
            &[],
            &["192.0.2.53".parse().unwrap()],
            Duration::from_secs(3),
        );
        assert!(l.names.is_empty() && l.errors.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Random bytes, and random corruptions of real answers, never panic a parser.
        #[test]
        fn no_packet_panics_a_parser(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            cut in any::<usize>(),
        ) {
            let q = labels("10.100.51.198.in-addr.arpa");
            let _ = wire::read_ptr_response(&bytes, 1, &q, wire::Question::Optional);
            let _ = netbios::read_node_status(&bytes, 1);
            let _ = wire::Reader::new(&bytes).name();
            if let Some(id) = bytes.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) {
                let _ = wire::read_ptr_response(&bytes, id, &q, wire::Question::Optional);
                let _ = netbios::read_node_status(&bytes, id);
            }
            // Corrupted real answers reach deeper than random bytes do.
            let query = wire::query(7, true, &q, wire::TYPE_PTR);
            let mut dns = wire::tests::response(
                &query,
                0,
                &[(vec![0xC0, 12], wire::TYPE_PTR, wire::tests::wire_name("nas.example"))],
            );
            let nbq = netbios::node_status_request(7);
            let mut nb = netbios::tests::response(&nbq, &[(b"WINBOX", 0, 0x0400)]);
            for (at, val) in &flips {
                let i = at % dns.len();
                dns[i] = *val;
                let j = at % nb.len();
                nb[j] = *val;
            }
            let dns = &dns[..cut % (dns.len() + 1)];
            let nb = &nb[..cut % (nb.len() + 1)];
            for question in [wire::Question::Required, wire::Question::Optional] {
                if let Some(wire::PtrAnswer::Names(names)) =
                    wire::read_ptr_response(dns, 7, &q, question)
                {
                    for n in names {
                        if let Some(text) = clean_dns_name(&n) {
                            prop_assert!(text.len() <= MAX_NAME_LEN);
                            prop_assert!(!text.chars().any(char::is_control));
                        }
                    }
                }
            }
            if let Some(Some(name)) = netbios::read_node_status(nb, 7) {
                prop_assert!(name.len() <= 15 && name.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
            }
        }
    }
}
