//! picket.yaml and the defaults that make Picket work with no configuration at all.
//!
//! Precedence: built-in defaults, then the file (`--config`, else `/etc/picket/picket.yaml`
//! when it exists), then command-line flags. Unknown keys are errors with line and column,
//! so a typo never silently disables a setting. `examples/picket.yaml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::diag::{yaml_error, CompileError};
use crate::base::yaml_paths::YamlPaths;
use crate::sources::lan::names;
use crate::store::writer::Retention;

/// Where picket.yaml is looked for when `--config` is not given.
pub const SYSTEM_CONFIG: &str = "/etc/picket/picket.yaml";

pub use crate::sources::files::LogConfig;
pub use crate::sources::journald::JournaldMode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite store lives. Default: /var/lib/picket for root, else the XDG data dir.
    pub data_dir: Option<PathBuf>,
    /// Address the API and dashboard listen on.
    pub listen: SocketAddr,
    /// Log files to tail. Empty: the defaults that exist.
    pub logs: Vec<LogConfig>,
    /// Read the systemd journal: `auto` (when there is no auth.log), `on`, `off`.
    pub journald: JournaldMode,
    /// Time zone of BSD-style syslog stamps and dpkg.log: `local` or an IANA name.
    pub timezone: String,
    /// Where to start in a log seen for the first time: `end` (only new lines) or `beginning`.
    pub start_at: StartPosition,
    /// How often tailed files are checked for new lines, in milliseconds, when inotify
    /// cannot wake the tailers (with it, lines are read as written and files are checked
    /// every second at least as a fallback).
    pub poll_interval_ms: u64,
    /// How often the process table and the listening sockets are read, in seconds; 0
    /// turns these collectors off.
    pub snapshot_interval_secs: u64,
    /// Listening ports that are always expected (`tcp/22`, `udp/53`, `8080` for both),
    /// besides the baseline learned on the first snapshot.
    pub port_allowlist: Vec<String>,
    /// How often host metrics (CPU, memory, disks, I/O, network) are sampled and stored,
    /// in seconds; 0 turns this off.
    pub metrics_interval_secs: u64,
    /// How often the configuration checks run, in seconds; 0 runs them only on demand
    /// (the dashboard's Run button, `POST /api/config/run`).
    pub checks_interval_secs: u64,
    /// A directory of check files, watched for changes. Default: /etc/picket/checks when
    /// it exists, else the built-in checks.
    pub checks_dir: Option<PathBuf>,
    pub file_integrity: FileIntegrity,
    pub response: ResponseConfig,
    /// How alerts are grouped into incidents.
    pub incidents: crate::store::incidents::IncidentConfig,
    /// LAN device discovery.
    pub lan: crate::sources::lan::LanConfig,
    /// Traffic per address: what each LAN device or remote sends and receives.
    pub traffic: crate::sources::traffic::TrafficConfig,
    /// Where alerts are sent: webhooks, Slack, email (none by default).
    pub notifications: crate::notify::NotifyConfig,
    pub retention: Retention,
}

/// Responses to alerts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    pub block_ip: crate::response::BlockConfig,
    pub kill_process: crate::response::kill::KillConfig,
    /// Addresses and CIDRs never blocked (loopback and this host's addresses never are).
    pub allowlist: Vec<String>,
    /// What that list (with loopback and this host) spares: `actions` (its addresses still
    /// raise alerts, nothing is done to them) or `alerts` (their alerts are not raised).
    pub allowlist_applies_to: crate::response::guard::Scope,
}

impl ResponseConfig {
    /// The guard that keeps alerts from being raised, when the allowlist applies to them.
    pub fn alert_guard(&self) -> Option<crate::response::Guard> {
        (self.allowlist_applies_to == crate::response::guard::Scope::Alerts)
            .then(|| self.blocker().guard)
    }

    /// The blocker this configuration describes (allowlist entries were validated).
    pub fn blocker(&self) -> crate::response::Blocker {
        crate::response::Blocker {
            config: self.block_ip.clone(),
            guard: crate::response::Guard::new(
                self.allowlist
                    .iter()
                    .filter_map(|c| crate::model::ip::Cidr::parse(c).ok())
                    .collect(),
            ),
        }
    }
}

/// File integrity monitoring: FILE_CHANGED for the listed files, LOG_DELETED and
/// LOG_TRUNCATED under the log directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileIntegrity {
    pub enabled: bool,
    /// Files, globs and directories (a trailing `/`: every file directly inside).
    pub paths: Vec<String>,
    /// Where logs live; watched recursively, except the journal's directory.
    pub log_dir: Option<PathBuf>,
    /// How often every listed file is verified in full (besides the watch), in seconds.
    pub verify_interval_secs: u64,
}

impl Default for FileIntegrity {
    fn default() -> Self {
        FileIntegrity {
            enabled: true,
            paths: crate::sources::fim::files::DEFAULT_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            log_dir: Some(PathBuf::from("/var/log")),
            verify_interval_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartPosition {
    End,
    Beginning,
}

impl StartPosition {
    /// Where a tailer starts in a file it never read.
    pub fn start_at(self) -> crate::sources::tail::StartAt {
        match self {
            StartPosition::End => crate::sources::tail::StartAt::End,
            StartPosition::Beginning => crate::sources::tail::StartAt::Beginning,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            logs: Vec::new(),
            journald: JournaldMode::Auto,
            timezone: "local".into(),
            start_at: StartPosition::End,
            poll_interval_ms: 100,
            snapshot_interval_secs: 10,
            metrics_interval_secs: 10,
            port_allowlist: Vec::new(),
            checks_interval_secs: 900,
            checks_dir: None,
            file_integrity: FileIntegrity::default(),
            response: ResponseConfig::default(),
            incidents: Default::default(),
            lan: Default::default(),
            traffic: Default::default(),
            notifications: crate::notify::NotifyConfig::default(),
            retention: Retention::default(),
        }
    }
}

/// A config file that could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found, each with `file:line:column`.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<CompileError>),
}

/// Problems found by [`Config::problems`]: the path of the value (`lan.names_timeout_ms`)
/// and what is wrong with it.
type Problems = Vec<(String, String)>;

impl Config {
    /// Parses picket.yaml text; `path` only names the file in errors. A syntax or type
    /// error stops at once; the values are then checked all together, and every problem is
    /// reported with its position.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = serde_saphyr::from_str(text).map_err(|e| {
            ConfigError::Invalid(vec![yaml_error(&e, path, "invalid configuration")])
        })?;
        let problems = cfg.problems();
        if problems.is_empty() {
            return Ok(cfg);
        }
        let places = YamlPaths::of(text);
        Err(ConfigError::Invalid(
            problems
                .into_iter()
                .map(|(at, message)| {
                    let (line, column) = places.find(&at).unwrap_or((0, 0));
                    CompileError {
                        file: path.to_path_buf(),
                        line,
                        column,
                        message: format!("{at}: {message}"),
                    }
                })
                .collect(),
        ))
    }

    /// Loads `explicit` if given (it must exist), else the system file if it exists, else defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(SYSTEM_CONFIG).exists() => PathBuf::from(SYSTEM_CONFIG),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::from_yaml(&text, &path)
    }

    /// Every value that deserialized but cannot be used, by path.
    fn problems(&self) -> Problems {
        let mut p: Problems = Vec::new();
        let mut range = |at: &str, value: u64, min: u64, max: u64, what: &str| {
            if !(min..=max).contains(&value) {
                p.push((
                    at.to_string(),
                    format!("must be between {what}, not {value}"),
                ));
            }
        };
        range(
            "poll_interval_ms",
            self.poll_interval_ms,
            10,
            60_000,
            "10 and 60000",
        );
        range(
            "snapshot_interval_secs",
            self.snapshot_interval_secs,
            0,
            86_400,
            "0 (off) and 86400",
        );
        range(
            "metrics_interval_secs",
            self.metrics_interval_secs,
            0,
            3600,
            "0 (off) and 3600",
        );
        range(
            "checks_interval_secs",
            self.checks_interval_secs,
            0,
            7 * 86_400,
            "0 (on demand only) and 604800",
        );
        range(
            "file_integrity.verify_interval_secs",
            self.file_integrity.verify_interval_secs,
            1,
            86_400,
            "1 and 86400",
        );
        let max_names = names::MAX_TIMEOUT.as_millis() as u64;
        range(
            "lan.names_timeout_ms",
            self.lan.names_timeout_ms,
            100,
            max_names,
            &format!("100 and {max_names}"),
        );
        if self.timezone != "local" {
            if let Err(e) = crate::base::timestamp::LocalZone::named(&self.timezone) {
                p.push(("timezone".into(), e));
            }
        }
        for (i, port) in self.port_allowlist.iter().enumerate() {
            if let Err(e) = port.parse::<crate::sources::snapshot::baseline::AllowPort>() {
                p.push((format!("port_allowlist[{i}]"), e.to_string()));
            }
        }
        for (i, c) in self.response.allowlist.iter().enumerate() {
            if let Err(e) = crate::model::ip::Cidr::parse(c) {
                p.push((format!("response.allowlist[{i}]"), e));
            }
        }
        let b = &self.response.block_ip;
        if b.ban_time_secs == 0 || b.max_ban_time_secs < b.ban_time_secs {
            p.push((
                "response.block_ip".into(),
                "ban_time_secs must be at least 1 and max_ban_time_secs at least ban_time_secs"
                    .into(),
            ));
        }
        for (i, path) in self.file_integrity.paths.iter().enumerate() {
            let at = format!("file_integrity.paths[{i}]");
            if !path.starts_with('/') {
                p.push((at, format!("`{path}` must be an absolute path")));
            } else if glob::Pattern::new(path).is_err() {
                p.push((at, format!("`{path}` is not a valid glob")));
            }
        }
        if let Err(errors) = self.notifications.validate() {
            for e in errors {
                let i = self
                    .notifications
                    .channels
                    .iter()
                    .position(|c| c.name == e.channel)
                    .or_else(|| {
                        e.channel
                            .strip_prefix('#')?
                            .parse::<usize>()
                            .ok()?
                            .checked_sub(1)
                    });
                let at = match i {
                    Some(i) => format!("notifications.channels[{i}]"),
                    None => "notifications".into(),
                };
                p.push((at, e.to_string()));
            }
        }
        p
    }

    /// The parsed port allowlist (validated when the file was read).
    pub fn port_allowlist(&self) -> Vec<crate::sources::snapshot::baseline::AllowPort> {
        self.port_allowlist
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// The zone for BSD stamps.
    pub fn zone(&self) -> crate::base::timestamp::LocalZone {
        if self.timezone == "local" {
            crate::base::timestamp::LocalZone::system()
        } else {
            crate::base::timestamp::LocalZone::named(&self.timezone)
                .unwrap_or_else(|_| crate::base::timestamp::LocalZone::system())
        }
    }

    /// The data directory: configured, else /var/lib/picket for root, else
    /// `$XDG_DATA_HOME/picket` (default `~/.local/share/picket`).
    pub fn data_dir(&self) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        default_data_dir()
    }
}

pub fn default_data_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        return PathBuf::from("/var/lib/picket");
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("picket");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/picket"),
        None => PathBuf::from(".picket"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_matches_the_defaults_it_documents() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/picket.yaml"))
                .unwrap();
        let cfg = Config::from_yaml(&text, Path::new("examples/picket.yaml")).unwrap();
        assert_eq!(cfg.listen, Config::default().listen);
        assert_eq!(cfg.retention, Retention::default());
        assert_eq!(cfg.poll_interval_ms, Config::default().poll_interval_ms);
        assert_eq!(cfg.lan, crate::sources::lan::LanConfig::default());
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position() {
        let err = Config::from_yaml(
            "listen: 127.0.0.1:8470\npoll_intervall_ms: 5\n",
            Path::new("p.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("p.yaml"), "{err}");
        assert!(err.contains("poll_intervall_ms"), "{err}");
        assert!(err.contains('2'), "line number expected: {err}");
    }

    #[test]
    fn every_bad_value_is_reported_at_once_with_its_position() {
        let text = "poll_interval_ms: 1\nresponse:\n  allowlist:\n    - 10.0.0.0/8\n    - nonsense\nfile_integrity:\n  paths: [relative/path]\n";
        let Err(ConfigError::Invalid(errors)) = Config::from_yaml(text, Path::new("p.yaml")) else {
            panic!("invalid");
        };
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 3, "{shown:#?}");
        assert!(
            shown[0].starts_with("p.yaml:1:19: poll_interval_ms: must be between 10 and 60000"),
            "{shown:#?}"
        );
        assert!(
            shown[1].starts_with("p.yaml:5:7: response.allowlist[1]: `nonsense`"),
            "{shown:#?}"
        );
        assert!(
            shown[2].starts_with(
                "p.yaml:7:11: file_integrity.paths[0]: `relative/path` must be an absolute path"
            ),
            "{shown:#?}"
        );
    }

    #[test]
    fn bad_values_are_explained() {
        let err = Config::from_yaml("timezone: Mars/Olympus\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
        let err = Config::from_yaml("poll_interval_ms: 1\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("between 10 and 60000"), "{err}");
        let err = Config::from_yaml("lan: { names_timeout_ms: 60000 }\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("p.yaml:1:26: lan.names_timeout_ms: must be between 100 and 3000"),
            "{err}"
        );
        let err = Config::from_yaml(
            "notifications:\n  channels:\n    - {name: ops, kind: webhook, url: 'ftp://x.example/'}\n",
            Path::new("p.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("p.yaml") && err.contains("channel `ops`: url"),
            "{err}"
        );
        let err = Config::from_yaml(
            "notifications:\n  channels:\n    - {name: ops, kind: pager}\n",
            Path::new("p.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("pager") && err.contains('3'),
            "kind and line: {err}"
        );
    }
}
