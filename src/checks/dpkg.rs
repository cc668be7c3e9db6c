//! Which installed Debian package owns a file, from dpkg's own database under the root:
//! the file lists `/var/lib/dpkg/info/*.list` and the diversions
//! `/var/lib/dpkg/diversions`.
//!
//! The database names files as packages shipped them, so on a merged-/usr system it says
//! `/bin/su` where the walk finds `/usr/bin/su`; a path is therefore owned when a listed
//! path with the same file name *resolves* (under the root) to the same place. A file
//! moved aside by `dpkg-divert` belongs to the package that shipped the original path.
//!
//! Only the entries whose file name is asked about are kept: the whole database of a
//! desktop system is a few hundred thousand paths, and the setuid check asks about a
//! dozen. Owns: reading dpkg's database. Must not: run dpkg.

use std::collections::{HashMap, HashSet};

use super::host::{Host, HostError};

/// dpkg's per-package file lists.
pub const INFO_DIR: &str = "/var/lib/dpkg/info";
/// dpkg's diversions: three lines each (original, diverted-to, diverting package).
pub const DIVERSIONS: &str = "/var/lib/dpkg/diversions";

/// The entries of dpkg's database for the file names asked about.
#[derive(Debug, Default)]
pub struct PackageIndex {
    /// File name → (listed path, package).
    by_name: HashMap<String, Vec<(String, String)>>,
    /// Diverted-to path → original path.
    diverted: Vec<(String, String)>,
    /// Lists read.
    pub lists: usize,
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl PackageIndex {
    /// Reads the database for the file names of `paths`; `None` without a dpkg database.
    pub fn load(host: &Host, paths: &[&str]) -> Result<Option<Self>, HostError> {
        if host.stat(INFO_DIR)?.is_none() {
            return Ok(None);
        }
        let mut wanted: HashSet<String> = paths.iter().map(|p| file_name(p).to_string()).collect();
        let mut index = PackageIndex::default();
        if let Some(text) = host.read_optional(DIVERSIONS)? {
            let lines: Vec<&str> = text.lines().collect();
            for triple in lines.chunks(3) {
                if let [original, to, _by] = triple {
                    if wanted.contains(file_name(to)) {
                        index.diverted.push((to.to_string(), original.to_string()));
                    }
                }
            }
            for (_, original) in &index.diverted {
                wanted.insert(file_name(original).to_string());
            }
        }
        for list in host.glob(&format!("{INFO_DIR}/*.list"))? {
            let package = file_name(&list)
                .trim_end_matches(".list")
                .split(':') // libfoo:amd64.list
                .next()
                .unwrap_or_default()
                .to_string();
            let text = match host.read(&list) {
                Ok(t) => t,
                // A list that vanished (a package being removed) or is odd is skipped; a
                // missing owner shows up as a finding the user can look at.
                Err(_) => continue,
            };
            index.lists += 1;
            for path in text.lines() {
                let name = file_name(path);
                if wanted.contains(name) {
                    index
                        .by_name
                        .entry(name.to_string())
                        .or_default()
                        .push((path.to_string(), package.clone()));
                }
            }
        }
        Ok(Some(index))
    }

    /// The package that owns the host path `path`, if any: a listed path that resolves
    /// to the same place, or the original of a diversion to it.
    pub fn owner(&self, host: &Host, path: &str) -> Option<&str> {
        let real = host.resolve(path).ok()?;
        let same =
            |listed: &str| listed == path || host.resolve(listed).ok().as_ref() == Some(&real);
        let listed = |p: &str, exact: bool| {
            self.by_name
                .get(file_name(p))?
                .iter()
                .find(|(l, _)| if exact { l == p } else { same(l) })
                .map(|(_, pkg)| pkg.as_str())
        };
        listed(path, false).or_else(|| {
            self.diverted
                .iter()
                .filter(|(to, _)| same(to))
                .find_map(|(_, original)| listed(original, true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::host::fixture as host;

    #[test]
    fn owners_through_merged_usr_and_diversions() {
        let (t, h) = host(&[
            (
                "/var/lib/dpkg/info/util-linux.list",
                "/.\n/bin\n/bin/su\n/usr/bin/mount\n",
            ),
            ("/var/lib/dpkg/info/at:amd64.list", "/usr/bin/at\n"),
            (
                "/var/lib/dpkg/diversions",
                "/usr/bin/at\n/usr/bin/at.real\nwrapper\n",
            ),
            ("/usr/bin/su", ""),
            ("/usr/bin/mount", ""),
            ("/usr/bin/at.real", ""),
            ("/usr/bin/at", ""),
            ("/usr/local/bin/su", ""),
        ]);
        std::os::unix::fs::symlink("usr/bin", t.path().join("bin")).unwrap();
        let paths = [
            "/usr/bin/su",
            "/usr/bin/mount",
            "/usr/bin/at.real",
            "/usr/local/bin/su",
        ];
        let idx = PackageIndex::load(&h, &paths).unwrap().unwrap();
        assert_eq!(idx.lists, 2);
        assert_eq!(idx.owner(&h, "/usr/bin/su"), Some("util-linux"));
        assert_eq!(idx.owner(&h, "/usr/bin/mount"), Some("util-linux"));
        assert_eq!(idx.owner(&h, "/usr/bin/at.real"), Some("at"));
        assert_eq!(idx.owner(&h, "/usr/local/bin/su"), None);
    }

    #[test]
    fn no_database_is_none() {
        let (_t, h) = host(&[("/usr/bin/su", "")]);
        assert!(PackageIndex::load(&h, &["/usr/bin/su"]).unwrap().is_none());
    }
}
