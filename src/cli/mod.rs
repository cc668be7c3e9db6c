//! The command line: one module per subcommand, sharing output helpers.

pub mod accounts;
pub mod alerts;
pub mod block;
pub mod check;
pub mod demo;
pub mod devices;
pub mod docs;
pub mod events;
pub mod incidents;
pub mod logging;
pub(crate) mod output;
pub mod replay;
pub mod rules;
pub mod run;
pub mod traffic;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Picket watches this Linux host's logs, turns them into normalized security events,
/// and keeps them in an embedded SQLite store.
///
/// Start with `picket run` (as root, to read /var/log and the journal), or try it on a
/// log you have: `picket replay /var/log/auth.log`.
#[derive(Debug, Parser)]
#[command(
    name = "picket",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PICKET_GIT_REVISION"), ")"),
    about,
    long_about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// How the daemon's log lines on standard error are written: readable text, or JSON
    /// lines for log shippers. `PICKET_LOG` sets the level (`debug`, `warn`, …).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    pub log_format: logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Run(run::RunArgs),
    Demo(demo::DemoArgs),
    Replay(replay::ReplayArgs),
    Events(events::EventsArgs),
    Alerts(alerts::AlertsArgs),
    Incidents(incidents::IncidentsArgs),
    Rules(rules::RulesArgs),
    Check(check::CheckArgs),
    Block(block::BlockArgs),
    Unblock(block::UnblockArgs),
    Bans(block::BansArgs),
    Devices(devices::DevicesArgs),
    Traffic(traffic::TrafficArgs),
    User(accounts::UserArgs),
    Token(accounts::TokenArgs),
    Completions(docs::CompletionsArgs),
    #[command(hide = true)]
    Manpages(docs::ManpagesArgs),
}

/// `--data-dir` shared by the commands that use the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArg {
    /// Where the SQLite store lives [default: /var/lib/picket as root, else
    /// ~/.local/share/picket, or `data_dir` from picket.yaml].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// picket.yaml to take `data_dir` from.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl DataDirArg {
    /// The data dir: `--data-dir`, else picket.yaml's, else the default.
    pub fn dir(&self) -> anyhow::Result<PathBuf> {
        let cfg = crate::config::Config::load(self.config.as_deref())?;
        Ok(self.data_dir.clone().unwrap_or_else(|| cfg.data_dir()))
    }
}

/// Opens the store for reading, with a clear error when `picket run` has not created it
/// yet.
pub fn open_store_read_only(data: &DataDirArg) -> anyhow::Result<rusqlite::Connection> {
    let dir = data.dir()?;
    if !crate::store::db_path(&dir).exists() {
        anyhow::bail!(
            "no Picket store in {} (start `picket run` first, or pass --data-dir)",
            dir.display()
        );
    }
    Ok(crate::store::open_read_only(&dir)?)
}

/// Parses a duration such as `90s`, `15m`, `2h`, `7d`, `1w` into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    crate::model::duration::parse_secs(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
