//! Every kind of source and sink a run can have, in one list each: the topology builds a
//! run from these lists and the configuration, `picket run --help` lists them, and
//! ARCHITECTURE.md documents them (a test keeps the three in step).
//!
//! Adding a source is a folder under `src/sources/` with a type implementing
//! [`Source`], its settings as a section of [`Config`], and one entry here whose `build`
//! turns that section into zero or more sources.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use crate::bus::live::{Live, LiveMsg};
use crate::checks::runner::{ChecksSource, Runner};
use crate::config::Config;
use crate::sources::files::{self, FileOptions};
use crate::sources::fim::{FimOptions, FimSource};
use crate::sources::ingest::IngestSource;
use crate::sources::journald::JournalSource;
use crate::sources::lan::worker::LanSource;
use crate::sources::metrics::source::MetricsSource;
use crate::sources::metrics::view::HostMetrics;
use crate::sources::snapshot::baseline::PortBaseline;
use crate::sources::snapshot::source::SnapshotSource;
use crate::sources::snapshot::SharedSnapshot;
use crate::sources::traffic::worker::TrafficSource;
use crate::sources::Source;
use crate::store::sink::Sink;

/// What sources are built with besides their configuration: the run's data directory
/// and the state they share with the API.
pub struct Env {
    pub data_dir: PathBuf,
    /// Read only the journal (`--journald only`).
    pub journal_only: bool,
    pub snapshot: SharedSnapshot,
    pub baseline: PortBaseline,
    pub host: HostMetrics,
    pub checks: Runner,
    pub live: Live,
    /// The ingestion source, whose other end the API holds (taken by its entry).
    pub ingest: RefCell<Option<IngestSource>>,
}

/// The sources one kind builds, or why it cannot.
pub type Built = Result<Vec<Box<dyn Source>>, String>;

/// A kind of source.
pub struct SourceKind {
    pub id: &'static str,
    pub doc: &'static str,
    /// The sources of this kind the configuration asks for (none when it is off).
    pub build: fn(&Config, &Env) -> Built,
}

fn one(s: impl Source + 'static) -> Built {
    Ok(vec![Box::new(s)])
}

/// Every kind of source, in the order a run starts them.
pub static SOURCES: &[SourceKind] = &[
    SourceKind {
        id: "files",
        doc: "log files, tailed across rotations and restarts (`logs:`, else the defaults)",
        build: |cfg, env| {
            let logs = if env.journal_only {
                Vec::new()
            } else {
                files::plan(&cfg.logs)
            };
            let opts = FileOptions {
                start: cfg.start_at.start_at(),
                zone: cfg.zone(),
                poll: Duration::from_millis(cfg.poll_interval_ms),
            };
            Ok(files::sources(&logs, &opts))
        },
    },
    SourceKind {
        id: "journald",
        doc: "the systemd journal, resuming at its cursor (`journald:`; auto: no auth.log)",
        build: |cfg, env| {
            if !(env.journal_only || cfg.journald.reads(files::has_auth_log())) {
                if files::plan(&cfg.logs).is_empty() {
                    tracing::warn!(
                        "no log to read: none of {} exists and the journal is off; pass --log PATH or --journald on",
                        files::DEFAULT_LOGS.join(", ")
                    );
                }
                return Ok(Vec::new());
            }
            one(JournalSource {
                from_beginning: cfg.start_at == crate::config::StartPosition::Beginning,
                zone: cfg.zone(),
            })
        },
    },
    SourceKind {
        id: "snapshots",
        doc: "processes and listening sockets every `snapshot_interval_secs`",
        build: |cfg, env| {
            if cfg.snapshot_interval_secs == 0 {
                return Ok(Vec::new());
            }
            one(SnapshotSource {
                interval: Duration::from_secs(cfg.snapshot_interval_secs),
                shared: env.snapshot.clone(),
                baseline: env.baseline.clone(),
                data_dir: env.data_dir.clone(),
            })
        },
    },
    SourceKind {
        id: "lan",
        doc: "devices on this host's LANs: ARP scan, neighbour tables, names (`lan:`)",
        build: |cfg, env| {
            if cfg.lan.interval_secs == 0 {
                return Ok(Vec::new());
            }
            one(LanSource {
                cfg: cfg.lan.clone(),
                data_dir: env.data_dir.clone(),
            })
        },
    },
    SourceKind {
        id: "traffic",
        doc: "bytes, packets and connections per address (`traffic:`)",
        build: |cfg, env| {
            if cfg.traffic.interval_secs == 0 {
                return Ok(Vec::new());
            }
            one(TrafficSource {
                cfg: cfg.traffic.clone(),
                data_dir: env.data_dir.clone(),
            })
        },
    },
    SourceKind {
        id: "metrics",
        doc: "CPU, load, memory, disks and network every `metrics_interval_secs`",
        build: |cfg, env| {
            if cfg.metrics_interval_secs == 0 {
                return Ok(Vec::new());
            }
            one(MetricsSource {
                interval: Duration::from_secs(cfg.metrics_interval_secs),
                host: env.host.clone(),
                data_dir: env.data_dir.clone(),
            })
        },
    },
    SourceKind {
        id: "file-integrity",
        doc: "account, sudo, sshd, cron and key files, and /var/log (`file_integrity:`)",
        build: |cfg, _| {
            let fi = &cfg.file_integrity;
            if !fi.enabled {
                return Ok(Vec::new());
            }
            one(FimSource {
                opts: FimOptions {
                    paths: fi.paths.clone(),
                    log_dir: fi.log_dir.clone(),
                    verify_every: Duration::from_secs(fi.verify_interval_secs),
                },
            })
        },
    },
    SourceKind {
        id: "checks",
        doc: "the configuration checks every `checks_interval_secs` and on edits",
        build: |cfg, env| {
            if cfg.checks_interval_secs == 0 {
                return Ok(Vec::new());
            }
            let live = env.live.clone();
            one(ChecksSource {
                runner: env.checks.clone(),
                data_dir: env.data_dir.clone(),
                after: Box::new(move |s| live.send(LiveMsg::checks_ran(s))),
            })
        },
    },
    SourceKind {
        id: "ingest",
        doc: "alerts other detectors post to `POST /api/alert`",
        build: |_, env| match env.ingest.borrow_mut().take() {
            Some(s) => one(s),
            None => Ok(Vec::new()),
        },
    },
];

/// Every source the configuration asks for, or every kind's error at once.
pub fn sources(cfg: &Config, env: &Env) -> Result<Vec<Box<dyn Source>>, String> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for kind in SOURCES {
        match (kind.build)(cfg, env) {
            Ok(s) => out.extend(s),
            Err(e) => errors.push(format!("source {}: {e}", kind.id)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

/// What sinks are built with.
pub struct SinkEnv {
    pub data_dir: PathBuf,
    pub live: Live,
    /// The notification channels' state, for the API (set by the notifications entry).
    pub notify_board: RefCell<Option<crate::notify::Board>>,
}

/// The sink one kind builds (none when it is off), or why it cannot.
pub type BuiltSink = Result<Option<Box<dyn Sink>>, String>;

/// A kind of sink: something that consumes the store's commits.
pub struct SinkKind {
    pub id: &'static str,
    pub doc: &'static str,
    pub build: fn(&Config, &SinkEnv) -> BuiltSink,
}

/// Every kind of sink, in the order each commit reaches them.
pub static SINKS: &[SinkKind] = &[
    SinkKind {
        id: "notifications",
        doc: "webhooks, Slack and email for new alerts (`notifications:`)",
        build: |cfg, env| {
            let (notifier, board, workers) =
                crate::notify::start(&cfg.notifications, &env.data_dir)
                    .map_err(|e| e.to_string())?;
            if !notifier.is_empty() {
                tracing::info!("notifying {}", board.names().join(", "));
            }
            *env.notify_board.borrow_mut() = Some(board);
            Ok(Some(Box::new(crate::notify::NotifySink::new(
                notifier, workers,
            ))))
        },
    },
    SinkKind {
        id: "live",
        doc: "the dashboard's live stream (`/api/stream`)",
        build: |_, env| {
            Ok(Some(Box::new(crate::bus::live::LiveSink::new(
                env.live.clone(),
            ))))
        },
    },
];

/// Every sink the configuration asks for, or every kind's error at once.
pub fn sinks(cfg: &Config, env: &SinkEnv) -> Result<Vec<Box<dyn Sink>>, String> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for kind in SINKS {
        match (kind.build)(cfg, env) {
            Ok(s) => out.extend(s),
            Err(e) => errors.push(format!("sink {}: {e}", kind.id)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

/// The registries as `picket run --help` shows them.
pub fn help() -> String {
    let mut s = String::from("Sources:\n");
    for k in SOURCES {
        s.push_str(&format!("  {:<15} {}\n", k.id, k.doc));
    }
    s.push_str("\nOutputs (after each commit):\n");
    for k in SINKS {
        s.push_str(&format!("  {:<15} {}\n", k.id, k.doc));
    }
    s.push_str("\nResponses rules may name:\n");
    for k in crate::response::registry::RESPONDERS {
        s.push_str(&format!("  {:<15} {}\n", k.name, k.doc));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architecture_md_lists_every_source_sink_and_action() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md"))
            .unwrap();
        let start = text
            .find("The current entries:")
            .expect("the registry sentence");
        let sentence = &text[start..start + text[start..].find("(A unit test").unwrap()];
        let named = |id: &str| sentence.contains(&format!("`{id}`"));
        for k in SOURCES {
            assert!(
                named(k.id),
                "ARCHITECTURE.md does not list the source {}",
                k.id
            );
        }
        for k in SINKS {
            assert!(
                named(k.id),
                "ARCHITECTURE.md does not list the sink {}",
                k.id
            );
        }
        for k in crate::response::registry::RESPONDERS {
            assert!(
                named(k.name),
                "ARCHITECTURE.md does not list the action {}",
                k.name
            );
        }
        let listed = sentence.matches('`').count() / 2;
        let known = SOURCES.len() + SINKS.len() + crate::response::registry::RESPONDERS.len();
        assert_eq!(
            listed, known,
            "ARCHITECTURE.md lists an entry that does not exist"
        );
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = SOURCES.iter().map(|k| k.id).collect();
        ids.extend(SINKS.iter().map(|k| k.id));
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
