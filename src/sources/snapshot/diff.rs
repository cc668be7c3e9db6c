//! Snapshot differences as events. Every text in them (command lines, paths, names) is
//! whatever a process chose to call itself: attacker-controlled, kept as data.

use std::collections::HashSet;
use std::sync::Arc;

use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};

use super::{PortInfo, ProcessInfo};

/// Where these events come from, as `source`.
pub const SOURCE: &str = "snapshot";

/// Events for what changed between `previous` (none on the first round: everything is
/// reported, marked initial) and the current processes and ports.
pub fn events(
    previous: Option<(&[ProcessInfo], &[PortInfo])>,
    procs: &[ProcessInfo],
    ports: &[PortInfo],
    now: Timestamp,
    host: Option<Arc<str>>,
) -> Vec<Event> {
    let source: Arc<str> = Arc::from(SOURCE);
    let mut out = Vec::new();
    let initial = previous.is_none();
    let seen: HashSet<(i32, i64)> = previous
        .map(|(p, _)| p.iter().map(|p| (p.pid, p.started)).collect())
        .unwrap_or_default();
    for p in procs {
        if p.kernel_thread || seen.contains(&(p.pid, p.started)) {
            continue;
        }
        let mut e = process_event(p, now, initial, source.clone());
        e.host = host.clone();
        out.push(e);
    }
    let before: HashSet<(&str, &str, u16)> = previous
        .map(|(_, q)| q.iter().map(PortInfo::key).collect())
        .unwrap_or_default();
    let after: HashSet<(&str, &str, u16)> = ports.iter().map(PortInfo::key).collect();
    for q in ports.iter().filter(|q| !before.contains(&q.key())) {
        let mut e = port_event(EventType::PortOpened, q, now, initial, source.clone());
        e.host = host.clone();
        out.push(e);
    }
    if let Some((_, old)) = previous {
        for q in old.iter().filter(|q| !after.contains(&q.key())) {
            let mut e = port_event(EventType::PortClosed, q, now, false, source.clone());
            e.host = host.clone();
            out.push(e);
        }
    }
    out
}

fn process_event(p: &ProcessInfo, now: Timestamp, initial: bool, source: Arc<str>) -> Event {
    // A process that started since the last round happened at its start time; one that
    // was already running when Picket started is reported as seen now.
    let started = Timestamp::from_micros(p.started.saturating_mul(1_000_000));
    let ts = if initial { now } else { started.min(now) };
    let line = format!(
        "process started: pid={} ppid={} user={} exe={} cmd={:?}",
        p.pid,
        p.ppid,
        p.user,
        p.exe.as_deref().unwrap_or("?"),
        p.cmdline
    );
    let mut e = Event::with_source(ts, EventType::ProcessStarted, source, &line);
    e.pid = u32::try_from(p.pid).ok();
    e.user = Some(p.user.clone());
    e.process = Some(p.name.clone());
    e.command = (!p.cmdline.is_empty()).then(|| p.cmdline.clone());
    e.path = p.exe.clone();
    e.extra.insert("ppid".into(), p.ppid.to_string());
    e.extra.insert("uid".into(), p.uid.to_string());
    e.extra
        .insert("exe_deleted".into(), p.exe_deleted.to_string());
    if let Some(cwd) = &p.cwd {
        e.extra.insert("cwd".into(), cwd.clone());
    }
    e.extra.insert("started".into(), started.to_string());
    if initial {
        e.extra.insert("initial".into(), "true".into());
    }
    e
}

fn port_event(
    kind: EventType,
    q: &PortInfo,
    now: Timestamp,
    initial: bool,
    source: Arc<str>,
) -> Event {
    let line = format!(
        "{} {}/{} on {} by pid={} process={} exe={}",
        if kind == EventType::PortOpened {
            "port opened:"
        } else {
            "port closed:"
        },
        q.proto,
        q.port,
        q.address,
        q.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
        q.process.as_deref().unwrap_or("?"),
        q.exe.as_deref().unwrap_or("?"),
    );
    let mut e = Event::with_source(now, kind, source, &line);
    e.pid = q.pid.and_then(|p| u32::try_from(p).ok());
    e.process = q.process.clone();
    e.path = q.exe.clone();
    e.user = q.user.clone();
    e.extra.insert("proto".into(), q.proto.to_string());
    e.extra.insert("address".into(), q.address.clone());
    e.extra.insert("port".into(), q.port.to_string());
    if initial {
        e.extra.insert("initial".into(), "true".into());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: i32, exe: &str, cmd: &str) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid: 1,
            user: "root".into(),
            uid: 0,
            name: exe.rsplit('/').next().unwrap().chars().take(15).collect(),
            exe: Some(exe.into()),
            exe_deleted: false,
            cmdline: cmd.into(),
            cwd: Some("/".into()),
            started: 1_795_000_000,
            cpu_percent: 0.0,
            rss: 4096,
            kernel_thread: false,
        }
    }

    fn port(proto: &'static str, port: u16) -> PortInfo {
        PortInfo {
            proto,
            address: "0.0.0.0".into(),
            port,
            inode: 1,
            uid: 0,
            pid: Some(10),
            process: Some("sshd".into()),
            exe: Some("/usr/sbin/sshd".into()),
            user: Some("root".into()),
        }
    }

    #[test]
    fn the_first_round_reports_everything_as_initial_then_only_changes() {
        let now = Timestamp::now();
        let procs = vec![proc(10, "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D")];
        let ports = vec![port("tcp", 22)];
        let first = events(None, &procs, &ports, now, None);
        assert_eq!(first.len(), 2);
        assert!(first
            .iter()
            .all(|e| e.extra.get("initial").map(String::as_str) == Some("true")));

        let mut procs2 = procs.clone();
        procs2.push(proc(
            4242,
            "/tmp/.x/miner",
            "/tmp/.x/miner --pool <img src=x>",
        ));
        let ports2 = vec![port("tcp", 4444)];
        let next = events(Some((&procs, &ports)), &procs2, &ports2, now, None);
        let kinds: Vec<_> = next.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventType::ProcessStarted,
                EventType::PortOpened,
                EventType::PortClosed
            ]
        );
        let started = &next[0];
        assert_eq!(started.path.as_deref(), Some("/tmp/.x/miner"));
        assert_eq!(
            started.command.as_deref(),
            Some("/tmp/.x/miner --pool <img src=x>")
        );
        assert!(!started.extra.contains_key("initial"));
        assert_eq!(next[1].extra["port"], "4444");
        assert_eq!(next[2].extra["port"], "22");
    }

    #[test]
    fn a_reused_pid_is_a_new_process() {
        let now = Timestamp::now();
        let a = vec![proc(77, "/usr/bin/sleep", "sleep 1")];
        let mut b = a.clone();
        b[0].started += 5;
        assert_eq!(events(Some((&a, &[])), &b, &[], now, None).len(), 1);
        assert!(events(Some((&a, &[])), &a, &[], now, None).is_empty());
    }
}
