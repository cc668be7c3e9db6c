//! Configuration checks: YAML assertions about the host's configuration (an sshd
//! keyword, a file's mode and owner, the account databases, the files under the system
//! directories) and Rhai scripts for logic, run through the read-only [`host::Host`] API
//! so they can audit `/` or any directory tree standing for a host.
//!
//! - `host`: path resolution under `--root`, files, stat, glob, users and groups;
//!   `sshd`: sshd_config with its includes; `sshd_algorithms`: sshd's cipher, MAC and
//!   key-exchange lists; `ports`: listening sockets from `/proc/net`; `commands`: the
//!   allowlisted read-only commands (only when the root is `/`); `walk`: the bounded walk
//!   of system directories; `dpkg`: which package owns a file; `context`: what the
//!   checks of one run share (the walk, `sshd -T`).
//! - `spec`: the YAML form and its compilation; `kinds`: the registry of assertion kinds
//!   and their evaluation, with `homes` and `system_files` for the larger ones;
//!   `rhai_check`: checks written in Rhai; `load`: the default checks (the repository's
//!   `checks/`) and check directories.
//! - `runner`: the checks as `picket run` runs them (interval, hot reload, on demand) and
//!   stores them. The results' shape and the security score are in [`crate::model`].
//!
//! Must not: write to the host, or run anything but the allowlist. Results are data;
//! printing them is the CLI's business.

pub(crate) mod commands;
pub(crate) mod context;
pub(crate) mod dpkg;
pub(crate) mod homes;
pub(crate) mod host;
pub(crate) mod kinds;
pub mod load;
pub(crate) mod ports;
pub(crate) mod rhai_check;
pub(crate) mod runner;
pub(crate) mod spec;
pub(crate) mod sshd;
pub(crate) mod sshd_algorithms;
pub(crate) mod system_files;
pub(crate) mod walk;

pub use host::{Host, HostError};
pub use spec::Check;

pub use crate::model::check::{CheckResult, Evidence, Status};
use crate::model::severity::Severity;

/// The registries of assertion kinds and allowlisted commands, as `picket check --help`
/// shows them (`checks/README.md` documents the same lists).
pub fn help() -> String {
    let mut s = String::from("Assertion kinds (YAML checks):\n");
    for k in kinds::KINDS {
        s.push_str(&format!("  {}\n      {}\n", k.key, k.doc));
    }
    s.push_str("\nCommands a check may run (on the running host only):\n");
    for c in commands::ALLOWLIST {
        s.push_str(&format!("  {}\n      {}\n", c.line, c.doc));
    }
    s
}

/// Runs every check against the host, in order. Checks share one walk of the system
/// directories and one `sshd -T` per run (never across runs: a long-lived daemon sees
/// changes).
pub fn run(checks: &[Check], host: &Host) -> Vec<CheckResult> {
    let shared = context::RunContext::default();
    checks
        .iter()
        .map(|c| {
            let outcome = c.assertion.evaluate_with(host, &shared);
            CheckResult {
                id: c.id.clone(),
                title: c.title.clone(),
                category: c.category.clone(),
                severity: c.severity,
                status: outcome.status,
                evidence: outcome.evidence,
                remediation: c.remediation.clone(),
                description: c.description.clone(),
            }
        })
        .collect()
}

/// Whether any result FAILs at `min` severity or above.
pub fn fails_at(results: &[CheckResult], min: Severity) -> bool {
    results
        .iter()
        .any(|r| r.status == Status::Fail && r.severity >= min)
}
