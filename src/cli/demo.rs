//! `picket demo`: the whole daemon on a throwaway data dir, fed bundled sample attacks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;

use crate::auth::{self, Role};
use crate::config::{Config, JournaldMode, LogConfig, StartPosition};
use crate::parse::InputFormat;
use crate::pipeline;
use crate::store::accounts;

/// Try Picket without touching this host: runs the full daemon (rules, store, API and
/// dashboard) on a temporary data dir, creates a `demo` account with a fresh password,
/// and writes bundled sample attack logs (a port scan, an SSH account scan and brute
/// force, a compromise with a backdoor account, a botnet, a crashing service …) into log
/// files it tails, at the pace they were logged. Open the dashboard, log in, and watch
/// the alerts arrive. None of this host's own logs is read (its processes and listening
/// ports are shown, as `picket run` shows them); everything is deleted when you stop it
/// with Ctrl-C.
///
/// Examples:
///   picket demo
///   picket demo --listen 127.0.0.1:9000 --speed 4
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Address for the API and dashboard.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// How many times faster than they were logged to feed the samples (the story takes
    /// about two minutes at 1).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.01..=1_000_000.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a speed between 0.01 and 1000000")),
    }
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("picket-demo-")
        .tempdir()
        .context("creating the demo's temporary directory")?;
    let data_dir = tmp.path().join("data");
    let log_dir = tmp.path().join("logs");
    let rule_dir = tmp.path().join("rules");
    std::fs::create_dir_all(&log_dir)?;
    for path in crate::demo::log_paths(&log_dir) {
        std::fs::write(&path, "")?;
    }
    // The default rules, as files: the dashboard's rule editor can change them.
    crate::engine::bundle::seed_defaults(&rule_dir)
        .with_context(|| format!("writing the default rules to {}", rule_dir.display()))?;

    let password = auth::new_secret("")?[..16].to_string();
    {
        let conn = crate::store::open(&data_dir)?;
        accounts::upsert_user(&conn, "demo", Role::Admin, &auth::hash_password(&password)?)
            .context("creating the demo account")?;
    }

    let (rules, rule_watch, errors) = super::run::load_rules(Some(&rule_dir))?;
    let config = Config {
        data_dir: Some(data_dir),
        listen: args.listen,
        logs: crate::demo::log_paths(&log_dir)
            .into_iter()
            .map(|path| LogConfig {
                path,
                format: Some(InputFormat::Syslog),
            })
            .collect(),
        journald: JournaldMode::Off,
        start_at: StartPosition::Beginning,
        // A demo does not scan the network it happens to be on.
        lan: crate::sources::lan::LanConfig {
            interval_secs: 0,
            ..Default::default()
        },
        ..Config::default()
    };

    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let stop = stop.clone();
        let speed = args.speed;
        std::thread::Builder::new()
            .name("demo feed".into())
            .spawn(move || {
                // Give the daemon a moment to start tailing.
                std::thread::sleep(std::time::Duration::from_secs(1));
                match crate::demo::feed(&log_dir, speed, &stop) {
                    Ok(n) if !stop.load(Ordering::SeqCst) => eprintln!(
                        "picket demo: all {n} sample lines fed; the dashboard stays up until Ctrl-C"
                    ),
                    Ok(_) => {}
                    Err(e) => eprintln!("picket demo: feeding the sample logs failed: {e}"),
                }
            })?
    };

    println!("Picket demo: a throwaway store in {}", tmp.path().display());
    println!(
        "Log in at http://{} as  demo  with password  {password}",
        args.listen
    );
    println!(
        "Sample attacks start in a second (speed ×{}). Ctrl-C stops and deletes everything.",
        args.speed
    );
    let result = pipeline::run(pipeline::Options {
        config,
        rules,
        rule_dir: rule_watch,
        rule_errors: errors,
        journal_only: false,
    });
    stop.store(true, Ordering::SeqCst);
    let _ = feeder.join();
    result
}
