//! The engine stage: one thread that owns the rule engine. It takes what the sources hand
//! on, adds the alerts the events raise, orders the actions those alerts ask for (before
//! the store: a ban must not wait for a commit), and passes each batch on to the store
//! writer unchanged otherwise, so checkpoints still commit with their events.

use std::sync::mpsc::{sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use crate::bus::board::RuleBoard;
use crate::bus::live::{Live, LiveMsg};
use crate::engine::{Engine, RuleSet};
use crate::model::Alert;
use crate::response::Guard;
use crate::sources::Message;
use crate::store::writer::{Batch, WriterSender};

/// What the engine stage receives.
pub enum EngineMsg {
    /// From a source.
    Source(Message),
    /// A reloaded rule set to swap in.
    Rules(Arc<RuleSet>),
}

/// Most messages waiting for the engine; sources block beyond it (back-pressure).
const ENGINE_QUEUE: usize = 64;

/// Where the engine stage's alerts and batches go.
pub struct Downstream {
    pub writer: WriterSender,
    /// Alerts that name an action, for the responder stage.
    pub responder: Sender<Alert>,
    pub board: RuleBoard,
    pub live: Live,
    /// `allowlist_applies_to: alerts`: protected addresses raise nothing.
    pub spare: Option<Guard>,
}

/// The stage's input, its thread, and a token that lives as long as the thread does (for
/// a watchdog: `Weak::strong_count` is 0 once the thread has ended).
pub type Started = (SyncSender<EngineMsg>, JoinHandle<()>, Weak<()>);

/// Starts the stage; it runs until every sender of the returned channel is dropped.
pub fn start(rules: Arc<RuleSet>, down: Downstream) -> std::io::Result<Started> {
    let (tx, rx) = sync_channel::<EngineMsg>(ENGINE_QUEUE);
    let alive = Arc::new(());
    let token = Arc::downgrade(&alive);
    let handle = std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || {
            let _alive = alive;
            run(Engine::new(rules), rx, down)
        })?;
    Ok((tx, handle, token))
}

fn run(mut engine: Engine, rx: Receiver<EngineMsg>, down: Downstream) {
    for msg in rx {
        let mut handed_on = None;
        let mut batch = match msg {
            EngineMsg::Source(Message::Batch(b)) => b,
            EngineMsg::Source(Message::Alerts(alerts, done)) => {
                handed_on = Some(done);
                Batch {
                    alerts,
                    ..Batch::default()
                }
            }
            EngineMsg::Rules(rules) => {
                // Pending alert updates of the old rules go out in a batch of their own.
                let mut batch = Batch::default();
                engine.replace_rules(rules, &mut batch.alerts);
                batch
            }
        };
        for e in &batch.events {
            engine.on_event(e, &mut batch.alerts);
        }
        engine.flush(&mut batch.alerts);
        if let Some(g) = &down.spare {
            batch.alerts.retain(|a| !g.spares_alert(a));
        }
        if down.board.set_scripts(engine.script_statuses()) {
            down.live.send(LiveMsg::Rules);
        }
        for a in batch.alerts.iter().filter(|a| a.is_new) {
            tracing::debug!(
                rule = %a.rule,
                severity = a.severity.as_str(),
                group = ?a.group,
                "alert: {}",
                a.title
            );
        }
        for a in batch.alerts.iter().filter(|a| !a.response.is_empty()) {
            let _ = down.responder.send(a.clone());
        }
        if down.writer.send(batch).is_err() {
            return;
        }
        if let Some(done) = handed_on {
            let _ = done.send(());
        }
    }
}
