//! Listening sockets as the kernel lists them in `/proc/net/{tcp,tcp6,udp,udp6}`, read
//! through the [`Host`] API (so under another root they are that root's files, such as a
//! fixture's). TCP sockets in the LISTEN state, and UDP sockets that are bound but not
//! connected. The daemon's own port snapshots use procfs on the live `/proc`; this module
//! exists because a check must see the audited root's files instead.
//!
//! The kernel prints each address as hexadecimal 32-bit words in host byte order; a line
//! that does not parse is skipped (the files are the kernel's, but a fixture or an image
//! can hold anything).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::host::{Host, HostError};

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listening {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    pub address: IpAddr,
    pub port: u16,
    /// The socket owner's UID.
    pub uid: u32,
}

impl Listening {
    /// Reachable from other machines: not bound to a loopback address.
    pub fn is_exposed(&self) -> bool {
        !self.address.is_loopback()
    }
}

const TABLES: &[(&str, &str)] = &[
    ("/proc/net/tcp", "tcp"),
    ("/proc/net/tcp6", "tcp"),
    ("/proc/net/udp", "udp"),
    ("/proc/net/udp6", "udp"),
];

/// TCP's LISTEN state in the `st` column.
const TCP_LISTEN: &str = "0A";

/// Every listening socket, sorted; a missing table (no IPv6) is skipped.
pub fn listening(host: &Host) -> Result<Vec<Listening>, HostError> {
    let mut out = Vec::new();
    for (path, proto) in TABLES {
        let Some(text) = host.read_optional(path)? else {
            continue;
        };
        out.extend(text.lines().skip(1).filter_map(|l| parse_line(l, proto)));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn parse_line(line: &str, proto: &'static str) -> Option<Listening> {
    let f: Vec<&str> = line.split_whitespace().collect();
    // sl local rem st tx:rx tr:when retrnsmt uid …
    if f.len() < 8 {
        return None;
    }
    let (address, port) = parse_addr(f[1])?;
    let (_, remote_port) = parse_addr(f[2])?;
    let listening = if proto == "tcp" {
        f[3] == TCP_LISTEN
    } else {
        remote_port == 0
    };
    listening.then_some(Listening {
        proto,
        address,
        port,
        uid: f[7].parse().ok()?,
    })
}

/// `0100007F:0016` (IPv4) or 32 hex digits and a port (IPv6).
fn parse_addr(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = ip.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let addr = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some((addr, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernel_tables() {
        let t = tempfile::tempdir().unwrap();
        let net = t.path().join("proc/net");
        std::fs::create_dir_all(&net).unwrap();
        let head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        // Addresses in this machine's byte order, as the kernel prints them.
        let v4 = |a: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(a));
        std::fs::write(
            net.join("tcp"),
            format!(
                "{head}   0: {}:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
                 \x20  1: {}:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1\n\
                 \x20  2: {}:0016 {}:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n\
                 garbage line\n",
                v4([0, 0, 0, 0]),
                v4([127, 0, 0, 1]),
                v4([10, 0, 0, 1]),
                v4([10, 0, 0, 2]),
            ),
        )
        .unwrap();
        let mut v6 = String::new();
        for w in Ipv6Addr::LOCALHOST.octets().chunks(4) {
            v6.push_str(&format!(
                "{:08X}",
                u32::from_ne_bytes(w.try_into().unwrap())
            ));
        }
        std::fs::write(
            net.join("udp6"),
            format!("{head}  5: {v6}:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 4 2\n"),
        )
        .unwrap();
        let h = Host::new(t.path()).unwrap();
        let l = listening(&h).unwrap();
        let shown: Vec<String> = l
            .iter()
            .map(|p| {
                format!(
                    "{} {} {} {} {}",
                    p.proto,
                    p.address,
                    p.port,
                    p.uid,
                    p.is_exposed()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "tcp 0.0.0.0 22 0 true",
                "tcp 127.0.0.1 8080 1000 false",
                "udp ::1 53 101 false"
            ]
        );
    }

    #[test]
    fn this_machine_parses() {
        let h = Host::new("/").unwrap();
        // Whatever listens here, reading must not fail.
        listening(&h).unwrap();
    }
}
