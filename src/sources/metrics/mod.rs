//! Host metrics: CPU (total and per core), load, memory, swap, disk use per mount, disk
//! I/O per device and network traffic per interface, sampled on an interval. Counters
//! (I/O, traffic) become rates per second from the difference between two samples.
//!
//! sysinfo gives CPU, memory and mounts; `/proc/diskstats` and `/proc/net/dev` are read
//! directly (small, stable formats), so only whole disks and real counters are reported.
//!
//! `source`: the collector as a pipeline source; `view`: the newest sample and the last
//! hour, kept in memory for the API.

pub(crate) mod source;
pub(crate) mod view;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use sysinfo::{Disks, MemoryRefreshKind, System};

use crate::base::timestamp::Timestamp;

/// One sample: every series' value at one time. Series names: `cpu`, `cpu0`…, `load1`,
/// `load5`, `load15`, `mem_used`, `mem_total`, `mem_percent`, `swap_used`, `swap_total`,
/// `disk:MOUNT:used_percent`, `disk:MOUNT:used`, `io:DEV:read_bps`, `io:DEV:write_bps`,
/// `net:IF:rx_bps`, `net:IF:tx_bps`, `net:IF:rx_pps`, `net:IF:tx_pps`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: Timestamp,
    pub values: BTreeMap<String, f64>,
    /// Mounts with their used and total bytes, for the Overview's disk list.
    pub disks: Vec<(String, u64, u64)>,
}

/// Takes samples; keeps what rates need between them.
pub struct Sampler {
    sys: System,
    disks: Disks,
    last: Option<(Instant, HashMap<String, u64>)>,
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::new()
    }
}

fn pct(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    }
}

/// Mount points that are not storage (pseudo and container file systems).
fn is_storage(fs: &str, mount: &str) -> bool {
    !matches!(
        fs,
        "tmpfs" | "devtmpfs" | "overlay" | "squashfs" | "proc" | "sysfs" | "cgroup2" | "ramfs"
    ) && !mount.starts_with("/snap/")
        && !mount.starts_with("/run/")
}

impl Sampler {
    pub fn new() -> Sampler {
        let mut sys = System::new();
        sys.refresh_cpu_usage();
        Sampler {
            sys,
            disks: Disks::new_with_refreshed_list(),
            last: None,
        }
    }

    /// A sample now. The first one has no rates (there is nothing to compare with).
    pub fn sample(&mut self) -> Sample {
        let mut v = BTreeMap::new();
        self.sys.refresh_cpu_usage();
        self.sys
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        v.insert("cpu".into(), self.sys.global_cpu_usage() as f64);
        for (i, c) in self.sys.cpus().iter().enumerate() {
            v.insert(format!("cpu{i}"), c.cpu_usage() as f64);
        }
        let load = System::load_average();
        v.insert("load1".into(), load.one);
        v.insert("load5".into(), load.five);
        v.insert("load15".into(), load.fifteen);
        let (used, total) = (self.sys.used_memory(), self.sys.total_memory());
        v.insert("mem_used".into(), used as f64);
        v.insert("mem_total".into(), total as f64);
        v.insert("mem_percent".into(), pct(used, total));
        v.insert("swap_used".into(), self.sys.used_swap() as f64);
        v.insert("swap_total".into(), self.sys.total_swap() as f64);
        self.disks.refresh(true);
        let mut disks = Vec::new();
        for d in self.disks.list() {
            let mount = d.mount_point().to_string_lossy().into_owned();
            let fs = d.file_system().to_string_lossy().into_owned();
            if d.total_space() == 0
                || !is_storage(&fs, &mount)
                || disks.iter().any(|(m, _, _)| *m == mount)
            {
                continue;
            }
            let used = d.total_space() - d.available_space();
            v.insert(format!("disk:{mount}:used"), used as f64);
            v.insert(
                format!("disk:{mount}:used_percent"),
                pct(used, d.total_space()),
            );
            disks.push((mount, used, d.total_space()));
        }
        let now = Instant::now();
        let mut counters = HashMap::new();
        if let Ok(text) = std::fs::read_to_string("/proc/diskstats") {
            counters.extend(parse_diskstats(&text, &whole_disks()));
        }
        if let Ok(text) = std::fs::read_to_string("/proc/net/dev") {
            counters.extend(parse_net_dev(&text));
        }
        if let Some((then, before)) = &self.last {
            let secs = now.duration_since(*then).as_secs_f64();
            if secs > 0.0 {
                for (name, value) in &counters {
                    if let Some(old) = before.get(name) {
                        // A counter that went back (device re-added) has no rate this time.
                        if let Some(d) = value.checked_sub(*old) {
                            v.insert(name.clone(), d as f64 / secs);
                        }
                    }
                }
            }
        }
        self.last = Some((now, counters));
        Sample {
            ts: Timestamp::now(),
            values: v,
            disks,
        }
    }
}

/// Whole block devices (`/sys/block`), without loop and RAM disks: partitions would
/// count the same I/O twice.
fn whole_disks() -> Vec<String> {
    std::fs::read_dir("/sys/block")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !n.starts_with("loop") && !n.starts_with("ram") && !n.starts_with("zram")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Bytes read and written per whole disk, as counters named like the rates they become.
fn parse_diskstats(text: &str, disks: &[String]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // major minor name reads merged sectors_read ms writes merged sectors_written …
        if f.len() < 10 || !disks.iter().any(|d| d == f[2]) {
            continue;
        }
        if let (Ok(r), Ok(w)) = (f[5].parse::<u64>(), f[9].parse::<u64>()) {
            // The kernel counts 512-byte sectors whatever the device's sector size.
            out.insert(format!("io:{}:read_bps", f[2]), r.saturating_mul(512));
            out.insert(format!("io:{}:write_bps", f[2]), w.saturating_mul(512));
        }
    }
    out
}

/// Bytes and packets received and sent per interface (loopback included).
fn parse_net_dev(text: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() < 10 {
            continue;
        }
        out.insert(format!("net:{name}:rx_bps"), f[0]);
        out.insert(format!("net:{name}:rx_pps"), f[1]);
        out.insert(format!("net:{name}:tx_bps"), f[8]);
        out.insert(format!("net:{name}:tx_pps"), f[9]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_formats_parse() {
        let net = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  \
eth0: 52000     400    0    0    0     0          0         0    26000     300    0    0    0     0       0          0\n";
        let n = parse_net_dev(net);
        assert_eq!(n["net:eth0:rx_bps"], 52000);
        assert_eq!(n["net:eth0:tx_pps"], 300);
        assert_eq!(n["net:lo:tx_bps"], 1000);
        let disk = "   8       0 sda 100 0 2048 10 50 0 4096 20 0 30 30 0 0 0 0\n   8       1 sda1 90 0 2000 10 50 0 4096 20 0 30 30 0 0 0 0\n";
        let d = parse_diskstats(disk, &["sda".to_string()]);
        assert_eq!(d["io:sda:read_bps"], 2048 * 512);
        assert_eq!(d["io:sda:write_bps"], 4096 * 512);
        assert!(
            !d.contains_key("io:sda1:read_bps"),
            "partitions are left out"
        );
    }

    #[test]
    fn a_second_sample_has_rates() {
        let mut s = Sampler::new();
        let first = s.sample();
        assert!(first.values.contains_key("cpu"));
        assert!(first.values["mem_total"] > 0.0);
        assert!(!first.values.keys().any(|k| k.ends_with("_bps")));
        std::thread::sleep(std::time::Duration::from_millis(50));
        let second = s.sample();
        assert!(
            second.values.contains_key("net:lo:rx_bps"),
            "{:?}",
            second.values.keys()
        );
        assert!(second.values.contains_key("load1"));
    }
}
