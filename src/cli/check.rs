//! `picket check`: run the configuration checks against a host root and print the results.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::checks::{self, Host, Status};
use crate::cli::output::terminal_safe;
use crate::model::Severity;

/// Audit this host's configuration (sshd, file modes, accounts, system files, firewall,
/// cron) with the checks in checks/ (built in) or --checks DIR.
///
/// Results are PASS, WARN, FAIL, NOT_APPLICABLE (what the check looks at is absent) or
/// ERROR (it could not be read). Exit status: 1 when a FAIL at or above --fail-on
/// exists (or on an error), else 0.
///
/// Examples:
///   picket check
///   picket check --root /mnt/image --fail-on high
///   picket check --json | jq 'select(.status == "FAIL")'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_long_help = crate::checks::help())]
pub struct CheckArgs {
    /// The host's root directory: every path a check reads is resolved under it.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// A directory of check files (*.yaml, *.rhai) instead of the built-in checks.
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    /// One JSON object per result, one per line.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a check of this severity or above FAILs: low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let host = Host::new(&args.root).context("--root")?;
    let loaded = checks::runner::load_source(args.checks.as_deref()).with_context(|| {
        format!(
            "cannot read check directory {}",
            args.checks.as_deref().unwrap_or(Path::new("")).display()
        )
    })?;
    if !loaded.errors.is_empty() {
        for e in &loaded.errors {
            eprintln!("{e}");
        }
        anyhow::bail!(
            "{} error(s) in the checks; nothing was run",
            loaded.errors.len()
        );
    }
    let results = checks::run(&loaded.checks, &host);
    match print(&results, args.json) {
        // A closed pipe (`picket check | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    if let Some(min) = args.fail_on {
        if checks::fails_at(&results, min) {
            std::process::exit(1);
        }
    }
    Ok(())
}

fn print(results: &[checks::CheckResult], json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for r in results {
            serde_json::to_writer(&mut out, r)?;
            writeln!(out)?;
        }
    } else {
        write_table(&mut out, results)?;
    }
    out.flush()
}

/// Evidence lines the table shows per check.
const TABLE_EVIDENCE_LINES: usize = 20;

fn write_table(w: &mut impl Write, results: &[checks::CheckResult]) -> std::io::Result<()> {
    writeln!(
        w,
        "{:<14} {:<8} {:<9} {:<30} EVIDENCE",
        "STATUS", "SEVERITY", "CATEGORY", "CHECK"
    )?;
    for r in results {
        let first = r
            .evidence
            .first()
            .map(|e| e.to_string())
            .unwrap_or_default();
        writeln!(
            w,
            "{:<14} {:<8} {:<9} {:<30} {}",
            r.status.as_str(),
            r.severity.as_str(),
            r.category,
            r.id,
            terminal_safe(&first, 300)
        )?;
        // One finding per line, under the evidence column, so none hides behind another.
        for e in r.evidence.iter().skip(1).take(TABLE_EVIDENCE_LINES - 1) {
            writeln!(w, "{:65}{}", "", terminal_safe(&e.to_string(), 300))?;
        }
        if r.evidence.len() > TABLE_EVIDENCE_LINES {
            writeln!(
                w,
                "{:65}… {} more (--json shows all)",
                "",
                r.evidence.len() - TABLE_EVIDENCE_LINES
            )?;
        }
        if matches!(r.status, Status::Fail | Status::Warn) {
            writeln!(w, "{:<14} fix: {}", "", r.remediation)?;
        }
    }
    let count = |s| results.iter().filter(|r| r.status == s).count();
    writeln!(
        w,
        "\n{} checks: {} pass, {} warn, {} fail, {} not applicable, {} error",
        results.len(),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::NotApplicable),
        count(Status::Error)
    )
}
