//! The command line: one module per subcommand, sharing output helpers.

pub mod events;
pub mod output;
pub mod replay;
pub mod run;

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
    version,
    about,
    long_about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Run(run::RunArgs),
    Replay(replay::ReplayArgs),
    Events(events::EventsArgs),
}

/// `--data-dir` shared by the commands that use the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArg {
    /// Where the SQLite store lives [default: /var/lib/picket as root, else
    /// ~/.local/share/picket, or `data_dir` from picket.yaml].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Parses a duration such as `90s`, `15m`, `2h`, `7d`, `1w` into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration: use a number and a unit, e.g. 30s, 15m, 2h, 7d")
    })?;
    let mult = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{unit}` is not a duration unit: use s, m, h, d or w"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(parse_duration("7y").unwrap_err().contains("unit"));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
