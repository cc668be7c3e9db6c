//! What happens now, for the dashboard's stream: the store writer's commits (alerts with
//! their row ids, a sample of events), status changes made through the API, and rule
//! set changes, broadcast to every `/api/stream` subscriber.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::broadcast;

use crate::model::AlertStatus;
use crate::store::alerts::StoredAlert;
use crate::store::events::StoredEvent;
use crate::store::sink::Sink;
use crate::store::writer::Committed;

#[derive(Debug, Clone)]
pub enum LiveMsg {
    Alert(Arc<StoredAlert>),
    AlertStatus {
        id: i64,
        status: AlertStatus,
    },
    Event(Arc<StoredEvent>),
    Rules,
    /// The configuration checks ran: `{ran_at, score}`.
    Config(serde_json::Value),
    /// A ban was made, recorded in dry-run or lifted: `{ip}`.
    Bans(serde_json::Value),
    /// Incidents opened, grown, closed or changed by a person: their ids.
    Incidents(Vec<i64>),
}

impl LiveMsg {
    /// News of a run of the configuration checks: `{ran_at, score}`.
    pub fn checks_ran(summary: &crate::checks::runner::RunSummary) -> LiveMsg {
        LiveMsg::Config(serde_json::json!({ "ran_at": summary.ran_at, "score": summary.score }))
    }
}

/// Most events per second forwarded to subscribers; the rest are only counted (the
/// dashboard asks the API for history).
pub const EVENTS_PER_SECOND: u32 = 50;

#[derive(Clone)]
pub struct Live {
    tx: broadcast::Sender<LiveMsg>,
    /// Counts alert changes (new or updated alerts, status changes): cached alert
    /// listings are good only for the count they were computed at.
    alerts_generation: Arc<AtomicU64>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        // A slow subscriber that falls this far behind skips ahead (and is told so).
        let (tx, _) = broadcast::channel(1024);
        Live {
            tx,
            alerts_generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many alert changes this process has seen: read it before querying alerts.
    pub fn alerts_generation(&self) -> u64 {
        self.alerts_generation.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveMsg> {
        self.tx.subscribe()
    }

    /// Broadcasts `msg`; news of an alert (sent after its commit) also moves the alert
    /// generation on.
    pub fn send(&self, msg: LiveMsg) {
        if matches!(msg, LiveMsg::Alert(_) | LiveMsg::AlertStatus { .. }) {
            self.alerts_generation.fetch_add(1, Ordering::SeqCst);
        }
        // No subscriber is not an error.
        let _ = self.tx.send(msg);
    }
}

/// The live stream as a sink of the store's commits: every alert and incident change, and
/// at most [`EVENTS_PER_SECOND`] events.
pub struct LiveSink {
    live: Live,
    /// Events forwarded in the current second, and when that second began.
    budget: (Instant, u32),
}

impl LiveSink {
    pub fn new(live: Live) -> LiveSink {
        LiveSink {
            live,
            budget: (Instant::now(), 0),
        }
    }
}

impl Sink for LiveSink {
    fn id(&self) -> &'static str {
        "live"
    }

    fn on_commit(&mut self, c: &Committed) {
        for a in &c.alerts {
            self.live.send(LiveMsg::Alert(Arc::new(a.clone())));
        }
        if !c.incidents.is_empty() {
            self.live.send(LiveMsg::Incidents(c.incidents.clone()));
        }
        if self.budget.0.elapsed().as_secs() >= 1 {
            self.budget = (Instant::now(), 0);
        }
        for e in &c.events {
            if self.budget.1 >= EVENTS_PER_SECOND {
                break;
            }
            self.budget.1 += 1;
            self.live.send(LiveMsg::Event(Arc::new(e.clone())));
        }
    }
}
