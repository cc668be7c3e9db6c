//! One UDP exchange for a whole batch: every query is sent at once (in waves, for
//! queries that may go to another server when the first has not settled them), then
//! answers are read from one non-blocking socket per address family until all targets
//! are settled or the deadline passes. A batch of 254 addresses costs one deadline, not
//! 254. What a packet means, and whether it answers a query at all, is the caller's
//! `read`: this module knows sockets and time, not protocols.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::NamesError;

/// One datagram to send, on behalf of target `target`.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub target: usize,
    pub to: SocketAddr,
    pub packet: Vec<u8>,
    /// Sent at `wave / waves` of the way to the deadline, if its target is unsettled by
    /// then (wave 0: at once).
    pub wave: usize,
}

/// What an answer says about its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Name(String),
    /// Settled without a name (a negative answer, or a name not fit to keep).
    Nameless,
    /// Not settled: another server (a later wave) may answer.
    Unsettled,
}

/// The biggest datagram read; longer ones are cut, and then fail to parse.
const RECV_BUF: usize = 9000;
/// Datagrams read in a row before the clock is looked at again (a flood cannot hold
/// the loop past its deadline).
const RECV_BURST: usize = 256;

/// Sends `outgoing` for `targets` targets and collects verdicts until `deadline`; `read`
/// turns a datagram and its source into `(target, verdict)`, or `None` when it answers
/// nothing of ours. The first name or nameless verdict for a target settles it.
/// Returns a name (or none) per target, and the errors met (a family with no socket).
pub fn exchange(
    targets: usize,
    outgoing: Vec<Outgoing>,
    waves: usize,
    deadline: Instant,
    mut read: impl FnMut(&[u8], SocketAddr) -> Option<(usize, Verdict)>,
) -> (Vec<Option<String>>, Vec<NamesError>) {
    let outgoing: Vec<Outgoing> = outgoing
        .into_iter()
        .filter(|o| o.target < targets)
        .collect();
    let mut names: Vec<Option<String>> = vec![None; targets];
    // A target nothing is sent for is settled from the start (no waiting on it).
    let mut settled = vec![true; targets];
    for o in &outgoing {
        if let Some(s) = settled.get_mut(o.target) {
            *s = false;
        }
    }
    let mut errors = Vec::new();
    let open = |v6: bool| -> Result<UdpSocket, NamesError> {
        let s = if v6 {
            UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0))
        } else {
            UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        };
        let s = s
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map_err(|source| NamesError::Socket {
                family: if v6 { "IPv6" } else { "IPv4" },
                source,
            })?;
        Ok(s)
    };
    let mut sockets: [Option<UdpSocket>; 2] = [None, None];
    for v6 in [false, true] {
        if outgoing.iter().any(|o| o.to.is_ipv6() == v6) {
            match open(v6) {
                Ok(s) => sockets[v6 as usize] = Some(s),
                Err(e) => errors.push(e),
            }
        }
    }
    let waves = waves.max(1);
    let start = Instant::now();
    let span = deadline.saturating_duration_since(start);
    let wave_at = |w: usize| start + span.mul_f64(w as f64 / waves as f64);
    let mut released = 0;
    let mut outbox: VecDeque<usize> = VecDeque::new();
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        let now = Instant::now();
        if now >= deadline || settled.iter().all(|s| *s) {
            break;
        }
        // Release the waves whose time has come.
        while released < waves && now >= wave_at(released) {
            outbox.extend(
                outgoing
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.wave == released && !settled[o.target])
                    .map(|(i, _)| i),
            );
            released += 1;
        }
        // Send until a socket's buffer is full.
        let mut blocked = [false; 2];
        while let Some(&i) = outbox.front() {
            let o = &outgoing[i];
            let fam = o.to.is_ipv6() as usize;
            let Some(sock) = sockets[fam].as_ref() else {
                outbox.pop_front();
                continue;
            };
            if settled[o.target] {
                outbox.pop_front();
                continue;
            }
            match sock.send_to(&o.packet, o.to) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    blocked[fam] = true;
                    break;
                }
                // Sent, or unsendable (no route, a host gone): either way done with it.
                _ => {
                    outbox.pop_front();
                }
            }
        }
        // Sleep until an answer, room to send, the next wave or the deadline.
        let next_wave = if released < waves {
            wave_at(released)
        } else {
            deadline
        };
        let wait = next_wave
            .min(deadline)
            .saturating_duration_since(Instant::now());
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(2);
        for (fam, s) in sockets.iter().enumerate() {
            if let Some(s) = s {
                let mut events = libc::POLLIN;
                if blocked[fam] {
                    events |= libc::POLLOUT;
                }
                fds.push(libc::pollfd {
                    fd: s.as_raw_fd(),
                    events,
                    revents: 0,
                });
            }
        }
        if fds.is_empty() {
            break;
        }
        let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: `fds` is a live, correctly sized array of pollfd for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n <= 0 {
            // Timeout, or EINTR: the loop looks at the clock again.
            continue;
        }
        for s in sockets.iter().flatten() {
            for _ in 0..RECV_BURST {
                let (len, from) = match s.recv_from(&mut buf) {
                    Ok(r) => r,
                    // WouldBlock: drained. Others (an ICMP error queued on the socket)
                    // say nothing about a target that an answer could not say better.
                    Err(_) => break,
                };
                let Some((t, verdict)) = read(&buf[..len], from) else {
                    continue;
                };
                if t >= targets || settled[t] {
                    continue;
                }
                match verdict {
                    Verdict::Name(n) => {
                        names[t] = Some(n);
                        settled[t] = true;
                    }
                    Verdict::Nameless => settled[t] = true,
                    Verdict::Unsettled => {}
                }
            }
        }
    }
    (names, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A responder on loopback that answers every datagram with `reply(datagram)`.
    fn echo_server(
        reply: fn(&[u8]) -> Option<Vec<u8>>,
    ) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let addr = s.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                if let Some(r) = reply(&buf[..n]) {
                    let _ = s.send_to(&r, from);
                }
            }
        });
        (addr, h)
    }

    #[test]
    fn a_batch_is_answered_in_one_round_trip_and_silence_costs_one_deadline() {
        // Answers even-numbered targets with their number, ignores odd ones.
        let (server, _h) = echo_server(|d| (d[0] % 2 == 0).then(|| d.to_vec()));
        let outgoing: Vec<Outgoing> = (0..200u8)
            .map(|i| Outgoing {
                target: i as usize,
                to: server,
                packet: vec![i],
                wave: 0,
            })
            .collect();
        let started = Instant::now();
        let (names, errors) = exchange(
            200,
            outgoing,
            1,
            started + Duration::from_millis(600),
            |d, from| {
                (from == server && !d.is_empty())
                    .then(|| (d[0] as usize, Verdict::Name(format!("h{}", d[0]))))
            },
        );
        let took = started.elapsed();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names[0].as_deref(), Some("h0"));
        assert_eq!(names[198].as_deref(), Some("h198"));
        assert_eq!(names[1], None);
        assert_eq!(names.iter().flatten().count(), 100);
        assert!(took < Duration::from_millis(1200), "{took:?}");
    }

    #[test]
    fn the_exchange_ends_early_once_every_target_is_settled() {
        let (server, _h) = echo_server(|d| Some(d.to_vec()));
        let outgoing = vec![Outgoing {
            target: 0,
            to: server,
            packet: vec![0],
            wave: 0,
        }];
        let started = Instant::now();
        let (names, _) = exchange(1, outgoing, 1, started + Duration::from_secs(5), |_, _| {
            Some((0, Verdict::Nameless))
        });
        assert_eq!(names, [None]);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_later_wave_goes_out_only_for_unsettled_targets() {
        // The first "server" is silent; the second answers.
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (server, _h) = echo_server(|d| Some(d.to_vec()));
        let outgoing = vec![
            Outgoing {
                target: 0,
                to: silent.local_addr().unwrap(),
                packet: vec![0],
                wave: 0,
            },
            Outgoing {
                target: 0,
                to: server,
                packet: vec![0],
                wave: 1,
            },
        ];
        let (names, _) = exchange(
            1,
            outgoing,
            2,
            Instant::now() + Duration::from_millis(800),
            |_, from| (from == server).then(|| (0, Verdict::Name("second".into()))),
        );
        assert_eq!(names, [Some("second".to_string())]);
    }
}
