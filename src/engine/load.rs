//! Where rules come from: a directory of `*.yaml` and `*.rhai` files, or the default ruleset compiled
//! into the binary (the repository's `rules/`), so Picket needs nothing but itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compile::{CompileError, Rule};
use super::runtime::RuleSet;
use super::script::compile_file;

/// The default ruleset, embedded. `tests/rules_default.rs` checks this list against the
/// files in `rules/`.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    (
        "lan-new-device.yaml",
        include_str!("../../rules/lan-new-device.yaml"),
    ),
    (
        "lan-arp-spoofing.yaml",
        include_str!("../../rules/lan-arp-spoofing.yaml"),
    ),
    (
        "lan-device-changed.yaml",
        include_str!("../../rules/lan-device-changed.yaml"),
    ),
    (
        "lan-device-flapping.yaml",
        include_str!("../../rules/lan-device-flapping.yaml"),
    ),
    (
        "lan-device-back-after-long-absence.yaml",
        include_str!("../../rules/lan-device-back-after-long-absence.yaml"),
    ),
    (
        "lan-randomized-or-unknown-vendor.yaml",
        include_str!("../../rules/lan-randomized-or-unknown-vendor.yaml"),
    ),
    (
        "traffic-peak.yaml",
        include_str!("../../rules/traffic-peak.yaml"),
    ),
    (
        "ssh-brute-force.yaml",
        include_str!("../../rules/ssh-brute-force.yaml"),
    ),
    (
        "ssh-password-spraying.yaml",
        include_str!("../../rules/ssh-password-spraying.yaml"),
    ),
    (
        "ssh-login-after-failures.yaml",
        include_str!("../../rules/ssh-login-after-failures.yaml"),
    ),
    (
        "ssh-root-login.yaml",
        include_str!("../../rules/ssh-root-login.yaml"),
    ),
    (
        "ssh-invalid-user-scan.yaml",
        include_str!("../../rules/ssh-invalid-user-scan.yaml"),
    ),
    (
        "account-created.yaml",
        include_str!("../../rules/account-created.yaml"),
    ),
    (
        "suspicious-process.yaml",
        include_str!("../../rules/suspicious-process.yaml"),
    ),
    (
        "new-listening-port.yaml",
        include_str!("../../rules/new-listening-port.yaml"),
    ),
    (
        "log-tampering.yaml",
        include_str!("../../rules/log-tampering.yaml"),
    ),
    (
        "authorized-keys-changed.yaml",
        include_str!("../../rules/authorized-keys-changed.yaml"),
    ),
    (
        "crontab-changed.yaml",
        include_str!("../../rules/crontab-changed.yaml"),
    ),
    (
        "account-files-changed.yaml",
        include_str!("../../rules/account-files-changed.yaml"),
    ),
    (
        "privileged-group-member.yaml",
        include_str!("../../rules/privileged-group-member.yaml"),
    ),
    (
        "password-changed-other-account.yaml",
        include_str!("../../rules/password-changed-other-account.yaml"),
    ),
    (
        "sudo-denied-repeatedly.yaml",
        include_str!("../../rules/sudo-denied-repeatedly.yaml"),
    ),
    (
        "sudo-shell.yaml",
        include_str!("../../rules/sudo-shell.yaml"),
    ),
    (
        "su-failures.yaml",
        include_str!("../../rules/su-failures.yaml"),
    ),
    (
        "service-failing-repeatedly.yaml",
        include_str!("../../rules/service-failing-repeatedly.yaml"),
    ),
    (
        "segfault-burst.yaml",
        include_str!("../../rules/segfault-burst.yaml"),
    ),
    ("oom-kill.yaml", include_str!("../../rules/oom-kill.yaml")),
    (
        "firewall-drop-burst.yaml",
        include_str!("../../rules/firewall-drop-burst.yaml"),
    ),
    (
        "ssh-distributed-brute-force.yaml",
        include_str!("../../rules/ssh-distributed-brute-force.yaml"),
    ),
    (
        "short-lived-account.rhai",
        include_str!("../../rules/short-lived-account.rhai"),
    ),
    (
        "sudo-rare-target.rhai",
        include_str!("../../rules/sudo-rare-target.rhai"),
    ),
    (
        "new-ssh-source-for-user.rhai",
        include_str!("../../rules/new-ssh-source-for-user.rhai"),
    ),
];

/// Rules that compiled, and the errors of those that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub rules: Vec<Arc<Rule>>,
    pub errors: Vec<CompileError>,
    /// Files read.
    pub files: usize,
}

impl Loaded {
    pub fn ruleset(&self) -> Arc<RuleSet> {
        Arc::new(RuleSet::new(self.rules.clone()))
    }
}

/// Compiles named rule texts; duplicate ids are errors on the later file.
pub fn load_texts<'a>(texts: impl IntoIterator<Item = (PathBuf, &'a str)>) -> Loaded {
    let mut out = Loaded::default();
    for (path, text) in texts {
        out.files += 1;
        match compile_file(text, &path) {
            Ok(rule) => {
                if let Some(first) = out.rules.iter().find(|r| r.id == rule.id) {
                    out.errors.push(CompileError {
                        file: path.clone(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "rule id `{}` is already used by {}",
                            rule.id,
                            first.file.display()
                        ),
                    });
                } else {
                    out.rules.push(Arc::new(rule));
                }
            }
            Err(errs) => out.errors.extend(errs),
        }
    }
    out
}

/// The embedded default ruleset.
pub fn defaults() -> Loaded {
    load_texts(
        DEFAULT_RULES
            .iter()
            .map(|(name, text)| (PathBuf::from("rules").join(name), *text)),
    )
}

/// Every `*.yaml`/`*.yml`/`*.rhai` file of `dir`, in name order.
pub fn load_dir(dir: &Path) -> std::io::Result<Loaded> {
    let (texts, read_errors) = read_dir_texts(dir, &["yaml", "yml", "rhai"])?;
    let mut loaded = load_texts(texts.iter().map(|(p, t)| (p.clone(), t.as_str())));
    loaded.errors.extend(read_errors);
    Ok(loaded)
}

pub use crate::base::diag::{read_dir_texts, FileTexts};

/// The rules a command uses: `dir` if given, else `/etc/picket/rules` when it exists,
/// else the embedded defaults. Returns what was loaded and a description of where from.
pub fn resolve(dir: Option<&Path>) -> std::io::Result<(Loaded, String)> {
    let system = Path::new("/etc/picket/rules");
    match dir {
        Some(d) => Ok((load_dir(d)?, d.display().to_string())),
        None if system.is_dir() => Ok((load_dir(system)?, system.display().to_string())),
        None => Ok((defaults(), "the built-in default ruleset".into())),
    }
}
