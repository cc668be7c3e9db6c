//! The read-only host API the checks see: every path is a path *on the audited host* and is
//! resolved under a root directory (`--root`, default `/`), so a check can audit a mounted
//! image or a fixture tree exactly as it audits the running system.
//!
//! Owns: path resolution under the root, reading files (size-capped), stat, listing with
//! glob, and the parsed forms of `/etc/passwd`, `/etc/group`, `/etc/shadow` and
//! `sshd_config` (in [`super::sshd`]). Must not: write anything, run commands (that is
//! [`super::commands`], allowlisted), or follow a path out of the root.
//!
//! Resolution walks the path one component at a time and resolves symlinks itself: an
//! absolute link target restarts at the root (as `chroot` would), a relative one continues
//! from the link's directory, and `..` never climbs above the root (it is an error, so a
//! crafted link cannot silently land somewhere else). Files are then opened with
//! `O_NOFOLLOW`. What this does not defend against is a tree that changes *during* the
//! walk (a directory swapped for a symlink between resolution and open); auditing a live
//! root as root is not meant to be a sandbox against a concurrent attacker.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// The most a file read returns; larger files are an error, not a truncation.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Symlinks followed in one resolution before giving up (Linux's own limit).
const MAX_SYMLINKS: u32 = 40;

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("root {0} is not a directory")]
    BadRoot(PathBuf),
    #[error("{path}: path must be absolute")]
    NotAbsolute { path: String },
    #[error("{path}: `..` climbs above the root")]
    EscapesRoot { path: String },
    #[error("{path}: too many symbolic links")]
    SymlinkLoop { path: String },
    #[error("{path}: larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("{path}: not a regular file")]
    NotAFile { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl HostError {
    /// Whether the error only means "the file is not there".
    pub fn is_not_found(&self) -> bool {
        matches!(self, HostError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

impl FileKind {
    pub fn of(ft: std::fs::FileType) -> FileKind {
        if ft.is_file() {
            FileKind::File
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else {
            FileKind::Other
        }
    }
}

/// The parts of `stat` the checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Permission bits, including setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub kind: FileKind,
    pub size: u64,
}

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The password field (`x` when the hash is in /etc/shadow).
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    pub line: u32,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
    pub line: u32,
}

/// One line of `/etc/shadow` (only what the checks need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: String,
    pub hash: String,
    pub line: u32,
}

/// The audited host, seen through its root directory.
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    /// A host rooted at `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, HostError> {
        let root = root.as_ref();
        let canonical = root
            .canonicalize()
            .map_err(|_| HostError::BadRoot(root.to_path_buf()))?;
        if !canonical.is_dir() {
            return Err(HostError::BadRoot(root.to_path_buf()));
        }
        Ok(Host { root: canonical })
    }

    /// The root directory on this machine.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the audited host is this running system (the root is `/`), so that what
    /// its commands and `/proc` say is about it. Any other root is an image or a fixture.
    pub fn is_running_system(&self) -> bool {
        self.root == Path::new("/")
    }

    /// Where the host path `path` really is on this machine, symlinks resolved under the
    /// root. The result may not exist; it never lies outside the root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, HostError> {
        if !path.starts_with('/') {
            return Err(HostError::NotAbsolute { path: path.into() });
        }
        let mut pending: VecDeque<OsString> = components(Path::new(path)).into();
        let mut done: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(c) = pending.pop_front() {
            if c == ".." {
                if done.pop().is_none() {
                    return Err(HostError::EscapesRoot { path: path.into() });
                }
                continue;
            }
            done.push(c);
            let real = self.join(&done);
            let Ok(meta) = std::fs::symlink_metadata(&real) else {
                continue; // missing: the rest is resolved lexically, opening will fail
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(HostError::SymlinkLoop { path: path.into() });
            }
            let target = std::fs::read_link(&real).map_err(|source| HostError::Io {
                path: path.into(),
                source,
            })?;
            done.pop();
            if target.is_absolute() {
                done.clear();
            }
            for t in components(&target).into_iter().rev() {
                pending.push_front(t);
            }
        }
        Ok(self.join(&done))
    }

    fn join(&self, parts: &[OsString]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(parts);
        p
    }

    /// Reads a whole text file (lossily as UTF-8), at most `MAX_FILE_BYTES`.
    pub fn read(&self, path: &str) -> Result<String, HostError> {
        let real = self.resolve(path)?;
        let io = |source| HostError::Io {
            path: path.into(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&real)
            .map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(HostError::NotAFile { path: path.into() });
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(HostError::TooLarge {
                path: path.into(),
                max: MAX_FILE_BYTES,
            });
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads a file, or `None` when it does not exist.
    pub fn read_optional(&self, path: &str) -> Result<Option<String>, HostError> {
        match self.read(path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `stat` of the file `path` names (symlinks followed under the root), or `None` when
    /// it does not exist.
    pub fn stat(&self, path: &str) -> Result<Option<Stat>, HostError> {
        let real = self.resolve(path)?;
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(HostError::Io {
                    path: path.into(),
                    source,
                })
            }
        };
        let kind = FileKind::of(meta.file_type());
        Ok(Some(Stat {
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            kind,
            size: meta.size(),
        }))
    }

    /// Host paths matching a glob (`/etc/ssh/sshd_config.d/*.conf`), sorted. Each directory
    /// on the way is resolved under the root; entries starting with `.` match only a
    /// pattern component that starts with `.`.
    pub fn glob(&self, pattern: &str) -> Result<Vec<String>, HostError> {
        if !pattern.starts_with('/') {
            return Err(HostError::NotAbsolute {
                path: pattern.into(),
            });
        }
        let mut found = vec![String::new()];
        for part in pattern.split('/').filter(|p| !p.is_empty()) {
            let mut next = Vec::new();
            if !part.contains(['*', '?', '[']) {
                next.extend(found.iter().map(|f| format!("{f}/{part}")));
            } else {
                let pat = glob::Pattern::new(part).map_err(|e| HostError::Io {
                    path: pattern.into(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.msg),
                })?;
                for dir in &found {
                    let host_dir = if dir.is_empty() { "/" } else { dir.as_str() };
                    let Ok(entries) = std::fs::read_dir(self.resolve(host_dir)?) else {
                        continue;
                    };
                    let mut names: Vec<String> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| {
                            (!n.starts_with('.') || part.starts_with('.')) && pat.matches(n)
                        })
                        .collect();
                    names.sort();
                    next.extend(names.into_iter().map(|n| format!("{dir}/{n}")));
                }
            }
            found = next;
        }
        let mut out: Vec<String> = found
            .into_iter()
            .filter(|p| !p.is_empty())
            .filter(|p| matches!(self.stat(p), Ok(Some(_))))
            .collect();
        out.sort();
        Ok(out)
    }

    /// `/etc/passwd`; malformed lines are skipped.
    pub fn users(&self) -> Result<Vec<User>, HostError> {
        let text = self.read("/etc/passwd")?;
        Ok(records(&text)
            .filter_map(|(line, f)| {
                (f.len() >= 7).then_some(())?;
                Some(User {
                    name: f[0].into(),
                    password: f[1].into(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                    home: f[5].into(),
                    shell: f[6].into(),
                    line,
                })
            })
            .collect())
    }

    /// `/etc/group`; malformed lines are skipped.
    pub fn groups(&self) -> Result<Vec<Group>, HostError> {
        let text = self.read("/etc/group")?;
        Ok(records(&text)
            .filter_map(|(line, f)| {
                (f.len() >= 4).then_some(())?;
                Some(Group {
                    name: f[0].into(),
                    gid: f[2].parse().ok()?,
                    members: f[3]
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(String::from)
                        .collect(),
                    line,
                })
            })
            .collect())
    }

    /// `/etc/shadow`; malformed lines are skipped.
    pub fn shadow(&self) -> Result<Vec<ShadowEntry>, HostError> {
        let text = self.read("/etc/shadow")?;
        Ok(records(&text)
            .filter(|(_, f)| f.len() >= 2)
            .map(|(line, f)| ShadowEntry {
                name: f[0].into(),
                hash: f[1].into(),
                line,
            })
            .collect())
    }
}

/// The normal components of a path (`.` dropped, `..` kept).
fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// Non-empty, non-comment lines of a colon-separated database, with 1-based line numbers.
fn records(text: &str) -> impl Iterator<Item = (u32, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.trim_end_matches('\r');
        (!l.trim().is_empty() && !l.starts_with('#'))
            .then(|| (i as u32 + 1, l.split(':').collect()))
    })
}

/// A host made of files in a temporary directory, for tests: (path under the root, text).
#[cfg(test)]
pub fn fixture(files: &[(&str, &str)]) -> (tempfile::TempDir, Host) {
    let t = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let real = t.path().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(real, text).unwrap();
    }
    let h = Host::new(t.path()).unwrap();
    (t, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Host) {
        let outside = tempfile::tempdir().unwrap();
        let root = outside.path().join("root");
        std::fs::create_dir_all(root.join("etc/ssh/sshd_config.d")).unwrap();
        std::fs::write(outside.path().join("secret"), "outside the root").unwrap();
        std::fs::write(root.join("secret"), "inside the root").unwrap();
        std::fs::write(root.join("etc/hostname"), "fixture\n").unwrap();
        let host = Host::new(&root).unwrap();
        (outside, host)
    }

    #[test]
    fn reads_files_under_the_root() {
        let (_t, host) = tree();
        assert_eq!(host.read("/etc/hostname").unwrap(), "fixture\n");
        assert!(host.read("/etc/nope").unwrap_err().is_not_found());
        assert_eq!(host.read_optional("/etc/nope").unwrap(), None);
        assert!(matches!(
            host.read("etc/hostname"),
            Err(HostError::NotAbsolute { .. })
        ));
    }

    #[test]
    fn absolute_symlink_targets_stay_in_the_root() {
        let (_t, host) = tree();
        let root = host.root().to_path_buf();
        // On the real machine this would be the file outside; under the root it is /secret.
        symlink(root.parent().unwrap().join("secret"), root.join("etc/abs")).unwrap();
        symlink("/secret", root.join("etc/abs2")).unwrap();
        assert!(host.read("/etc/abs").unwrap_err().is_not_found());
        assert_eq!(host.read("/etc/abs2").unwrap(), "inside the root");
    }

    #[test]
    fn relative_symlinks_cannot_climb_out() {
        let (_t, host) = tree();
        let root = host.root().to_path_buf();
        symlink("../../secret", root.join("etc/rel")).unwrap();
        symlink("../../../../../../../secret", root.join("etc/deep")).unwrap();
        assert_eq!(
            host.read("/etc/rel").unwrap_err().to_string(),
            "/etc/rel: `..` climbs above the root"
        );
        assert!(matches!(
            host.read("/etc/deep"),
            Err(HostError::EscapesRoot { .. })
        ));
        assert!(matches!(
            host.read("/../secret"),
            Err(HostError::EscapesRoot { .. })
        ));
        // A directory symlink in the middle of a path is followed under the root too.
        symlink("/etc", root.join("etc/ssh/up")).unwrap();
        assert_eq!(host.read("/etc/ssh/up/hostname").unwrap(), "fixture\n");
        assert_eq!(host.read("/etc/ssh/../hostname").unwrap(), "fixture\n");
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let (_t, host) = tree();
        let root = host.root().to_path_buf();
        symlink("/etc/b", root.join("etc/a")).unwrap();
        symlink("/etc/a", root.join("etc/b")).unwrap();
        assert!(matches!(
            host.read("/etc/a"),
            Err(HostError::SymlinkLoop { .. })
        ));
    }

    #[test]
    fn reads_are_capped() {
        let (_t, host) = tree();
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        std::fs::write(host.root().join("big"), big).unwrap();
        assert!(matches!(host.read("/big"), Err(HostError::TooLarge { .. })));
        assert!(matches!(host.read("/etc"), Err(HostError::NotAFile { .. })));
    }

    #[test]
    fn stat_and_glob() {
        use std::os::unix::fs::PermissionsExt;
        let (_t, host) = tree();
        let d = host.root().join("etc/ssh/sshd_config.d");
        for n in ["b.conf", "a.conf", "c.txt", ".hidden.conf"] {
            std::fs::write(d.join(n), "").unwrap();
        }
        std::fs::set_permissions(d.join("a.conf"), std::fs::Permissions::from_mode(0o4640))
            .unwrap();
        let st = host.stat("/etc/ssh/sshd_config.d/a.conf").unwrap().unwrap();
        assert_eq!((st.mode, st.kind), (0o4640, FileKind::File));
        assert_eq!(host.stat("/etc/ssh").unwrap().unwrap().kind, FileKind::Dir);
        assert_eq!(host.stat("/nope").unwrap(), None);
        assert_eq!(
            host.glob("/etc/ssh/sshd_config.d/*.conf").unwrap(),
            [
                "/etc/ssh/sshd_config.d/a.conf",
                "/etc/ssh/sshd_config.d/b.conf"
            ]
        );
        assert_eq!(host.glob("/e*/ssh").unwrap(), ["/etc/ssh"]);
        assert_eq!(host.glob("/etc/hostname").unwrap(), ["/etc/hostname"]);
        assert!(host.glob("/etc/none/*").unwrap().is_empty());
    }

    #[test]
    fn users_groups_and_shadow() {
        let (_t, host) = tree();
        let etc = host.root().join("etc");
        std::fs::write(
            etc.join("passwd"),
            "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\nbin:x:2:2::/bin:/usr/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(etc.join("group"), "root:x:0:\nsudo:x:27:alice,bob\n").unwrap();
        std::fs::write(etc.join("shadow"), "root:!:19000::::::\nbin::19000::::::\n").unwrap();
        let users = host.users().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(
            (users[1].name.as_str(), users[1].uid, users[1].line),
            ("bin", 2, 4)
        );
        assert_eq!(users[1].shell, "/usr/sbin/nologin");
        let groups = host.groups().unwrap();
        assert_eq!(groups[1].members, ["alice", "bob"]);
        let shadow = host.shadow().unwrap();
        assert_eq!(
            (shadow[1].name.as_str(), shadow[1].hash.as_str()),
            ("bin", "")
        );
    }

    #[test]
    fn a_bad_root_is_refused() {
        assert!(matches!(
            Host::new("/no/such/root"),
            Err(HostError::BadRoot(_))
        ));
        let f = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(Host::new(f.path()), Err(HostError::BadRoot(_))));
    }
}
