//! The newest host metrics sample and the last hour of the Overview's three series (CPU,
//! memory, root disk), kept in memory for `/api/metrics`. The metrics collector feeds it;
//! the stored, downsampled history is `/api/metrics/history`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::Sample;
use crate::base::timestamp::Timestamp;

/// Samples kept in memory (an hour at the default 10 s interval).
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

impl HostMetrics {
    /// The latest sample and the series (`None` until the first sample).
    pub fn snapshot(&self) -> (Option<Now>, Series) {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (g.now.clone(), g.series.clone())
    }

    /// Takes in a sample from the collector.
    pub fn record(&self, s: &Sample) {
        let get = |k: &str| s.values.get(k).copied().unwrap_or(0.0);
        let disk: Vec<Disk> = s
            .disks
            .iter()
            .map(|(mount, used, total)| Disk {
                mount: mount.clone(),
                used: *used,
                total: *total,
            })
            .collect();
        let root = disk
            .iter()
            .find(|d| d.mount == "/")
            .or(disk.first())
            .map_or(0.0, |d| {
                if d.total == 0 {
                    0.0
                } else {
                    (d.used as f64 * 100.0 / d.total as f64) as f32
                }
            });
        let now = Now {
            cpu_percent: get("cpu") as f32,
            mem_used: get("mem_used") as u64,
            mem_total: get("mem_total") as u64,
            disk,
        };
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let ser = &mut g.series;
        for (q, v) in [
            (&mut ser.cpu_percent, now.cpu_percent),
            (&mut ser.mem_percent, get("mem_percent") as f32),
            (&mut ser.disk_percent, root),
        ] {
            if q.len() == KEEP {
                q.pop_front();
            }
            q.push_back((s.ts, v));
        }
        g.now = Some(now);
    }
}
