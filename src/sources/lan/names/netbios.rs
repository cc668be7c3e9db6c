//! NetBIOS names: a Node Status Request (NBSTAT, RFC 1002 §4.2.17) for the wildcard
//! name `*` to each device's UDP port 137. The answer (§4.2.18) lists the names the
//! node has registered; its name is the first unique (not group) one with suffix 0x00,
//! the workstation service, space padding trimmed. Windows, Samba and many NAS boxes
//! and printers answer. IPv4 only: NetBIOS over TCP/IP has no IPv6.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::exchange::{exchange, Outgoing, Verdict};
use super::wire::{self, read_response_header, Reader};
use super::{clean_netbios_name, NamesError};

pub const PORT: u16 = 137;
/// RFC 1002 §4.2.1.2: the NBSTAT question and resource record type, and class IN.
const TYPE_NBSTAT: u16 = 0x0021;
const CLASS_IN: u16 = 0x0001;
/// NAME_FLAGS (§4.2.18): a group name; a name in conflict or being deregistered.
const FLAG_GROUP: u16 = 0x8000;
const FLAG_CONFLICT: u16 = 0x0800;
const FLAG_DEREGISTER: u16 = 0x1000;
/// The workstation service's suffix (the 16th byte of a NetBIOS name).
const SUFFIX_WORKSTATION: u8 = 0x00;

/// The request for `id`: the name `*` padded with NULs to 16 bytes, first-level encoded
/// (each nibble as 'A' + nibble, RFC 1001 §14.1) as one 32-byte label, no scope.
pub fn node_status_request(id: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(50);
    p.extend_from_slice(&id.to_be_bytes());
    // Opcode 0 (query), no flags: a unicast request.
    for field in [0u16, 1, 0, 0, 0] {
        p.extend_from_slice(&field.to_be_bytes());
    }
    let mut name = [0u8; 16];
    name[0] = b'*';
    p.push(32);
    for b in name {
        p.push(b'A' + (b >> 4));
        p.push(b'A' + (b & 0xF));
    }
    p.push(0);
    p.extend_from_slice(&TYPE_NBSTAT.to_be_bytes());
    p.extend_from_slice(&CLASS_IN.to_be_bytes());
    p
}

/// What a node status response for `id` says: `None` when it is not one (another id,
/// a request, malformed anywhere), else the node's workstation name if it has one fit
/// to keep.
pub fn read_node_status(msg: &[u8], id: u16) -> Option<Option<String>> {
    let mut r = Reader::new(msg);
    let (rcode, qd, an) = read_response_header(&mut r, id)?;
    if rcode != 0 || an == 0 {
        return Some(None);
    }
    // A response repeats no question; should one, it is skipped.
    for _ in 0..qd {
        r.name()?;
        r.bytes(4)?;
    }
    r.name()?;
    let (rtype, class, _ttl, rdlen) = (r.u16()?, r.u16()?, r.u32()?, r.u16()? as usize);
    if rtype != TYPE_NBSTAT || class != CLASS_IN {
        return None;
    }
    let mut rdata = Reader::new(r.bytes(rdlen)?);
    let count = rdata.u8()?;
    let mut found = None;
    for _ in 0..count {
        let entry = rdata.bytes(15)?;
        let (suffix, flags) = (rdata.u8()?, rdata.u16()?);
        let usable = flags & (FLAG_GROUP | FLAG_CONFLICT | FLAG_DEREGISTER) == 0;
        if found.is_none() && suffix == SUFFIX_WORKSTATION && usable {
            found = Some(entry);
        }
    }
    // The statistics that follow the names are not needed.
    Some(found.and_then(clean_netbios_name))
}

/// Asks each IPv4 one of `targets` (one transaction id each, from `ids`) for its names
/// until `deadline`.
pub fn lookup(
    targets: &[IpAddr],
    ids: &[u16],
    deadline: Instant,
) -> (Vec<Option<String>>, Vec<NamesError>) {
    let mut outgoing = Vec::new();
    let mut by_id: HashMap<u16, usize> = HashMap::new();
    for (t, (ip, id)) in targets.iter().zip(ids).enumerate() {
        if ip.is_ipv4() {
            by_id.insert(*id, t);
            outgoing.push(Outgoing {
                target: t,
                to: SocketAddr::new(*ip, PORT),
                packet: node_status_request(*id),
                wave: 0,
            });
        }
    }
    exchange(targets.len(), outgoing, 1, deadline, |msg, from| {
        let (id, t) = wire::asked(msg, &by_id)?;
        if from != SocketAddr::new(targets[t], PORT) {
            return None;
        }
        let verdict = match read_node_status(msg, id)? {
            Some(name) => Verdict::Name(name),
            None => Verdict::Nameless,
        };
        Some((t, verdict))
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A node status response to `request` listing `names` as (name, suffix, flags).
    pub fn response(request: &[u8], names: &[(&[u8], u8, u16)]) -> Vec<u8> {
        let mut p = request[..2].to_vec();
        p.extend_from_slice(&[0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0]);
        // The question's name again, as Samba and Windows send it.
        p.extend_from_slice(&request[12..46]);
        p.extend_from_slice(&[0, 0x21, 0, 1, 0, 0, 0, 0]);
        let rdlen = 1 + 18 * names.len() + 46;
        p.extend_from_slice(&(rdlen as u16).to_be_bytes());
        p.push(names.len() as u8);
        for (name, suffix, flags) in names {
            let mut padded = [b' '; 15];
            padded[..name.len()].copy_from_slice(name);
            p.extend_from_slice(&padded);
            p.push(*suffix);
            p.extend_from_slice(&flags.to_be_bytes());
        }
        // Unit id (a MAC) and statistics.
        p.extend_from_slice(&[0u8; 46]);
        p
    }

    #[test]
    fn the_request_is_the_wildcard_name_first_level_encoded() {
        let q = node_status_request(0x1234);
        assert_eq!(q.len(), 50);
        assert_eq!(&q[..12], &[0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(q[12], 32);
        assert_eq!(&q[13..45], b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(&q[45..], &[0, 0, 0x21, 0, 1]);
    }

    #[test]
    fn the_first_unique_workstation_name_is_taken() {
        let q = node_status_request(9);
        let resp = response(
            &q,
            &[
                (b"WORKGROUP", 0x00, 0x8400), // group
                (b"FILESRV", 0x20, 0x0400),   // file server service
                (b"WINBOX", 0x00, 0x0400),
                (b"OTHER", 0x00, 0x0400),
            ],
        );
        assert_eq!(read_node_status(&resp, 9), Some(Some("WINBOX".into())));
        // No workstation name: answered, nameless.
        let resp = response(&q, &[(b"WORKGROUP", 0x00, 0x8400)]);
        assert_eq!(read_node_status(&resp, 9), Some(None));
        // A name in conflict is skipped.
        let resp = response(&q, &[(b"DUP", 0x00, 0x0C00), (b"GOOD", 0x00, 0x0400)]);
        assert_eq!(read_node_status(&resp, 9), Some(Some("GOOD".into())));
    }

    #[test]
    fn other_ids_requests_and_truncations_are_not_answers() {
        let q = node_status_request(9);
        let resp = response(&q, &[(b"WINBOX", 0x00, 0x0400)]);
        assert_eq!(read_node_status(&resp, 10), None);
        assert_eq!(read_node_status(&q, 9), None);
        // Cut anywhere before the name list ends: malformed.
        let names_end = resp.len() - 46;
        for cut in 0..names_end {
            assert_eq!(read_node_status(&resp[..cut], 9), None, "cut at {cut}");
        }
        // A name count beyond the data.
        let mut lying = resp.clone();
        lying[56] = 200;
        assert_eq!(read_node_status(&lying, 9), None);
    }

    #[test]
    fn control_characters_and_odd_bytes_make_no_name() {
        let q = node_status_request(9);
        for bad in [&b"EVIL\x1b[31m"[..], b"\x00\x00", b"caf\xe9", b"A\nB"] {
            let resp = response(&q, &[(bad, 0x00, 0x0400)]);
            assert_eq!(read_node_status(&resp, 9), Some(None), "{bad:?}");
        }
    }
}
