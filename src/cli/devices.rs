//! `picket devices`: the LAN devices Picket knows, and `picket devices scan` to look now.

use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;

use super::output::terminal_safe;
use super::DataDirArg;
use crate::sources::lan::{self, iface::mac_text};

/// LAN devices: those Picket has recorded, or (`scan`) those answering now.
///
/// Examples:
///   picket devices
///   sudo picket devices scan --interface eth0 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DevicesArgs {
    #[command(subcommand)]
    pub command: Option<DevicesCommand>,
    /// One JSON object per line instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Debug, clap::Subcommand)]
pub enum DevicesCommand {
    /// Scan the LAN now (ARP over a raw socket as root, else a ping sweep and the kernel's
    /// neighbour table) and print what answers, with vendors and names (reverse DNS, else
    /// mDNS, else NetBIOS; about a second more). Records nothing: `picket run` does.
    Scan {
        /// Only this interface (repeatable) [default: every interface with IPv4].
        #[arg(long = "interface", value_name = "IF")]
        interfaces: Vec<String>,
        /// No ARP scan: a ping sweep, then the kernel's neighbour table.
        #[arg(long)]
        passive: bool,
        /// No name lookups (no queries to the resolver or the devices).
        #[arg(long)]
        no_names: bool,
    },
}

pub fn run(args: DevicesArgs) -> anyhow::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    let r = match args.command {
        Some(DevicesCommand::Scan {
            interfaces,
            passive,
            no_names,
        }) => scan(&mut out, interfaces, passive, !no_names, args.json),
        None => {
            let conn = super::open_store_read_only(&args.data)?;
            let list = crate::store::devices::list(&conn).context("reading devices")?;
            show(&mut out, &list, args.json).map_err(anyhow::Error::from)
        }
    };
    super::output::finish(r, &mut out)
}

fn scan(
    out: &mut impl Write,
    interfaces: Vec<String>,
    passive: bool,
    names: bool,
    json: bool,
) -> anyhow::Result<()> {
    let cfg = lan::LanConfig {
        interfaces,
        active: !passive,
        names,
        ..Default::default()
    };
    let ifaces = lan::worker::interfaces(&cfg);
    anyhow::ensure!(
        !ifaces.is_empty(),
        "no interface to scan: none is up with an IPv4 address{}",
        if cfg.interfaces.is_empty() {
            String::new()
        } else {
            format!(" among {}", cfg.interfaces.join(", "))
        }
    );
    let started = std::time::Instant::now();
    let mut active = cfg.active;
    let found = lan::worker::discover(&cfg, &ifaces, &mut active);
    let found6 = lan::worker::discover_ipv6(&ifaces);
    let all: Vec<(IpAddr, [u8; 6], &str)> = found
        .iter()
        .map(|n| (IpAddr::from(n.ip), n.mac, n.interface.as_str()))
        .chain(
            found6
                .iter()
                .map(|n| (IpAddr::from(n.ip), n.mac, n.interface.as_str())),
        )
        .collect();
    let named = if cfg.names {
        let addrs: Vec<IpAddr> = all.iter().map(|a| a.0).collect();
        let lookup = lan::names::resolve(&addrs, Duration::from_millis(cfg.names_timeout_ms));
        for e in &lookup.errors {
            eprintln!("picket: device names: {e}");
        }
        lookup.names
    } else {
        vec![None; all.len()]
    };
    if !json {
        writeln!(
            out,
            "{:<16} {:<18} {:<10} {:<24} VENDOR",
            "ADDRESS", "MAC", "INTERFACE", "NAME"
        )?;
    }
    for ((ip, mac, interface), name) in all.iter().zip(&named) {
        sighting(out, *ip, *mac, interface, name.as_ref(), json)?;
    }
    if !json {
        eprintln!(
            "{} IPv4 and {} IPv6 neighbours on {} in {:.1} s ({})",
            found.len(),
            found6.len(),
            ifaces
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            started.elapsed().as_secs_f64(),
            if active {
                "ARP scan"
            } else {
                "the kernel's neighbour table"
            }
        );
    }
    Ok(())
}

/// One answer of a scan, with its vendor and name, as a table row or a JSON line.
fn sighting(
    out: &mut impl Write,
    ip: IpAddr,
    mac: [u8; 6],
    interface: &str,
    name: Option<&lan::names::Name>,
    json: bool,
) -> anyhow::Result<()> {
    let randomized = lan::oui::is_locally_administered(mac);
    let vendor = lan::worker::vendor_of(mac);
    if json {
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({
                "ip": ip, "mac": mac_text(mac), "interface": interface,
                "vendor": vendor, "randomized": randomized,
                "hostname": name.map(|n| &n.name),
                "hostname_source": name.map(|n| n.source),
            }),
        )?;
        writeln!(out)?;
    } else {
        let v = match (&vendor, randomized) {
            (_, true) => "(randomized MAC)".to_string(),
            (Some(v), _) => terminal_safe(v, 60),
            (None, _) => "(unknown)".to_string(),
        };
        let n = name.map_or_else(|| "-".to_string(), |n| terminal_safe(&n.name, 60));
        writeln!(
            out,
            "{:<16} {:<18} {interface:<10} {n:<24} {v}",
            ip.to_string(),
            mac_text(mac)
        )?;
    }
    Ok(())
}

fn show(
    out: &mut impl Write,
    list: &[crate::store::devices::Device],
    json: bool,
) -> io::Result<()> {
    if !json {
        writeln!(
            out,
            "{:>4} {:<7} {:<16} {:<18} {:<7} {:<27} NAME / HOSTNAME / VENDOR",
            "ID", "STATE", "ADDRESS", "MAC", "TRUSTED", "LAST SEEN (UTC)"
        )?;
    }
    for d in list {
        if json {
            serde_json::to_writer(&mut *out, d)?;
            writeln!(out)?;
        } else {
            let label = d.label().unwrap_or(if d.randomized {
                "(randomized MAC)"
            } else {
                "(unknown)"
            });
            writeln!(
                out,
                "{:>4} {:<7} {:<16} {:<18} {:<7} {:<27} {}",
                d.id,
                if d.online { "online" } else { "offline" },
                d.ip.as_deref().unwrap_or("-"),
                d.mac,
                if d.trusted { "yes" } else { "no" },
                d.last_seen.to_string(),
                terminal_safe(label, 60)
            )?;
        }
    }
    Ok(())
}
