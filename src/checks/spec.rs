//! A check as written in `checks/*.yaml`, and its compilation into a [`Check`].
//!
//! A check names one assertion kind by its key (`sshd:`, `file_mode:`, `accounts:`,
//! `world_writable:`, `unpackaged_setid:`); the
//! kinds are listed once in [`super::kinds::KINDS`]. Every struct denies unknown keys, and
//! every error names `file:line:column`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::kinds::{AccountsRule, Assertion, FileModeSpec, SshdSpec};
use super::system_files::{Scan, WalkSpec};
use crate::base::diag::CompileError;
use crate::model::Severity;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: Spanned<String>,
    pub title: String,
    pub category: Spanned<String>,
    pub severity: Severity,
    #[serde(default)]
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub sshd: Option<Spanned<SshdSpec>>,
    #[serde(default)]
    pub file_mode: Option<Spanned<FileModeSpec>>,
    #[serde(default)]
    pub accounts: Option<Spanned<AccountsRule>>,
    #[serde(default)]
    pub world_writable: Option<Spanned<WalkSpec>>,
    #[serde(default)]
    pub unpackaged_setid: Option<Spanned<WalkSpec>>,
}

/// Categories a check may belong to (the Config page groups results by them).
pub const CATEGORIES: &[&str] = &[
    "ssh", "files", "accounts", "firewall", "cron", "kernel", "services",
];

/// A compiled check.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    pub remediation: String,
    pub assertion: Assertion,
    pub file: PathBuf,
}

fn at<T>(file: &Path, s: &Spanned<T>, message: impl Into<String>) -> CompileError {
    CompileError {
        file: file.to_path_buf(),
        line: s.referenced.line() as u32,
        column: s.referenced.column() as u32,
        message: message.into(),
    }
}

/// Parses and compiles one check file; every problem is reported with its position.
pub fn compile(text: &str, file: &Path) -> Result<Check, Vec<CompileError>> {
    let spec: CheckSpec = serde_saphyr::from_str(text)
        .map_err(|e| vec![crate::base::diag::yaml_error(&e, file, "invalid check")])?;
    let mut errors = Vec::new();
    let id = &spec.id.value;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push(at(
            file,
            &spec.id,
            format!("check id `{id}` must be lowercase letters, digits and `-`"),
        ));
    }
    if !CATEGORIES.contains(&spec.category.value.as_str()) {
        errors.push(at(
            file,
            &spec.category,
            format!(
                "unknown category `{}`: use one of {}",
                spec.category.value,
                CATEGORIES.join(", ")
            ),
        ));
    }
    let mut kinds = Vec::new();
    if let Some(s) = &spec.sshd {
        kinds.push(s.value.compile().map_err(|m| at(file, s, m)));
    }
    if let Some(s) = &spec.file_mode {
        kinds.push(s.value.compile().map_err(|m| at(file, s, m)));
    }
    if let Some(s) = &spec.accounts {
        kinds.push(Ok(Assertion::Accounts(s.value)));
    }
    if let Some(s) = &spec.world_writable {
        kinds.push(
            s.value
                .compile(Scan::WorldWritable)
                .map_err(|m| at(file, s, m)),
        );
    }
    if let Some(s) = &spec.unpackaged_setid {
        kinds.push(
            s.value
                .compile(Scan::UnpackagedSetid)
                .map_err(|m| at(file, s, m)),
        );
    }
    let assertion = match kinds.len() {
        1 => match kinds.pop().unwrap() {
            Ok(a) => Some(a),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        n => {
            let names: Vec<&str> = super::kinds::KINDS.iter().map(|k| k.key).collect();
            errors.push(at(
                file,
                &spec.id,
                format!(
                    "a check needs exactly one assertion ({}), this one has {n}",
                    names.join(", ")
                ),
            ));
            None
        }
    };
    match assertion {
        Some(assertion) if errors.is_empty() => Ok(Check {
            id: spec.id.value,
            title: spec.title,
            category: spec.category.value,
            severity: spec.severity,
            description: spec.description,
            remediation: spec.remediation.trim().to_string(),
            assertion,
            file: file.to_path_buf(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(text: &str) -> Vec<String> {
        compile(text, Path::new("c.yaml"))
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    const HEAD: &str = "id: x\ntitle: X\ncategory: ssh\nseverity: high\nremediation: fix it\n";

    #[test]
    fn compiles_each_kind() {
        let c = compile(
            &format!("{HEAD}sshd: {{keyword: PermitRootLogin, expect: [no]}}\n"),
            Path::new("c.yaml"),
        )
        .unwrap();
        assert!(matches!(c.assertion, Assertion::Sshd(_)));
        let c = compile(
            &format!("{HEAD}file_mode: {{path: /etc/shadow, max: \"0640\", owner: root, group: [root, shadow]}}\n"),
            Path::new("c.yaml"),
        )
        .unwrap();
        assert!(matches!(c.assertion, Assertion::FileMode(_)));
        let c = compile(
            &format!("{HEAD}accounts: uid0_only_root\n"),
            Path::new("c.yaml"),
        )
        .unwrap();
        assert!(matches!(
            c.assertion,
            Assertion::Accounts(AccountsRule::Uid0OnlyRoot)
        ));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = errs(&format!(
            "{HEAD}sshd: {{keyword: PermitRootLogin, expct: [no]}}\n"
        ));
        assert!(e[0].starts_with("c.yaml:6:"), "{e:?}");
        assert!(e[0].contains("expct"), "{e:?}");
        let e = errs(&format!(
            "{HEAD}file_mode: {{path: /etc/shadow, max: \"0980\"}}\n"
        ));
        assert!(e[0].starts_with("c.yaml:6:12: "), "{e:?}");
        assert!(e[0].contains("octal"), "{e:?}");
        let e = errs(&format!("{HEAD}accounts: everything_fine\n"));
        assert!(e[0].starts_with("c.yaml:6:"), "{e:?}");
        let e = errs("id: Bad_Id\ntitle: X\ncategory: dns\nseverity: high\nremediation: r\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("c.yaml:1:5: check id"), "{e:?}");
        assert!(e[1].starts_with("c.yaml:3:11: unknown category"), "{e:?}");
        assert!(e[2].contains("exactly one assertion"), "{e:?}");
    }
}
