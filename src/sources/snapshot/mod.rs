//! Snapshot collectors: the process table and the listening sockets, read on an interval.
//! The newest snapshot is kept for the API (`/api/processes`, `/api/ports`); the
//! difference to the previous one becomes events (PROCESS_STARTED, PORT_OPENED,
//! PORT_CLOSED) that go through the same rule engine as log events.
//!
//! The first snapshot after a start reports everything it finds with `extra.initial =
//! "true"`, so a rule can tell "was already running" from "started while we watched".

pub(crate) mod baseline;
pub(crate) mod diff;
pub(crate) mod ports;
pub(crate) mod processes;
pub(crate) mod source;

use std::sync::{Arc, RwLock};

use crate::base::timestamp::Timestamp;

pub use ports::PortInfo;
pub use processes::ProcessInfo;

/// The newest snapshot, shared with the API.
#[derive(Debug, Default)]
pub struct HostSnapshot {
    pub taken: Option<Timestamp>,
    pub processes: Vec<ProcessInfo>,
    pub ports: Vec<PortInfo>,
}

pub type SharedSnapshot = Arc<RwLock<HostSnapshot>>;

/// Takes snapshots and turns each one's changes into events.
#[derive(Default)]
pub struct Collector {
    history: processes::CpuHistory,
    previous: Option<(Vec<ProcessInfo>, Vec<PortInfo>)>,
    host: Option<Arc<str>>,
    /// Socket inode → owning pid, kept between snapshots.
    owners: std::collections::HashMap<u64, i32>,
}

impl Collector {
    pub fn new() -> Collector {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| Arc::from(h.trim()));
        Collector {
            host,
            ..Collector::default()
        }
    }

    /// One round: reads processes and ports, publishes them to `shared`, and returns the
    /// events their changes make.
    pub fn collect(
        &mut self,
        shared: &SharedSnapshot,
    ) -> std::io::Result<Vec<crate::model::event::Event>> {
        let now = Timestamp::now();
        let procs = processes::snapshot(&mut self.history)?;
        let ports = ports::snapshot(&procs, &mut self.owners)?;
        let events = diff::events(
            self.previous
                .as_ref()
                .map(|(p, q)| (p.as_slice(), q.as_slice())),
            &procs,
            &ports,
            now,
            self.host.clone(),
        );
        {
            let mut s = shared.write().unwrap_or_else(|p| p.into_inner());
            s.taken = Some(now);
            s.processes = procs.clone();
            s.ports = ports.clone();
        }
        self.previous = Some((procs, ports));
        Ok(events)
    }
}
