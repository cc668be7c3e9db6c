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
    /// Write the rules of DIR (default: the rules Picket would run) as one versioned bundle.
    Export {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// yaml or json.
        #[arg(long, value_enum, default_value = "yaml")]
        format: BundleFormat,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Add a bundle's rules to a rule directory: all or nothing. Every rule must compile and
    /// no id may already exist there (unless --replace); exit 1 with every reason otherwise.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The rule directory to write to [default: /etc/picket/rules].
        #[arg(long, value_name = "DIR", default_value = "/etc/picket/rules")]
        dir: PathBuf,
        /// Overwrite rules whose ids already exist.
        #[arg(long)]
        replace: bool,
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

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BundleFormat {
    Yaml,
    Json,
}

pub fn run(args: RulesArgs) -> anyhow::Result<()> {
    match args.command {
        RulesCommand::Export { dir, format, out } => {
            let system = std::path::Path::new("/etc/picket/rules");
            let dir = dir.or_else(|| system.is_dir().then(|| system.to_path_buf()));
            let bundle = crate::engine::bundle::export(dir.as_deref())?;
            let text = match format {
                BundleFormat::Json => serde_json::to_string_pretty(&bundle)? + "\n",
                BundleFormat::Yaml => serde_saphyr::to_string(&bundle)
                    .map_err(|e| anyhow::anyhow!("writing YAML: {e}"))?,
            };
            match out {
                Some(path) => std::fs::write(&path, text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                None => print!("{text}"),
            }
            eprintln!("{} rules exported", bundle.rules.len());
            Ok(())
        }
        RulesCommand::Import { file, dir, replace } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            match crate::engine::bundle::import(&text, &file, &dir, replace) {
                Ok(done) => {
                    for f in &done.written {
                        println!("wrote {f}");
                    }
                    for f in &done.removed {
                        println!("removed {f} (its rule id now comes from the bundle)");
                    }
                    Ok(())
                }
                Err(problems) => {
                    for p in &problems {
                        println!("{p}");
                    }
                    println!("nothing was imported");
                    std::process::exit(1);
                }
            }
        }
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
