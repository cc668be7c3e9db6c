//! Wake-ups for tailers: one inotify watch (through notify) on the directories of the
//! tailed files tells each tailer when its file, or a rotated sibling of it, changed, so
//! an idle tailer sleeps instead of polling, and a new line is read at once rather than
//! at the next poll. Tailers still poll on a slow fallback period, so a lost event costs
//! latency, never lines.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use notify_debouncer_full::notify::{self, RecommendedWatcher, RecursiveMode, Watcher};

type Subscribers = Arc<Mutex<Vec<(PathBuf, SyncSender<()>)>>>;

/// The shared watch.
pub struct Wakeups {
    watcher: Mutex<RecommendedWatcher>,
    watched: Mutex<Vec<PathBuf>>,
    subscribers: Subscribers,
}

/// Whether `changed` concerns the tailed `file`: the file itself, or a name that starts
/// with it (`auth.log.1`: rotation).
fn concerns(file: &Path, changed: &Path) -> bool {
    if changed == file {
        return true;
    }
    match (file.file_name(), changed.file_name(), changed.parent()) {
        (Some(f), Some(c), Some(dir)) => {
            Some(dir) == file.parent()
                && c.to_string_lossy()
                    .starts_with(&format!("{}.", f.to_string_lossy()))
        }
        _ => false,
    }
}

impl Wakeups {
    pub fn new() -> notify::Result<Wakeups> {
        let subscribers: Subscribers = Arc::default();
        let subs = subscribers.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let subs = subs.lock().unwrap_or_else(|p| p.into_inner());
            match res {
                Ok(e) if crate::base::watch::is_content_change(&e.kind) => {
                    for (file, tx) in subs.iter() {
                        if e.paths.iter().any(|p| concerns(file, p)) {
                            // Full means a wake-up is already pending: that is enough.
                            let _ = tx.try_send(());
                        }
                    }
                }
                Ok(_) => {}
                // Lost track (queue overflow): wake everyone to look.
                Err(_) => {
                    for (_, tx) in subs.iter() {
                        let _ = tx.try_send(());
                    }
                }
            }
        })?;
        Ok(Wakeups {
            watcher: Mutex::new(watcher),
            watched: Mutex::new(Vec::new()),
            subscribers,
        })
    }

    /// Wakes every tailer (to see the stop flag at once).
    pub fn wake_all(&self) {
        for (_, tx) in self
            .subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = tx.try_send(());
        }
    }

    /// Wake-ups for `file`. Its directory must exist (a file in a directory created
    /// later is left to the fallback polling).
    pub fn subscribe(&self, file: &Path) -> notify::Result<Receiver<()>> {
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        if !watched.contains(&dir) {
            self.watcher
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .watch(&dir, RecursiveMode::NonRecursive)?;
            watched.push(dir);
        }
        let (tx, rx) = sync_channel(1);
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((file.to_path_buf(), tx));
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_write_wakes_its_tailer_and_only_its_own() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("auth.log"), t.path().join("syslog"));
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let w = Wakeups::new().unwrap();
        let ra = w.subscribe(&a).unwrap();
        let rb = w.subscribe(&b).unwrap();
        std::fs::write(&a, "line\n").unwrap();
        assert!(ra.recv_timeout(Duration::from_secs(2)).is_ok());
        assert!(rb.recv_timeout(Duration::from_millis(200)).is_err());
        // Reading is not a change.
        while ra.try_recv().is_ok() {}
        let _ = std::fs::read(&a).unwrap();
        assert!(ra.recv_timeout(Duration::from_millis(200)).is_err());
        // Rotation touches the sibling.
        std::fs::rename(&a, t.path().join("auth.log.1")).unwrap();
        assert!(ra.recv_timeout(Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn siblings_are_names_that_extend_the_file() {
        let f = Path::new("/var/log/auth.log");
        assert!(concerns(f, Path::new("/var/log/auth.log")));
        assert!(concerns(f, Path::new("/var/log/auth.log.1")));
        assert!(!concerns(f, Path::new("/var/log/auth.logger")));
        assert!(!concerns(f, Path::new("/var/log/syslog")));
        assert!(!concerns(f, Path::new("/tmp/auth.log.1")));
    }
}
