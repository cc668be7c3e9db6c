//! Active discovery: an ARP scan of an interface's IPv4 subnets over a raw `AF_PACKET`
//! socket. Every host on the segment must answer ARP to talk at all, so it finds hosts
//! that drop pings; and since every answer is read, two MACs answering for one address
//! (ARP spoofing) are both seen. Needs CAP_NET_RAW: without it, [`ScanError::NotPermitted`]
//! says so once and callers stay passive.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::iface::Interface;
use super::neigh::Neighbour;

const ETH_P_ARP: u16 = 0x0806;

/// How fast and how far a scan goes.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// ARP requests per second (a /24 takes a quarter second at 1000).
    pub rate_per_sec: u32,
    /// How long to keep listening after the last request.
    pub wait: Duration,
    /// Most addresses asked per interface.
    pub limit: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            rate_per_sec: 1000,
            wait: Duration::from_millis(1000),
            limit: 4096,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("an ARP scan needs CAP_NET_RAW (run Picket as root); discovery stays passive (the kernel's neighbour table)")]
    NotPermitted,
    #[error("ARP scan on {0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0} has no MAC or IPv4 address to scan from")]
    Unusable(String),
}

/// An ARP request from `mac`/`ip` for `target`, as an Ethernet frame.
pub fn request_frame(mac: [u8; 6], ip: Ipv4Addr, target: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    // Target hardware address stays zero.
    f[38..42].copy_from_slice(&target.octets());
    f
}

/// The sender of an ARP reply frame (`None` for anything else, however malformed).
pub fn parse_reply(frame: &[u8]) -> Option<(Ipv4Addr, [u8; 6])> {
    if frame.len() < 42
        || frame[12..14] != ETH_P_ARP.to_be_bytes()
        || frame[14..16] != 1u16.to_be_bytes()
        || frame[16..18] != 0x0800u16.to_be_bytes()
        || frame[18] != 6
        || frame[19] != 4
        || frame[20..22] != 2u16.to_be_bytes()
    {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[22..28]);
    let ip = Ipv4Addr::new(frame[28], frame[29], frame[30], frame[31]);
    (mac != [0; 6] && mac[0] & 1 == 0).then_some((ip, mac))
}

fn last_error(iface: &str) -> ScanError {
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => ScanError::NotPermitted,
        _ => ScanError::Io(iface.to_string(), e),
    }
}

/// Asks every address of `iface`'s subnets who has it and returns every answer
/// (address, MAC), each pair once, in the order they came.
pub fn scan(iface: &Interface, opts: &ScanOptions) -> Result<Vec<Neighbour>, ScanError> {
    let (Some(mac), Some(&(own, _))) = (iface.mac, iface.ipv4.first()) else {
        return Err(ScanError::Unusable(iface.name.clone()));
    };
    let targets = iface.hosts(opts.limit);
    // SAFETY: plain socket calls on a descriptor we own; the sockaddr_ll is zeroed and
    // filled as packet(7) describes; buffers outlive the calls that use them.
    let fd = unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            (ETH_P_ARP.to_be()) as i32,
        );
        if fd < 0 {
            return Err(last_error(&iface.name));
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ARP.to_be();
        sll.sll_ifindex = iface.index;
        if libc::bind(
            fd.as_raw_fd(),
            &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        ) != 0
        {
            return Err(last_error(&iface.name));
        }
        fd
    };
    let gap = Duration::from_secs(1) / opts.rate_per_sec.max(1);
    let start = Instant::now();
    let mut sent = 0usize;
    let mut found: Vec<Neighbour> = Vec::new();
    let mut buf = [0u8; 1514];
    loop {
        let now = Instant::now();
        // Send what the rate allows by now.
        while sent < targets.len() && start + gap * sent as u32 <= now {
            let frame = request_frame(mac, own, targets[sent]);
            // SAFETY: sending a buffer we own on our bound socket.
            let n = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    return Err(ScanError::Io(iface.name.clone(), e));
                }
                break;
            }
            sent += 1;
        }
        let done_sending = start + gap * targets.len() as u32;
        if sent >= targets.len() && now >= done_sending + opts.wait {
            return Ok(found);
        }
        let next = if sent < targets.len() {
            start + gap * sent as u32
        } else {
            done_sending + opts.wait
        };
        // Rounded up: a zero timeout until the next send would spin.
        let timeout_ms = next
            .saturating_duration_since(now)
            .as_micros()
            .div_ceil(1000)
            .min(100) as i32;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one descriptor we own.
        unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        loop {
            // SAFETY: receiving into a buffer we own.
            let n = unsafe {
                libc::recv(
                    fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                break;
            }
            if let Some((ip, m)) = parse_reply(&buf[..n as usize]) {
                let known = found.iter().any(|f| f.ip == ip && f.mac == m);
                if !known && ip != own {
                    found.push(Neighbour {
                        ip,
                        mac: m,
                        interface: iface.name.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_answered_by_a_reply_we_read_back() {
        let mac = [0x02, 0, 0, 0, 0, 1];
        let req = request_frame(
            mac,
            "198.51.100.1".parse().unwrap(),
            "198.51.100.7".parse().unwrap(),
        );
        assert_eq!(&req[0..6], &[0xff; 6]);
        assert_eq!(parse_reply(&req), None, "a request is not a reply");
        // The reply a host would send: roles swapped, opcode 2.
        let mut reply = req;
        reply[20..22].copy_from_slice(&2u16.to_be_bytes());
        let theirs = [0xb8, 0x27, 0xeb, 1, 2, 3];
        reply[22..28].copy_from_slice(&theirs);
        reply[28..32].copy_from_slice(&[198, 51, 100, 7]);
        assert_eq!(
            parse_reply(&reply),
            Some(("198.51.100.7".parse().unwrap(), theirs))
        );
        assert_eq!(parse_reply(&reply[..30]), None);
        let mut multicast = reply;
        multicast[22] = 0x01;
        assert_eq!(parse_reply(&multicast), None);
    }
}
