//! Alerts other detectors post to the API (`POST /api/alert`) as a source. The web layer
//! holds an [`Intake`] and submits validated alerts through it; this source hands them
//! into the pipeline, where they are logged, acted on (their `block_ip`), grouped into
//! incidents and notified like the rules' own, and answers once they are committed.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use super::{Context, Source};
use crate::model::Alert;

/// Submissions waiting for the source; a caller beyond it waits (the API's blocking pool).
const QUEUE: usize = 64;

struct Request {
    alerts: Vec<Alert>,
    reply: SyncSender<Result<(), String>>,
}

/// The web layer's way in. Cloneable; blocking: call it off the async workers.
#[derive(Clone)]
pub struct Intake {
    tx: SyncSender<Request>,
}

impl Intake {
    /// Hands `alerts` into the pipeline and returns once they are committed.
    pub fn submit(&self, alerts: Vec<Alert>) -> Result<(), String> {
        let (reply, answer) = sync_channel(1);
        self.tx
            .send(Request { alerts, reply })
            .map_err(|_| "the engine has stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the engine has stopped".to_string())?
    }
}

/// The source end of an [`Intake`].
pub struct IngestSource {
    rx: Receiver<Request>,
}

/// A connected intake and source.
pub fn channel() -> (Intake, IngestSource) {
    let (tx, rx) = sync_channel(QUEUE);
    (Intake { tx }, IngestSource { rx })
}

impl Source for IngestSource {
    fn id(&self) -> String {
        "ingest".to_string()
    }

    fn describe(&self) -> String {
        "taking alerts from other detectors (POST /api/alert)".to_string()
    }

    fn run(self: Box<Self>, ctx: Context) {
        while !ctx.stop.is_set() {
            let req = match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let result = ctx
                .output
                .alerts_committed(req.alerts)
                .map_err(|e| e.to_string());
            let closed = result.is_err();
            let _ = req.reply.send(result);
            if closed {
                return;
            }
        }
    }
}
