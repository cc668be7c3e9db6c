//! A bounded walk of the audited host's system directories, for the checks that look at
//! every file (world-writable entries, setuid/setgid programs).
//!
//! The walk never follows a symlink (an entry is `lstat`ed, and a start path that is a
//! symlink, such as `/bin` on a merged-/usr system, is skipped because its target is
//! walked anyway), stays on the filesystem each start directory is on (like
//! `find -xdev`, so a network mount or a bind-mounted `/proc` under `/var` is not
//! entered), does not enter world-writable sticky directories (`/var/tmp`: what users put
//! there is theirs, not the system's), and stops after [`MAX_ENTRIES`] entries, saying
//! so. It keeps only the entries the checks can want (world-writable or setuid/setgid),
//! so one walk serves every check of a run through [`WalkCache`].
//!
//! Owns: reading directories under the root. Must not: open files, follow links, or
//! leave the root (every start path is resolved through [`Host::resolve`], and the walk
//! itself only descends through real directories).

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::host::{FileKind, Host, HostError, Stat};

/// Entries (files, directories, links…) one walk looks at before it stops.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Mode bits that make an entry worth keeping.
const NOTABLE: u32 = 0o6000 | 0o002;

/// An entry with a notable mode: world-writable, setuid or setgid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notable {
    /// Host path.
    pub path: String,
    pub stat: Stat,
}

/// What one walk found, and how far it got.
#[derive(Debug, Clone, Default)]
pub struct WalkReport {
    /// The start paths walked (those that exist and are directories, not links).
    pub walked: Vec<String>,
    pub notable: Vec<Notable>,
    /// Entries looked at.
    pub visited: usize,
    /// The walk stopped at [`MAX_ENTRIES`]: what was not visited is unknown.
    pub capped: bool,
    /// Directories that could not be read (host paths), and why.
    pub unreadable: Vec<(String, String)>,
    /// Mount points below a start path that were not entered.
    pub other_filesystems: Vec<String>,
    /// World-writable sticky directories that were not entered.
    pub sticky_skipped: Vec<String>,
}

impl WalkReport {
    /// A sentence on what the walk did not cover, or `None` when it covered everything.
    pub fn gaps(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.capped {
            parts.push(format!(
                "the walk stopped after {} entries: the rest was not examined",
                self.visited
            ));
        }
        if !self.unreadable.is_empty() {
            let (p, why) = &self.unreadable[0];
            parts.push(format!(
                "{} director{} could not be read ({p}: {why}{})",
                self.unreadable.len(),
                if self.unreadable.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                if self.unreadable.len() > 1 {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

fn stat_of(meta: &std::fs::Metadata) -> Stat {
    Stat {
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        kind: FileKind::of(meta.file_type()),
        size: meta.size(),
    }
}

/// Walks the host paths `starts`, at most `max_entries` entries in all.
pub fn walk(host: &Host, starts: &[String], max_entries: usize) -> Result<WalkReport, HostError> {
    let mut report = WalkReport::default();
    let mut seen_starts = HashSet::new();
    for start in starts {
        // The directories leading to the start are resolved under the root; the start
        // itself is not, so that a start which is a link is seen as one.
        if !start.starts_with('/') {
            return Err(HostError::NotAbsolute {
                path: start.clone(),
            });
        }
        if start.split('/').any(|c| c == "..") {
            return Err(HostError::EscapesRoot {
                path: start.clone(),
            });
        }
        let trimmed = start.trim_end_matches('/');
        let (parent, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
        let real = host
            .resolve(if parent.is_empty() { "/" } else { parent })?
            .join(name);
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                report.unreadable.push((start.clone(), e.to_string()));
                continue;
            }
        };
        // A start that is a link (merged /usr) or a file is not walked; the same
        // directory reached twice (`/lib` and `/usr/lib` bind-mounted) is walked once.
        if !meta.is_dir() || !seen_starts.insert((meta.dev(), meta.ino())) {
            continue;
        }
        report.walked.push(start.clone());
        walk_one(start, real, meta.dev(), max_entries, &mut report);
        if report.capped {
            break;
        }
    }
    report.notable.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

fn walk_one(start: &str, real: PathBuf, dev: u64, max_entries: usize, report: &mut WalkReport) {
    // Depth-first with an explicit stack: no recursion depth for a hostile tree to abuse.
    let mut stack: Vec<(String, PathBuf)> = vec![(start.trim_end_matches('/').to_string(), real)];
    while let Some((host_dir, real_dir)) = stack.pop() {
        let entries = match std::fs::read_dir(&real_dir) {
            Ok(e) => e,
            Err(e) => {
                report.unreadable.push((host_dir, e.to_string()));
                continue;
            }
        };
        for entry in entries {
            if report.visited >= max_entries {
                report.capped = true;
                return;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    report.unreadable.push((host_dir.clone(), e.to_string()));
                    break;
                }
            };
            report.visited += 1;
            let name = entry.file_name().to_string_lossy().into_owned();
            let host_path = format!("{host_dir}/{name}");
            // DirEntry::metadata is an lstat: links are never followed.
            let Ok(meta) = entry.metadata() else {
                continue; // gone since readdir
            };
            let stat = stat_of(&meta);
            if stat.mode & NOTABLE != 0 && stat.kind != FileKind::Symlink {
                report.notable.push(Notable {
                    path: host_path.clone(),
                    stat,
                });
            }
            if stat.kind != FileKind::Dir {
                continue;
            }
            if meta.dev() != dev {
                report.other_filesystems.push(host_path);
                continue;
            }
            if stat.mode & 0o1002 == 0o1002 {
                report.sticky_skipped.push(host_path);
                continue;
            }
            stack.push((host_path, entry.path()));
        }
    }
}

/// Walks shared by the checks of one run: the same start paths are walked once.
#[derive(Debug, Default)]
pub struct WalkCache {
    walks: Mutex<BTreeMap<Vec<String>, Arc<WalkReport>>>,
}

impl WalkCache {
    /// The walk of `starts`, done now or reused from earlier in the run.
    pub fn get(&self, host: &Host, starts: &[String]) -> Result<Arc<WalkReport>, HostError> {
        let mut walks = self.walks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = walks.get(starts) {
            return Ok(r.clone());
        }
        let r = Arc::new(walk(host, starts, MAX_ENTRIES)?);
        walks.insert(starts.to_vec(), r.clone());
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn mode(p: &std::path::Path, m: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }

    fn tree() -> (tempfile::TempDir, Host) {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for d in ["usr/bin", "usr/lib/x", "var/tmp/inner", "etc"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("usr/bin/su"), "").unwrap();
        mode(&r.join("usr/bin/su"), 0o4755);
        std::fs::write(r.join("usr/lib/x/open"), "").unwrap();
        mode(&r.join("usr/lib/x/open"), 0o666);
        std::fs::write(r.join("var/tmp/inner/mine"), "").unwrap();
        mode(&r.join("var/tmp/inner/mine"), 0o4777);
        mode(&r.join("var/tmp"), 0o1777);
        symlink("usr/bin", r.join("bin")).unwrap();
        // A link to a world-writable place is not itself notable, nor followed.
        symlink("/var/tmp", r.join("etc/tmp")).unwrap();
        let h = Host::new(r).unwrap();
        (t, h)
    }

    fn starts(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_notable_entries_without_following_links_or_entering_sticky_dirs() {
        let (_t, h) = tree();
        let r = walk(&h, &starts(&["/bin", "/usr", "/etc", "/var", "/nope"]), 100).unwrap();
        assert_eq!(r.walked, ["/usr", "/etc", "/var"]);
        let paths: Vec<&str> = r.notable.iter().map(|n| n.path.as_str()).collect();
        assert!(paths.contains(&"/usr/bin/su"), "{paths:?}");
        assert!(paths.contains(&"/usr/lib/x/open"), "{paths:?}");
        assert!(paths.contains(&"/var/tmp"), "the sticky dir itself is seen");
        assert!(
            !paths.iter().any(|p| p.starts_with("/var/tmp/")),
            "{paths:?}"
        );
        assert!(!paths.contains(&"/etc/tmp"));
        assert_eq!(r.sticky_skipped, ["/var/tmp"]);
        assert!(!r.capped);
        assert_eq!(r.gaps(), None);
    }

    #[test]
    fn the_walk_stops_at_the_cap_and_says_so() {
        let (_t, h) = tree();
        let r = walk(&h, &starts(&["/usr"]), 2).unwrap();
        assert!(r.capped);
        assert_eq!(r.visited, 2);
        assert!(r.gaps().unwrap().contains("stopped after 2 entries"));
    }

    #[test]
    fn the_cache_walks_once_per_start_list() {
        let (t, h) = tree();
        let cache = WalkCache::default();
        let a = cache.get(&h, &starts(&["/usr"])).unwrap();
        std::fs::write(t.path().join("usr/new"), "").unwrap();
        let b = cache.get(&h, &starts(&["/usr"])).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(matches!(
            cache.get(&h, &starts(&["usr"])),
            Err(HostError::NotAbsolute { .. })
        ));
    }
}
