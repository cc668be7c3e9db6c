//! Where checks come from: a directory of `*.yaml` and `*.rhai` files, or the default
//! checks compiled into the binary (the repository's `checks/`).

use std::path::{Path, PathBuf};

use super::spec::Check;
use crate::base::diag::CompileError;

/// The default checks, embedded. `tests/checks_fixtures.rs` checks this list against the
/// files in `checks/`.
pub const DEFAULT_CHECKS: &[(&str, &str)] = &[
    (
        "ssh-permit-root-login.yaml",
        include_str!("../../checks/ssh-permit-root-login.yaml"),
    ),
    (
        "ssh-password-authentication.yaml",
        include_str!("../../checks/ssh-password-authentication.yaml"),
    ),
    (
        "ssh-permit-empty-passwords.yaml",
        include_str!("../../checks/ssh-permit-empty-passwords.yaml"),
    ),
    (
        "ssh-x11-forwarding.yaml",
        include_str!("../../checks/ssh-x11-forwarding.yaml"),
    ),
    (
        "ssh-max-auth-tries.yaml",
        include_str!("../../checks/ssh-max-auth-tries.yaml"),
    ),
    (
        "file-shadow.yaml",
        include_str!("../../checks/file-shadow.yaml"),
    ),
    (
        "file-gshadow.yaml",
        include_str!("../../checks/file-gshadow.yaml"),
    ),
    (
        "file-passwd.yaml",
        include_str!("../../checks/file-passwd.yaml"),
    ),
    (
        "file-group.yaml",
        include_str!("../../checks/file-group.yaml"),
    ),
    (
        "file-sudoers.yaml",
        include_str!("../../checks/file-sudoers.yaml"),
    ),
    (
        "accounts-uid0-only-root.yaml",
        include_str!("../../checks/accounts-uid0-only-root.yaml"),
    ),
    (
        "accounts-no-empty-passwords.yaml",
        include_str!("../../checks/accounts-no-empty-passwords.yaml"),
    ),
    (
        "accounts-system-no-shell.yaml",
        include_str!("../../checks/accounts-system-no-shell.yaml"),
    ),
    (
        "ssh-weak-ciphers.yaml",
        include_str!("../../checks/ssh-weak-ciphers.yaml"),
    ),
    (
        "ssh-weak-macs.yaml",
        include_str!("../../checks/ssh-weak-macs.yaml"),
    ),
    (
        "ssh-weak-kex.yaml",
        include_str!("../../checks/ssh-weak-kex.yaml"),
    ),
    (
        "accounts-home-directories.yaml",
        include_str!("../../checks/accounts-home-directories.yaml"),
    ),
    (
        "files-world-writable.yaml",
        include_str!("../../checks/files-world-writable.yaml"),
    ),
    (
        "files-unpackaged-setid.yaml",
        include_str!("../../checks/files-unpackaged-setid.yaml"),
    ),
    (
        "firewall-input-policy.rhai",
        include_str!("../../checks/firewall-input-policy.rhai"),
    ),
    (
        "cron-world-writable.rhai",
        include_str!("../../checks/cron-world-writable.rhai"),
    ),
    (
        "cron-jobs-from-tmp.rhai",
        include_str!("../../checks/cron-jobs-from-tmp.rhai"),
    ),
];

/// Checks that compiled, and the errors of those that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub checks: Vec<Check>,
    pub errors: Vec<CompileError>,
}

/// Compiles one check file by its extension: `.rhai` as a script, anything else as YAML.
pub fn compile_file(text: &str, file: &Path) -> Result<Check, Vec<CompileError>> {
    if file.extension().is_some_and(|e| e == "rhai") {
        super::rhai_check::compile(text, file)
    } else {
        super::spec::compile(text, file)
    }
}

/// Compiles named check texts; a duplicate id is an error on the later file.
pub fn load_texts<'a>(texts: impl IntoIterator<Item = (PathBuf, &'a str)>) -> Loaded {
    let mut out = Loaded::default();
    for (path, text) in texts {
        match compile_file(text, &path) {
            Ok(check) => {
                if let Some(first) = out.checks.iter().find(|c| c.id == check.id) {
                    out.errors.push(CompileError {
                        file: path.clone(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "check id `{}` is already used by {}",
                            check.id,
                            first.file.display()
                        ),
                    });
                } else {
                    out.checks.push(check);
                }
            }
            Err(errs) => out.errors.extend(errs),
        }
    }
    out
}

/// The embedded default checks.
pub fn defaults() -> Loaded {
    load_texts(
        DEFAULT_CHECKS
            .iter()
            .map(|(name, text)| (PathBuf::from("checks").join(name), *text)),
    )
}

/// Every `*.yaml`/`*.yml`/`*.rhai` file of `dir`, in name order.
pub fn load_dir(dir: &Path) -> std::io::Result<Loaded> {
    let (texts, read_errors) = crate::base::diag::read_dir_texts(dir, &["yaml", "yml", "rhai"])?;
    let mut loaded = load_texts(texts.iter().map(|(p, t)| (p.clone(), t.as_str())));
    loaded.errors.extend(read_errors);
    Ok(loaded)
}
