//! Netlink dumps, as the neighbour table (rtnetlink) and the socket table (sock_diag)
//! are read: one request, then the kernel's messages until the dump ends. Every length
//! in a reply is checked before it is used.

use std::os::fd::FromRawFd;

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
/// The netlink message header's size.
pub const HEADER: usize = 16;

pub fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_ne_bytes([b[i], b[i + 1]])
}

pub fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// A dump request: the header (`kind`, NLM_F_REQUEST | NLM_F_DUMP, sequence 1) and `body`.
pub fn dump_request(kind: u16, body: &[u8]) -> Vec<u8> {
    let len = HEADER + body.len();
    let mut req = Vec::with_capacity(len);
    req.extend((len as u32).to_ne_bytes());
    req.extend(kind.to_ne_bytes());
    req.extend(((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    req.extend(1u32.to_ne_bytes());
    req.extend(0u32.to_ne_bytes());
    req.extend(body);
    req
}

/// Calls `each(kind, payload)` for the messages in `buf` (whole messages, as one recv
/// returns them); `false` once the dump has ended: NLMSG_DONE, an error, or a message
/// that does not fit.
pub fn messages(buf: &[u8], each: &mut impl FnMut(u16, &[u8])) -> bool {
    let mut off = 0;
    while off + HEADER <= buf.len() {
        let len = u32_at(buf, off) as usize;
        if len < HEADER || off + len > buf.len() {
            return false;
        }
        match u16_at(buf, off + 4) {
            NLMSG_DONE | NLMSG_ERROR => return false,
            kind => each(kind, &buf[off + HEADER..off + len]),
        }
        off += (len + 3) & !3;
    }
    true
}

/// Calls `each(kind, data)` for the attributes (`struct rtattr` / `nlattr`) in `buf`,
/// stopping at the first one that does not fit.
pub fn attributes(buf: &[u8], mut each: impl FnMut(u16, &[u8])) {
    let mut a = 0;
    while a + 4 <= buf.len() {
        let len = u16_at(buf, a) as usize;
        if len < 4 || a + len > buf.len() {
            return;
        }
        each(u16_at(buf, a + 2), &buf[a + 4..a + len]);
        a += (len + 3) & !3;
    }
}

/// Sends `request` on a new netlink socket of `protocol` and hands each message of the
/// reply to `each` until the dump ends.
pub fn dump(
    protocol: libc::c_int,
    request: &[u8],
    mut each: impl FnMut(u16, &[u8]),
) -> std::io::Result<()> {
    // SAFETY: a socket this function owns (closed on every return through OwnedFd); the
    // request and the receive buffer outlive the calls that use them.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        );
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let _owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        if libc::send(fd, request.as_ptr().cast(), request.len(), 0) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0);
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if n == 0 || !messages(&buf[..n as usize], &mut each) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_attributes_stop_at_what_does_not_fit() {
        let mut body = Vec::new();
        for (kind, data) in [(1u16, &b"abcd"[..]), (2, &b"xy"[..])] {
            body.extend(((4 + data.len()) as u16).to_ne_bytes());
            body.extend(kind.to_ne_bytes());
            body.extend(data);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let msg = dump_request(28, &body);
        let mut seen = Vec::new();
        assert!(messages(&msg, &mut |k, p| {
            attributes(p, |a, d| seen.push((k, a, d.to_vec())));
        }));
        assert_eq!(
            seen,
            vec![(28, 1, b"abcd".to_vec()), (28, 2, b"xy".to_vec())]
        );
        // Cut short: the message does not fit, the dump ends; a cut attribute list stops.
        assert!(!messages(&msg[..msg.len() - 1], &mut |_, _| panic!(
            "read past the end"
        )));
        let mut n = 0;
        attributes(&body[..6], |_, _| n += 1);
        assert_eq!(n, 0);
        let mut done = dump_request(NLMSG_DONE, &[]);
        done.extend(dump_request(28, &[]));
        assert!(!messages(&done, &mut |_, _| panic!("after DONE")));
    }
}
