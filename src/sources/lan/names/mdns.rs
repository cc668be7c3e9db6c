//! mDNS names: a one-shot legacy unicast query (RFC 6762 §5.5, §6.7) for an address's
//! reverse name, sent to the device itself on UDP 5353 from an ephemeral port. A
//! responder answers such a query by unicast, to the port it came from, with the query's
//! id (its own address's PTR record, e.g. `printer.local`). Nothing is multicast, so
//! Picket neither joins the mDNS group nor competes with a local avahi for port 5353.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::dns::reverse_name;
use super::exchange::{exchange, Outgoing, Verdict};
use super::wire::{self, Labels, PtrAnswer, Question};
use super::{clean_dns_name, NamesError};

pub const PORT: u16 = 5353;

/// Asks each of `targets` (one query id each, from `ids`) for its own name until
/// `deadline`. IPv6 link-local targets are skipped: without a scope they cannot be
/// reached.
pub fn lookup(
    targets: &[IpAddr],
    ids: &[u16],
    deadline: Instant,
) -> (Vec<Option<String>>, Vec<NamesError>) {
    let qnames: Vec<Labels> = targets.iter().map(|t| reverse_name(*t)).collect();
    let mut outgoing = Vec::new();
    let mut by_id: HashMap<u16, usize> = HashMap::new();
    for (t, ((ip, qname), id)) in targets.iter().zip(&qnames).zip(ids).enumerate() {
        if matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()) {
            continue;
        }
        by_id.insert(*id, t);
        outgoing.push(Outgoing {
            target: t,
            to: SocketAddr::new(*ip, PORT),
            // RFC 6762 §6.7: no recursion wanted; the id is echoed in the answer.
            packet: wire::query(*id, false, qname, wire::TYPE_PTR),
            wave: 0,
        });
    }
    exchange(targets.len(), outgoing, 1, deadline, |msg, from| {
        let (id, t) = wire::asked(msg, &by_id)?;
        // Only the device asked answers for itself, from the mDNS port.
        if from != SocketAddr::new(targets[t], PORT) {
            return None;
        }
        let verdict = match wire::read_ptr_response(msg, id, &qnames[t], Question::Optional)? {
            PtrAnswer::Names(names) => names
                .iter()
                .find_map(|n| clean_dns_name(n))
                .map_or(Verdict::Nameless, Verdict::Name),
            PtrAnswer::None | PtrAnswer::Failed => Verdict::Nameless,
        };
        Some((t, verdict))
    })
}
