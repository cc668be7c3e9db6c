//! A ping sweep of an interface's IPv4 subnets with unprivileged ICMP sockets
//! (`SOCK_DGRAM`, allowed by `net.ipv4.ping_group_range`, which Debian opens to all
//! groups). Without CAP_NET_RAW there is no ARP scan, but pinging every address makes
//! the kernel resolve each host that is up, so the neighbour table read next holds the
//! whole subnet, not only the hosts this machine happened to talk to.

use std::net::Ipv4Addr;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use super::iface::Interface;

/// An echo request (the kernel fills in the identifier and checksum of ping sockets).
fn echo_request(seq: u16) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0] = 8; // echo request
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..16].copy_from_slice(b"picket\0\0");
    p
}

/// Pings every address of `iface`'s subnets (at most `limit`, `rate_per_sec` a second)
/// and returns those that answered. An error when ping sockets are not allowed.
pub fn sweep(
    iface: &Interface,
    limit: usize,
    rate_per_sec: u32,
    wait: Duration,
) -> std::io::Result<Vec<Ipv4Addr>> {
    let targets = iface.hosts(limit);
    // SAFETY: socket calls on a descriptor this function owns and closes; addresses are
    // zeroed sockaddr_in filled as ip(7) describes; buffers outlive the calls.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            libc::IPPROTO_ICMP,
        );
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Closed when dropped, on every return.
        let _owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let name = std::ffi::CString::new(iface.name.as_str()).unwrap_or_default();
        // Out of this interface only (a host route elsewhere must not take the pings).
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            name.as_bytes_with_nul().len() as u32,
        );
        let gap = Duration::from_secs(1) / rate_per_sec.max(1);
        let start = Instant::now();
        let mut sent = 0usize;
        let mut alive: Vec<Ipv4Addr> = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let now = Instant::now();
            while sent < targets.len() && start + gap * sent as u32 <= now {
                let mut to: libc::sockaddr_in = std::mem::zeroed();
                to.sin_family = libc::AF_INET as u16;
                to.sin_addr.s_addr = u32::from(targets[sent]).to_be();
                let p = echo_request(sent as u16);
                libc::sendto(
                    fd,
                    p.as_ptr().cast(),
                    p.len(),
                    0,
                    &to as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                );
                sent += 1;
            }
            let done = start + gap * targets.len() as u32 + wait;
            if sent >= targets.len() && now >= done {
                return Ok(alive);
            }
            let next = if sent < targets.len() {
                start + gap * sent as u32
            } else {
                done
            };
            let ms = next
                .saturating_duration_since(now)
                .as_micros()
                .div_ceil(1000)
                .min(100);
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            libc::poll(&mut pfd, 1, ms as i32);
            loop {
                let mut from: libc::sockaddr_in = std::mem::zeroed();
                let mut len = std::mem::size_of::<libc::sockaddr_in>() as u32;
                let n = libc::recvfrom(
                    fd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    &mut from as *mut libc::sockaddr_in as *mut libc::sockaddr,
                    &mut len,
                );
                if n <= 0 {
                    break;
                }
                // An echo reply (type 0) from an address we pinged.
                let ip = Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr));
                if buf[0] == 0 && !alive.contains(&ip) && targets.contains(&ip) {
                    alive.push(ip);
                }
            }
        }
    }
}

/// One echo request to the link's all-nodes address (`ff02::1`) on `iface`, over an
/// unprivileged ICMPv6 socket (or a raw one as root): every IPv6 host on the link answers, and in doing so
/// resolves this host by NDP, which puts each of them in the kernel's neighbour table.
/// Waits `wait` for the answers; returns how many came.
pub fn all_nodes(iface: &Interface, wait: Duration) -> std::io::Result<usize> {
    // SAFETY: as in `sweep`: a descriptor owned and closed here, a zeroed sockaddr_in6
    // filled as ipv6(7) describes, buffers that outlive the calls.
    unsafe {
        // A ping socket where ping_group_range allows it, else (as root) a raw one: the
        // kernel fills in ICMPv6 checksums on both.
        let mut fd = -1;
        for kind in [libc::SOCK_DGRAM, libc::SOCK_RAW] {
            fd = libc::socket(
                libc::AF_INET6,
                kind | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::IPPROTO_ICMPV6,
            );
            if fd >= 0 {
                break;
            }
        }
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Closed when dropped, on every return.
        let _owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut to: libc::sockaddr_in6 = std::mem::zeroed();
        to.sin6_family = libc::AF_INET6 as u16;
        to.sin6_addr.s6_addr = "ff02::1"
            .parse::<std::net::Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or_default();
        to.sin6_scope_id = iface.index as u32;
        let mut p = echo_request(1);
        p[0] = 128; // ICMPv6 echo request
        if libc::sendto(
            fd,
            p.as_ptr().cast(),
            p.len(),
            0,
            &to as *const libc::sockaddr_in6 as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in6>() as u32,
        ) < 0
        {
            return Err(std::io::Error::last_os_error());
        }
        let until = Instant::now() + wait;
        let mut answers = 0;
        let mut buf = [0u8; 256];
        while Instant::now() < until {
            let ms = until
                .saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000)
                .min(100);
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            libc::poll(&mut pfd, 1, ms as i32);
            while libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) > 0 {
                if buf[0] == 129 {
                    answers += 1;
                }
            }
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn echo_requests_carry_their_sequence() {
        let p = super::echo_request(0x0102);
        assert_eq!((p[0], p[1], p[6], p[7]), (8, 0, 1, 2));
    }
}
