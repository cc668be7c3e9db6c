//! The process table and the listening sockets as a source: read every interval, the
//! newest kept for the API ([`SharedSnapshot`]), what changed sent on as events. The very
//! first snapshot Picket ever takes is the port baseline.

use std::path::PathBuf;
use std::time::Duration;

use super::baseline::PortBaseline;
use super::{Collector, SharedSnapshot};
use crate::base::timestamp::Timestamp;
use crate::sources::{Context, Source};

/// Reads the process table and listening sockets every `interval` and sends their
/// changes, as events, to the engine.
pub struct SnapshotSource {
    pub interval: Duration,
    pub shared: SharedSnapshot,
    pub baseline: PortBaseline,
    pub data_dir: PathBuf,
}

impl Source for SnapshotSource {
    fn id(&self) -> String {
        "snapshots".to_string()
    }

    fn describe(&self) -> String {
        format!(
            "reading processes and listening ports every {} s",
            self.interval.as_secs()
        )
    }

    fn run(self: Box<Self>, ctx: Context) {
        self.collect(ctx);
    }
}

impl SnapshotSource {
    /// The first snapshot Picket ever takes is the port baseline.
    fn learn_baseline(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use crate::store::port_baseline as stored;
        if !stored::learned(conn)? {
            let snap = self.shared.read().unwrap_or_else(|p| p.into_inner());
            let now = Timestamp::now();
            let entries: Vec<stored::Entry> = snap
                .ports
                .iter()
                .map(|q| stored::Entry {
                    proto: q.proto.to_string(),
                    port: q.port,
                    source: "learned".into(),
                    process: q.process.clone(),
                    note: None,
                    added: now,
                })
                .collect();
            stored::learn(conn, &entries)?;
            tracing::info!(
                source = "snapshots",
                "learned {} listening ports as the expected baseline",
                entries.len()
            );
        }
        let list = stored::list(conn)?;
        self.baseline
            .set(list.into_iter().map(|e| (e.proto, e.port)));
        Ok(())
    }

    fn collect(self, ctx: Context) {
        let mut collector = Collector::new();
        let mut failing = false;
        let conn = crate::store::open(&self.data_dir);
        let mut first = true;
        while !ctx.stop.is_set() {
            match collector.collect(&self.shared) {
                Ok(mut events) => {
                    if first {
                        first = false;
                        match &conn {
                            Ok(c) => {
                                if let Err(e) = self.learn_baseline(c) {
                                    tracing::warn!(source = "snapshots", "the port baseline: {e}");
                                }
                            }
                            Err(e) => {
                                tracing::warn!(source = "snapshots", "the port baseline: {e}")
                            }
                        }
                    }
                    self.baseline.annotate(&mut events);
                    failing = false;
                    if !events.is_empty() && ctx.output.events(events).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // Said once, not every round.
                    if !failing {
                        tracing::warn!(
                            source = "snapshots",
                            "cannot read processes and ports: {e}"
                        );
                    }
                    failing = true;
                }
            }
            ctx.stop.sleep(self.interval);
        }
    }
}
