//! `picket events`: read stored events.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use super::{output, parse_duration, DataDirArg};
use crate::base::timestamp::Timestamp;
use crate::model::event::EventType;
use crate::store::events::{query, EventQuery};

/// Show events from the store, newest first.
///
/// Examples:
///   picket events --since 1h
///   picket events --type FAILED_LOGIN --type INVALID_USER --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EventsArgs {
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only events newer than this (e.g. 30m, 2h, 7d).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub since: Option<i64>,
    /// Only events of this type (repeatable), e.g. FAILED_LOGIN, SUDO, PACKAGE_INSTALLED.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<EventType>,
    /// Only events from this source address.
    #[arg(long, value_name = "IP")]
    pub src_ip: Option<std::net::IpAddr>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub data: DataDirArg,
}

pub fn run(args: EventsArgs) -> anyhow::Result<()> {
    let conn = super::open_store_read_only(&args.data)?;
    let q = EventQuery {
        since: args.since.map(|s| Timestamp::now().saturating_add_secs(-s)),
        types: args.types.clone(),
        src_ip: args.src_ip.map(|ip| ip.to_string()),
        limit: args.limit,
        ..Default::default()
    };
    let rows = query(&conn, &q).context("reading events")?;
    let events: Vec<_> = rows.into_iter().map(|r| r.event).collect();
    let mut out = BufWriter::new(io::stdout().lock());
    let r = if args.json {
        output::write_json(&mut out, &events)
    } else {
        output::write_table_header(&mut out).and_then(|_| output::write_table(&mut out, &events))
    };
    match r.and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}
