//! `picket block`, `picket unblock`, `picket bans`: bans by hand, through the same
//! guard, history and nftables table as the rules' `block_ip`.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;

use super::DataDirArg;
use crate::base::timestamp::Timestamp;
use crate::response::{Mode, Outcome, Request};
use crate::store::bans;

/// Parses an address given by hand; anything else is refused before anything runs.
fn address(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("`{s}` is not an IPv4 or IPv6 address"))
}

fn duration(s: &str) -> Result<Duration, String> {
    let secs = super::parse_duration(s)?;
    if secs <= 0 {
        return Err("give a length of at least one second".into());
    }
    Ok(Duration::from_secs(secs as u64))
}

/// Block an address now, in Picket's nftables table (`inet picket`).
///
/// The kernel lifts the ban when it expires, even if Picket is not running. Loopback,
/// this host's addresses and `response.allowlist` are never blocked. Without --for the
/// length is `response.block_ip.ban_time_secs`, doubled for each earlier ban of the
/// address in the last `history_days`.
///
/// Examples:
///   picket block 203.0.113.66
///   picket block 2001:db8::66 --for 1h --reason "scanner seen in the web logs"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct BlockArgs {
    /// The address (IPv4 or IPv6).
    #[arg(value_parser = address)]
    pub ip: IpAddr,
    /// How long, e.g. 90s, 15m, 2h, 7d.
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub for_time: Option<Duration>,
    /// Why (kept with the ban).
    #[arg(long, default_value = "manual")]
    pub reason: String,
    /// Record what would be done without touching the firewall.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Lift every ban of an address.
#[derive(Debug, clap::Args)]
pub struct UnblockArgs {
    #[arg(value_parser = address)]
    pub ip: IpAddr,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// List bans: those running now (enforced and dry-run), or with --all the latest ones.
#[derive(Debug, clap::Args)]
pub struct BansArgs {
    /// The latest 100 bans, expired and lifted ones too.
    #[arg(long)]
    pub all: bool,
    /// One JSON object per ban, one per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

fn setup(data: &DataDirArg) -> anyhow::Result<(crate::response::Blocker, rusqlite::Connection)> {
    let cfg = crate::config::Config::load(data.config.as_deref())?;
    let dir = data.dir()?;
    let conn = crate::store::open(&dir)
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    Ok((cfg.response.blocker(), conn))
}

/// Who is acting, for the record.
fn who() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "cli".into())
}

pub fn run_block(args: BlockArgs) -> anyhow::Result<()> {
    let (blocker, conn) = setup(&args.data)?;
    let by = who();
    let outcome = blocker.block(
        &conn,
        &Request {
            ip: args.ip,
            reason: &args.reason,
            by_user: Some(&by),
            for_time: args.for_time,
            first_ban: None,
            mode: if args.dry_run {
                Mode::DryRun
            } else {
                Mode::Enforce
            },
        },
    )?;
    println!("{outcome}");
    if matches!(outcome, Outcome::Refused { .. }) {
        std::process::exit(1);
    }
    Ok(())
}

pub fn run_unblock(args: UnblockArgs) -> anyhow::Result<()> {
    let (blocker, conn) = setup(&args.data)?;
    let n = blocker.unblock(&conn, args.ip, Some(&who()))?;
    println!(
        "unblocked {} ({n} running ban{} lifted)",
        args.ip,
        if n == 1 { "" } else { "s" }
    );
    Ok(())
}

pub fn run_bans(args: BansArgs) -> anyhow::Result<()> {
    let (_, conn) = setup(&args.data)?;
    let list = if args.all {
        bans::recent(&conn, 100)?
    } else {
        bans::active(&conn, Timestamp::now())?
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        for b in &list {
            serde_json::to_writer(&mut out, b)?;
            writeln!(out)?;
        }
    } else {
        writeln!(
            out,
            "{:<40} {:<8} {:<25} {:<25} {:<20} BY",
            "ADDRESS", "MODE", "SINCE", "UNTIL", "REASON"
        )?;
        for b in &list {
            writeln!(
                out,
                "{:<40} {:<8} {:<25} {:<25} {:<20} {}{}",
                b.ip,
                b.mode,
                b.created.to_string(),
                b.expires.to_string(),
                super::output::terminal_safe(&b.reason, 20),
                b.by_user.as_deref().unwrap_or("-"),
                if b.lifted.is_some() { " (lifted)" } else { "" }
            )?;
        }
        if list.is_empty() {
            writeln!(out, "no bans")?;
        }
    }
    Ok(())
}
