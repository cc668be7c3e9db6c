//! `picket traffic`: the addresses that moved the most bytes, from what `picket run`
//! counted, and whether that is traffic this host routes or its own.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use super::output::terminal_safe;
use super::DataDirArg;
use crate::base::timestamp::Timestamp;
use crate::model::traffic::Scope;

/// The busiest addresses: LAN devices whose traffic this host routes, or remotes talking
/// with this host.
///
/// Examples:
///   picket traffic
///   picket traffic --since 24h --scope forwarded --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TrafficArgs {
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Over this long (e.g. 30m, 24h, 7d).
    #[arg(long, value_parser = super::parse_duration, value_name = "DURATION", default_value = "1h")]
    pub since: i64,
    /// Only `host` (remotes talking with this host) or `forwarded` (devices it routes for).
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// At most this many addresses.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    Host,
    Forwarded,
}

fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut v, mut u) = (n as f64, 0);
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn run(args: TrafficArgs) -> anyhow::Result<()> {
    let conn = super::open_store_read_only(&args.data)?;
    let since = Timestamp::now().saturating_add_secs(-args.since);
    let scope = args.scope.map(|s| match s {
        ScopeArg::Host => Scope::Host,
        ScopeArg::Forwarded => Scope::Forwarded,
    });
    let top =
        crate::store::traffic::top(&conn, since, scope, args.limit).context("reading traffic")?;
    let status = crate::store::load_checkpoint(&conn, crate::store::traffic::STATUS)
        .context("reading the traffic status")?;
    let mut out = BufWriter::new(io::stdout().lock());
    let r = (|| -> anyhow::Result<()> {
        if args.json {
            for t in &top {
                let device = crate::store::devices::by_address(&conn, &t.addr)?;
                let mut v = serde_json::to_value(t)?;
                v["device"] = device.map_or(serde_json::Value::Null, |d| serde_json::json!(d.id));
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            }
            return Ok(());
        }
        match status
            .as_deref()
            .and_then(|s| serde_json::from_str::<crate::sources::traffic::worker::Status>(s).ok())
        {
            Some(s) => writeln!(
                out,
                "# {} (from {}); {}",
                match (s.view, s.forwarding) {
                    (Scope::Forwarded, _) => "this host routes traffic: per LAN device",
                    (Scope::Host, true) =>
                        "this host routes traffic, but only its own is counted, per remote address",
                    (Scope::Host, false) =>
                        "this host routes nothing: its own traffic, per remote address",
                },
                match s.source {
                    crate::sources::traffic::Source::Conntrack => "connection tracking",
                    crate::sources::traffic::Source::Sockets => "TCP sockets",
                },
                s.note
            )?,
            None => writeln!(
                out,
                "# nothing counted yet: `picket run` counts traffic every `traffic.interval_secs`"
            )?,
        }
        writeln!(
            out,
            "{:<39} {:<9} {:>10} {:>10} {:>9} {:>9} {:>7}  DEVICE",
            "ADDRESS", "SCOPE", "RECEIVED", "SENT", "PKTS IN", "PKTS OUT", "CONNS"
        )?;
        for t in &top {
            let device = crate::store::devices::by_address(&conn, &t.addr)?
                .map(|d| d.label().unwrap_or(&d.mac).to_owned())
                .unwrap_or_default();
            writeln!(
                out,
                "{:<39} {:<9} {:>10} {:>10} {:>9} {:>9} {:>7}  {}",
                t.addr,
                t.scope,
                bytes(t.rx_bytes),
                bytes(t.tx_bytes),
                t.rx_packets,
                t.tx_packets,
                t.connections,
                terminal_safe(&device, 40)
            )?;
        }
        Ok(())
    })();
    super::output::finish(r, &mut out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(2_000_000), "1.9 MiB");
    }
}
