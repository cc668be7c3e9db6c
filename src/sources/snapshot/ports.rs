//! Listening sockets, TCP and UDP over IPv4 and IPv6, each joined to the process that owns
//! it (the socket's inode found among `/proc/*/fd`).

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::Serialize;

use super::processes::ProcessInfo;

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortInfo {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    pub address: String,
    pub port: u16,
    pub inode: u64,
    pub uid: u32,
    /// The owning process; `None` when it could not be found (another namespace, or a
    /// race with its exit).
    pub pid: Option<i32>,
    pub process: Option<String>,
    pub exe: Option<String>,
    pub user: Option<String>,
}

impl PortInfo {
    /// What identifies "the same listener" across snapshots: protocol, address, port.
    pub fn key(&self) -> (&'static str, &str, u16) {
        (self.proto, &self.address, self.port)
    }
}

/// Socket inode → pid, from every process's open descriptors.
fn socket_owners() -> HashMap<u64, i32> {
    let mut owners = HashMap::new();
    let Ok(all) = procfs::process::all_processes() else {
        return owners;
    };
    for p in all.flatten() {
        let Ok(fds) = p.fd() else { continue };
        for fd in fds.flatten() {
            if let procfs::process::FDTarget::Socket(inode) = fd.target {
                owners.entry(inode).or_insert(p.pid);
            }
        }
    }
    owners
}

fn push(out: &mut Vec<PortInfo>, proto: &'static str, local: SocketAddr, inode: u64, uid: u32) {
    out.push(PortInfo {
        proto,
        address: local.ip().to_string(),
        port: local.port(),
        inode,
        uid,
        pid: None,
        process: None,
        exe: None,
        user: None,
    });
}

/// Every listening TCP socket and every bound, unconnected UDP socket, with owners
/// filled in from `processes` where the inode is found. `owners` carries socket owners
/// between snapshots: every process's descriptors are walked again only when a listening
/// socket's owner is unknown or gone (the walk is most of a snapshot's cost).
pub fn snapshot(
    processes: &[ProcessInfo],
    owners: &mut HashMap<u64, i32>,
) -> std::io::Result<Vec<PortInfo>> {
    use procfs::net::TcpState;
    let mut out = Vec::new();
    let tcp = procfs::net::tcp().unwrap_or_default();
    let tcp6 = procfs::net::tcp6().unwrap_or_default();
    for e in tcp.into_iter().chain(tcp6) {
        if e.state == TcpState::Listen {
            push(&mut out, "tcp", e.local_address, e.inode, e.uid);
        }
    }
    let udp = procfs::net::udp().unwrap_or_default();
    let udp6 = procfs::net::udp6().unwrap_or_default();
    for e in udp.into_iter().chain(udp6) {
        // Bound but not connected: a server waiting for datagrams.
        if e.remote_address.port() == 0 && e.inode != 0 {
            push(&mut out, "udp", e.local_address, e.inode, e.uid);
        }
    }
    let alive: std::collections::HashSet<i32> = processes.iter().map(|p| p.pid).collect();
    let known = out
        .iter()
        .all(|p| owners.get(&p.inode).is_some_and(|pid| alive.contains(pid)));
    if !known {
        *owners = socket_owners();
    }
    let by_pid: HashMap<i32, &ProcessInfo> = processes.iter().map(|p| (p.pid, p)).collect();
    for port in &mut out {
        if let Some(pid) = owners.get(&port.inode) {
            port.pid = Some(*pid);
            if let Some(p) = by_pid.get(pid) {
                port.process = Some(p.name.clone());
                port.exe = p.exe.clone();
                port.user = Some(p.user.clone());
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.key() == b.key());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_of_this_process_is_found_with_its_owner() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("[::1]:0").unwrap();
        let mut h = super::super::processes::CpuHistory::default();
        let procs = super::super::processes::snapshot(&mut h).unwrap();
        let mut owners = HashMap::new();
        let ports = snapshot(&procs, &mut owners).unwrap();
        assert!(!owners.is_empty(), "the walk found owners");
        // Known owners: no walk, same answer.
        assert_eq!(snapshot(&procs, &mut owners).unwrap(), ports);
        let me = std::process::id() as i32;
        let t = ports
            .iter()
            .find(|p| p.proto == "tcp" && p.port == tcp.local_addr().unwrap().port())
            .expect("the TCP listener");
        assert_eq!((t.address.as_str(), t.pid), ("127.0.0.1", Some(me)));
        assert!(t.exe.is_some());
        let u = ports
            .iter()
            .find(|p| p.proto == "udp" && p.port == udp.local_addr().unwrap().port())
            .expect("the UDP socket");
        assert_eq!((u.address.as_str(), u.pid), ("::1", Some(me)));
    }
}
