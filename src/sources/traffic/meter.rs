//! Turns readings of flow counters into what each address sent and received since the
//! previous reading, and how many connections it began: the kernel counts per flow since
//! the flow began, people ask per address per minute.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{Counters, Flow, Scope};

pub use crate::model::traffic::Usage;

/// The address a flow is counted for, and whether it is the flow's originator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribution {
    pub peer: IpAddr,
    pub scope: Scope,
    pub peer_is_orig: bool,
}

/// Whose traffic a flow is. `is_local`: an address of this host; `on_lan`: an address in
/// one of this host's networks. Traffic of this host with itself, and flows whose peer
/// is not a unicast address, count for nobody.
pub fn attribute(
    f: &Flow,
    is_local: &dyn Fn(IpAddr) -> bool,
    on_lan: &dyn Fn(IpAddr) -> bool,
) -> Option<Attribution> {
    let (src, dst, reply) = (
        is_local(f.orig_src),
        is_local(f.orig_dst),
        is_local(f.reply_src),
    );
    let a = if src {
        if reply {
            return None;
        }
        // This host began it; the answers come from the peer (after any rewriting).
        Attribution {
            peer: f.reply_src,
            scope: Scope::Host,
            peer_is_orig: false,
        }
    } else if dst && reply {
        Attribution {
            peer: f.orig_src,
            scope: Scope::Host,
            peer_is_orig: true,
        }
    } else {
        // Routed through this host (a port forward to a LAN device included): counted
        // for the LAN end.
        let reply_is_device = on_lan(f.reply_src) && !on_lan(f.orig_src);
        Attribution {
            peer: if reply_is_device {
                f.reply_src
            } else {
                f.orig_src
            },
            scope: Scope::Forwarded,
            peer_is_orig: !reply_is_device,
        }
    };
    let unicast = match a.peer {
        IpAddr::V4(v) => {
            !(v.is_loopback() || v.is_unspecified() || v.is_multicast() || v.is_broadcast())
        }
        IpAddr::V6(v) => !(v.is_loopback() || v.is_unspecified() || v.is_multicast()),
    };
    unicast.then_some(a)
}

/// Remembers each flow's counters between readings.
#[derive(Debug, Default)]
pub struct Meter {
    previous: Option<HashMap<u64, Counters>>,
}

impl Meter {
    pub fn new() -> Meter {
        Meter::default()
    }

    /// Forgets every flow: the next reading is a new baseline (the source changed).
    #[cfg(test)]
    pub fn reset(&mut self) {
        self.previous = None;
    }

    /// What each address did since the previous reading. The first reading only sets the
    /// baseline: what flows carried before Picket looked has no time to be counted in.
    pub fn update(
        &mut self,
        flows: &[Flow],
        is_local: &dyn Fn(IpAddr) -> bool,
        on_lan: &dyn Fn(IpAddr) -> bool,
    ) -> HashMap<(IpAddr, Scope), Usage> {
        let mut now: HashMap<u64, Counters> = HashMap::with_capacity(flows.len());
        let mut out: HashMap<(IpAddr, Scope), Usage> = HashMap::new();
        for f in flows {
            now.insert(f.key, f.counters);
            let Some(previous) = &self.previous else {
                continue;
            };
            let Some(a) = attribute(f, is_local, on_lan) else {
                continue;
            };
            let c = f.counters;
            let (delta, new) = match previous.get(&f.key) {
                Some(p)
                    if c.orig_bytes >= p.orig_bytes
                        && c.reply_bytes >= p.reply_bytes
                        && c.orig_packets >= p.orig_packets
                        && c.reply_packets >= p.reply_packets =>
                {
                    (
                        Counters {
                            orig_packets: c.orig_packets - p.orig_packets,
                            orig_bytes: c.orig_bytes - p.orig_bytes,
                            reply_packets: c.reply_packets - p.reply_packets,
                            reply_bytes: c.reply_bytes - p.reply_bytes,
                        },
                        false,
                    )
                }
                // New, or the same tuple reused by a new flow (counters went back).
                _ => (c, true),
            };
            let u = out.entry((a.peer, a.scope)).or_default();
            let (tx, rx) = if a.peer_is_orig {
                (
                    (delta.orig_bytes, delta.orig_packets),
                    (delta.reply_bytes, delta.reply_packets),
                )
            } else {
                (
                    (delta.reply_bytes, delta.reply_packets),
                    (delta.orig_bytes, delta.orig_packets),
                )
            };
            u.tx_bytes += tx.0;
            u.tx_packets += tx.1;
            u.rx_bytes += rx.0;
            u.rx_packets += rx.1;
            u.connections += u64::from(new);
        }
        out.retain(|_, u| *u != Usage::default());
        self.previous = Some(now);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn flow(key: u64, src: &str, dst: &str, reply: &str, c: [u64; 4]) -> Flow {
        Flow {
            key,
            orig_src: ip(src),
            orig_dst: ip(dst),
            reply_src: ip(reply),
            counters: Counters {
                orig_packets: c[0],
                orig_bytes: c[1],
                reply_packets: c[2],
                reply_bytes: c[3],
            },
        }
    }

    /// This router: 198.51.100.1 on the LAN, 203.0.113.1 outside.
    fn local(a: IpAddr) -> bool {
        a == ip("198.51.100.1") || a == ip("203.0.113.1") || a.is_loopback()
    }

    fn lan(a: IpAddr) -> bool {
        matches!(a, IpAddr::V4(v) if v.octets()[..3] == [198, 51, 100])
    }

    #[test]
    fn flows_are_counted_for_the_right_address() {
        let at = |f: &Flow| {
            attribute(f, &local, &lan).map(|a| (a.peer.to_string(), a.scope, a.peer_is_orig))
        };
        let out = flow(1, "203.0.113.1", "203.0.113.50", "203.0.113.50", [0; 4]);
        assert_eq!(at(&out), Some(("203.0.113.50".into(), Scope::Host, false)));
        let inbound = flow(2, "203.0.113.9", "203.0.113.1", "203.0.113.1", [0; 4]);
        assert_eq!(
            at(&inbound),
            Some(("203.0.113.9".into(), Scope::Host, true))
        );
        let routed = flow(3, "198.51.100.10", "203.0.113.50", "203.0.113.50", [0; 4]);
        assert_eq!(
            at(&routed),
            Some(("198.51.100.10".into(), Scope::Forwarded, true))
        );
        // Masqueraded: the reply goes to the router's outside address, the device began it.
        let nat = flow(4, "198.51.100.10", "203.0.113.50", "203.0.113.50", [0; 4]);
        assert_eq!(at(&nat).unwrap().0, "198.51.100.10");
        // A port forward: the outside client reached the router; the device answers.
        let forward = flow(5, "203.0.113.9", "203.0.113.1", "198.51.100.20", [0; 4]);
        assert_eq!(
            at(&forward),
            Some(("198.51.100.20".into(), Scope::Forwarded, false))
        );
        assert_eq!(
            at(&flow(6, "127.0.0.1", "127.0.0.1", "127.0.0.1", [0; 4])),
            None
        );
        assert_eq!(
            at(&flow(
                7,
                "198.51.100.1",
                "198.51.100.1",
                "198.51.100.1",
                [0; 4]
            )),
            None
        );
        assert_eq!(
            at(&flow(
                8,
                "198.51.100.10",
                "224.0.0.251",
                "224.0.0.251",
                [0; 4]
            ))
            .unwrap()
            .0,
            "198.51.100.10"
        );
        assert_eq!(
            at(&flow(
                9,
                "198.51.100.1",
                "224.0.0.251",
                "224.0.0.251",
                [0; 4]
            )),
            None
        );
    }

    #[test]
    fn the_first_reading_is_a_baseline_then_differences_and_new_flows_count() {
        let mut m = Meter::new();
        let a = flow(
            1,
            "198.51.100.10",
            "203.0.113.50",
            "203.0.113.50",
            [10, 1000, 8, 9000],
        );
        assert!(m.update(std::slice::from_ref(&a), &local, &lan).is_empty());
        let a2 = flow(
            1,
            "198.51.100.10",
            "203.0.113.50",
            "203.0.113.50",
            [15, 1500, 10, 12000],
        );
        let b = flow(
            2,
            "198.51.100.10",
            "203.0.113.51",
            "203.0.113.51",
            [1, 60, 1, 60],
        );
        let c = flow(
            3,
            "203.0.113.1",
            "203.0.113.99",
            "203.0.113.99",
            [2, 100, 3, 400],
        );
        let got = m.update(&[a2.clone(), b, c], &local, &lan);
        assert_eq!(
            got[&(ip("198.51.100.10"), Scope::Forwarded)],
            Usage {
                tx_bytes: 500 + 60,
                rx_bytes: 3000 + 60,
                tx_packets: 5 + 1,
                rx_packets: 2 + 1,
                connections: 1
            }
        );
        // This host sent 100 bytes to 203.0.113.99, which sent 400: its point of view.
        assert_eq!(
            got[&(ip("203.0.113.99"), Scope::Host)],
            Usage {
                tx_bytes: 400,
                rx_bytes: 100,
                tx_packets: 3,
                rx_packets: 2,
                connections: 1
            }
        );
        // Nothing new: no entry at all. A tuple reused by a new flow counts from zero.
        assert!(m.update(std::slice::from_ref(&a2), &local, &lan).is_empty());
        let reused = flow(
            1,
            "198.51.100.10",
            "203.0.113.50",
            "203.0.113.50",
            [1, 60, 0, 0],
        );
        let got = m.update(&[reused], &local, &lan);
        assert_eq!(got[&(ip("198.51.100.10"), Scope::Forwarded)].connections, 1);
        assert_eq!(got[&(ip("198.51.100.10"), Scope::Forwarded)].tx_bytes, 60);
        m.reset();
        assert!(m.update(&[a], &local, &lan).is_empty());
    }
}
