//! Log files as a source: which files a run tails (the configured ones, else the
//! defaults that exist), and one [`FileSource`] per file that tails it
//! ([`super::tail::Tailer`]: rotation-proof, checkpointed), normalizes its lines and hands
//! the events on with the checkpoint that covers them.
//!
//! The tailers sleep until inotify says their file changed (one watch for all of them,
//! [`super::tail::wake::Wakeups`]), with a fallback look every second; without inotify
//! they poll.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::tail::wake::Wakeups;
use super::tail::{StartAt, Tailer};
use super::{Context, Source};
use crate::base::timestamp::{LocalZone, Timestamp};
use crate::model::Event;
use crate::parse::{InputFormat, Normalizer};
use crate::store::writer::Checkpoint;

/// The logs tailed when none are configured: those of them that exist are used.
pub const DEFAULT_LOGS: &[&str] = &[
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/kern.log",
    "/var/log/dpkg.log",
];

/// Logs whose absence means the host logs authentication only to the journal.
pub const AUTH_LOGS: &[&str] = &["/var/log/auth.log", "/var/log/secure"];

/// One entry of `logs:` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub path: PathBuf,
    /// `syslog`, `dpkg` or `journal-json`; detected from the name and content when absent.
    #[serde(default)]
    pub format: Option<InputFormat>,
}

/// The files to tail: `configured`, else the defaults that exist.
pub fn plan(configured: &[LogConfig]) -> Vec<LogConfig> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    DEFAULT_LOGS
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .map(|path| LogConfig { path, format: None })
        .collect()
}

/// Whether this host has an authentication log (else it logs them only to the journal).
pub fn has_auth_log() -> bool {
    AUTH_LOGS.iter().any(|p| Path::new(p).exists())
}

/// How the file sources of a run read.
#[derive(Debug, Clone)]
pub struct FileOptions {
    pub start: StartAt,
    pub zone: LocalZone,
    /// How often a file is looked at without inotify.
    pub poll: Duration,
}

/// One file source per log in `logs`, sharing one inotify watch.
pub fn sources(logs: &[LogConfig], opts: &FileOptions) -> Vec<Box<dyn Source>> {
    // One inotify watch wakes the tailers; without it (no inotify) they poll.
    let wakeups = match Wakeups::new() {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(
                "cannot watch the logs for changes ({e}); polling them every {} ms",
                opts.poll.as_millis()
            );
            None
        }
    };
    logs.iter()
        .map(|log| {
            let wake = wakeups.as_ref().and_then(|w| match w.subscribe(&log.path) {
                Ok(rx) => Some((w.clone(), rx)),
                Err(e) => {
                    tracing::warn!(
                        file = %log.path.display(),
                        "cannot watch {} for changes ({e}); polling it",
                        log.path.display()
                    );
                    None
                }
            });
            Box::new(FileSource {
                path: log.path.clone(),
                format: log.format,
                opts: opts.clone(),
                wake,
            }) as Box<dyn Source>
        })
        .collect()
}

/// Tails one file.
pub struct FileSource {
    path: PathBuf,
    format: Option<InputFormat>,
    opts: FileOptions,
    /// Told when the file changes; without it the source polls every `opts.poll`.
    wake: Option<(Arc<Wakeups>, std::sync::mpsc::Receiver<()>)>,
}

/// How often a tailer that is woken by file changes still looks by itself (a lost event
/// costs this much latency, never lines).
const WAKE_FALLBACK: Duration = Duration::from_secs(1);

impl Source for FileSource {
    fn id(&self) -> String {
        super::tail::checkpoint_name(&self.path)
    }

    fn describe(&self) -> String {
        format!("tailing {}", self.path.display())
    }

    fn checkpoint_name(&self) -> Option<String> {
        Some(super::tail::checkpoint_name(&self.path))
    }

    fn run(self: Box<Self>, ctx: Context) {
        let source = super::tail::checkpoint_name(&self.path);
        if let Some((wakeups, _)) = &self.wake {
            let wakeups = wakeups.clone();
            ctx.stop.on_stop(move || wakeups.wake_all());
        }
        let mut tailer = Tailer::new(self.path.clone(), ctx.saved.as_deref(), self.opts.start);
        let mut normalizer: Option<Normalizer> = None;
        let mut events: Vec<Event> = Vec::new();
        loop {
            let stopping = ctx.stop.is_set();
            let poll = tailer.poll();
            if let Some(e) = &poll.error {
                tracing::warn!(file = %self.path.display(), "{e}");
            }
            for notice in &poll.notices {
                tracing::info!(file = %self.path.display(), "{}: {notice}", self.path.display());
            }
            if let Some(first) = poll.lines.iter().next() {
                let n = normalizer.get_or_insert_with(|| {
                    let format = self
                        .format
                        .unwrap_or_else(|| InputFormat::detect(&self.path, first));
                    Normalizer::new(format, &source, self.opts.zone.clone(), Timestamp::now())
                });
                n.advance_reference(Timestamp::now());
                for line in poll.lines.iter() {
                    n.push_line(line, &mut events);
                }
            }
            if let Some(value) = poll.checkpoint {
                let checkpoint = Checkpoint {
                    name: source.clone(),
                    value,
                };
                if ctx
                    .output
                    .events_upto(std::mem::take(&mut events), checkpoint)
                    .is_err()
                {
                    return;
                }
            }
            if stopping {
                return;
            }
            if !poll.more {
                match &self.wake {
                    Some((_, rx)) => {
                        let _ = rx.recv_timeout(self.opts.poll.max(WAKE_FALLBACK));
                    }
                    None => {
                        ctx.stop.sleep(self.opts.poll);
                    }
                }
            }
        }
    }
}
