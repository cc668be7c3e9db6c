//! `picket incidents`: read stored incidents, or one with its timeline.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use super::output::terminal_safe;
use super::{parse_duration, DataDirArg};
use crate::base::timestamp::Timestamp;
use crate::store::incidents::{self, IncidentQuery, IncidentStatus};

/// Show incidents (alerts grouped by address or user), most recently active first; with
/// an id, that incident and its timeline.
///
/// Examples:
///   picket incidents --status active
///   picket incidents 12
///   picket incidents --since 24h --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct IncidentsArgs {
    /// Show this incident with its timeline.
    pub id: Option<i64>,
    /// One JSON object per line instead of a table (with an id: the incident, its
    /// timeline included).
    #[arg(long)]
    pub json: bool,
    /// Only incidents in this state: active or closed.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<IncidentStatus>,
    /// Only incidents active within this long (e.g. 30m, 24h, 7d).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub since: Option<i64>,
    /// At most this many incidents.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub data: DataDirArg,
}

pub fn run(args: IncidentsArgs) -> anyhow::Result<()> {
    let conn = super::open_store_read_only(&args.data)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let r = match args.id {
        Some(id) => {
            let Some(incident) = incidents::get(&conn, id).context("reading the incident")? else {
                anyhow::bail!("no incident with id {id} (see `picket incidents`)");
            };
            let timeline = incidents::timeline(&conn, id, 1000).context("reading its timeline")?;
            show_one(&mut out, &incident, &timeline, args.json)
        }
        None => {
            let q = IncidentQuery {
                status: args.status,
                since: args.since.map(|s| Timestamp::now().saturating_add_secs(-s)),
                limit: args.limit,
                ..Default::default()
            };
            let rows = incidents::query(&conn, &q).context("reading incidents")?;
            show_list(&mut out, &rows, args.json)
        }
    };
    match r.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn show_list(out: &mut impl Write, rows: &[incidents::Incident], json: bool) -> io::Result<()> {
    if !json {
        writeln!(
            out,
            "{:>6} {:<7} {:<9} {:<27} {:>6} {:<39} {:<24} TYPE",
            "ID", "STATUS", "SEVERITY", "LAST SEEN (UTC)", "ALERTS", "ADDRESS", "USER"
        )?;
    }
    for i in rows {
        if json {
            serde_json::to_writer(&mut *out, i)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:>6} {:<7} {:<9} {:<27} {:>6} {:<39} {:<24} {}",
                i.id,
                i.status.as_str(),
                i.severity.as_str(),
                i.last_seen.to_string(),
                i.alerts,
                i.ip.as_deref().unwrap_or("-"),
                terminal_safe(i.user.as_deref().unwrap_or("-"), 24),
                terminal_safe(&i.kind, 40)
            )?;
        }
    }
    Ok(())
}

fn show_one(
    out: &mut impl Write,
    i: &incidents::Incident,
    timeline: &[incidents::Entry],
    json: bool,
) -> io::Result<()> {
    if json {
        let mut v = serde_json::to_value(i)?;
        v["timeline"] = serde_json::to_value(timeline)?;
        serde_json::to_writer(&mut *out, &v)?;
        return writeln!(out);
    }
    let text = |s: &Option<String>| terminal_safe(s.as_deref().unwrap_or("-"), 200);
    writeln!(
        out,
        "incident {} ({}, {})",
        i.id,
        i.status.as_str(),
        i.severity.as_str()
    )?;
    writeln!(out, "  type:       {}", terminal_safe(&i.kind, 200))?;
    writeln!(out, "  rule:       {}", terminal_safe(&i.rule, 200))?;
    writeln!(out, "  address:    {}", text(&i.ip))?;
    writeln!(out, "  user:       {}", text(&i.user))?;
    writeln!(out, "  target:     {}", text(&i.target))?;
    writeln!(out, "  source log: {}", text(&i.source_log))?;
    writeln!(out, "  owner:      {}", text(&i.owner))?;
    writeln!(
        out,
        "  from {} to {}, {} alerts",
        i.timestamp, i.last_seen, i.alerts
    )?;
    writeln!(out, "timeline:")?;
    for e in timeline {
        writeln!(
            out,
            "  {:<27} {:<7} {:<24} {}",
            e.ts.to_string(),
            e.kind,
            terminal_safe(e.actor.as_deref().unwrap_or("picket"), 24),
            terminal_safe(&e.text, 300)
        )?;
    }
    Ok(())
}
