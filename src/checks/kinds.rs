//! The assertion kinds a YAML check can use, listed once in [`KINDS`], each with its
//! spec (serde form), its compiled form and its evaluation against a [`Host`].
//!
//! - `sshd: {keyword, expect: [..], warn: [..]}` or `sshd: {keyword, max: N, warn_max: M}`:
//!   the effective global value of an sshd keyword, sshd's default when it is absent.
//!   With `expect`, PASS when the value is listed, WARN when it is in `warn`, else FAIL.
//!   With `max`, PASS when the number is ≤ max, WARN when ≤ warn_max, else FAIL.
//!   NOT_APPLICABLE when there is no `/etc/ssh/sshd_config`.
//! - `file_mode: {path, max: "0640", owner: root, group: [root, shadow]}`: FAIL when the
//!   file has a permission bit `max` does not allow, or an owner/group not listed (names
//!   resolved through the audited host's own passwd and group files). NOT_APPLICABLE
//!   when the file does not exist.
//!   With `forbid: [patterns]` (for `Ciphers`, `MACs`, `KexAlgorithms`): the algorithms
//!   sshd would offer (OpenSSH's `+`, `-` and `^` list forms applied to its defaults, in
//!   [`super::sshd_algorithms`]) FAIL when one matches a pattern, WARN when one matches
//!   a `warn` pattern.
//! - `file_mode: {path, max: "0640", owner: root, group: [root, shadow]}`: see above.
//! - `accounts: uid0_only_root | no_empty_passwords | system_accounts_without_shell |
//!   home_directories` (the last in [`super::homes`]).
//! - `world_writable: {paths}` and `unpackaged_setid: {paths}`: a bounded walk of the
//!   system directories ([`super::system_files`]).
//!
//! Checks written in Rhai are not a YAML kind but compile to [`Assertion::Script`]
//! ([`super::rhai_check`]).

use serde::Deserialize;

use super::host::{Host, HostError, User};
use std::sync::Arc;

use super::context::RunContext;
use super::rhai_check::ScriptCheck;
use super::sshd;
use super::sshd_algorithms;
use super::system_files::SystemFiles;
use super::{Evidence, Status};
use crate::base::one_or_many::OneOrMany;

/// One entry of the registry of assertion kinds: its YAML key and what it asserts.
pub struct Kind {
    pub key: &'static str,
    pub doc: &'static str,
}

pub const KINDS: &[Kind] = &[
    Kind {
        key: "sshd",
        doc: "the effective value of an sshd_config keyword (Include and defaults applied)",
    },
    Kind {
        key: "file_mode",
        doc: "a file's permission bits at most `max`, owner and group among those listed",
    },
    Kind {
        key: "accounts",
        doc: "uid0_only_root, no_empty_passwords, system_accounts_without_shell or home_directories",
    },
    Kind {
        key: "world_writable",
        doc: "no world-writable directory without the sticky bit, and no world-writable file, under the system directories",
    },
    Kind {
        key: "unpackaged_setid",
        doc: "no setuid or setgid file under the system directories that no installed (dpkg) package owns",
    },
];

/// A compiled assertion.
#[derive(Debug, Clone)]
pub enum Assertion {
    Sshd(Sshd),
    FileMode(FileMode),
    Accounts(AccountsRule),
    SystemFiles(SystemFiles),
    /// A check written in Rhai.
    Script(Arc<ScriptCheck>),
}

/// What an assertion found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    pub(crate) fn new(status: Status, evidence: Vec<Evidence>) -> Self {
        Outcome { status, evidence }
    }
    pub(crate) fn note(status: Status, detail: impl Into<String>) -> Self {
        Outcome::new(status, vec![Evidence::detail(detail)])
    }
}

/// The more serious of two verdicts, for a result made of several findings: FAIL over
/// ERROR over WARN over PASS and NOT_APPLICABLE.
pub(crate) fn worse(a: Status, b: Status) -> Status {
    let rank = |s| match s {
        Status::Pass | Status::NotApplicable => 0,
        Status::Warn => 1,
        Status::Error => 2,
        Status::Fail => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl Assertion {
    /// Evaluates the assertion on its own (nothing is shared with other checks).
    pub fn evaluate(&self, host: &Host) -> Outcome {
        self.evaluate_with(host, &RunContext::default())
    }

    /// Evaluates the assertion with what the run's checks share (the filesystem walk,
    /// `sshd -T`).
    pub fn evaluate_with(&self, host: &Host, run: &RunContext) -> Outcome {
        let r = match self {
            Assertion::Sshd(s) => s.evaluate(host, run),
            Assertion::FileMode(f) => f.evaluate(host),
            Assertion::Accounts(a) => a.evaluate(host),
            Assertion::SystemFiles(w) => w.evaluate(host, &run.walks),
            Assertion::Script(s) => return s.evaluate(host),
        };
        r.unwrap_or_else(|e| {
            let status = if e.is_not_found() {
                Status::NotApplicable
            } else {
                Status::Error
            };
            Outcome::note(status, e.to_string())
        })
    }
}

// ---- sshd -------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshdSpec {
    pub keyword: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub warn: Vec<String>,
    #[serde(default)]
    pub max: Option<u32>,
    #[serde(default)]
    pub warn_max: Option<u32>,
    /// Patterns (OpenSSH wildcards) of algorithms that FAIL when sshd would offer them;
    /// with `forbid`, `warn` holds patterns that WARN. Only for algorithm lists.
    #[serde(default)]
    pub forbid: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Sshd {
    pub keyword: String,
    pub test: SshdTest,
}

#[derive(Debug, Clone)]
pub enum SshdTest {
    OneOf {
        pass: Vec<String>,
        warn: Vec<String>,
    },
    AtMost {
        pass: u32,
        warn: u32,
    },
    /// An algorithm list (`Ciphers`, `MACs`, `KexAlgorithms`): FAIL when an offered
    /// algorithm matches a `fail` pattern, WARN when one matches a `warn` pattern.
    Forbid {
        list: &'static sshd_algorithms::AlgorithmList,
        fail: Vec<String>,
        warn: Vec<String>,
    },
}

impl SshdSpec {
    pub fn compile(&self) -> Result<Assertion, String> {
        if self.keyword.is_empty() || self.keyword.contains(char::is_whitespace) {
            return Err(format!("`{}` is not an sshd keyword", self.keyword));
        }
        let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect();
        if !self.forbid.is_empty() {
            let Some(list) = sshd_algorithms::list_for(&self.keyword) else {
                let names: Vec<&str> = sshd_algorithms::LISTS.iter().map(|l| l.keyword).collect();
                return Err(format!(
                    "`forbid` applies to the algorithm lists ({}), not `{}`",
                    names.join(", "),
                    self.keyword
                ));
            };
            if !self.expect.is_empty() || self.max.is_some() || self.warn_max.is_some() {
                return Err("`forbid` (and optionally `warn`) excludes `expect` and `max`".into());
            }
            if let Some(p) = self
                .forbid
                .iter()
                .chain(&self.warn)
                .find(|p| p.trim().is_empty() || p.contains([',', '!']))
            {
                return Err(format!(
                    "`{p}` is not one algorithm pattern (no commas, no `!`)"
                ));
            }
            return Ok(Assertion::Sshd(Sshd {
                keyword: self.keyword.clone(),
                test: SshdTest::Forbid {
                    list,
                    fail: lower(&self.forbid),
                    warn: lower(&self.warn),
                },
            }));
        }
        let test = match (&self.expect[..], self.max) {
            ([_, ..], None) if self.warn_max.is_none() => SshdTest::OneOf {
                pass: lower(&self.expect),
                warn: lower(&self.warn),
            },
            ([], Some(max)) if self.warn.is_empty() => {
                let warn = self.warn_max.unwrap_or(max);
                if warn < max {
                    return Err(format!("warn_max ({warn}) is below max ({max})"));
                }
                SshdTest::AtMost { pass: max, warn }
            }
            _ => return Err(
                "give either `expect` (and optionally `warn`), `max` (and optionally `warn_max`) or `forbid` (and optionally `warn`)"
                    .into(),
            ),
        };
        Ok(Assertion::Sshd(Sshd {
            keyword: self.keyword.clone(),
            test,
        }))
    }
}

/// Whether two spellings name the same sshd setting (`sshd -T` prints the old alias
/// `without-password` for `prohibit-password`).
fn same_setting(a: &str, b: &str) -> bool {
    let canon = |s: &str| match s {
        "without-password" => "prohibit-password".to_string(),
        s => s.to_string(),
    };
    canon(&a.to_ascii_lowercase()) == canon(&b.to_ascii_lowercase())
}

impl Sshd {
    fn evaluate(&self, host: &Host, run: &RunContext) -> Result<Outcome, HostError> {
        let Some(cfg) = sshd::parse(host)? else {
            return Ok(Outcome::note(
                Status::NotApplicable,
                format!("{} does not exist", sshd::SSHD_CONFIG),
            ));
        };
        // On the running host, sshd's own reading of its files (`sshd -T`) is the truth;
        // when it disagrees with ours, it decides and the evidence says so.
        let live = run
            .sshd_t(host)
            .and_then(|m| m.get(&self.keyword.to_ascii_lowercase()));
        if let SshdTest::Forbid { list, fail, warn } = &self.test {
            let mut out = self.forbidden(&cfg, list, fail, warn, live.map(String::as_str));
            out.evidence
                .extend(cfg.warnings.iter().map(Evidence::detail));
            return Ok(out);
        }
        let (value, mut evidence) = match cfg.effective(&self.keyword) {
            Some(d) => (
                d.value.clone(),
                Evidence {
                    file: Some(d.file.clone()),
                    line: Some(d.line),
                    detail: format!("{} {}", self.keyword, d.value),
                },
            ),
            None => match sshd::default_value(&self.keyword) {
                Some(v) => (
                    v.to_string(),
                    Evidence {
                        file: Some(sshd::SSHD_CONFIG.into()),
                        line: None,
                        detail: format!("{} not set; sshd's default is {v}", self.keyword),
                    },
                ),
                None => {
                    return Ok(Outcome::note(
                        Status::Warn,
                        format!("{} not set and its default is unknown", self.keyword),
                    ))
                }
            },
        };
        // The first word decides (`PermitRootLogin no # comment` is not valid sshd, but
        // `MaxAuthTries 3` must not carry anything after the number).
        let first_word = |v: &str| {
            v.split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        let mut first = first_word(&value);
        let mut disagreement = None;
        if let Some(live) = live {
            if !same_setting(&first_word(live), &first) {
                disagreement = Some(Evidence::detail(format!(
                    "`sshd -T` reads {} as {live}, not {value}; sshd's reading decides",
                    self.keyword
                )));
                first = first_word(live);
            }
        }
        let status = match &self.test {
            SshdTest::OneOf { pass, warn } => {
                if pass.contains(&first) {
                    Status::Pass
                } else if warn.contains(&first) {
                    Status::Warn
                } else {
                    Status::Fail
                }
            }
            SshdTest::AtMost { pass, warn } => match first.parse::<u32>() {
                Ok(n) if n <= *pass => Status::Pass,
                Ok(n) if n <= *warn => Status::Warn,
                Ok(_) => Status::Fail,
                Err(_) => {
                    evidence.detail.push_str(" (not a number)");
                    Status::Fail
                }
            },
            SshdTest::Forbid { .. } => unreachable!("handled above"),
        };
        let mut out = vec![evidence];
        out.extend(disagreement);
        out.extend(cfg.warnings.iter().map(Evidence::detail));
        Ok(Outcome::new(status, out))
    }

    /// The algorithms sshd would offer for this keyword, checked against the patterns.
    /// The evidence names each weak algorithm and where the list comes from.
    fn forbidden(
        &self,
        cfg: &sshd::SshdConfig,
        list: &sshd_algorithms::AlgorithmList,
        fail: &[String],
        warn: &[String],
        live: Option<&str>,
    ) -> Outcome {
        let directive = cfg.effective(&self.keyword);
        let mut effective = list.assemble(directive.map(|d| d.value.as_str()));
        let mut disagreement = None;
        if let Some(live) = live {
            let names: Vec<String> = live
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
            if names != effective.names {
                disagreement = Some(Evidence::detail(format!(
                    "`sshd -T` offers {}, not {} as computed from the files; sshd's list decides",
                    names.join(","),
                    effective.names.join(",")
                )));
                effective = sshd_algorithms::Effective {
                    names,
                    unknown: Vec::new(),
                };
            }
        }
        let matching = |patterns: &[String]| -> Vec<String> {
            effective
                .names
                .iter()
                .filter(|n| {
                    patterns
                        .iter()
                        .any(|p| sshd_algorithms::match_pattern(n, p))
                })
                .cloned()
                .collect()
        };
        let (bad, doubtful) = (matching(fail), matching(warn));
        let doubtful: Vec<String> = doubtful.into_iter().filter(|n| !bad.contains(n)).collect();
        let (status, verdict) = if !bad.is_empty() {
            (Status::Fail, format!("weak: {}", bad.join(", ")))
        } else if !doubtful.is_empty() {
            (
                Status::Warn,
                format!("discouraged: {}", doubtful.join(", ")),
            )
        } else {
            (Status::Pass, "no weak algorithm".to_string())
        };
        let mut evidence = vec![match directive {
            Some(d) => Evidence {
                file: Some(d.file.clone()),
                line: Some(d.line),
                detail: format!(
                    "{} {}: {verdict} (sshd offers {})",
                    self.keyword,
                    d.value,
                    effective.names.join(",")
                ),
            },
            None => Evidence {
                file: Some(sshd::SSHD_CONFIG.into()),
                line: None,
                detail: format!(
                    "{} not set: {verdict} (OpenSSH 9.2's default offers {})",
                    self.keyword,
                    effective.names.join(",")
                ),
            },
        }];
        evidence.extend(disagreement);
        if !effective.unknown.is_empty() {
            evidence.push(Evidence::detail(format!(
                "{} not supported by OpenSSH 9.2 (sshd refuses to start with it)",
                effective.unknown.join(", ")
            )));
        }
        Outcome::new(status, evidence)
    }
}

// ---- file_mode --------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileModeSpec {
    pub path: String,
    pub max: String,
    #[serde(default)]
    pub owner: Option<OneOrMany<String>>,
    #[serde(default)]
    pub group: Option<OneOrMany<String>>,
}

#[derive(Debug, Clone)]
pub struct FileMode {
    pub path: String,
    pub max: u32,
    pub owners: Vec<String>,
    pub groups: Vec<String>,
}

impl FileModeSpec {
    pub fn compile(&self) -> Result<Assertion, String> {
        if !self.path.starts_with('/') {
            return Err(format!("path `{}` must be absolute", self.path));
        }
        let max = u32::from_str_radix(&self.max, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| format!("max `{}` is not an octal mode such as \"0640\"", self.max))?;
        Ok(Assertion::FileMode(FileMode {
            path: self.path.clone(),
            max,
            owners: self
                .owner
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            groups: self
                .group
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
        }))
    }
}

impl FileMode {
    fn evaluate(&self, host: &Host) -> Result<Outcome, HostError> {
        let Some(st) = host.stat(&self.path)? else {
            return Ok(Outcome::note(
                Status::NotApplicable,
                format!("{} does not exist", self.path),
            ));
        };
        // Names as the audited host knows them; an unreadable database only loses names.
        let users = host.users().unwrap_or_default();
        let groups = host.groups().unwrap_or_default();
        let user_name = users
            .iter()
            .find(|u| u.uid == st.uid)
            .map_or_else(|| st.uid.to_string(), |u| u.name.clone());
        let group_name = groups
            .iter()
            .find(|g| g.gid == st.gid)
            .map_or_else(|| st.gid.to_string(), |g| g.name.clone());
        let uid_ok = self.owners.is_empty()
            || self.owners.iter().any(|o| {
                *o == user_name
                    || o.parse() == Ok(st.uid)
                    || (o == "root" && st.uid == 0 && users.is_empty())
            });
        let gid_ok = self.groups.is_empty()
            || self.groups.iter().any(|g| {
                *g == group_name
                    || g.parse() == Ok(st.gid)
                    || (g == "root" && st.gid == 0 && groups.is_empty())
            });
        let extra = st.mode & !self.max;
        let mut problems = Vec::new();
        if extra != 0 {
            problems.push(format!(
                "mode {:04o} allows {:04o} beyond {:04o}",
                st.mode, extra, self.max
            ));
        }
        if !uid_ok {
            problems.push(format!(
                "owner {user_name} is not {}",
                self.owners.join(" or ")
            ));
        }
        if !gid_ok {
            problems.push(format!(
                "group {group_name} is not {}",
                self.groups.join(" or ")
            ));
        }
        let status = if problems.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        let detail = format!(
            "mode {:04o}, owner {user_name}, group {group_name}{}",
            st.mode,
            if problems.is_empty() {
                String::new()
            } else {
                format!(": {}", problems.join("; "))
            }
        );
        Ok(Outcome::new(
            status,
            vec![Evidence {
                file: Some(self.path.clone()),
                line: None,
                detail,
            }],
        ))
    }
}

// ---- accounts ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountsRule {
    /// No account but root has UID 0.
    Uid0OnlyRoot,
    /// No account has an empty password field in /etc/shadow (or /etc/passwd).
    NoEmptyPasswords,
    /// Accounts below UID 1000, other than root, have no login shell.
    SystemAccountsWithoutShell,
    /// Homes of accounts that can log in are theirs and closed to others.
    HomeDirectories,
}

/// Below this UID an account is a system account (Debian's and Fedora's `UID_MIN`).
pub const FIRST_USER_UID: u32 = 1000;

/// Shells that do not give a login session (sync, halt and shutdown are the traditional
/// special accounts' commands).
pub(crate) fn is_no_login_shell(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or("");
    shell.is_empty() || matches!(base, "nologin" | "false" | "sync" | "halt" | "shutdown")
}

fn at_line(file: &str, line: u32, detail: String) -> Evidence {
    Evidence {
        file: Some(file.into()),
        line: Some(line),
        detail,
    }
}

impl AccountsRule {
    fn evaluate(self, host: &Host) -> Result<Outcome, HostError> {
        let found: Vec<Evidence> = match self {
            AccountsRule::HomeDirectories => return super::homes::evaluate(host),
            AccountsRule::Uid0OnlyRoot => host
                .users()?
                .into_iter()
                .filter(|u| u.uid == 0 && u.name != "root")
                .map(|u| at_line("/etc/passwd", u.line, format!("{} has UID 0", u.name)))
                .collect(),
            AccountsRule::NoEmptyPasswords => {
                let mut found: Vec<Evidence> = host
                    .users()?
                    .into_iter()
                    .filter(|u| u.password.is_empty())
                    .map(|u| {
                        at_line(
                            "/etc/passwd",
                            u.line,
                            format!("{} has an empty password field", u.name),
                        )
                    })
                    .collect();
                match host.shadow() {
                    Ok(entries) => {
                        found.extend(entries.into_iter().filter(|s| s.hash.is_empty()).map(|s| {
                            at_line(
                                "/etc/shadow",
                                s.line,
                                format!("{} has an empty password hash", s.name),
                            )
                        }))
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
                found
            }
            AccountsRule::SystemAccountsWithoutShell => host
                .users()?
                .into_iter()
                .filter(|u: &User| {
                    u.uid < FIRST_USER_UID && u.name != "root" && !is_no_login_shell(&u.shell)
                })
                .map(|u| {
                    at_line(
                        "/etc/passwd",
                        u.line,
                        format!("{} (UID {}) has the login shell {}", u.name, u.uid, u.shell),
                    )
                })
                .collect(),
        };
        Ok(if found.is_empty() {
            Outcome::note(Status::Pass, "no account found")
        } else {
            Outcome::new(Status::Fail, found)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn host(files: &[(&str, &str, u32)]) -> (tempfile::TempDir, Host) {
        let t = tempfile::tempdir().unwrap();
        for (p, text, mode) in files {
            let real = t.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(real.parent().unwrap()).unwrap();
            std::fs::write(&real, text).unwrap();
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        let h = Host::new(t.path()).unwrap();
        (t, h)
    }

    fn file_mode(path: &str, max: &str) -> Assertion {
        FileModeSpec {
            path: path.into(),
            max: max.into(),
            owner: None,
            group: None,
        }
        .compile()
        .unwrap()
    }

    #[test]
    fn file_mode_counts_special_bits_and_missing_files() {
        let (_t, h) = host(&[("/usr/bin/tool", "", 0o4755), ("/etc/ok", "", 0o600)]);
        let o = file_mode("/usr/bin/tool", "0755").evaluate(&h);
        assert_eq!(o.status, Status::Fail);
        assert!(o.evidence[0].detail.contains("allows 4000"), "{o:?}");
        assert_eq!(
            file_mode("/etc/ok", "0640").evaluate(&h).status,
            Status::Pass
        );
        assert_eq!(
            file_mode("/etc/none", "0640").evaluate(&h).status,
            Status::NotApplicable
        );
        assert!(FileModeSpec {
            path: "etc/x".into(),
            max: "0640".into(),
            owner: None,
            group: None
        }
        .compile()
        .is_err());
    }

    #[test]
    fn file_mode_owner_names_come_from_the_audited_host() {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        let passwd = format!("someone:x:{uid}:{uid}::/:/bin/sh\n");
        let (_t, h) = host(&[("/etc/passwd", &passwd, 0o644), ("/etc/f", "", 0o600)]);
        let with_owner = |owner: &str| FileModeSpec {
            path: "/etc/f".into(),
            max: "0600".into(),
            owner: Some(OneOrMany::One(owner.into())),
            group: None,
        };
        let pass = with_owner("someone").compile().unwrap().evaluate(&h);
        assert_eq!(pass.status, Status::Pass, "{pass:?}");
        assert_eq!(
            with_owner(&uid.to_string())
                .compile()
                .unwrap()
                .evaluate(&h)
                .status,
            Status::Pass
        );
        let fail = with_owner("nobody-here").compile().unwrap().evaluate(&h);
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.evidence[0]
            .detail
            .contains("owner someone is not nobody-here"));
    }

    #[test]
    fn sshd_numbers_and_bad_values() {
        let spec = |v: &str| SshdSpec {
            keyword: "MaxAuthTries".into(),
            expect: vec![],
            warn: vec![],
            max: Some(4),
            warn_max: Some(v.parse().unwrap()),
            forbid: vec![],
        };
        assert!(spec("3").compile().is_err(), "warn_max below max");
        let a = spec("6").compile().unwrap();
        for (line, want) in [
            ("MaxAuthTries 4\n", Status::Pass),
            ("maxauthtries=5\n", Status::Warn),
            ("MaxAuthTries 7\n", Status::Fail),
            ("MaxAuthTries lots\n", Status::Fail),
            ("Port 22\n", Status::Warn), // sshd's default, 6
        ] {
            let (_t, h) = host(&[("/etc/ssh/sshd_config", line, 0o644)]);
            assert_eq!(a.evaluate(&h).status, want, "{line}");
        }
    }

    #[test]
    fn sshd_t_decides_when_it_disagrees_with_the_files() {
        let (_t, h) = host(&[(
            "/etc/ssh/sshd_config",
            "PermitRootLogin no\nCiphers aes128-ctr\n",
            0o644,
        )]);
        let root_login = SshdSpec {
            keyword: "PermitRootLogin".into(),
            expect: vec!["no".into()],
            warn: vec!["prohibit-password".into()],
            max: None,
            warn_max: None,
            forbid: vec![],
        }
        .compile()
        .unwrap();
        let run = RunContext::with_sshd_t(&[
            ("permitrootlogin", "yes"),
            ("ciphers", "aes128-ctr,aes128-cbc"),
        ]);
        let o = root_login.evaluate_with(&h, &run);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert_eq!(
            o.evidence[0].to_string(),
            "/etc/ssh/sshd_config:1: PermitRootLogin no"
        );
        assert_eq!(
            o.evidence[1].detail,
            "`sshd -T` reads PermitRootLogin as yes, not no; sshd's reading decides"
        );
        // The same setting under its old alias is no disagreement.
        let (_t2, h2) = host(&[("/etc/ssh/sshd_config", "Port 22\n", 0o644)]);
        let run = RunContext::with_sshd_t(&[("permitrootlogin", "without-password")]);
        let o = root_login.evaluate_with(&h2, &run);
        assert_eq!((o.status, o.evidence.len()), (Status::Warn, 1), "{o:?}");
        // Algorithm lists: sshd's list is judged.
        let ciphers = SshdSpec {
            keyword: "Ciphers".into(),
            expect: vec![],
            warn: vec![],
            max: None,
            warn_max: None,
            forbid: vec!["*-cbc".into()],
        }
        .compile()
        .unwrap();
        assert_eq!(ciphers.evaluate(&h).status, Status::Pass);
        let run = RunContext::with_sshd_t(&[("ciphers", "aes128-ctr,aes128-cbc")]);
        let o = ciphers.evaluate_with(&h, &run);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.evidence[0].detail.contains("weak: aes128-cbc"), "{o:?}");
        assert!(
            o.evidence[1]
                .detail
                .starts_with("`sshd -T` offers aes128-ctr,aes128-cbc, not aes128-ctr"),
            "{o:?}"
        );
    }

    #[test]
    fn forbid_is_only_for_algorithm_lists() {
        let spec = |keyword: &str, expect: Vec<String>| SshdSpec {
            keyword: keyword.into(),
            expect,
            warn: vec![],
            max: None,
            warn_max: None,
            forbid: vec!["*-cbc".into()],
        };
        assert!(spec("PermitRootLogin", vec![])
            .compile()
            .unwrap_err()
            .contains("algorithm lists"));
        assert!(spec("Ciphers", vec!["x".into()]).compile().is_err());
        let mut bad = spec("MACs", vec![]);
        bad.forbid = vec!["a,b".into()];
        assert!(bad.compile().is_err());
    }

    #[test]
    fn accounts_without_passwd_do_not_apply() {
        let (_t, h) = host(&[]);
        let o = Assertion::Accounts(AccountsRule::Uid0OnlyRoot).evaluate(&h);
        assert_eq!(o.status, Status::NotApplicable);
    }
}
