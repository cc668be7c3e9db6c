//! Watched sensitive files (accounts, sudoers, sshd, authorized_keys, crontabs): each
//! one's owner, mode, size and SHA-256, compared with what was known before, so a change
//! becomes a FILE_CHANGED event with the state before and after.
//!
//! The watch list holds paths, globs (`/home/*/.ssh/authorized_keys`) and directories
//! (every regular file directly inside: `/etc/sudoers.d/`). Symlinks are not followed: a
//! watched path replaced by a symlink is reported as changed (its target is not hashed).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::base::timestamp::Timestamp;
use crate::model::event::{Event, EventType};

/// The files watched when picket.yaml names none.
pub const DEFAULT_PATHS: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d/",
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/",
    "/root/.ssh/authorized_keys",
    "/root/.ssh/authorized_keys2",
    "/home/*/.ssh/authorized_keys",
    "/home/*/.ssh/authorized_keys2",
    "/etc/crontab",
    "/etc/cron.d/",
    "/etc/cron.hourly/",
    "/etc/cron.daily/",
    "/etc/cron.weekly/",
    "/etc/cron.monthly/",
    "/var/spool/cron/crontabs/",
];

/// Files larger than this are not hashed (their size, mode and owner still are): a
/// configuration file this big is itself news, and hashing must stay cheap.
pub const MAX_HASHED: u64 = 64 * 1024 * 1024;

/// What is known of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, with setuid/setgid/sticky.
    pub mode: u32,
    pub size: u64,
    /// Hex SHA-256 of the content; empty when not hashed (too large, or a symlink).
    pub sha256: String,
    #[serde(default)]
    pub symlink: bool,
}

/// Reads a file's state without following a final symlink; `None` when it is absent.
pub fn read_state(path: &Path) -> std::io::Result<Option<FileState>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let symlink = meta.file_type().is_symlink();
    let sha256 = if meta.is_file() && meta.len() <= MAX_HASHED {
        match hash_file(path) {
            Ok(h) => h,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    } else {
        String::new()
    };
    Ok(Some(FileState {
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
        size: meta.len(),
        sha256,
        symlink,
    }))
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    // O_NOFOLLOW: the path was a regular file a moment ago; if it is a symlink now, fail
    // rather than hash whatever it points at.
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 || total > MAX_HASHED {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The watch list: paths, globs and directories (written with a trailing `/`, or
/// directories on disk).
#[derive(Debug, Clone)]
pub struct WatchList {
    patterns: Vec<String>,
}

impl WatchList {
    pub fn new(patterns: Vec<String>) -> WatchList {
        WatchList { patterns }
    }

    /// Every file the list names now.
    pub fn files(&self) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        for p in &self.patterns {
            for path in expand(p) {
                let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                if is_dir || p.ends_with('/') {
                    if let Ok(rd) = std::fs::read_dir(&path) {
                        for e in rd.flatten() {
                            let name = e.file_name();
                            let name = name.to_string_lossy();
                            // Editors' temporary files and backups come and go.
                            if name.starts_with('.') || name.ends_with('~') {
                                continue;
                            }
                            if e.file_type().is_ok_and(|t| !t.is_dir()) {
                                out.insert(e.path());
                            }
                        }
                    }
                } else {
                    out.insert(path);
                }
            }
        }
        out
    }

    /// The directories to watch for changes: each listed directory, and the directory
    /// of each listed file (atomic saves replace a file by renaming another onto it).
    pub fn dirs(&self) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        for p in &self.patterns {
            for path in expand(p) {
                let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                if is_dir || p.ends_with('/') {
                    if is_dir {
                        out.insert(path);
                    }
                } else if let Some(parent) = path.parent().filter(|d| d.is_dir()) {
                    out.insert(parent.to_path_buf());
                }
            }
        }
        out
    }

    /// Whether a changed path concerns the list (a listed file, or a file in a listed
    /// directory).
    pub fn covers(&self, path: &Path) -> bool {
        self.patterns.iter().any(|p| {
            let pat = p.trim_end_matches('/');
            let matches = |candidate: &Path| {
                glob::Pattern::new(pat).is_ok_and(|g| {
                    g.matches_path_with(
                        candidate,
                        glob::MatchOptions {
                            require_literal_separator: true,
                            require_literal_leading_dot: true,
                            case_sensitive: true,
                        },
                    )
                })
            };
            matches(path) || path.parent().is_some_and(matches)
        })
    }
}

/// A pattern's existing paths (a plain path is returned as is, existing or not).
fn expand(pattern: &str) -> Vec<PathBuf> {
    let pat = pattern.trim_end_matches('/');
    if !pat.contains(['*', '?', '[']) {
        return vec![PathBuf::from(pat)];
    }
    glob::glob(pat)
        .map(|paths| paths.flatten().collect())
        .unwrap_or_default()
}

/// One change found.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: PathBuf,
    pub before: Option<FileState>,
    pub after: Option<FileState>,
}

impl Change {
    /// created | deleted | modified (content) | permissions (mode or owner only).
    pub fn kind(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, Some(_)) => "created",
            (Some(_), None) => "deleted",
            (Some(b), Some(a))
                if b.sha256 == a.sha256 && b.size == a.size && b.symlink == a.symlink =>
            {
                "permissions"
            }
            _ => "modified",
        }
    }
}

/// The known state of every watched file.
#[derive(Debug, Default)]
pub struct FileTracker {
    known: BTreeMap<PathBuf, FileState>,
}

impl FileTracker {
    /// Starts from a stored baseline.
    pub fn with_baseline(known: BTreeMap<PathBuf, FileState>) -> FileTracker {
        FileTracker { known }
    }

    pub fn known(&self) -> &BTreeMap<PathBuf, FileState> {
        &self.known
    }

    /// Looks at `paths` now; returns what changed since last time and remembers it.
    /// A path that cannot be read (permission) is skipped and left as it was.
    pub fn check<'a>(&mut self, paths: impl IntoIterator<Item = &'a PathBuf>) -> Vec<Change> {
        let mut changes = Vec::new();
        for path in paths {
            let Ok(after) = read_state(path) else {
                continue;
            };
            let before = self.known.get(path).cloned();
            if before == after {
                continue;
            }
            match &after {
                Some(s) => self.known.insert(path.clone(), s.clone()),
                None => self.known.remove(path),
            };
            changes.push(Change {
                path: path.clone(),
                before,
                after,
            });
        }
        changes
    }

    /// Records `paths` without reporting (the first look at a file).
    pub fn learn<'a>(&mut self, paths: impl IntoIterator<Item = &'a PathBuf>) {
        for path in paths {
            if let Ok(Some(s)) = read_state(path) {
                self.known.insert(path.clone(), s);
            }
        }
    }

    /// Forgets files the list no longer covers (picket.yaml changed): they left the
    /// list, they were not deleted.
    pub fn forget_unlisted(&mut self, list: &WatchList) {
        self.known.retain(|p, _| list.covers(p));
    }

    /// What to look at: every file the list names now, and every known file it covers
    /// (one that is gone must be looked at to be reported deleted).
    pub fn to_check(&self, list: &WatchList) -> BTreeSet<PathBuf> {
        let mut paths = list.files();
        paths.extend(self.known.keys().filter(|p| list.covers(p)).cloned());
        paths
    }
}

/// Names for uids and gids, from this host's account files.
pub struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Names {
    pub fn load() -> Names {
        use crate::sources::snapshot::processes::id_names;
        Names {
            users: id_names("/etc/passwd"),
            groups: id_names("/etc/group"),
        }
    }

    fn owner(&self, s: &FileState) -> String {
        let u = self.users.get(&s.uid).cloned();
        let g = self.groups.get(&s.gid).cloned();
        format!(
            "{}:{}",
            u.unwrap_or_else(|| s.uid.to_string()),
            g.unwrap_or_else(|| s.gid.to_string())
        )
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12)
        .unwrap_or(if sha.is_empty() { "-" } else { sha })
}

/// A change as a FILE_CHANGED event. `package_manager` says whether dpkg or apt was
/// running (a package install legitimately changes /etc/passwd); `while_stopped` marks a
/// change found at start that happened while Picket was not running.
pub fn event(
    c: &Change,
    now: Timestamp,
    names: &Names,
    package_manager: bool,
    while_stopped: bool,
    source: Arc<str>,
) -> Event {
    let path = c.path.to_string_lossy().into_owned();
    let describe = |s: &Option<FileState>| match s {
        None => "absent".to_string(),
        Some(s) => format!(
            "sha256={} mode={:04o} owner={} size={}",
            short(&s.sha256),
            s.mode,
            names.owner(s),
            s.size
        ),
    };
    let line = format!(
        "file {}: {path}: {} -> {}",
        c.kind(),
        describe(&c.before),
        describe(&c.after)
    );
    let mut e = Event::with_source(now, EventType::FileChanged, source, &line);
    e.path = Some(path);
    if let Some(s) = c.after.as_ref().or(c.before.as_ref()) {
        e.user = names.users.get(&s.uid).cloned();
    }
    e.extra.insert("change".into(), c.kind().into());
    for (side, s) in [("before", &c.before), ("after", &c.after)] {
        if let Some(s) = s {
            e.extra
                .insert(format!("{side}_sha256").into(), s.sha256.clone());
            e.extra
                .insert(format!("{side}_mode").into(), format!("{:04o}", s.mode));
            e.extra
                .insert(format!("{side}_owner").into(), names.owner(s));
            e.extra
                .insert(format!("{side}_size").into(), s.size.to_string());
        }
    }
    e.extra
        .insert("package_manager".into(), package_manager.to_string());
    if while_stopped {
        e.extra.insert("while_stopped".into(), "true".into());
    }
    e
}

/// Whether a package manager is running now: dpkg (and the apt front ends that run it)
/// change account files and configuration as part of an install.
pub fn package_manager_running() -> bool {
    const NAMES: &[&str] = &[
        "dpkg",
        "apt",
        "apt-get",
        "aptitude",
        "unattended-upgr",
        "packagekitd",
    ];
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return false;
    };
    rd.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .is_ok_and(|c| NAMES.contains(&c.trim_end()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn content_mode_and_deletion_are_told_apart() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("passwd");
        std::fs::write(&f, "root:x:0:0::/root:/bin/bash\n").unwrap();
        let files: BTreeSet<PathBuf> = [f.clone()].into();
        let mut tracker = FileTracker::default();
        tracker.learn(&files);
        assert!(tracker.check(&files).is_empty(), "no change, no event");

        std::fs::write(&f, "root:x:0:0::/root:/bin/bash\nevil:x:0:0::/:/bin/sh\n").unwrap();
        let c = tracker.check(&files);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind(), "modified");
        assert_ne!(
            c[0].before.as_ref().unwrap().sha256,
            c[0].after.as_ref().unwrap().sha256
        );

        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        let c = tracker.check(&files);
        assert_eq!(c[0].kind(), "permissions");
        let e = event(
            &c[0],
            Timestamp::from_micros(0),
            &Names::load(),
            false,
            false,
            "fim".into(),
        );
        let before_mode = format!("{:04o}", c[0].before.as_ref().unwrap().mode);
        assert_eq!(e.extra["before_mode"], before_mode);
        assert_eq!(e.extra["after_mode"], "0666");
        assert_eq!(e.extra["change"], "permissions");

        std::fs::remove_file(&f).unwrap();
        let c = tracker.check(&files);
        assert_eq!(c[0].kind(), "deleted");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(tracker.check(&files)[0].kind(), "created");
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let secret = t.path().join("secret");
        std::fs::write(&secret, "s").unwrap();
        let link = t.path().join("authorized_keys");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let s = read_state(&link).unwrap().unwrap();
        assert!(s.symlink);
        assert!(s.sha256.is_empty());
    }

    #[test]
    fn globs_and_directories_expand_and_cover() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        for d in ["home/ann/.ssh", "home/bob/.ssh", "cron.d"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("home/ann/.ssh/authorized_keys"), "k").unwrap();
        std::fs::write(root.join("cron.d/job"), "* * * * * root true").unwrap();
        std::fs::write(root.join("cron.d/.job.swp"), "").unwrap();
        let list = WatchList::new(vec![
            format!("{}/home/*/.ssh/authorized_keys", root.display()),
            format!("{}/cron.d/", root.display()),
        ]);
        let files = list.files();
        assert!(files.contains(&root.join("home/ann/.ssh/authorized_keys")));
        assert!(files.contains(&root.join("cron.d/job")));
        assert!(!files.contains(&root.join("cron.d/.job.swp")));
        let dirs = list.dirs();
        assert!(dirs.contains(&root.join("home/ann/.ssh")));
        assert!(dirs.contains(&root.join("cron.d")));
        assert!(list.covers(&root.join("home/bob/.ssh/authorized_keys")));
        assert!(list.covers(&root.join("cron.d/new")));
        assert!(!list.covers(&root.join("home/bob/.ssh/id_rsa")));
    }
}
