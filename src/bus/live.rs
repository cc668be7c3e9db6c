//! What happens now, for the dashboard's stream: the store writer's commits (alerts with
//! their row ids, a sample of events), status changes made through the API, and rule
//! set changes, broadcast to every `/api/stream` subscriber.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::model::AlertStatus;
use crate::store::alerts::StoredAlert;
use crate::store::events::StoredEvent;
use crate::store::writer::{CommitHook, Committed};

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

    /// The store writer's hook: forwards each commit, at most [`EVENTS_PER_SECOND`] events.
    pub fn commit_hook(&self) -> CommitHook {
        let live = self.clone();
        let budget = Mutex::new((Instant::now(), 0u32));
        Box::new(move |c: Committed| {
            for a in c.alerts {
                live.send(LiveMsg::Alert(Arc::new(a)));
            }
            if !c.incidents.is_empty() {
                live.send(LiveMsg::Incidents(c.incidents));
            }
            let mut b = budget.lock().unwrap_or_else(|p| p.into_inner());
            if b.0.elapsed().as_secs() >= 1 {
                *b = (Instant::now(), 0);
            }
            for e in c.events {
                if b.1 >= EVENTS_PER_SECOND {
                    break;
                }
                b.1 += 1;
                live.send(LiveMsg::Event(Arc::new(e)));
            }
        })
    }
}
