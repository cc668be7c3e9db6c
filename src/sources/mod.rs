//! Where input comes from: files (tailed, rotation-proof), the journal, the host
//! snapshot collectors, host metrics, file integrity watches, LAN devices, traffic, and
//! alerts other detectors post to the API.
//!
//! Every input is a [`Source`]: it runs on a thread of its own with a [`Context`] that
//! holds only its [`Output`] (bounded: a source blocks when the engine is behind), the
//! run's [`Stop`] signal and its saved checkpoint. Log sources hand on lines and
//! checkpoints through a normalizer; they never interpret messages themselves. Which
//! sources a run has is decided by the pipeline's registry (`crate::pipeline`), from
//! the configuration; this module knows nothing of the configuration file.
//!
//! Must not: import the engine, the web layer or the pipeline.

pub(crate) mod files;
pub(crate) mod fim;
pub(crate) mod ingest;
pub(crate) mod journald;
pub mod lan;
pub(crate) mod metrics;
pub(crate) mod netlink;
pub(crate) mod snapshot;
pub mod tail;
pub(crate) mod traffic;

use std::sync::Arc;

pub use crate::base::stop::Stop;
use crate::model::{Alert, Event};
use crate::store::writer::{Batch, Checkpoint};

/// One input of a run.
pub trait Source: Send {
    /// Stable and unique within a run: `file:/var/log/auth.log`, `journald`, `snapshots`.
    fn id(&self) -> String;

    /// What it reads, for the start-up log: "tailing /var/log/auth.log".
    fn describe(&self) -> String;

    /// The name its position is saved under in the store, if it keeps one. The pipeline
    /// loads it before [`Source::run`] and hands it over in [`Context::saved`]; the
    /// source saves it again by sending `Checkpoint`s with the events they cover.
    fn checkpoint_name(&self) -> Option<String> {
        None
    }

    /// Reads until `ctx.stop` is set or the output closes. Runs on its own thread.
    fn run(self: Box<Self>, ctx: Context);
}

/// What a running source is given, and nothing more.
pub struct Context {
    pub output: Output,
    pub stop: Stop,
    /// The checkpoint saved under [`Source::checkpoint_name`], if any.
    pub saved: Option<String>,
}

/// What a source hands on: to the engine, then the store.
pub enum Message {
    /// Events, and the checkpoints that cover them (committed in one transaction).
    Batch(Batch),
    /// Alerts raised elsewhere (`POST /api/alert`); `handed_on` is told once they are
    /// queued for the store.
    Alerts(Vec<Alert>, std::sync::mpsc::SyncSender<()>),
}

/// The output has closed: the pipeline is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline has stopped")]
pub struct Closed;

type SendFn = dyn Fn(Message) -> Result<(), Closed> + std::marker::Send + Sync;
type FlushFn = dyn Fn() -> Result<(), Closed> + std::marker::Send + Sync;

/// A source's way into the pipeline: bounded (sending blocks while the engine is behind:
/// back-pressure, so a backlog waits in the file rather than in memory).
#[derive(Clone)]
pub struct Output {
    send: Arc<SendFn>,
    flush: Arc<FlushFn>,
}

impl Output {
    /// An output that hands messages to `send` and waits for the store with `flush`.
    pub fn new(
        send: impl Fn(Message) -> Result<(), Closed> + std::marker::Send + Sync + 'static,
        flush: impl Fn() -> Result<(), Closed> + std::marker::Send + Sync + 'static,
    ) -> Output {
        Output {
            send: Arc::new(send),
            flush: Arc::new(flush),
        }
    }

    /// Hands on a batch of events and the checkpoints that cover them.
    pub fn batch(&self, batch: Batch) -> Result<(), Closed> {
        (self.send)(Message::Batch(batch))
    }

    /// Hands on events that need no checkpoint (collectors).
    pub fn events(&self, events: Vec<Event>) -> Result<(), Closed> {
        self.batch(Batch {
            events,
            ..Batch::default()
        })
    }

    /// Hands on events with the checkpoint that covers them.
    pub fn events_upto(&self, events: Vec<Event>, checkpoint: Checkpoint) -> Result<(), Closed> {
        self.batch(Batch {
            events,
            alerts: Vec::new(),
            checkpoints: vec![checkpoint],
        })
    }

    /// Hands on alerts raised elsewhere and returns once they are committed.
    pub fn alerts_committed(&self, alerts: Vec<Alert>) -> Result<(), Closed> {
        let (done, handed_on) = std::sync::mpsc::sync_channel(1);
        (self.send)(Message::Alerts(alerts, done))?;
        handed_on.recv().map_err(|_| Closed)?;
        (self.flush)()
    }
}
