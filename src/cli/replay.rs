//! `picket replay`: run logs through the pipeline offline and print what comes out.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::output;
use crate::base::timestamp::LocalZone;
use crate::parse::{InputFormat, Stats};
use crate::replay::{replay, Input, ReplayOptions};

/// Read log files (or `-` for stdin) and print the normalized events they hold.
///
/// The log family is detected from the file name and content: syslog text (auth.log,
/// syslog, kern.log, messages; RFC 3339 or BSD stamps), dpkg.log, or a `journalctl -o
/// json` export. BSD stamps have no year: it is inferred from the file's modification time,
/// across New Year too. Nothing is stored.
///
/// Examples:
///   picket replay /var/log/auth.log
///   picket replay --json /var/log/auth.log.1 | jq 'select(.type == "FAILED_LOGIN")'
///   journalctl -o json -u ssh | picket replay -
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReplayArgs {
    /// Print normalized events (the default).
    #[arg(long, conflicts_with = "alerts")]
    pub events: bool,
    /// Run the rule engine over the events and print the alerts they raise, each in its
    /// final state (suppressed repeats folded into its count).
    #[arg(long)]
    pub alerts: bool,
    /// With --alerts: the rule directory [default: /etc/picket/rules, else the built-in rules].
    #[arg(long, value_name = "DIR", requires = "alerts")]
    pub rules: Option<PathBuf>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Print only the per-file summary: lines read, events, ignored and unknown lines.
    #[arg(long, conflicts_with_all = ["events", "json", "alerts"])]
    pub stats: bool,
    /// Force the input family instead of detecting it.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Time zone of BSD stamps and dpkg.log (`local` or an IANA name).
    #[arg(long, default_value = "local", value_name = "ZONE")]
    pub timezone: String,
    /// Log files; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Syslog,
    Dpkg,
    JournalJson,
}

impl From<FormatArg> for InputFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Syslog => InputFormat::Syslog,
            FormatArg::Dpkg => InputFormat::Dpkg,
            FormatArg::JournalJson => InputFormat::JournalJson,
        }
    }
}

/// Files at least this large get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let zone = if args.timezone == "local" {
        LocalZone::system()
    } else {
        LocalZone::named(&args.timezone).map_err(anyhow::Error::msg)?
    };
    let opts = ReplayOptions {
        zone,
        format: args.format.map(Into::into),
        reference: None,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut total = Stats::default();
    let mut engine = if args.alerts {
        let (loaded, from) = crate::engine::load::resolve(args.rules.as_deref())?;
        for e in &loaded.errors {
            eprintln!("picket: rule not loaded: {e}");
        }
        eprintln!("picket: {} rules from {from}", loaded.rules.len());
        Some(crate::engine::Engine::new(loaded.ruleset()))
    } else {
        None
    };
    let mut alerts = crate::engine::AlertLog::default();
    if !args.json && !args.stats && !args.alerts {
        output::write_table_header(&mut out)?;
    }
    let show_progress = io::stderr().is_terminal();
    for file in &args.files {
        let input = Input::from_arg(file);
        let size = match &input {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Stdin => 0,
        };
        let bar = (show_progress && size >= PROGRESS_MIN_BYTES).then(|| {
            let bar = indicatif::ProgressBar::new(size);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(file.display().to_string());
            bar
        });
        let mut write_error = None;
        let summary = replay(
            &input,
            &opts,
            |events| {
                if let Some(engine) = engine.as_mut() {
                    let mut raised = Vec::new();
                    for e in events {
                        engine.on_event(e, &mut raised);
                    }
                    alerts.record(raised);
                    return;
                }
                if write_error.is_some() || args.stats {
                    return;
                }
                let r = if args.json {
                    output::write_json(&mut out, events)
                } else {
                    output::write_table(&mut out, events)
                };
                if let Err(e) = r {
                    write_error = Some(e);
                }
            },
            |bytes| {
                if let Some(b) = &bar {
                    b.set_position(bytes);
                }
            },
        )?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        // Updates of suppressed alerts, once per file rather than per batch: the log keeps
        // only each alert's last state, so the copies in between would be thrown away.
        if let Some(engine) = engine.as_mut() {
            let mut updated = Vec::new();
            engine.flush(&mut updated);
            alerts.record(updated);
        }
        if let Some(e) = write_error {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e).context("writing to stdout");
        }
        let s = &summary.stats;
        if args.stats || args.files.len() > 1 || !args.json {
            out.flush()?;
            eprintln!(
                "{}: {} ({}): {} lines, {} events, {} ignored, {} unknown, {} unparsable{}{}",
                if args.stats { "summary" } else { "replayed" },
                file.display(),
                summary.format.as_str(),
                s.lines,
                s.events,
                s.ignored,
                s.unknown,
                s.unparsable,
                if s.invalid_utf8 > 0 {
                    format!(", {} not UTF-8", s.invalid_utf8)
                } else {
                    String::new()
                },
                if s.truncated > 0 {
                    format!(", {} over-long lines cut", s.truncated)
                } else {
                    String::new()
                },
            );
        }
        total.merge(s);
    }
    if args.stats {
        for (t, n) in &total.by_type {
            eprintln!("  {t:<20} {n}");
        }
    }
    if args.alerts {
        let list = alerts.finish();
        if args.json {
            for a in &list {
                serde_json::to_writer(&mut out, a)?;
                out.write_all(b"\n")?;
            }
        } else {
            writeln!(
                out,
                "{:<27} {:<9} {:>6} {:<30} GROUP",
                "FIRST SEEN (UTC)", "SEVERITY", "COUNT", "RULE"
            )?;
            for a in &list {
                let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
                writeln!(
                    out,
                    "{:<27} {:<9} {:>6} {:<30} {}",
                    a.first_seen.to_string(),
                    a.severity.as_str(),
                    a.count,
                    a.rule,
                    output::terminal_safe(&group.join(" "), 80)
                )?;
            }
        }
        eprintln!("{} alerts", list.len());
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}
