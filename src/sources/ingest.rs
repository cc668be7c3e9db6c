//! Alerts other detectors post to the API (`POST /api/alert`) as a source. The web layer
//! holds an [`Intake`] and submits validated alerts through it; this source hands them
//! into the pipeline, where they are logged, acted on (their `block_ip`), grouped into
//! incidents and notified like the rules' own, and answers once they are committed.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::{Context, Source};
use crate::model::Alert;

/// Submissions waiting for the source; a caller beyond it waits (the API's blocking pool).
const QUEUE: usize = 64;

enum Request {
    Submit {
        alerts: Vec<Alert>,
        reply: SyncSender<Result<(), String>>,
    },
    /// The run is stopping (sent by the source's own stop waker, so it never has to wake
    /// up just to look).
    Stop,
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
            .send(Request::Submit { alerts, reply })
            .map_err(|_| "the engine has stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the engine has stopped".to_string())?
    }
}

/// The source end of an [`Intake`].
pub struct IngestSource {
    rx: Receiver<Request>,
    /// A way to wake its own receiver when the run stops.
    waker: SyncSender<Request>,
}

/// A connected intake and source.
pub fn channel() -> (Intake, IngestSource) {
    let (tx, rx) = sync_channel(QUEUE);
    let waker = tx.clone();
    (Intake { tx }, IngestSource { rx, waker })
}

impl Source for IngestSource {
    fn id(&self) -> String {
        "ingest".to_string()
    }

    fn describe(&self) -> String {
        "taking alerts from other detectors (POST /api/alert)".to_string()
    }

    fn run(self: Box<Self>, ctx: Context) {
        let IngestSource { rx, waker } = *self;
        // A full queue needs no wake-up: the loop looks at the stop after each request.
        ctx.stop.on_stop(move || {
            let _ = waker.try_send(Request::Stop);
        });
        while !ctx.stop.is_set() {
            let Ok(Request::Submit { alerts, reply }) = rx.recv() else {
                return;
            };
            let result = ctx
                .output
                .alerts_committed(alerts)
                .map_err(|e| e.to_string());
            let closed = result.is_err();
            let _ = reply.send(result);
            if closed {
                return;
            }
        }
    }
}
