//! File integrity: watched sensitive files (FILE_CHANGED) and log tampering under
//! `/var/log` (LOG_DELETED, LOG_TRUNCATED), from inotify through notify, with a periodic
//! full verification that catches what a watch cannot (a file that appears in a new
//! directory, such as a new user's `~/.ssh/authorized_keys`, or a lost event).
//!
//! The watched files' known states are saved as the source checkpoint `fim:files`, in
//! the same transaction as the events they produced, so a change made while Picket was
//! stopped is reported at the next start (marked `extra.while_stopped`) and none is
//! reported twice.
//!
//! - `files`: the watch list, file states, FILE_CHANGED; `logs`: /var/log rotation vs
//!   deletion and truncation.

pub(crate) mod files;
pub(crate) mod logs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::base::timestamp::Timestamp;
use crate::model::event::Event;
use crate::store::writer::{Batch, Checkpoint};
use files::{FileState, FileTracker, Names, WatchList};
use logs::LogTracker;

/// The checkpoint holding the watched files' states.
pub const CHECKPOINT: &str = "fim:files";

/// How long changes must settle before they are looked at (an editor's save, a
/// rotation's several renames).
const SETTLE: Duration = Duration::from_millis(200);

/// What is saved between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    patterns: Vec<String>,
    files: BTreeMap<PathBuf, FileState>,
}

/// What to watch.
#[derive(Debug, Clone)]
pub struct FimOptions {
    pub paths: Vec<String>,
    /// The log directory (`/var/log`); `None` leaves logs unwatched.
    pub log_dir: Option<PathBuf>,
    /// How often every watched file is verified in full.
    pub verify_every: Duration,
}

/// The file integrity source. `send` takes each batch (events and the checkpoint) and
/// says whether to go on.
pub struct Fim {
    opts: FimOptions,
    list: WatchList,
    tracker: FileTracker,
    logs: Option<LogTracker>,
    /// Whether the saved states came from a run with the same list (else files seen for
    /// the first time are learned, not reported as created).
    same_list: bool,
    source: Arc<str>,
}

impl Fim {
    /// Starts from the saved checkpoint (if any).
    pub fn new(opts: FimOptions, saved: Option<&str>) -> Fim {
        let saved: Option<Saved> = saved.and_then(|s| serde_json::from_str(s).ok());
        let list = WatchList::new(opts.paths.clone());
        let same_list = saved.as_ref().is_some_and(|s| s.patterns == opts.paths);
        let mut tracker = FileTracker::with_baseline(saved.map(|s| s.files).unwrap_or_default());
        tracker.forget_unlisted(&list);
        let logs = opts.log_dir.as_deref().map(LogTracker::new);
        Fim {
            opts,
            list,
            tracker,
            logs,
            same_list,
            source: Arc::from("file-integrity"),
        }
    }

    fn checkpoint(&self) -> Checkpoint {
        let saved = Saved {
            patterns: self.opts.paths.clone(),
            files: self.tracker.known().clone(),
        };
        Checkpoint {
            name: CHECKPOINT.into(),
            value: serde_json::to_string(&saved).unwrap_or_default(),
        }
    }

    /// The first look: files changed since the saved states are reported as changed
    /// while stopped; without saved states (or after the list changed) they are learned.
    pub fn start(&mut self) -> Batch {
        let paths = self.tracker.to_check(&self.list);
        let events = if self.same_list {
            self.file_events(&paths, true)
        } else {
            let known: BTreeSet<PathBuf> = self.tracker.known().keys().cloned().collect();
            // Files known from before still report; new ones are learned.
            let events = self.file_events(&known, true);
            let new: Vec<PathBuf> = paths.difference(&known).cloned().collect();
            self.tracker.learn(&new);
            self.same_list = true;
            events
        };
        Batch {
            events,
            alerts: Vec::new(),
            checkpoints: vec![self.checkpoint()],
        }
    }

    fn file_events<'a>(
        &mut self,
        paths: impl IntoIterator<Item = &'a PathBuf>,
        while_stopped: bool,
    ) -> Vec<Event> {
        let changes = self.tracker.check(paths);
        if changes.is_empty() {
            return Vec::new();
        }
        let names = Names::load();
        let pm = files::package_manager_running();
        let now = Timestamp::now();
        changes
            .iter()
            .map(|c| files::event(c, now, &names, pm, while_stopped, self.source.clone()))
            .collect()
    }

    /// Handles changed paths (from the watch); `None` when nothing changed.
    pub fn changed(&mut self, paths: &[PathBuf]) -> Option<Batch> {
        let mut events = Vec::new();
        let now = Timestamp::now();
        if let Some(logs) = &mut self.logs {
            let in_logs: Vec<PathBuf> = paths.iter().filter(|p| logs.covers(p)).cloned().collect();
            for f in logs.changed(&in_logs) {
                events.push(logs::event(&f, now, self.source.clone()));
            }
        }
        let watched: Vec<PathBuf> = paths
            .iter()
            .filter(|p| self.list.covers(p))
            .cloned()
            .collect();
        let file_events = self.file_events(&watched, false);
        let files_changed = !file_events.is_empty();
        events.extend(file_events);
        if events.is_empty() {
            return None;
        }
        Some(Batch {
            events,
            alerts: Vec::new(),
            // Only file changes move the saved states; log findings need no checkpoint.
            checkpoints: if files_changed {
                vec![self.checkpoint()]
            } else {
                Vec::new()
            },
        })
    }

    /// Verifies every watched file in full; `None` when nothing changed.
    pub fn verify(&mut self) -> Option<Batch> {
        let paths = self.tracker.to_check(&self.list);
        let events = self.file_events(&paths, false);
        (!events.is_empty()).then(|| Batch {
            events,
            alerts: Vec::new(),
            checkpoints: vec![self.checkpoint()],
        })
    }

    /// The directories to watch now, with whether recursively.
    fn watch_dirs(&self) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> =
            self.list.dirs().into_iter().map(|d| (d, false)).collect();
        if let Some(l) = &self.logs {
            out.push((l.root().to_path_buf(), true));
        }
        out
    }

    /// Watches and verifies until `stop`; `send` gets each batch and returns false when
    /// the pipeline is gone. Meant for its own thread.
    pub fn run(
        mut self,
        stop: &crate::base::stop::Stop,
        send: impl Fn(Batch) -> bool,
    ) -> notify_debouncer_full::notify::Result<()> {
        use notify_debouncer_full::notify::RecursiveMode;
        use notify_debouncer_full::{new_debouncer, DebounceEventResult};
        let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
        // Checked every SETTLE rather than four times as often: idle cost matters more than
        // a tenth of a second.
        let mut debouncer = new_debouncer(SETTLE, Some(SETTLE), tx)?;
        let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
        let mut add_watches = |fim: &Fim, debouncer: &mut crate::base::watch::DirWatch| {
            for (dir, recursive) in fim.watch_dirs() {
                if watched.contains(&dir) {
                    continue;
                }
                let mode = if recursive {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                match debouncer.watch(&dir, mode) {
                    Ok(()) => {
                        watched.insert(dir);
                    }
                    Err(e) => tracing::warn!("file integrity: cannot watch {}: {e}", dir.display()),
                }
            }
        };
        add_watches(&self, &mut debouncer);
        if !send(self.start()) {
            return Ok(());
        }
        let mut last_verify = Instant::now();
        while !stop.is_set() {
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(result) => {
                    let mut paths: Vec<PathBuf> = Vec::new();
                    let mut lost = false;
                    for r in std::iter::once(result).chain(rx.try_iter()) {
                        match r {
                            Ok(events) => {
                                for e in events.iter().filter(|e| {
                                    crate::base::watch::is_content_change(&e.event.kind)
                                }) {
                                    paths.extend(e.event.paths.iter().cloned());
                                }
                            }
                            Err(_) => lost = true,
                        }
                    }
                    paths.sort();
                    paths.dedup();
                    if let Some(b) = self.changed(&paths) {
                        if !send(b) {
                            return Ok(());
                        }
                    }
                    if lost {
                        last_verify = Instant::now() - self.opts.verify_every;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            if last_verify.elapsed() >= self.opts.verify_every {
                last_verify = Instant::now();
                add_watches(&self, &mut debouncer);
                if let Some(b) = self.verify() {
                    if !send(b) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// File integrity as a pipeline source.
pub struct FimSource {
    pub opts: FimOptions,
}

impl crate::sources::Source for FimSource {
    fn id(&self) -> String {
        CHECKPOINT.to_string()
    }

    fn describe(&self) -> String {
        format!(
            "watching {} file patterns{} for changes",
            self.opts.paths.len(),
            self.opts
                .log_dir
                .as_ref()
                .map(|d| format!(" and the logs under {}", d.display()))
                .unwrap_or_default()
        )
    }

    fn checkpoint_name(&self) -> Option<String> {
        Some(CHECKPOINT.to_string())
    }

    fn run(self: Box<Self>, ctx: crate::sources::Context) {
        let fim = Fim::new(self.opts, ctx.saved.as_deref());
        if let Err(e) = fim.run(&ctx.stop, |b| ctx.output.batch(b).is_ok()) {
            tracing::warn!(source = CHECKPOINT, "file integrity stopped: {e}");
        }
    }
}
