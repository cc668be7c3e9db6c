//! `kill_process`: SIGTERM, then SIGKILL after a grace period, for the process a rule's
//! alert names (`group: {pid, path}`, as suspicious-process has). Only when the pid still
//! runs the executable the alert saw and started no later than the alert's first event (a
//! reused pid is a newer process); never pid 1, never Picket itself or its parent, never
//! a process whose name or executable is on the protected list.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Mode;

/// `response.kill_process` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KillConfig {
    pub mode: Mode,
    /// Seconds between SIGTERM and SIGKILL.
    pub grace_secs: u64,
    /// Process names or executable paths never killed.
    pub protected: Vec<String>,
}

impl Default for KillConfig {
    fn default() -> Self {
        KillConfig {
            mode: Mode::DryRun,
            grace_secs: 5,
            protected: [
                "systemd",
                "init",
                "sshd",
                "sshd-session",
                "systemd-journald",
                "dbus-daemon",
                "rsyslogd",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// A rule's alert asking for `kill_process`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillOrder {
    pub pid: i32,
    pub exe: String,
    /// The alert's first event, in seconds since the epoch: the process must have
    /// started by then.
    pub seen: i64,
    pub rule: String,
    /// The alert's key, to put the kill on its incident's timeline.
    pub alert_key: String,
}

impl KillOrder {
    /// The order an alert that names `kill_process` carries (group values are text from the
    /// process table:
    /// parsed, never passed anywhere as text).
    pub fn from_alert(a: &crate::model::Alert) -> Option<KillOrder> {
        let pid = a.group.get("pid")?.parse::<i32>().ok().filter(|p| *p > 1)?;
        let exe = a.group.get("path")?.clone();
        Some(KillOrder {
            pid,
            exe,
            seen: a.first_seen.as_micros().div_euclid(1_000_000),
            rule: a.rule.clone(),
            alert_key: a.key.clone(),
        })
    }
}

/// What a kill order came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillOutcome {
    Terminated { pid: i32, killed: bool },
    WouldKill { pid: i32 },
    Refused { pid: i32, why: String },
    Gone { pid: i32 },
    Off,
}

impl std::fmt::Display for KillOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KillOutcome::Terminated { pid, killed: false } => {
                write!(f, "terminated pid {pid} (SIGTERM)")
            }
            KillOutcome::Terminated { pid, killed: true } => {
                write!(f, "killed pid {pid} (SIGKILL after the grace period)")
            }
            KillOutcome::WouldKill { pid } => write!(f, "dry-run: would kill pid {pid}"),
            KillOutcome::Refused { pid, why } => write!(f, "not killing pid {pid}: {why}"),
            KillOutcome::Gone { pid } => write!(f, "pid {pid} is gone or is another process now"),
            KillOutcome::Off => write!(f, "kill_process is off"),
        }
    }
}

/// The process `pid` as the checks need it: its executable, name and start time
/// (seconds since the epoch).
fn inspect(pid: i32) -> Option<(String, String, i64, i32)> {
    let p = procfs::process::Process::new(pid).ok()?;
    let stat = p.stat().ok()?;
    let exe = p.exe().ok()?.to_string_lossy().into_owned();
    let boot = procfs::boot_time_secs().ok()? as i64;
    let started = boot + (stat.starttime / procfs::ticks_per_second().max(1)) as i64;
    Some((exe, stat.comm, started, stat.ppid))
}

/// When this process started, on the same clock as [`KillConfig::kill`] reads other
/// processes' start times (boot time plus the kernel's start ticks, which can be seconds
/// away from the wall clock on a VM): what "already running when Picket started" is
/// measured against.
pub fn own_start() -> i64 {
    inspect(std::process::id() as i32)
        .map(|(_, _, started, _)| started)
        .unwrap_or_else(|| crate::base::timestamp::Timestamp::now().as_micros() / 1_000_000)
}

fn alive(pid: i32) -> bool {
    // A zombie has exited: only its parent's wait is missing.
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .is_ok_and(|s| s.state != 'Z')
}

impl KillConfig {
    /// Carries out `order` in `mode` (blocking for up to the grace period). Processes
    /// that were already running when Picket started (`picket_started`, seconds since the
    /// epoch) are never killed: a first snapshot must not turn into a mass kill of
    /// whatever a rule happens to match on a long-running host (they are alerted on).
    pub fn kill(&self, order: &KillOrder, mode: Mode, picket_started: i64) -> KillOutcome {
        let pid = order.pid;
        if mode == Mode::Off {
            return KillOutcome::Off;
        }
        let me = std::process::id() as i32;
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        if pid <= 1 || pid == me || pid == parent {
            return KillOutcome::Refused {
                pid,
                why: "pid 1, Picket itself and its parent are never killed".into(),
            };
        }
        let Some((exe, name, started, _)) = inspect(pid) else {
            return KillOutcome::Gone { pid };
        };
        let exe_now = exe.strip_suffix(" (deleted)").unwrap_or(&exe);
        if exe_now != order.exe || started > order.seen + 1 {
            return KillOutcome::Gone { pid };
        }
        if started < picket_started {
            return KillOutcome::Refused {
                pid,
                why: "it was already running when Picket started".into(),
            };
        }
        let file_name = Path::new(exe_now)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        if self
            .protected
            .iter()
            .any(|p| *p == name || *p == exe_now || file_name.as_deref() == Some(p.as_str()))
        {
            return KillOutcome::Refused {
                pid,
                why: format!("{name} is on the protected list"),
            };
        }
        if mode == Mode::DryRun {
            return KillOutcome::WouldKill { pid };
        }
        // SAFETY: kill(2) with a checked pid > 1 and a constant signal.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let until = Instant::now() + Duration::from_secs(self.grace_secs);
        while Instant::now() < until {
            if !alive(pid) {
                return KillOutcome::Terminated { pid, killed: false };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Still the same process? (It could have exited and the pid been reused.)
        match inspect(pid) {
            Some((exe, _, s, _))
                if exe.strip_suffix(" (deleted)").unwrap_or(&exe) == order.exe && s == started =>
            {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                KillOutcome::Terminated { pid, killed: true }
            }
            _ => KillOutcome::Terminated { pid, killed: false },
        }
    }
}

/// `kill_process` as a responder: one kill per process (each alert update repeats the
/// order), each on a thread of its own because it waits out its grace period; the
/// outcome goes to the audit log and the alert's incident.
pub struct KillResponder {
    killer: KillConfig,
    data_dir: std::path::PathBuf,
    /// When Picket started: a process started later was not the one the alert saw.
    started: i64,
    /// (pid, executable, first seen) of the processes ordered killed, newest last.
    killing: std::collections::VecDeque<(i32, String, i64)>,
}

/// Kill orders remembered to tell repeats from new ones.
const REMEMBERED_KILLS: usize = 1000;

impl KillResponder {
    pub fn new(env: &super::registry::Env) -> KillResponder {
        KillResponder {
            killer: env.killer.clone(),
            data_dir: env.data_dir.clone(),
            started: own_start(),
            killing: Default::default(),
        }
    }
}

impl super::Responder for KillResponder {
    fn start(&mut self, _conn: &rusqlite::Connection) {
        tracing::info!("kill_process is {}", self.killer.mode.as_str());
    }

    fn act(
        &mut self,
        _conn: &rusqlite::Connection,
        alert: &crate::model::Alert,
    ) -> Option<super::Done> {
        let order = KillOrder::from_alert(alert)?;
        let id = (order.pid, order.exe.clone(), order.seen);
        if self.killing.contains(&id) {
            return None;
        }
        self.killing.push_back(id);
        if self.killing.len() > REMEMBERED_KILLS {
            self.killing.pop_front();
        }
        let (killer, data_dir, started) =
            (self.killer.clone(), self.data_dir.clone(), self.started);
        let spawned = std::thread::Builder::new()
            .name("kill".into())
            .spawn(move || {
                let outcome = killer.kill(&order, killer.mode, started);
                tracing::info!(rule = %order.rule, exe = %order.exe, "{outcome}");
                record(&data_dir, &order, &outcome);
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a kill: {e}");
        }
        None
    }
}

/// A kill (or a refusal, or a dry-run) in the audit log, where the dashboard shows it,
/// and on its alert's incident.
fn record(data_dir: &std::path::Path, order: &KillOrder, outcome: &KillOutcome) {
    if matches!(outcome, KillOutcome::Off) {
        return;
    }
    let target = format!("pid {} {}", order.pid, order.exe);
    let detail = format!("{outcome} (rule {})", order.rule);
    let Ok(conn) = crate::store::open(data_dir) else {
        return;
    };
    let _ = crate::store::audit::record(
        &conn,
        &crate::store::audit::NewEntry {
            user: None,
            address: None,
            action: "process.kill",
            target: Some(&target),
            detail: Some(&detail),
            ok: matches!(
                outcome,
                KillOutcome::Terminated { .. } | KillOutcome::WouldKill { .. }
            ),
        },
    );
    let done = super::Done {
        alert_key: order.alert_key.clone(),
        ip: None,
        actor: order.rule.clone(),
        text: format!("{outcome} ({})", order.exe),
    };
    let since = std::time::Instant::now();
    while super::worker::try_record(&conn, &done, since).is_none() {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn order(pid: i32, exe: &str) -> KillOrder {
        KillOrder {
            pid,
            exe: exe.into(),
            seen: crate::base::timestamp::Timestamp::now().as_micros() / 1_000_000,
            rule: "t".into(),
            alert_key: "t|1|1".into(),
        }
    }

    #[test]
    fn a_process_is_terminated_only_if_it_is_the_one_the_alert_saw() {
        let cfg = KillConfig {
            grace_secs: 2,
            protected: vec![],
            ..KillConfig::default()
        };
        let before = crate::base::timestamp::Timestamp::now().as_micros() / 1_000_000 - 1;
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        let exe = exe.to_string_lossy().into_owned();
        // Another executable than the alert's: a different process, left alone.
        assert_eq!(
            cfg.kill(&order(pid, "/tmp/other"), Mode::Enforce, before),
            KillOutcome::Gone { pid }
        );
        // Seen before it started: a reused pid.
        let early = KillOrder {
            seen: 1_000_000_000,
            ..order(pid, &exe)
        };
        assert_eq!(
            cfg.kill(&early, Mode::Enforce, before),
            KillOutcome::Gone { pid }
        );
        assert_eq!(
            cfg.kill(&order(pid, &exe), Mode::DryRun, before),
            KillOutcome::WouldKill { pid }
        );
        let protected = KillConfig {
            protected: vec!["sleep".into()],
            ..cfg.clone()
        };
        assert!(matches!(
            protected.kill(&order(pid, &exe), Mode::Enforce, before),
            KillOutcome::Refused { .. }
        ));
        // Already running when "Picket started" (a minute from now): left alone.
        assert!(matches!(
            cfg.kill(&order(pid, &exe), Mode::Enforce, before + 60),
            KillOutcome::Refused { .. }
        ));
        let done = cfg.kill(&order(pid, &exe), Mode::Enforce, before);
        assert_eq!(done, KillOutcome::Terminated { pid, killed: false });
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[test]
    fn one_and_picket_itself_are_never_killed() {
        let cfg = KillConfig::default();
        for pid in [1, std::process::id() as i32] {
            assert!(matches!(
                cfg.kill(&order(pid, "/sbin/init"), Mode::Enforce, 0),
                KillOutcome::Refused { .. }
            ));
        }
    }
}
