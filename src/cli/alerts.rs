//! `picket alerts`: read stored alerts.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use super::output::terminal_safe;
use super::{parse_duration, DataDirArg};
use crate::base::timestamp::Timestamp;
use crate::model::AlertStatus;
use crate::store::alerts::{query, AlertQuery};

/// Show alerts from the store, most recently seen first.
///
/// Examples:
///   picket alerts --status open
///   picket alerts --since 24h --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct AlertsArgs {
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only alerts in this state: open, acknowledged, resolved, ignored.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<AlertStatus>,
    /// Only alerts seen within this long (e.g. 30m, 24h, 7d).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub since: Option<i64>,
    /// At most this many alerts.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub data: DataDirArg,
}

pub fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let conn = super::open_store_read_only(&args.data)?;
    let q = AlertQuery {
        status: args.status,
        since: args.since.map(|s| Timestamp::now().saturating_add_secs(-s)),
        limit: args.limit,
        ..Default::default()
    };
    let rows = query(&conn, &q).context("reading alerts")?;
    let mut out = BufWriter::new(io::stdout().lock());
    let r = (|| -> io::Result<()> {
        if !args.json {
            writeln!(
                out,
                "{:>6} {:<27} {:<9} {:<13} {:>6} {:<30} GROUP",
                "ID", "LAST SEEN (UTC)", "SEVERITY", "STATUS", "COUNT", "RULE"
            )?;
        }
        for row in &rows {
            let a = &row.alert;
            if args.json {
                serde_json::to_writer(&mut out, row)?;
                writeln!(out)?;
            } else {
                let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
                writeln!(
                    out,
                    "{:>6} {:<27} {:<9} {:<13} {:>6} {:<30} {}",
                    row.id,
                    a.last_seen.to_string(),
                    a.severity.as_str(),
                    a.status.as_str(),
                    a.count,
                    a.rule,
                    terminal_safe(&group.join(" "), 80)
                )?;
            }
        }
        out.flush()
    })();
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}
