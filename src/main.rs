//! The `picket` command. Parsing of arguments lives in `picket::cli`; this only dispatches
//! and turns errors into one readable line and a non-zero exit.

use clap::Parser;
use picket::cli::{Cli, Command};

/// mimalloc instead of glibc's malloc: a replay allocates and frees a few short strings
/// per event (user names, evidence lines), and glibc's bookkeeping for them was a tenth
/// of the work. Statically linked: still one binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    picket::cli::logging::init(cli.log_format);
    let result = match cli.command {
        Command::Run(a) => picket::cli::run::run(a),
        Command::Demo(a) => picket::cli::demo::run(a),
        Command::Replay(a) => picket::cli::replay::run(a),
        Command::Events(a) => picket::cli::events::run(a),
        Command::Alerts(a) => picket::cli::alerts::run(a),
        Command::Incidents(a) => picket::cli::incidents::run(a),
        Command::Rules(a) => picket::cli::rules::run(a),
        Command::Check(a) => picket::cli::check::run(a),
        Command::Block(a) => picket::cli::block::run_block(a),
        Command::Unblock(a) => picket::cli::block::run_unblock(a),
        Command::Bans(a) => picket::cli::block::run_bans(a),
        Command::Devices(a) => picket::cli::devices::run(a),
        Command::Traffic(a) => picket::cli::traffic::run(a),
        Command::User(a) => picket::cli::accounts::run_user(a),
        Command::Token(a) => picket::cli::accounts::run_token(a),
        Command::Completions(a) => picket::cli::docs::completions(a),
        Command::Manpages(a) => picket::cli::docs::manpages(a),
    };
    if let Err(e) = result {
        eprintln!("picket: {e:#}");
        std::process::exit(1);
    }
}
