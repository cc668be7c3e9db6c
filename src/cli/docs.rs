//! `picket completions SHELL` and `picket manpages DIR`: shell completions and man pages
//! generated from the command definition itself, so they never drift from `--help`. The
//! Debian package installs both (`packaging/build-deb.sh`).

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

/// Print shell completions for bash, zsh, fish, elvish or PowerShell.
///
/// Examples:
///   picket completions bash > /usr/share/bash-completion/completions/picket
///   picket completions zsh > ~/.zfunc/_picket
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "picket", &mut script);
    match std::io::stdout().write_all(&script) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Write man pages: picket(1) and picket-SUBCOMMAND(1) for each subcommand.
#[derive(Debug, clap::Args)]
pub struct ManpagesArgs {
    /// Where to write the pages (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

pub fn manpages(args: ManpagesArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let cmd = super::Cli::command();
    clap_mangen::generate_to(cmd, &args.dir)
        .with_context(|| format!("writing man pages to {}", args.dir.display()))?;
    Ok(())
}
