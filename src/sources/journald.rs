//! The systemd journal as a source: entries from `journalctl -o json`, mapped onto the same
//! message parsers as syslog lines.
//!
//! A fresh Debian 12 has no /var/log/auth.log (rsyslog is not installed), so this is the
//! only place its sshd failures can be read. This module owns the mapping of journal fields
//! (`MESSAGE`, `SYSLOG_IDENTIFIER`, `_COMM`, `_PID`, `__REALTIME_TIMESTAMP`, `_HOSTNAME`,
//! `__CURSOR`) and the follower process; it does not parse messages. The entry's shape is
//! [`crate::model::journal::Entry`].

use std::time::Duration;

use super::{Context, Source};
use crate::base::timestamp::{LocalZone, Timestamp};
use crate::model::journal::Entry;
use crate::parse::{InputFormat, Normalizer};
use crate::store::writer::{Batch, Checkpoint};

/// Whether a run reads the journal: `auto` (when there is no authentication log), `on`, `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JournaldMode {
    Auto,
    On,
    Off,
}

impl JournaldMode {
    /// Whether to read it, given whether the host has an authentication log.
    pub fn reads(self, has_auth_log: bool) -> bool {
        match self {
            JournaldMode::On => true,
            JournaldMode::Off => false,
            JournaldMode::Auto => !has_auth_log,
        }
    }
}

/// The arguments for `journalctl` to follow the journal from a saved cursor (exclusive),
/// from its start, or from now.
pub fn follow_args(cursor: Option<&str>, from_beginning: bool) -> Vec<String> {
    let mut args: Vec<String> = ["--output=json", "--follow", "--no-pager", "--quiet"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match cursor {
        Some(c) => args.push(format!("--after-cursor={c}")),
        None if from_beginning => args.push("--no-tail".into()),
        None => args.push("--lines=0".into()),
    }
    args
}

/// The name under which the journal cursor is checkpointed.
pub const CHECKPOINT: &str = "journald";

/// A running `journalctl --follow`, read line by line.
pub struct Follower {
    child: std::process::Child,
    reader: std::io::BufReader<std::process::ChildStdout>,
}

/// `journalctl` could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot run journalctl ({0}); install systemd's journalctl or set `journald: off`")]
pub struct SpawnError(#[source] std::io::Error);

impl Follower {
    /// Starts `journalctl` (looked up on PATH, or `PICKET_JOURNALCTL`) without a shell.
    pub fn spawn(cursor: Option<&str>, from_beginning: bool) -> Result<Follower, SpawnError> {
        let program = std::env::var_os("PICKET_JOURNALCTL").unwrap_or_else(|| "journalctl".into());
        let mut child = std::process::Command::new(program)
            .args(follow_args(cursor, from_beginning))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(SpawnError)?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SpawnError(std::io::Error::other("no stdout pipe")))?;
        Ok(Follower {
            child,
            reader: std::io::BufReader::with_capacity(256 * 1024, stdout),
        })
    }

    /// Reads the next line (without `\n`) into `buf`; `Ok(false)` when journalctl ended.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        use std::io::BufRead;
        buf.clear();
        let n = self.reader.read_until(b'\n', buf)?;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(n > 0)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The systemd journal as one source, resuming after its saved cursor.
pub struct JournalSource {
    pub from_beginning: bool,
    pub zone: LocalZone,
}

/// A run of the journal source: its cursor and where it sends.
struct Reading {
    cursor: Option<String>,
    from_beginning: bool,
    zone: LocalZone,
    ctx: Context,
}

/// Most journal lines per batch when the journal is busy.
const JOURNAL_BATCH: usize = 2000;

impl Source for JournalSource {
    fn id(&self) -> String {
        CHECKPOINT.to_string()
    }

    fn describe(&self) -> String {
        "reading the systemd journal".to_string()
    }

    fn checkpoint_name(&self) -> Option<String> {
        Some(CHECKPOINT.to_string())
    }

    fn run(self: Box<Self>, ctx: Context) {
        if ctx.saved.is_some() {
            tracing::info!(
                source = CHECKPOINT,
                "resuming the journal from the saved cursor"
            );
        }
        Reading {
            cursor: ctx.saved.clone(),
            from_beginning: self.from_beginning,
            zone: self.zone.clone(),
            ctx,
        }
        .run();
    }
}

impl Reading {
    fn run(mut self) {
        let mut normalizer = Normalizer::new(
            InputFormat::JournalJson,
            "journald",
            self.zone.clone(),
            Timestamp::now(),
        );
        let mut reported = false;
        while !self.ctx.stop.is_set() {
            let mut follower = match Follower::spawn(self.cursor.as_deref(), self.from_beginning) {
                Ok(f) => f,
                Err(e) => {
                    if !reported {
                        tracing::warn!(source = CHECKPOINT, "{e}");
                        reported = true;
                    }
                    self.ctx.stop.sleep(Duration::from_secs(5));
                    continue;
                }
            };
            self.follow(&mut follower, &mut normalizer);
            if !self.ctx.stop.is_set() {
                tracing::warn!(
                    source = CHECKPOINT,
                    "journalctl (pid {}) ended; restarting it",
                    follower.pid()
                );
                self.ctx.stop.sleep(Duration::from_secs(1));
            }
        }
    }

    /// Reads until journalctl ends or a stop is asked for. The stop is noticed at the next
    /// journal line or when the follower is killed on drop.
    fn follow(&mut self, follower: &mut Follower, normalizer: &mut Normalizer) {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(JOURNAL_BATCH);
        // Taken now: the child stays unreaped (so its pid cannot be reused) until the
        // follower is dropped by the caller.
        let child_pid = follower.pid() as libc::pid_t;
        // journalctl blocks while the journal is quiet; a reader thread lets this one keep
        // watching the stop flag.
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut buf = Vec::new();
                loop {
                    match follower.next_line(&mut buf) {
                        Ok(true) => {
                            if tx.send(Some(std::mem::take(&mut buf))).is_err() {
                                return;
                            }
                        }
                        _ => {
                            let _ = tx.send(None);
                            return;
                        }
                    }
                }
            });
            let mut events = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut pending = 0usize;
                let mut ended = false;
                let mut next = rx
                    .recv_timeout(Duration::from_millis(50))
                    .map_err(|e| e == std::sync::mpsc::RecvTimeoutError::Disconnected);
                loop {
                    match next {
                        Ok(Some(line)) => {
                            let text = String::from_utf8_lossy(&line);
                            if let Some(entry) = Entry::from_json(&text) {
                                let raw = entry.as_syslog_line();
                                normalizer.advance_reference(Timestamp::now());
                                normalizer.push_journal_entry(&entry, &raw, &mut events);
                                if entry.cursor.is_some() {
                                    cursor = entry.cursor;
                                }
                            }
                            pending += 1;
                        }
                        Ok(None) | Err(true) => ended = true,
                        Err(false) => {}
                    }
                    if ended || pending == 0 || pending >= JOURNAL_BATCH {
                        break;
                    }
                    // Take what is already waiting, so a busy journal is written in batches.
                    next = match rx.try_recv() {
                        Ok(m) => Ok(m),
                        Err(std::sync::mpsc::TryRecvError::Empty) => break,
                        Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(true),
                    };
                }
                if pending > 0 {
                    let checkpoints = cursor.take().map(|c| {
                        self.cursor = Some(c.clone());
                        Checkpoint {
                            name: CHECKPOINT.into(),
                            value: c,
                        }
                    });
                    let batch = Batch {
                        events: std::mem::take(&mut events),
                        alerts: Vec::new(),
                        checkpoints: checkpoints.into_iter().collect(),
                    };
                    if self.ctx.output.batch(batch).is_err() {
                        ended = true;
                    }
                }
                if ended || self.ctx.stop.is_set() {
                    break;
                }
            }
            drop(rx);
            // Unblock the reader: killing journalctl closes its stdout.
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own unreaped child.
            unsafe {
                libc::kill(child_pid, libc::SIGTERM);
            }
            let _ = reader.join();
        });
    }
}

#[cfg(test)]
mod follow_tests {
    use super::*;

    #[test]
    fn resumes_after_the_saved_cursor_or_starts_at_now() {
        assert!(follow_args(Some("s=1;i=2"), false).contains(&"--after-cursor=s=1;i=2".to_string()));
        assert!(follow_args(None, false).contains(&"--lines=0".to_string()));
        assert!(follow_args(None, true).contains(&"--no-tail".to_string()));
    }
}
