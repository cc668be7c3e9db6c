//! Rotation-proof file tailing, like `tail -F` but exact: no line lost and none delivered
//! twice across rename rotation, copytruncate rotation, a file that appears later, and
//! restarts of Picket.
//!
//! # Identity
//! A file is identified by its *fingerprint*: FNV-1a (64 bit, stable across runs) of its
//! bytes up to and including the first `\n`, capped at 256 bytes. A file without a
//! complete first line (and shorter than 256 bytes) has no fingerprint yet; nothing was
//! consumed from it, so its checkpoint offset is 0 and it is recognised by (device, inode)
//! instead. While Picket runs, (device, inode) of the open descriptor is what tells
//! whether the path still names the same file; the fingerprint is what survives a
//! restart (inodes are reused, device numbers may change across boots) and what tells a
//! copytruncate copy from the original.
//!
//! # State
//! Per path: the *current* file (open fd, fingerprint material, dev/ino, `offset` = byte
//! just after the last delivered line, read position, held-back partial line) and the
//! *draining* files, oldest first: files renamed away that the writer may still append to
//! until it reopens the path. A draining file is closed once it has not grown for the
//! grace period ([`DEFAULT_DRAIN_GRACE`], 5 s); a copytruncate copy (which nobody writes
//! to) is closed as soon as it is read to its end. Closing a file delivers its final
//! unterminated line, if any.
//!
//! # One poll
//! 1. Read every draining file to its end (one `fstat` each when idle).
//! 2. `fstat` the current fd. Smaller than the read position, or grown (or its ctime
//!    changed) while its first line changed: it was truncated (copytruncate). Look among `PATH.1` … `PATH.5` for the
//!    copy (same fingerprint, other inode, at least `offset` bytes): it is drained from
//!    `offset`, and any newer siblings from 0 (several rotations between two polls);
//!    then the current file restarts at 0.
//! 3. Read the current fd to its end: complete lines only, the last partial line is held.
//!    No read at all when the size is unchanged.
//! 4. `stat` the path. Another inode or missing: rename rotation. The old fd joins the
//!    draining files; if it is found as `PATH.k`, the siblings `PATH.k-1` … `PATH.1` that
//!    are not already known were created and rotated since the last poll and are drained
//!    from 0; the path, when it exists again, is read from 0.
//!
//! Each poll reads at most [`MAX_POLL_BYTES`]; [`Poll::more`] says to call again at once.
//!
//! # Checkpoint and restart
//! [`TailState`] (JSON) records fingerprint, dev, ino and offset of the current and the
//! draining files. Every poll that delivers lines returns the checkpoint valid *after*
//! those lines; the daemon stores it in the same transaction as their events. On start
//! with a saved state, `PATH` and `PATH.1` … `PATH.5` are fingerprinted: the saved current
//! file, found at `PATH` resumes at its offset; found at `PATH.k` it is drained from its
//! offset, `PATH.k-1` … `PATH.1` are drained from 0 and `PATH` is read from 0. Saved
//! draining files are resumed where they are found. A saved file found nowhere: `PATH` is
//! read from 0 and a notice says so. Without a saved state a file existing at the first
//! poll is read from its end ([`StartAt::End`], the default) or from its beginning; a file
//! that appears later is always read from 0.
//!
//! # Preconditions (what "exact" assumes)
//! - Picket polls (or, after a restart, first polls) before a file that still has unread
//!   lines is rotated out past `PATH.5` or compressed: at the default 100 ms poll interval
//!   this means no more than 5 rotations (1 with `compress` without `delaycompress`) in
//!   100 ms. Rotated names other than `PATH.N` (dateext) are only followed through the
//!   open fd, so lines written to them after a restart are missed.
//! - A writer reopens the path within the grace period after a rename rotation.
//! - While the path does not exist, siblings are not watched: a file that is created and
//!   rotated away between two polls while there is no current file is missed.
//! - Copytruncate is detected by a shrinking file or a changed first line. A file whose
//!   first line is the same before and after truncation (a fixed header) and that regrows
//!   past the old offset before the next poll is mistaken for the same file. Likewise a
//!   file truncated while its first line is still incomplete, and a file of which no
//!   complete line had been seen (e.g. empty at the last poll) that is written to and
//!   copytruncated before the next poll: its lines, now only in the copy, are missed.
//! - copytruncate itself loses what is written between its copy and its truncate; and a
//!   line a writer splits across a rotation is delivered as two lines.
//! - After a restart, a rotated file saved without a fingerprint (no complete line yet)
//!   is recognised by (device, inode) alone; the inode number of a deleted file can be
//!   reused, which is only guarded against by the order of the siblings.
//! - Lines longer than [`crate::base::lines::MAX_BUFFERED_LINE`] are cut to that length.

mod reader;
mod state;
pub(crate) mod wake;

#[cfg(test)]
mod tests;

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use reader::{fingerprint_of, fnv1a, Lines, FINGERPRINT_CAP};
pub use state::{FileState, TailState};

use reader::{head_complete, last_line_start, read_head, FileReader};

/// How long a rotated file is kept open after it last grew.
pub const DEFAULT_DRAIN_GRACE: Duration = Duration::from_secs(5);
/// Most bytes one poll reads; the rest waits for the next call ([`Poll::more`]).
pub const MAX_POLL_BYTES: usize = 8 << 20;
/// Rotated siblings looked at: `PATH.1` … `PATH.5`.
pub const MAX_SIBLINGS: usize = 5;
const READ_BUF: usize = 128 * 1024;

/// Where to start in a file that exists when the tailer first looks and there is no
/// saved checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartAt {
    /// After its last complete line (old history is not re-read).
    #[default]
    End,
    /// At its first byte.
    Beginning,
}

/// Why a file cannot be followed right now. The tailer keeps retrying quietly and
/// reports each distinct error once.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("cannot read {path}: permission denied; add the user Picket runs as to the `adm` group (sudo usermod -aG adm $USER, then log in again), or run Picket as root")]
    PermissionDenied { path: PathBuf },
    #[error("cannot {op} {path}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
}

impl TailError {
    fn new(path: &Path, op: &'static str, source: io::Error) -> TailError {
        if source.kind() == io::ErrorKind::PermissionDenied {
            TailError::PermissionDenied {
                path: path.to_path_buf(),
            }
        } else {
            TailError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        }
    }
}

/// What one poll produced.
#[derive(Debug, Default)]
pub struct Poll {
    /// New complete lines, in order, without their `\n` (a `\r` is left in place).
    pub lines: Lines,
    /// The checkpoint valid after `lines`; always present when `lines` is not empty, and
    /// whenever the state changed. Store it with the lines' events, atomically.
    pub checkpoint: Option<String>,
    /// Things worth a log line (rotation oddities, possible loss).
    pub notices: Vec<String>,
    /// A new error (each distinct error is reported once; retrying goes on quietly).
    pub error: Option<TailError>,
    /// The read budget ran out: more data is waiting, poll again without sleeping.
    pub more: bool,
}

/// Follows one path. See the module documentation.
pub struct Tailer {
    path: PathBuf,
    start: StartAt,
    /// A saved state not yet applied (applied by the first poll that can read the path).
    saved: Option<TailState>,
    /// No saved state and the path not yet seen: an existing file starts at `start`.
    fresh: bool,
    current: Option<FileReader>,
    draining: Vec<FileReader>,
    grace: Duration,
    scratch: Vec<u8>,
    last_checkpoint: Option<String>,
    dirty: bool,
    last_error: Option<String>,
    pending_notices: Vec<String>,
}

enum Step {
    Again,
    Done,
    Exhausted,
}

/// The store checkpoint name of a tailed path, `file:PATH` (also the events' `source`).
pub fn checkpoint_name(path: &Path) -> String {
    format!("file:{}", path.display())
}

impl Tailer {
    /// A tailer for `path`, resuming from `saved` (a checkpoint value this tailer returned
    /// earlier) if given. Nothing is opened until the first poll.
    pub fn new(path: PathBuf, saved: Option<&str>, start: StartAt) -> Tailer {
        let mut pending_notices = Vec::new();
        let parsed = saved.map(|s| match serde_json::from_str::<TailState>(s) {
            Ok(st) => st,
            Err(e) => {
                pending_notices.push(format!(
                    "{}: ignoring an unreadable checkpoint ({e}); reading it from the beginning",
                    path.display()
                ));
                TailState::default()
            }
        });
        Tailer {
            fresh: parsed.is_none(),
            saved: parsed,
            path,
            start,
            current: None,
            draining: Vec::new(),
            grace: DEFAULT_DRAIN_GRACE,
            scratch: Vec::new(),
            last_checkpoint: saved.map(str::to_string),
            dirty: false,
            last_error: None,
            pending_notices,
        }
    }

    /// The store checkpoint name: `file:PATH`.
    pub fn checkpoint_name(&self) -> String {
        checkpoint_name(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long a rotated file is kept open after it last grew.
    pub fn set_drain_grace(&mut self, grace: Duration) {
        self.grace = grace;
    }

    /// The current state (what the next checkpoint would say).
    pub fn state(&self) -> TailState {
        TailState {
            current: self.current.as_ref().map(FileReader::state),
            draining: self.draining.iter().map(FileReader::state).collect(),
        }
    }

    /// Number of rotated files still open.
    pub fn draining_count(&self) -> usize {
        self.draining.len()
    }

    /// Reads what is new. Cheap when nothing changed: an `fstat` per open file and a
    /// `stat` of the path.
    pub fn poll(&mut self) -> Poll {
        self.poll_at(Instant::now())
    }

    /// [`Tailer::poll`] with an explicit clock (for the drain grace period).
    pub fn poll_at(&mut self, now: Instant) -> Poll {
        let mut p = Poll {
            notices: std::mem::take(&mut self.pending_notices),
            ..Poll::default()
        };
        if self.scratch.is_empty() {
            self.scratch = vec![0; READ_BUF];
        }
        let mut budget = MAX_POLL_BYTES;
        if let Some(saved) = self.saved.take() {
            if let Err(e) = self.resume(&saved, now, &mut p) {
                self.saved = Some(saved);
                self.report(&mut p, e);
                return p;
            }
        }
        for _ in 0..16 {
            if !self.read_draining(now, &mut p, &mut budget) {
                p.more = true;
                break;
            }
            match self.step_current(now, &mut p, &mut budget) {
                Step::Again => continue,
                Step::Done => break,
                Step::Exhausted => {
                    p.more = true;
                    break;
                }
            }
        }
        if self.dirty || !p.lines.is_empty() {
            self.dirty = false;
            let json = serde_json::to_string(&self.state()).expect("state serializes");
            if !p.lines.is_empty() || self.last_checkpoint.as_deref() != Some(json.as_str()) {
                self.last_checkpoint = Some(json.clone());
                p.checkpoint = Some(json);
            }
        }
        p
    }

    fn sibling(&self, k: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{k}"));
        PathBuf::from(s)
    }

    fn report(&mut self, p: &mut Poll, e: TailError) {
        let key = e.to_string();
        if self.last_error.as_deref() != Some(key.as_str()) {
            self.last_error = Some(key);
            p.error = Some(e);
        }
    }

    fn clear_error(&mut self, p: &mut Poll) {
        if self.last_error.take().is_some() {
            p.notices
                .push(format!("{}: readable again", self.path.display()));
        }
    }

    fn is_known(&self, dev: u64, ino: u64) -> bool {
        self.current.iter().any(|r| r.same_inode(dev, ino))
            || self.draining.iter().any(|r| r.same_inode(dev, ino))
    }

    /// Reads the draining files in order; closes those past their grace period. `false`
    /// when the budget ran out.
    fn read_draining(&mut self, now: Instant, p: &mut Poll, budget: &mut usize) -> bool {
        let mut i = 0;
        while i < self.draining.len() {
            let d = &mut self.draining[i];
            let size = match d.file.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    let e = TailError::new(&self.path, "read a rotated file of", e);
                    self.report(p, e);
                    i += 1;
                    continue;
                }
            };
            let mut close = false;
            if size < d.pos {
                // Truncated after rotation: nothing more can be read from it.
                close = true;
            } else if size > d.pos {
                match d.read(&mut p.lines, &mut self.scratch, budget) {
                    Ok((n, eof)) => {
                        if n > 0 {
                            d.last_growth = now;
                            self.dirty = true;
                        }
                        if !eof {
                            return false;
                        }
                    }
                    Err(e) => {
                        let e = TailError::new(&self.path, "read a rotated file of", e);
                        self.report(p, e);
                        i += 1;
                        continue;
                    }
                }
            }
            let d = &mut self.draining[i];
            if close
                || d.abandon_at_eof
                || now.saturating_duration_since(d.last_growth) >= self.grace
            {
                d.finish(&mut p.lines);
                self.draining.remove(i);
                self.dirty = true;
            } else {
                i += 1;
            }
        }
        true
    }

    fn step_current(&mut self, now: Instant, p: &mut Poll, budget: &mut usize) -> Step {
        let Some(cur) = self.current.as_mut() else {
            return self.open_path(now, p);
        };
        let (size, ctime) = match cur.file.metadata() {
            Ok(m) => (m.len(), (m.ctime(), m.ctime_nsec())),
            Err(e) => {
                self.report(p, TailError::new(&self.path, "stat", e));
                return Step::Done;
            }
        };
        let touched = ctime != cur.ctime;
        cur.ctime = ctime;
        let mut truncated = size < cur.pos;
        if size == cur.pos && touched {
            // Same size but changed: possibly truncated and rewritten to the same length.
            match cur.check_head() {
                Ok(same) => truncated = !same,
                Err(e) => {
                    self.report(p, TailError::new(&self.path, "read", e));
                    return Step::Done;
                }
            }
        }
        if size > cur.pos && !truncated {
            match cur.check_head() {
                Ok(same) => truncated = !same,
                Err(e) => {
                    self.report(p, TailError::new(&self.path, "read", e));
                    return Step::Done;
                }
            }
            if !truncated {
                match cur.read(&mut p.lines, &mut self.scratch, budget) {
                    Ok((n, eof)) => {
                        if n > 0 {
                            self.dirty = true;
                        }
                        if !eof {
                            return Step::Exhausted;
                        }
                    }
                    Err(e) => {
                        self.report(p, TailError::new(&self.path, "read", e));
                        return Step::Done;
                    }
                }
            }
        }
        if truncated {
            self.truncated(now, p);
            return Step::Again;
        }
        match fs::metadata(&self.path) {
            Ok(m) if cur.same_inode(m.dev(), m.ino()) => Step::Done,
            Ok(_) => {
                self.renamed(now);
                Step::Again
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.renamed(now);
                Step::Again
            }
            Err(e) => {
                self.report(p, TailError::new(&self.path, "stat", e));
                Step::Done
            }
        }
    }

    /// There is no current file: open the path if it exists.
    fn open_path(&mut self, now: Instant, p: &mut Poll) -> Step {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.fresh {
                    // Saves "no file yet", so one appearing before a restart is read from 0.
                    self.fresh = false;
                    self.dirty = true;
                }
                self.clear_error(p);
                return Step::Done;
            }
            Err(e) => {
                self.report(p, TailError::new(&self.path, "open", e));
                return Step::Done;
            }
        };
        let opened = (|| -> io::Result<FileReader> {
            let meta = file.metadata()?;
            // The path may name a rotated file we still drain (renamed back): take it back.
            if let Some(i) = self
                .draining
                .iter()
                .position(|d| d.same_inode(meta.dev(), meta.ino()))
            {
                let mut r = self.draining.remove(i);
                r.abandon_at_eof = false;
                return Ok(r);
            }
            let offset = if self.fresh && self.start == StartAt::End {
                last_line_start(&file, meta.len())?
            } else {
                0
            };
            let head = read_head(&file)?;
            FileReader::new(file, head, offset, now)
        })();
        match opened {
            Ok(r) => {
                self.fresh = false;
                self.current = Some(r);
                self.dirty = true;
                self.clear_error(p);
                Step::Again
            }
            Err(e) => {
                self.report(p, TailError::new(&self.path, "read", e));
                Step::Done
            }
        }
    }

    /// The path names another file, or none: rename rotation (or deletion).
    fn renamed(&mut self, now: Instant) {
        let Some(mut old) = self.current.take() else {
            return;
        };
        old.last_growth = now;
        old.abandon_at_eof = false;
        let (dev, ino) = (old.dev, old.ino);
        self.draining.push(old);
        // Where did it go? Siblings newer than it were created since the last poll.
        let found = (1..=MAX_SIBLINGS).find(|&k| {
            fs::metadata(self.sibling(k)).is_ok_and(|m| m.dev() == dev && m.ino() == ino)
        });
        if let Some(k) = found {
            self.drain_new_siblings(1..k, now, false);
        }
        self.dirty = true;
    }

    /// Opens the siblings in `range` (newest last) that are not known yet, to be read
    /// from 0 after the files already draining.
    fn drain_new_siblings(
        &mut self,
        range: std::ops::Range<usize>,
        now: Instant,
        abandon_at_eof: bool,
    ) {
        for k in range.rev() {
            let path = self.sibling(k);
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let Ok(meta) = file.metadata() else { continue };
            if self.is_known(meta.dev(), meta.ino()) {
                continue;
            }
            let Ok(head) = read_head(&file) else { continue };
            if let Ok(mut r) = FileReader::new(file, head, 0, now) {
                r.abandon_at_eof = abandon_at_eof;
                self.draining.push(r);
            }
        }
    }

    /// The current file was truncated in place (copytruncate): finish its rotated copy,
    /// then restart it at 0.
    fn truncated(&mut self, now: Instant, p: &mut Poll) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let (dev, ino, offset) = (cur.dev, cur.ino, cur.offset);
        let head = cur.head.clone();
        let mut copy = None;
        // Our own file may have been renamed too since (then it is handled as a rename
        // rotation next): only siblings older than it belong to this truncation.
        let mut own = 0;
        if !head.is_empty() {
            for k in 1..=MAX_SIBLINGS {
                let Ok(file) = File::open(self.sibling(k)) else {
                    continue;
                };
                let Ok(meta) = file.metadata() else { continue };
                if meta.dev() == dev && meta.ino() == ino {
                    own = k;
                    continue;
                }
                if self.is_known(meta.dev(), meta.ino()) || meta.len() < offset {
                    continue;
                }
                let Ok(h) = read_head(&file) else { continue };
                let matches = if head_complete(&head) {
                    h == head
                } else {
                    h.starts_with(&head)
                };
                if matches {
                    copy = Some((k, file, h));
                    break;
                }
            }
        }
        let cur = self.current.as_mut().expect("checked above");
        match copy {
            Some((k, file, h)) => match FileReader::new(file, h, offset, now) {
                Ok(mut r) => {
                    r.abandon_at_eof = true;
                    self.draining.push(r);
                    self.drain_new_siblings((own + 1).min(k)..k, now, true);
                }
                Err(_) => cur.finish(&mut p.lines),
            },
            None => {
                if cur.pos > 0 {
                    p.notices.push(format!(
                        "{} was truncated and no rotated copy ({}.1 … .{MAX_SIBLINGS}) starting with the same line was found; lines written since the last read, if any, are lost",
                        self.path.display(),
                        self.path.display()
                    ));
                }
                cur.finish(&mut p.lines);
            }
        }
        let cur = self.current.as_mut().expect("checked above");
        if let Err(e) = cur.reset() {
            let e = TailError::new(&self.path, "read", e);
            self.report(p, e);
        }
        self.dirty = true;
    }

    /// Applies a saved state: finds the saved files at the path or among its siblings.
    fn resume(&mut self, saved: &TailState, now: Instant, p: &mut Poll) -> Result<(), TailError> {
        struct Cand {
            pos: usize,
            file: Option<File>,
            dev: u64,
            ino: u64,
            size: u64,
            head: Vec<u8>,
        }
        let mut cands: Vec<Cand> = Vec::new();
        for k in 0..=MAX_SIBLINGS {
            let path = if k == 0 {
                self.path.clone()
            } else {
                self.sibling(k)
            };
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) if k == 0 => return Err(TailError::new(&path, "open", e)),
                Err(e) => {
                    p.notices
                        .push(format!("cannot open {}: {e}", path.display()));
                    continue;
                }
            };
            let res = file.metadata().and_then(|m| Ok((m, read_head(&file)?)));
            match res {
                Ok((m, head)) => cands.push(Cand {
                    pos: k,
                    dev: m.dev(),
                    ino: m.ino(),
                    size: m.len(),
                    head,
                    file: Some(file),
                }),
                Err(e) if k == 0 => return Err(TailError::new(&path, "read", e)),
                Err(e) => p
                    .notices
                    .push(format!("cannot read {}: {e}", path.display())),
            }
        }
        self.clear_error(p);
        // `min_pos`: draining files are older than the current file, so further down the
        // sibling list (this also keeps a reused inode number from matching a new file).
        let find = |cands: &[Cand], st: &FileState, min_pos: usize| -> Option<usize> {
            let mut best: Option<(usize, bool)> = None;
            for (i, c) in cands.iter().enumerate() {
                if c.file.is_none() || c.size < st.offset || c.pos < min_pos {
                    continue;
                }
                let same_inode = c.dev == st.dev && c.ino == st.ino;
                let ok = match st.fingerprint {
                    Some(fp) => fingerprint_of(&c.head) == Some(fp),
                    None => same_inode,
                };
                if ok && best.is_none_or(|(_, b)| !b && same_inode) {
                    best = Some((i, same_inode));
                }
            }
            best.map(|(i, _)| i)
        };
        let take = |cands: &mut [Cand], i: usize, st: &FileState| -> Option<FileReader> {
            let c = &mut cands[i];
            let file = c.file.take()?;
            let mut r = FileReader::new(file, std::mem::take(&mut c.head), st.offset, now).ok()?;
            r.abandon_at_eof = !(c.dev == st.dev && c.ino == st.ino);
            Some(r)
        };
        // The saved current file first: it has priority over its own copies.
        let cur_found = saved.current.as_ref().and_then(|st| {
            let i = find(&cands, st, 0)?;
            Some((cands[i].pos, take(&mut cands, i, st)?))
        });
        let min_pos = cur_found.as_ref().map_or(1, |(pos, _)| pos + 1);
        let mut restored: Vec<(usize, FileReader)> = Vec::new();
        for st in &saved.draining {
            match find(&cands, st, min_pos) {
                Some(i) => {
                    let pos = cands[i].pos;
                    if let Some(r) = take(&mut cands, i, st) {
                        restored.push((pos, r));
                    }
                }
                None => p.notices.push(format!(
                    "{}: a rotated file being drained was not found again; lines appended to it after the last read, if any, are lost",
                    self.path.display()
                )),
            }
        }
        // Where the newest file known at the checkpoint is now; everything newer is new.
        let newest = match (&cur_found, &saved.current) {
            (Some((pos, _)), _) => Some(*pos),
            (None, Some(st)) => {
                if st.offset > 0 {
                    p.notices.push(format!(
                        "{}: the file of the saved position was not found (also not as {}.1 … .{MAX_SIBLINGS}); reading it from the beginning",
                        self.path.display(),
                        self.path.display()
                    ));
                }
                None
            }
            (None, None) => restored.iter().map(|(pos, _)| *pos).min(),
        };
        restored.sort_by_key(|(pos, _)| std::cmp::Reverse(*pos));
        self.draining.extend(restored.into_iter().map(|(_, r)| r));
        match cur_found {
            Some((0, mut r)) => {
                r.abandon_at_eof = false;
                self.current = Some(r);
            }
            Some((_, r)) => self.draining.push(r),
            None => {}
        }
        if let Some(newest) = newest {
            let mut newer: Vec<&mut Cand> = cands
                .iter_mut()
                .filter(|c| c.pos > 0 && c.pos < newest && c.file.is_some())
                .collect();
            newer.sort_by_key(|c| std::cmp::Reverse(c.pos));
            for c in newer {
                let file = c.file.take().expect("filtered");
                if let Ok(r) = FileReader::new(file, std::mem::take(&mut c.head), 0, now) {
                    self.draining.push(r);
                }
            }
        }
        if self.current.is_none() {
            if let Some(c) = cands.iter_mut().find(|c| c.pos == 0 && c.file.is_some()) {
                let file = c.file.take().expect("checked");
                if let Ok(r) = FileReader::new(file, std::mem::take(&mut c.head), 0, now) {
                    self.current = Some(r);
                }
            }
        }
        self.fresh = false;
        self.dirty = true;
        Ok(())
    }
}
