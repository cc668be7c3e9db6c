//! A light sampler of this host's CPU, memory and root-disk use for the Overview's charts:
//! one sample every [`SAMPLE_EVERY`], the last hour kept in memory. (Stored, downsampled
//! time series and the full metrics collector belong to the host-state work.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::timestamp::Timestamp;

pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const KEEP: usize = 360;

#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    pub mount: String,
    pub used: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Now {
    pub cpu_percent: f32,
    pub mem_used: u64,
    pub mem_total: u64,
    pub disk: Vec<Disk>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    pub cpu_percent: VecDeque<(Timestamp, f32)>,
    pub mem_percent: VecDeque<(Timestamp, f32)>,
    pub disk_percent: VecDeque<(Timestamp, f32)>,
}

#[derive(Debug, Default)]
struct Inner {
    now: Option<Now>,
    series: Series,
}

#[derive(Clone, Default)]
pub struct HostMetrics {
    inner: Arc<Mutex<Inner>>,
}

fn pct(used: u64, total: u64) -> f32 {
    if total == 0 {
        0.0
    } else {
        (used as f64 * 100.0 / total as f64) as f32
    }
}

impl HostMetrics {
    /// The latest sample and the series (`None` until the first sample).
    pub fn snapshot(&self) -> (Option<Now>, Series) {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (g.now.clone(), g.series.clone())
    }

    /// Samples until `stop` resolves; meant for a tokio task.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        use sysinfo::{Disks, MemoryRefreshKind, System};
        let mut sys = System::new();
        let mut disks = Disks::new_with_refreshed_list();
        sys.refresh_cpu_usage();
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            sys.refresh_cpu_usage();
            sys.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
            disks.refresh(true);
            let disk: Vec<Disk> = disks
                .list()
                .iter()
                .filter(|d| d.total_space() > 0)
                .map(|d| Disk {
                    mount: d.mount_point().to_string_lossy().into_owned(),
                    used: d.total_space() - d.available_space(),
                    total: d.total_space(),
                })
                .collect();
            let now = Now {
                cpu_percent: sys.global_cpu_usage(),
                mem_used: sys.used_memory(),
                mem_total: sys.total_memory(),
                disk,
            };
            let t = Timestamp::now();
            let root = now
                .disk
                .iter()
                .find(|d| d.mount == "/")
                .or(now.disk.first())
                .map_or(0.0, |d| pct(d.used, d.total));
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let s = &mut g.series;
            for (q, v) in [
                (&mut s.cpu_percent, now.cpu_percent),
                (&mut s.mem_percent, pct(now.mem_used, now.mem_total)),
                (&mut s.disk_percent, root),
            ] {
                if q.len() == KEEP {
                    q.pop_front();
                }
                q.push_back((t, v));
            }
            g.now = Some(now);
        }
    }
}
