//! `picket rules`: validate, test and list rules.

use std::path::PathBuf;

use crate::engine::load::resolve;
use crate::engine::ruletest;

/// Work with detection rules: check them, run their tests, list them.
///
/// Without DIR, the rules Picket would run: /etc/picket/rules when it exists, else the
/// built-in default ruleset (the repository's rules/).
///
/// Examples:
///   picket rules validate ./rules
///   picket rules test ./rules
///   picket rules list
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Compile every rule file and print every error with file:line:column; exit 1 on any.
    Validate {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run every rule's inline tests; print pass/fail per case; exit 1 on any failure.
    Test {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// List the rules with their severity, ATT&CK ids and whether they are enabled.
    List {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// One JSON object per rule.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: RulesArgs) -> anyhow::Result<()> {
    match args.command {
        RulesCommand::Validate { dir } => {
            let (loaded, from) = resolve(dir.as_deref())?;
            for e in &loaded.errors {
                println!("{e}");
            }
            println!(
                "{}: {} files, {} rules compiled, {} errors",
                from,
                loaded.files,
                loaded.rules.len(),
                loaded.errors.len()
            );
            if !loaded.errors.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        RulesCommand::Test { dir } => {
            let (loaded, from) = resolve(dir.as_deref())?;
            for e in &loaded.errors {
                println!("ERROR {e}");
            }
            let (mut passed, mut failed) = (0, 0);
            for r in &loaded.rules {
                for o in ruletest::run(r) {
                    match &o.failure {
                        None => {
                            passed += 1;
                            println!("PASS {} / {}", o.rule, o.test);
                        }
                        Some(f) => {
                            failed += 1;
                            println!("FAIL {} / {}: {f}", o.rule, o.test);
                        }
                    }
                }
            }
            println!("{from}: {passed} passed, {failed} failed");
            if failed > 0 || !loaded.errors.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        RulesCommand::List { dir, json } => {
            let (loaded, _) = resolve(dir.as_deref())?;
            for r in &loaded.rules {
                if json {
                    let v = serde_json::json!({
                        "id": r.id, "title": r.title, "severity": r.severity, "enabled": r.enabled,
                        "mitre": r.mitre, "tags": r.tags, "types": r.types, "file": r.file, "tests": r.tests.len(),
                        "script": matches!(r.kind, crate::engine::compile::Kind::Script(_)),
                    });
                    println!("{v}");
                } else {
                    println!(
                        "{:<34} {:<9} {:<8} {:<22} {}",
                        r.id,
                        r.severity.as_str(),
                        if r.enabled { "enabled" } else { "disabled" },
                        r.mitre.join(","),
                        r.title
                    );
                }
            }
            for e in &loaded.errors {
                eprintln!("not loaded: {e}");
            }
            Ok(())
        }
    }
}
