//! Log tampering under `/var/log`: a log deleted (LOG_DELETED) or cut short
//! (LOG_TRUNCATED), told apart from the rotations logrotate and rsyslog do every day.
//!
//! Each log's identity (device, inode), size and a hash of its first bytes are kept. When
//! a log changes it is classified from what is on disk:
//! - gone, and its inode is now under another name in the same directory: a rotation by
//!   rename (`create` mode);
//! - gone, and it was a rotated archive (`auth.log.2`, `auth.log-20261121`) that now
//!   exists compressed (`.gz`, `.xz`, `.bz2`, `.zst`), or it was the oldest archive of
//!   its series: logrotate compressing or expiring archives;
//! - otherwise gone: LOG_DELETED;
//! - shorter, or its first bytes differ (the same inode cut and rewritten, or another
//!   file put in its place): a rotation by copy when a rotated sibling now starts with
//!   the old first bytes (`copytruncate`), else LOG_TRUNCATED.
//!
//! Known blind spots: deleting the oldest archive of a series looks exactly like
//! logrotate expiring it, and a log cut or deleted within two minutes of a compressed
//! archive of it being made looks like a rotation; neither is reported. The journal's own directory is left out (journald
//! rotates and vacuums its files itself).

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};

/// How many first bytes identify a log's content.
const HEAD: usize = 1024;

/// Most files tracked; a /var/log with more (a runaway application) is tracked partly.
const MAX_FILES: usize = 20_000;

/// Subdirectories not watched.
const SKIP_DIRS: &[&str] = &["journal"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct LogState {
    dev: u64,
    ino: u64,
    size: u64,
    /// How many first bytes `head` covers (fewer than HEAD for a short file).
    head_len: usize,
    head: [u8; 32],
}

fn read_head(path: &Path, len: usize) -> std::io::Result<(usize, [u8; 32])> {
    let f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(len);
    f.take(len as u64).read_to_end(&mut buf)?;
    Ok((buf.len(), Sha256::digest(&buf).into()))
}

fn state(path: &Path) -> Option<LogState> {
    let m = std::fs::symlink_metadata(path).ok()?;
    if !m.is_file() {
        return None;
    }
    let (head_len, head) = read_head(path, HEAD.min(m.len() as usize)).ok()?;
    Some(LogState {
        dev: m.dev(),
        ino: m.ino(),
        size: m.len(),
        head_len,
        head,
    })
}

/// A rotated name's base and its place in the series: `auth.log.3.gz` → (`auth.log`,
/// 3); `auth.log-20261121` → (`auth.log`, 20261121, dates sort like numbers but newest
/// is largest, so they are negated to keep "larger is older").
fn rotated(name: &str) -> Option<(&str, i64)> {
    let stem = COMPRESSED
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    if let Some((base, n)) = stem.rsplit_once('.') {
        if !base.is_empty()
            && !n.is_empty()
            && n.len() <= 4
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            return Some((base, n.parse().ok()?));
        }
    }
    if let Some((base, date)) = stem.rsplit_once('-') {
        if !base.is_empty() && date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
            return Some((base, -date.parse::<i64>().ok()?));
        }
    }
    None
}

/// What a tracker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Deleted {
        path: PathBuf,
        size: u64,
    },
    Truncated {
        path: PathBuf,
        before: u64,
        after: u64,
        replaced: bool,
    },
}

/// The logs under one directory.
#[derive(Debug)]
pub struct LogTracker {
    root: PathBuf,
    files: HashMap<PathBuf, LogState>,
}

impl LogTracker {
    /// Learns every log under `root` as it is now.
    pub fn new(root: &Path) -> LogTracker {
        let mut t = LogTracker {
            root: root.to_path_buf(),
            files: HashMap::new(),
        };
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    if !(dir == t.root && SKIP_DIRS.contains(&&*e.file_name().to_string_lossy())) {
                        stack.push(e.path());
                    }
                } else if ft.is_file() && t.files.len() < MAX_FILES {
                    if let Some(s) = state(&e.path()) {
                        t.files.insert(e.path(), s);
                    }
                }
            }
        }
        t
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether changes at `path` are this tracker's business.
    pub fn covers(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        !rel.components().next().is_some_and(|c| {
            rel.components().count() > 1 && SKIP_DIRS.contains(&&*c.as_os_str().to_string_lossy())
        })
    }

    /// Looks at the changed paths and reports deletions and truncations.
    pub fn changed(&mut self, paths: &[PathBuf]) -> Vec<Finding> {
        let mut out = Vec::new();
        // Rotations move several names at once: decide every path against the disk as it
        // is after the burst, then record the new states.
        let mut seen: Vec<(PathBuf, Option<LogState>)> = Vec::new();
        for path in paths {
            if !self.covers(path) || seen.iter().any(|(p, _)| p == path) {
                continue;
            }
            let now = state(path);
            if let Some(old) = self.files.get(path) {
                if let Some(f) = self.classify(path, old, now.as_ref()) {
                    out.push(f);
                }
            }
            seen.push((path.clone(), now));
        }
        for (path, now) in seen {
            match now {
                Some(s) if self.files.len() < MAX_FILES || self.files.contains_key(&path) => {
                    self.files.insert(path, s);
                }
                Some(_) => {}
                None => {
                    self.files.remove(&path);
                }
            }
        }
        out
    }

    fn classify(&self, path: &Path, old: &LogState, now: Option<&LogState>) -> Option<Finding> {
        let dir = path.parent()?;
        let name = path.file_name()?.to_string_lossy().into_owned();
        match now {
            None => {
                if self.inode_elsewhere(dir, path, old) {
                    return None;
                }
                if self.recent_archive(dir, &name) {
                    return None; // renamed and compressed in one go
                }
                if let Some((base, place)) = rotated(&name) {
                    let compressed = COMPRESSED
                        .iter()
                        .any(|ext| dir.join(format!("{name}{ext}")).exists());
                    if compressed || self.oldest_of_series(dir, base, place) {
                        return None;
                    }
                }
                Some(Finding::Deleted {
                    path: path.to_path_buf(),
                    size: old.size,
                })
            }
            Some(now) => {
                let same_file = now.dev == old.dev && now.ino == old.ino;
                if !same_file && self.inode_elsewhere(dir, path, old) {
                    return None; // renamed away, a new log in its place
                }
                if !same_file && self.shifted_archive(dir, &name, now) {
                    return None; // `.1.gz` renamed onto `.2.gz`
                }
                let head_kept = now.head_len >= old.head_len
                    && read_head(path, old.head_len).is_ok_and(|(_, h)| h == old.head);
                if now.size >= old.size && head_kept {
                    return None; // grew, or was replaced by the same content
                }
                if self.copied_to_sibling(dir, &name, old) || self.recent_archive(dir, &name) {
                    return None; // copytruncate
                }
                Some(Finding::Truncated {
                    path: path.to_path_buf(),
                    before: old.size,
                    after: now.size,
                    replaced: !same_file,
                })
            }
        }
    }

    /// Whether the file `old` was lives on under another name in `dir`.
    fn inode_elsewhere(&self, dir: &Path, path: &Path, old: &LogState) -> bool {
        std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.path() != path
                    && e.metadata()
                        .is_ok_and(|m| m.dev() == old.dev && m.ino() == old.ino)
            })
        })
    }

    /// Whether no other archive of `base` in `dir` is older than `place`.
    fn oldest_of_series(&self, dir: &Path, base: &str, place: i64) -> bool {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return false;
        };
        !rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            rotated(&n).is_some_and(|(b, p)| b == base && p > place)
        })
    }

    /// Whether a rotated sibling of `name` starts with `old`'s first bytes and is at least
    /// as long as `old` was: the copy `copytruncate` makes before truncating.
    fn copied_to_sibling(&self, dir: &Path, name: &str, old: &LogState) -> bool {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return false;
        };
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            rotated(&n).is_some_and(|(b, _)| b == name)
                && e.metadata()
                    .is_ok_and(|m| m.is_file() && m.len() >= old.size)
                && read_head(&e.path(), old.head_len)
                    .is_ok_and(|(l, h)| l == old.head_len && h == old.head)
        })
    }
}

impl LogTracker {
    /// Whether `name` is an archive and the file now there was, before this change, the
    /// log or another archive of the same series (logrotate shifting archives up by
    /// renaming each onto the next name), or is a compressed archive made just now.
    fn shifted_archive(&self, dir: &Path, name: &str, now: &LogState) -> bool {
        let Some((base, _)) = rotated(name) else {
            return false;
        };
        let in_series = |n: &str| n == base || rotated(n).is_some_and(|(b, _)| b == base);
        let was_in_series = self.files.iter().any(|(p, s)| {
            s.dev == now.dev
                && s.ino == now.ino
                && p.parent() == Some(dir)
                && p.file_name()
                    .is_some_and(|n| in_series(&n.to_string_lossy()))
        });
        was_in_series || (COMPRESSED.iter().any(|e| name.ends_with(e)) && recent(&dir.join(name)))
    }

    /// Whether a compressed archive of `name` was made in the last [`ROTATION_WINDOW`]:
    /// logrotate without `delaycompress` copies or renames and compresses at once, so the
    /// uncompressed copy is gone before it can be compared. (Its content is not read: a
    /// truncation right after a rotation is not reported.)
    fn recent_archive(&self, dir: &Path, name: &str) -> bool {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return false;
        };
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            rotated(&n).is_some_and(|(b, _)| b == name)
                && COMPRESSED.iter().any(|ext| n.ends_with(ext))
                && recent(&e.path())
        })
    }
}

/// Whether `path` was made (or had its inode changed) within [`ROTATION_WINDOW`].
fn recent(path: &Path) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| now - m.ctime() <= ROTATION_WINDOW.as_secs() as i64)
}

/// How recent a compressed archive must be to explain a log's disappearance.
const ROTATION_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// Compressed archives' extensions.
const COMPRESSED: &[&str] = &[".gz", ".xz", ".bz2", ".zst"];

/// A finding as an event.
pub fn event(f: &Finding, now: Timestamp, source: Arc<str>) -> Event {
    match f {
        Finding::Deleted { path, size } => {
            let p = path.to_string_lossy().into_owned();
            let line = format!("log deleted: {p} ({size} bytes)");
            let mut e = Event::with_source(now, EventType::LogDeleted, source, &line);
            e.path = Some(p);
            e.extra.insert("size_before".into(), size.to_string());
            e
        }
        Finding::Truncated {
            path,
            before,
            after,
            replaced,
        } => {
            let p = path.to_string_lossy().into_owned();
            let how = if *replaced { "replaced" } else { "truncated" };
            let line = format!("log {how}: {p} ({before} -> {after} bytes)");
            let mut e = Event::with_source(now, EventType::LogTruncated, source, &line);
            e.path = Some(p);
            e.extra.insert("size_before".into(), before.to_string());
            e.extra.insert("size_after".into(), after.to_string());
            e.extra.insert("how".into(), how.into());
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("auth.log");
        fs::write(
            &log,
            "Nov 21 10:00:00 host sshd[1]: first line\nsecond line\n",
        )
        .unwrap();
        (t, log)
    }

    #[test]
    fn rotated_names() {
        assert_eq!(rotated("auth.log.1"), Some(("auth.log", 1)));
        assert_eq!(rotated("auth.log.4.gz"), Some(("auth.log", 4)));
        assert_eq!(rotated("syslog-20261121.xz"), Some(("syslog", -20261121)));
        assert_eq!(rotated("auth.log"), None);
        assert_eq!(rotated("dpkg.log"), None);
    }

    #[test]
    fn rm_is_a_deletion() {
        let (t, log) = setup();
        let mut tr = LogTracker::new(t.path());
        fs::remove_file(&log).unwrap();
        let f = tr.changed(std::slice::from_ref(&log));
        assert_eq!(
            f,
            vec![Finding::Deleted {
                path: log,
                size: 53
            }]
        );
    }

    #[test]
    fn rename_rotation_is_not_reported() {
        let (t, log) = setup();
        let mut tr = LogTracker::new(t.path());
        fs::rename(&log, t.path().join("auth.log.1")).unwrap();
        fs::write(&log, "").unwrap();
        assert!(tr
            .changed(&[log.clone(), t.path().join("auth.log.1")])
            .is_empty());
        // The new, empty log is now known: growth is fine, deleting it is not.
        fs::write(&log, "new\n").unwrap();
        assert!(tr.changed(std::slice::from_ref(&log)).is_empty());
        fs::remove_file(&log).unwrap();
        assert_eq!(tr.changed(std::slice::from_ref(&log)).len(), 1);
    }

    #[test]
    fn copytruncate_is_not_reported_but_a_plain_truncation_is() {
        let (t, log) = setup();
        let mut tr = LogTracker::new(t.path());
        fs::copy(&log, t.path().join("auth.log.1")).unwrap();
        fs::write(&log, "").unwrap();
        assert!(tr.changed(std::slice::from_ref(&log)).is_empty());
        fs::write(&log, "a line an attacker wants gone\nmore\n").unwrap();
        tr.changed(std::slice::from_ref(&log));
        fs::write(&log, "").unwrap(); // `: > auth.log`
        assert_eq!(
            tr.changed(std::slice::from_ref(&log)),
            vec![Finding::Truncated {
                path: log,
                before: 35,
                after: 0,
                replaced: false
            }]
        );
    }

    #[test]
    fn lines_cut_out_with_an_editor_are_a_truncation() {
        let (t, log) = setup();
        let mut tr = LogTracker::new(t.path());
        // `sed -i '/first/d'`: a new file renamed over the log.
        let tmp = t.path().join("sedXYZ");
        fs::write(&tmp, "second line\n").unwrap();
        fs::rename(&tmp, &log).unwrap();
        let f = tr.changed(&[tmp, log.clone()]);
        assert_eq!(
            f,
            vec![Finding::Truncated {
                path: log,
                before: 53,
                after: 12,
                replaced: true
            }]
        );
    }

    #[test]
    fn logrotate_compressing_and_expiring_archives_is_not_reported() {
        let t = tempfile::tempdir().unwrap();
        for n in [
            "auth.log",
            "auth.log.1",
            "auth.log.2",
            "auth.log.3.gz",
            "auth.log.4.gz",
        ] {
            fs::write(t.path().join(n), n).unwrap();
        }
        let mut tr = LogTracker::new(t.path());
        // Expire the oldest, compress .2.
        fs::remove_file(t.path().join("auth.log.4.gz")).unwrap();
        fs::write(t.path().join("auth.log.2.gz"), "gz").unwrap();
        fs::remove_file(t.path().join("auth.log.2")).unwrap();
        let paths = ["auth.log.4.gz", "auth.log.2", "auth.log.2.gz"].map(|n| t.path().join(n));
        assert!(tr.changed(&paths).is_empty());
        // But deleting a recent archive while older ones remain is reported.
        fs::remove_file(t.path().join("auth.log.1")).unwrap();
        assert_eq!(tr.changed(&[t.path().join("auth.log.1")]).len(), 1);
    }

    #[test]
    fn archives_shifted_over_each_other_are_not_reported() {
        let t = tempfile::tempdir().unwrap();
        for n in ["auth.log", "auth.log.1", "auth.log.2"] {
            fs::write(t.path().join(n), format!("{n} content")).unwrap();
        }
        let mut tr = LogTracker::new(t.path());
        let (one, two) = (t.path().join("auth.log.1"), t.path().join("auth.log.2"));
        fs::rename(&one, &two).unwrap();
        assert!(tr.changed(&[one.clone(), two.clone()]).is_empty());
        // A file from elsewhere put in an (uncompressed) archive's place is a replacement.
        let outside = tempfile::tempdir().unwrap();
        let fake = outside.path().join("x");
        fs::write(&fake, "x").unwrap();
        fs::rename(&fake, &two).unwrap();
        assert_eq!(tr.changed(std::slice::from_ref(&two)).len(), 1);
    }

    #[test]
    fn the_journal_directory_is_left_out() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("journal/abc")).unwrap();
        fs::write(t.path().join("journal/abc/system.journal"), "j").unwrap();
        let mut tr = LogTracker::new(t.path());
        assert!(tr.is_empty());
        let j = t.path().join("journal/abc/system.journal");
        fs::remove_file(&j).unwrap();
        assert!(tr.changed(&[j]).is_empty());
        assert!(!tr.covers(&t.path().join("journal/x")));
        assert!(tr.covers(&t.path().join("journal.log")));
    }
}
