//! The assertion kinds that look at every file under the system directories, through one
//! bounded [`walk`](super::walk) per run:
//!
//! - `world_writable: {paths}`: directories anyone can write to without the sticky bit
//!   (anyone can delete or replace what others put there), and regular files anyone can
//!   write to.
//! - `unpackaged_setid: {paths}`: setuid or setgid regular files that no installed
//!   package owns (dpkg's database under the root), the classic persistence trick.
//!
//! Both FAIL per finding, with one evidence line per file (at most [`MAX_EVIDENCE`]);
//! when the walk could not cover everything (capped, unreadable directories) the
//! evidence says so and a clean result is a WARN, not a PASS.

use serde::Deserialize;

use super::dpkg::PackageIndex;
use super::host::{FileKind, Host, HostError};
use super::kinds::{Assertion, Outcome};
use super::walk::{WalkCache, WalkReport};
use super::{Evidence, Status};

/// The system directories walked when a check does not name its own.
pub const SYSTEM_PATHS: &[&str] = &[
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/opt", "/var",
];

/// Never walked: kernel and runtime filesystems, whose entries are not configuration.
pub const NEVER_WALKED: &[&str] = &["/proc", "/sys", "/dev", "/run"];

/// Findings listed per check; the rest are counted.
pub const MAX_EVIDENCE: usize = 50;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkSpec {
    #[serde(default)]
    pub paths: Option<Vec<String>>,
}

/// What a walking kind looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    WorldWritable,
    UnpackagedSetid,
}

/// A compiled walking assertion.
#[derive(Debug, Clone)]
pub struct SystemFiles {
    pub scan: Scan,
    pub paths: Vec<String>,
}

impl WalkSpec {
    pub fn compile(&self, scan: Scan) -> Result<Assertion, String> {
        let paths: Vec<String> = match &self.paths {
            Some(p) if p.is_empty() => return Err("`paths` is empty".into()),
            Some(p) => p.clone(),
            None => SYSTEM_PATHS.iter().map(|s| s.to_string()).collect(),
        };
        for p in &paths {
            if !p.starts_with('/') || p.split('/').any(|c| c == "..") {
                return Err(format!("path `{p}` must be absolute, without `..`"));
            }
            let never = NEVER_WALKED
                .iter()
                .find(|n| p == *n || p.starts_with(&format!("{n}/")) || p == "/");
            if let Some(n) = never {
                return Err(format!(
                    "path `{p}`: {} is never walked (the walk covers system directories)",
                    if p == "/" { "/ as a whole" } else { n }
                ));
            }
        }
        Ok(Assertion::SystemFiles(SystemFiles { scan, paths }))
    }
}

fn names(host: &Host) -> (Vec<super::host::User>, Vec<super::host::Group>) {
    (
        host.users().unwrap_or_default(),
        host.groups().unwrap_or_default(),
    )
}

fn owner_name(users: &[super::host::User], uid: u32) -> String {
    users
        .iter()
        .find(|u| u.uid == uid)
        .map_or_else(|| uid.to_string(), |u| u.name.clone())
}

impl SystemFiles {
    pub(crate) fn evaluate(&self, host: &Host, walks: &WalkCache) -> Result<Outcome, HostError> {
        let report = walks.get(host, &self.paths)?;
        if report.walked.is_empty() {
            return Ok(Outcome::note(
                Status::NotApplicable,
                format!("none of {} exists", self.paths.join(", ")),
            ));
        }
        match self.scan {
            Scan::WorldWritable => Ok(world_writable(host, &report)),
            Scan::UnpackagedSetid => unpackaged_setid(host, &report),
        }
    }
}

/// Builds the outcome: FAIL with the findings, else PASS (or WARN when the walk had gaps).
fn verdict(report: &WalkReport, findings: Vec<Evidence>, clean: String) -> Outcome {
    let total = findings.len();
    let mut evidence: Vec<Evidence> = findings.into_iter().take(MAX_EVIDENCE).collect();
    if total > MAX_EVIDENCE {
        evidence.push(Evidence::detail(format!(
            "… and {} more (the first {MAX_EVIDENCE} are listed)",
            total - MAX_EVIDENCE
        )));
    }
    let gaps = report.gaps();
    let status = match (total, &gaps) {
        (0, None) => Status::Pass,
        (0, Some(_)) => Status::Warn,
        _ => Status::Fail,
    };
    if total == 0 {
        evidence.push(Evidence::detail(format!(
            "{} entries under {} examined: {clean}",
            report.visited,
            report.walked.join(", ")
        )));
    }
    if let Some(g) = gaps {
        evidence.push(Evidence::detail(format!("incomplete: {g}")));
    }
    Outcome::new(status, evidence)
}

fn world_writable(host: &Host, report: &WalkReport) -> Outcome {
    let (users, _) = names(host);
    let findings = report
        .notable
        .iter()
        .filter(|n| n.stat.mode & 0o002 != 0)
        .filter_map(|n| {
            let what = match n.stat.kind {
                FileKind::Dir if n.stat.mode & 0o1000 == 0 => {
                    "world-writable directory without the sticky bit"
                }
                FileKind::File => "world-writable file",
                _ => return None,
            };
            Some(Evidence {
                file: Some(n.path.clone()),
                line: None,
                detail: format!(
                    "{} {what} (mode {:04o}, owner {})",
                    n.path,
                    n.stat.mode,
                    owner_name(&users, n.stat.uid)
                ),
            })
        })
        .collect();
    let mut clean = "nothing world-writable but sticky directories".to_string();
    if !report.sticky_skipped.is_empty() {
        let shown: Vec<&str> = report
            .sticky_skipped
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        clean.push_str(&format!(
            " ({}{}, not entered)",
            shown.join(", "),
            if report.sticky_skipped.len() > 5 {
                ", …"
            } else {
                ""
            }
        ));
    }
    verdict(report, findings, clean)
}

fn unpackaged_setid(host: &Host, report: &WalkReport) -> Result<Outcome, HostError> {
    let setid: Vec<_> = report
        .notable
        .iter()
        .filter(|n| n.stat.kind == FileKind::File && n.stat.mode & 0o6000 != 0)
        .collect();
    let paths: Vec<&str> = setid.iter().map(|n| n.path.as_str()).collect();
    let Some(index) = PackageIndex::load(host, &paths)? else {
        return Ok(Outcome::note(
            Status::NotApplicable,
            format!(
                "no dpkg database ({} does not exist); {} setuid/setgid files found",
                super::dpkg::INFO_DIR,
                setid.len()
            ),
        ));
    };
    let (users, _) = names(host);
    let findings = setid
        .iter()
        .filter(|n| index.owner(host, &n.path).is_none())
        .map(|n| {
            let bits = match n.stat.mode & 0o6000 {
                0o6000 => "setuid and setgid",
                0o4000 => "setuid",
                _ => "setgid",
            };
            Evidence {
                file: Some(n.path.clone()),
                line: None,
                detail: format!(
                    "{} is {bits} (mode {:04o}, owner {}) and no installed package owns it",
                    n.path,
                    n.stat.mode,
                    owner_name(&users, n.stat.uid)
                ),
            }
        })
        .collect();
    let clean = format!(
        "{} setuid/setgid files, each owned by a package ({} dpkg file lists read)",
        setid.len(),
        index.lists
    );
    Ok(verdict(report, findings, clean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn host(files: &[(&str, u32)], dirs: &[(&str, u32)]) -> (tempfile::TempDir, Host) {
        let t = tempfile::tempdir().unwrap();
        for (d, mode) in dirs {
            let real = t.path().join(d.trim_start_matches('/'));
            std::fs::create_dir_all(&real).unwrap();
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        for (p, mode) in files {
            let real = t.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(real.parent().unwrap()).unwrap();
            if !real.exists() {
                std::fs::write(&real, "").unwrap();
            }
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        let h = Host::new(t.path()).unwrap();
        (t, h)
    }

    fn eval(scan: Scan, h: &Host) -> Outcome {
        let a = WalkSpec { paths: None }.compile(scan).unwrap();
        a.evaluate(h)
    }

    #[test]
    fn world_writable_dirs_without_sticky_and_files_fail() {
        let (_t, h) = host(
            &[("/etc/app.conf", 0o666), ("/etc/ok.conf", 0o644)],
            &[
                ("/var/tmp", 0o1777),
                ("/var/www/uploads", 0o777),
                ("/usr/share", 0o755),
            ],
        );
        let o = eval(Scan::WorldWritable, &h);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        let shown: Vec<String> = o.evidence.iter().map(|e| e.to_string()).collect();
        assert!(
            shown.iter().any(|s| s.starts_with(
                "/var/www/uploads world-writable directory without the sticky bit (mode 0777"
            )),
            "{shown:?}"
        );
        assert!(shown
            .iter()
            .any(|s| s.starts_with("/etc/app.conf world-writable file (mode 0666")));
        assert_eq!(shown.len(), 2, "{shown:?}");
    }

    #[test]
    fn a_clean_tree_passes_and_names_the_sticky_dirs() {
        let (_t, h) = host(&[("/etc/ok.conf", 0o644)], &[("/var/tmp", 0o1777)]);
        let o = eval(Scan::WorldWritable, &h);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(
            o.evidence[0].detail.contains("(/var/tmp, not entered)"),
            "{o:?}"
        );
    }

    #[test]
    fn evidence_is_capped() {
        let files: Vec<(String, u32)> = (0..MAX_EVIDENCE + 5)
            .map(|i| (format!("/etc/f{i:03}"), 0o666))
            .collect();
        let refs: Vec<(&str, u32)> = files.iter().map(|(p, m)| (p.as_str(), *m)).collect();
        let (_t, h) = host(&refs, &[]);
        let o = eval(Scan::WorldWritable, &h);
        assert_eq!(o.evidence.len(), MAX_EVIDENCE + 1);
        assert!(o
            .evidence
            .last()
            .unwrap()
            .detail
            .starts_with("… and 5 more"));
    }

    #[test]
    fn setid_files_need_a_package() {
        let (t, h) = host(
            &[
                ("/usr/bin/passwd", 0o4755),
                ("/usr/local/bin/rootshell", 0o4755),
                ("/usr/bin/wall", 0o2755),
            ],
            &[],
        );
        // No dpkg database: not applicable.
        assert_eq!(
            eval(Scan::UnpackagedSetid, &h).status,
            Status::NotApplicable
        );
        let info = t.path().join("var/lib/dpkg/info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(info.join("passwd.list"), "/usr/bin/passwd\n").unwrap();
        let o = eval(Scan::UnpackagedSetid, &h);
        assert_eq!(o.status, Status::Fail);
        let shown: Vec<&str> = o.evidence.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with("/usr/bin/wall is setgid (mode 2755"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("/usr/local/bin/rootshell is setuid"),
            "{shown:?}"
        );
        std::fs::write(
            info.join("bsdutils.list"),
            "/usr/bin/wall\n/usr/local/bin/rootshell\n",
        )
        .unwrap();
        let o = eval(Scan::UnpackagedSetid, &h);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.evidence[0]
            .detail
            .contains("3 setuid/setgid files, each owned"));
    }

    #[test]
    fn kernel_filesystems_are_refused() {
        for p in ["/proc", "/sys/kernel", "/", "relative", "/etc/../proc"] {
            let spec = WalkSpec {
                paths: Some(vec![p.into()]),
            };
            assert!(spec.compile(Scan::WorldWritable).is_err(), "{p}");
        }
    }
}
