//! `picket run`: the daemon.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{Config, JournaldMode, LogConfig, StartPosition};
use crate::pipeline;

/// Monitor this host: tail its logs (or read the journal), normalize every line into
/// events, and keep them in the SQLite store.
///
/// With no --log, Picket tails those of /var/log/auth.log, secure, syslog, messages,
/// kern.log and dpkg.log that exist, and reads the systemd journal when there is no
/// auth.log (a fresh Debian 12 logs only to the journal). Logs survive rotation (rename
/// or copytruncate) and a restart resumes exactly where the last run stopped.
///
/// Run it as root, or as a member of the `adm` group (sudo usermod -aG adm $USER), so it
/// can read /var/log and the whole journal. Stop it with Ctrl-C or SIGTERM.
///
/// Examples:
///   sudo picket run
///   picket run --data-dir /tmp/picket --log ./auth.log --start-at beginning
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_long_help = crate::pipeline::registry::help())]
pub struct RunArgs {
    /// picket.yaml to read [default: /etc/picket/picket.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the SQLite store lives.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A log file to tail (repeatable); replaces the default list and the config's `logs`.
    #[arg(long = "log", value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Address for the API and dashboard [default: 127.0.0.1:8470].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Read the systemd journal: auto (when there is no auth.log), on, off, or only (the
    /// journal and no log files).
    #[arg(long, value_enum, value_name = "MODE")]
    pub journald: Option<JournaldArg>,
    /// Directory of rule files (*.yaml) [default: /etc/picket/rules when it exists, else
    /// the built-in default ruleset].
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Where to start in a log never read before.
    #[arg(long, value_enum, value_name = "WHERE")]
    pub start_at: Option<StartArg>,
    /// Read processes and listening ports every SECS seconds; 0 turns it off [default: 10,
    /// or `snapshot_interval_secs` from picket.yaml].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub snapshot_interval: Option<u64>,
    /// Sample host metrics every SECS seconds; 0 turns it off [default: 10, or
    /// `metrics_interval_secs` from picket.yaml].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub metrics_interval: Option<u64>,
    /// Directory of configuration checks (*.yaml), watched [default: /etc/picket/checks
    /// when it exists, else the built-in checks].
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    /// Run the configuration checks every SECS seconds; 0 runs them only on demand
    /// [default: 900, or `checks_interval_secs` from picket.yaml].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub checks_interval: Option<u64>,
    /// Watch sensitive files and /var/log for changes, deletion and truncation
    /// [default: on, or `file_integrity.enabled` from picket.yaml].
    #[arg(long, value_enum, value_name = "ON|OFF")]
    pub file_integrity: Option<OnOff>,
    /// Discover LAN devices every SECS seconds; 0 turns it off [default: 300, or
    /// `lan.interval_secs` from picket.yaml].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub lan_interval: Option<u64>,
    /// Count traffic per address every SECS seconds; 0 turns it off [default: 10, or
    /// `traffic.interval_secs` from picket.yaml].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub traffic_interval: Option<u64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum JournaldArg {
    Auto,
    On,
    Off,
    Only,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StartArg {
    End,
    Beginning,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref())?;
    if let Some(d) = args.data_dir {
        cfg.data_dir = Some(d);
    }
    if !args.logs.is_empty() {
        cfg.logs = args
            .logs
            .into_iter()
            .map(|path| LogConfig { path, format: None })
            .collect();
        // Explicit logs mean "only these", unless the journal is asked for explicitly.
        if args.journald.is_none() && cfg.journald == JournaldMode::Auto {
            cfg.journald = JournaldMode::Off;
        }
    }
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(j) = args.journald {
        cfg.journald = match j {
            JournaldArg::Auto => JournaldMode::Auto,
            JournaldArg::On | JournaldArg::Only => JournaldMode::On,
            JournaldArg::Off => JournaldMode::Off,
        };
    }
    if let Some(s) = args.start_at {
        cfg.start_at = match s {
            StartArg::End => StartPosition::End,
            StartArg::Beginning => StartPosition::Beginning,
        };
    }
    if let Some(secs) = args.snapshot_interval {
        cfg.snapshot_interval_secs = secs;
    }
    if let Some(secs) = args.metrics_interval {
        cfg.metrics_interval_secs = secs;
    }
    if let Some(secs) = args.checks_interval {
        cfg.checks_interval_secs = secs;
    }
    if let Some(dir) = args.checks {
        cfg.checks_dir = Some(dir);
    }
    if let Some(f) = args.file_integrity {
        cfg.file_integrity.enabled = matches!(f, OnOff::On);
    }
    if let Some(secs) = args.lan_interval {
        cfg.lan.interval_secs = secs;
    }
    if let Some(secs) = args.traffic_interval {
        cfg.traffic.interval_secs = secs;
    }
    let journal_only = matches!(args.journald, Some(JournaldArg::Only));
    // Rules from a directory are watched and reloaded; the built-in ones are fixed.
    let system_rules = std::path::Path::new("/etc/picket/rules");
    if args.rules.is_none() && !system_rules.exists() && unsafe { libc::geteuid() } == 0 {
        // First run as root: give the rules a home where people (and the dashboard's
        // editor) can change them.
        match crate::engine::bundle::seed_defaults(system_rules) {
            Ok(n) => tracing::info!(
                "copied the {n} default rules to {} (edit them there)",
                system_rules.display()
            ),
            Err(e) => tracing::warn!(
                "cannot create {}: {e}; using the built-in rules (read-only)",
                system_rules.display()
            ),
        }
    }
    let rules_dir = args
        .rules
        .clone()
        .or_else(|| system_rules.is_dir().then(|| system_rules.to_path_buf()));
    let (rules, rule_dir, errors) = load_rules(rules_dir.as_deref())?;
    pipeline::run(pipeline::Options {
        config: cfg,
        rules,
        rule_dir,
        rule_errors: errors,
        journal_only,
    })
}

/// The rules a daemon starts with: those of `dir`, watched for changes (a broken file is
/// reported and the others run), else the built-in default ruleset.
pub(crate) fn load_rules(dir: Option<&std::path::Path>) -> anyhow::Result<LoadedRules> {
    Ok(match dir {
        Some(dir) => {
            let mut rd = crate::engine::reload::RuleDir::new(dir);
            let scan = rd.rescan().map_err(|e| {
                anyhow::anyhow!("cannot read the rule directory {}: {e}", dir.display())
            })?;
            for e in &scan.errors {
                tracing::warn!("rule not loaded: {e}");
            }
            tracing::info!(
                "{} rules from {} (watched: edits take effect without a restart)",
                scan.ruleset.len(),
                dir.display()
            );
            (scan.ruleset, Some(rd), scan.errors)
        }
        None => {
            let loaded = crate::engine::load::defaults();
            tracing::info!(
                "{} rules from the built-in default ruleset",
                loaded.rules.len()
            );
            (loaded.ruleset(), None, Vec::new())
        }
    })
}

/// A rule set, the directory it was read from (watched), and the files that failed.
pub(crate) type LoadedRules = (
    std::sync::Arc<crate::engine::RuleSet>,
    Option<crate::engine::reload::RuleDir>,
    Vec<crate::base::diag::CompileError>,
);
