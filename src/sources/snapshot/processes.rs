//! The process table, read from /proc (procfs): who runs what, from where, since when,
//! and at what cost. A process that vanishes while being read is skipped, never an error.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

/// One running process as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub user: String,
    pub uid: u32,
    /// The name the kernel knows (`comm`, at most 15 bytes).
    pub name: String,
    /// The executable's path; `None` for kernel threads and processes we may not inspect.
    pub exe: Option<String>,
    /// The executable was deleted after the process started and nothing is at its path
    /// now: a classic sign of malware that removes itself (an upgraded package's binary,
    /// replaced at the same path, does not count).
    pub exe_deleted: bool,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
    pub cwd: Option<String>,
    /// Start time, seconds since the Unix epoch.
    pub started: i64,
    /// CPU use since the previous snapshot, percent of one core.
    pub cpu_percent: f64,
    /// Resident memory, bytes.
    pub rss: u64,
    /// A kernel thread (no executable, child of kthreadd).
    pub kernel_thread: bool,
}

/// CPU ticks seen per (pid, start) at the previous snapshot, for CPU percentages.
#[derive(Debug, Default)]
pub struct CpuHistory {
    ticks: HashMap<(i32, u64), u64>,
    at: Option<std::time::Instant>,
}

/// User names by uid, from /etc/passwd (re-read each snapshot: cheap, and accounts change).
fn user_names() -> HashMap<u32, String> {
    id_names("/etc/passwd")
}

/// Names by numeric id from a file shaped like /etc/passwd or /etc/group
/// (`name:x:id:…`); an unreadable file gives none.
pub fn id_names(file: &str) -> HashMap<u32, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// Reads every process. `history` turns CPU ticks into percentages between snapshots.
pub fn snapshot(history: &mut CpuHistory) -> std::io::Result<Vec<ProcessInfo>> {
    let boot = procfs::boot_time_secs().map_err(std::io::Error::other)? as i64;
    let tps = procfs::ticks_per_second().max(1);
    let page = procfs::page_size();
    let names = user_names();
    let now = std::time::Instant::now();
    let elapsed = history
        .at
        .map(|t| now.duration_since(t).as_secs_f64())
        .unwrap_or(0.0);
    let mut ticks = HashMap::new();
    let mut out = Vec::new();
    for p in procfs::process::all_processes().map_err(std::io::Error::other)? {
        let Ok(p) = p else { continue };
        let Ok(stat) = p.stat() else { continue };
        let uid = p.uid().unwrap_or(u32::MAX);
        let exe_raw: Option<PathBuf> = p.exe().ok();
        let (exe, exe_deleted) = match exe_raw {
            Some(path) => {
                let s = path.to_string_lossy().into_owned();
                match s.strip_suffix(" (deleted)") {
                    // A package upgrade replaces a running daemon's binary: the path
                    // exists again (a new file). Gone for good is what malware does.
                    Some(base) => (Some(base.to_string()), !std::path::Path::new(base).exists()),
                    None => (Some(s), false),
                }
            }
            None => (None, false),
        };
        let cmdline = p.cmdline().map(|a| a.join(" ")).unwrap_or_default();
        let used = stat.utime + stat.stime;
        ticks.insert((stat.pid, stat.starttime), used);
        let cpu_percent = match history.ticks.get(&(stat.pid, stat.starttime)) {
            Some(before) if elapsed > 0.0 => {
                100.0 * used.saturating_sub(*before) as f64 / tps as f64 / elapsed
            }
            _ => 0.0,
        };
        out.push(ProcessInfo {
            pid: stat.pid,
            ppid: stat.ppid,
            user: names.get(&uid).cloned().unwrap_or_else(|| uid.to_string()),
            uid,
            kernel_thread: exe.is_none() && (stat.ppid == 2 || stat.pid == 2) && cmdline.is_empty(),
            name: stat.comm.clone(),
            exe,
            exe_deleted,
            cmdline,
            cwd: p.cwd().ok().map(|c| c.to_string_lossy().into_owned()),
            started: boot + (stat.starttime / tps) as i64,
            cpu_percent: (cpu_percent * 10.0).round() / 10.0,
            rss: stat.rss * page,
        });
    }
    history.ticks = ticks;
    history.at = Some(now);
    out.sort_by_key(|p| p.pid);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_in_the_snapshot_with_its_executable() {
        let mut h = CpuHistory::default();
        let procs = snapshot(&mut h).unwrap();
        let me = procs
            .iter()
            .find(|p| p.pid == std::process::id() as i32)
            .expect("the test process");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(me.exe.as_deref(), Some(exe.to_str().unwrap()));
        assert!(!me.exe_deleted);
        assert!(me.rss > 0);
        assert!(me.started > 1_600_000_000);
        assert!(!me.kernel_thread);
        // A second snapshot has CPU figures (possibly zero) and still finds us.
        let again = snapshot(&mut h).unwrap();
        assert!(again.iter().any(|p| p.pid == me.pid));
    }
}
