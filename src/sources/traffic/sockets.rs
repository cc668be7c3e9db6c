//! This host's TCP connections and their counters, from the kernel's `sock_diag` netlink
//! interface (what `ss -ti` reads): bytes acknowledged and received and segments sent
//! and received per socket. Used when connection tracking with accounting is not
//! available; a connection that opens and closes between two readings is not seen.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Counters, Flow};
use crate::sources::netlink;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_INFO: u16 = 2;
const TCP_LISTEN: u32 = 10;
/// `struct inet_diag_msg`: family, state, timer, retrans, the socket id, then expires,
/// rqueue, wqueue, uid and inode.
const DIAG_MSG_LEN: usize = 72;
// Offsets in `struct tcp_info` (linux/tcp.h; stable ABI, fields only ever appended).
const TCPI_BYTES_ACKED: usize = 120;
const TCPI_BYTES_RECEIVED: usize = 128;
const TCPI_SEGS_OUT: usize = 136;
const TCPI_SEGS_IN: usize = 140;

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[i..i + 8]);
    u64::from_ne_bytes(x)
}

/// An address of a socket id (16 bytes, network order), IPv4-mapped ones as IPv4.
fn address(family: u8, raw: &[u8]) -> Option<IpAddr> {
    match family as i32 {
        libc::AF_INET => Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        libc::AF_INET6 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&raw[..16]);
            let a = Ipv6Addr::from(b);
            Some(a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4))
        }
        _ => None,
    }
}

/// Adds the connections in a sock_diag dump (`buf` holds whole messages) to `out`;
/// `false` once the dump has ended (NLMSG_DONE, an error, or a message that does not
/// fit). Sockets without TCP counters (TIME_WAIT, SYN_RECV) are left out.
#[cfg(test)]
pub fn parse_dump(buf: &[u8], out: &mut Vec<Flow>) -> bool {
    netlink::messages(buf, &mut |kind, m| {
        if kind == SOCK_DIAG_BY_FAMILY {
            out.extend(connection(m));
        }
    })
}

/// One `inet_diag_msg` with its attributes.
fn connection(m: &[u8]) -> Option<Flow> {
    if m.len() < DIAG_MSG_LEN {
        return None;
    }
    let family = m[0];
    // The socket id: sport, dport (2 + 2), src (16), dst (16), interface, cookie (8).
    let local = address(family, &m[8..24])?;
    let remote = address(family, &m[24..40])?;
    let cookie = u64::from(netlink::u32_at(m, 44)) | (u64::from(netlink::u32_at(m, 48)) << 32);
    let mut counters = None;
    netlink::attributes(&m[DIAG_MSG_LEN..], |kind, info| {
        if kind == INET_DIAG_INFO && info.len() >= TCPI_SEGS_IN + 4 {
            counters = Some(Counters {
                orig_packets: u64::from(netlink::u32_at(info, TCPI_SEGS_OUT)),
                orig_bytes: u64_at(info, TCPI_BYTES_ACKED),
                reply_packets: u64::from(netlink::u32_at(info, TCPI_SEGS_IN)),
                reply_bytes: u64_at(info, TCPI_BYTES_RECEIVED),
            });
        }
    });
    Some(Flow {
        key: cookie,
        orig_src: local,
        orig_dst: remote,
        reply_src: remote,
        counters: counters?,
    })
}

/// The request body (`struct inet_diag_req_v2`): TCP sockets of `family` in every state
/// but LISTEN, with `tcp_info`.
fn request(family: u8) -> Vec<u8> {
    let mut body = [0u8; 56];
    body[0] = family;
    body[1] = libc::IPPROTO_TCP as u8;
    body[2] = 1 << (INET_DIAG_INFO - 1);
    let states: u32 = 0xfff & !(1 << TCP_LISTEN);
    body[4..8].copy_from_slice(&states.to_ne_bytes());
    netlink::dump_request(SOCK_DIAG_BY_FAMILY, &body)
}

/// This host's TCP connections (IPv4 and IPv6) with their counters now.
pub fn read() -> std::io::Result<Vec<Flow>> {
    let mut out = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        netlink::dump(libc::NETLINK_SOCK_DIAG, &request(family), |kind, m| {
            if kind == SOCK_DIAG_BY_FAMILY {
                out.extend(connection(m));
            }
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One SOCK_DIAG_BY_FAMILY message as the kernel lays it out.
    fn message(
        family: u8,
        local: &[u8],
        remote: &[u8],
        cookie: u64,
        info: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut body = vec![family, 1, 0, 0];
        body.extend(40000u16.to_be_bytes());
        body.extend(22u16.to_be_bytes());
        let mut a = [0u8; 16];
        a[..local.len()].copy_from_slice(local);
        body.extend(a);
        let mut b = [0u8; 16];
        b[..remote.len()].copy_from_slice(remote);
        body.extend(b);
        body.extend(0u32.to_ne_bytes());
        body.extend((cookie as u32).to_ne_bytes());
        body.extend(((cookie >> 32) as u32).to_ne_bytes());
        body.extend([0u8; 20]);
        assert_eq!(body.len(), DIAG_MSG_LEN);
        if let Some(info) = info {
            body.extend(((4 + info.len()) as u16).to_ne_bytes());
            body.extend(INET_DIAG_INFO.to_ne_bytes());
            body.extend(info);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let mut m = Vec::new();
        m.extend(((16 + body.len()) as u32).to_ne_bytes());
        m.extend(SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend(body);
        m
    }

    fn info(acked: u64, received: u64, out: u32, inn: u32) -> Vec<u8> {
        let mut i = vec![0u8; 232];
        i[TCPI_BYTES_ACKED..TCPI_BYTES_ACKED + 8].copy_from_slice(&acked.to_ne_bytes());
        i[TCPI_BYTES_RECEIVED..TCPI_BYTES_RECEIVED + 8].copy_from_slice(&received.to_ne_bytes());
        i[TCPI_SEGS_OUT..TCPI_SEGS_OUT + 4].copy_from_slice(&out.to_ne_bytes());
        i[TCPI_SEGS_IN..TCPI_SEGS_IN + 4].copy_from_slice(&inn.to_ne_bytes());
        i
    }

    #[test]
    fn connections_and_their_counters_are_read_from_a_dump() {
        let v4 = libc::AF_INET as u8;
        let v6 = libc::AF_INET6 as u8;
        let mut buf = message(
            v4,
            &[198, 51, 100, 1],
            &[198, 51, 100, 7],
            0x1_0000_0002,
            Some(&info(5000, 300, 9, 7)),
        );
        // TIME_WAIT: no tcp_info.
        buf.extend(message(v4, &[198, 51, 100, 1], &[198, 51, 100, 8], 3, None));
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[203, 0, 113, 5]);
        buf.extend(message(v6, &mapped, &mapped, 4, Some(&info(1, 2, 3, 4))));
        let mut out = Vec::new();
        assert!(parse_dump(&buf, &mut out));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key, 0x1_0000_0002);
        assert_eq!(out[0].orig_dst.to_string(), "198.51.100.7");
        assert_eq!(
            out[0].counters,
            Counters {
                orig_packets: 9,
                orig_bytes: 5000,
                reply_packets: 7,
                reply_bytes: 300
            }
        );
        assert_eq!(out[1].orig_src.to_string(), "203.0.113.5");
        // A short tcp_info (an old kernel) gives no counters; a truncated dump ends.
        let mut out = Vec::new();
        assert!(parse_dump(
            &message(v4, &[1, 1, 1, 1], &[2, 2, 2, 2], 5, Some(&[0u8; 100])),
            &mut out
        ));
        assert!(out.is_empty());
        assert!(!parse_dump(&buf[..40], &mut out));
    }

    #[test]
    fn this_hosts_own_connection_is_read_with_its_bytes() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&[7u8; 100_000]).unwrap();
        let mut got = vec![0u8; 100_000];
        server.read_exact(&mut got).unwrap();
        let port = client.local_addr().unwrap().port();
        let flows = read().unwrap();
        // The server's socket: it received the 100,000 bytes (its local port is `addr`'s).
        let found = flows.iter().any(|f| {
            f.orig_src.is_loopback()
                && f.counters.reply_bytes == 100_000
                && f.counters.reply_packets > 0
        });
        assert!(
            found,
            "no socket received 100,000 bytes (client port {port}): {flows:?}"
        );
    }
}
