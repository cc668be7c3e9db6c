//! `picket run`: the topology. Builds every stage from the configuration and the
//! registries, starts them in order, and stops them in reverse order on a signal. It holds
//! no source-, sink- or action-specific code: those are entries in [`registry`] and
//! [`crate::response::registry`].
//!
//! Data flows one way: sources → engine stage (rules; actions ordered) → store writer
//! (one transaction per batch, checkpoints with their events) → sinks (live stream,
//! notifications). A stop lets every source finish its current batch, then drains the
//! engine and the writer; a kill loses only uncommitted batches, whose checkpoints were
//! not saved either, so the next run reads those lines again: nothing lost, nothing twice.

pub(crate) mod engine_stage;
pub(crate) mod registry;
pub(crate) mod rule_watch;
mod service;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;

use self::engine_stage::{Downstream, EngineMsg};
use crate::base::diag::CompileError;
use crate::base::stop::Stop;
use crate::bus::board::RuleBoard;
use crate::bus::live::{Live, LiveMsg};
use crate::config::Config;
use crate::engine::reload::RuleDir;
use crate::engine::RuleSet;
use crate::sources::{Closed, Context, Output, Source};
use crate::store::writer::{Writer, WriterSender};

/// What a run is started with.
pub struct Options {
    pub config: Config,
    /// The compiled rules the engine runs.
    pub rules: Arc<RuleSet>,
    /// The directory they came from, watched for changes (none for the built-in rules).
    pub rule_dir: Option<RuleDir>,
    /// Files of that directory that did not compile.
    pub rule_errors: Vec<CompileError>,
    /// Read only the journal, no log files.
    pub journal_only: bool,
}

/// Runs until SIGINT or SIGTERM.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let cfg = opts.config;
    let data_dir = cfg.data_dir();
    // Listen first: a taken address must end the run before any thread starts.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("picket-web")
        .enable_all()
        .build()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(cfg.listen))
        .with_context(|| {
            format!(
                "cannot listen on {} (is another picket running? choose another address with --listen)",
                cfg.listen
            )
        })?;
    let live = Live::new();
    let sink_env = registry::SinkEnv {
        data_dir: data_dir.clone(),
        live: live.clone(),
        notify_board: RefCell::new(None),
    };
    let sinks = registry::sinks(&cfg, &sink_env).map_err(anyhow::Error::msg)?;
    let writer = Writer::start_with_sinks(&data_dir, cfg.retention, cfg.incidents, sinks)
        .with_context(|| format!("starting the store in {}", data_dir.display()))?;
    let stop = Stop::new();
    // From here an early return must still stop every thread, or those holding the
    // pipeline open keep the writer (and the process) waiting.
    let _stop_on_return = stop.on_drop();
    let board = RuleBoard::new(
        opts.rules.clone(),
        opts.rule_errors,
        opts.rule_dir.as_ref().map(|rd| rd.dir().to_path_buf()),
    );
    let (to_responder, alerts) = std::sync::mpsc::channel();
    let responder = start_responder(&cfg, &data_dir, alerts, &live)?;
    let (engine, engine_stage, engine_alive) = engine_stage::start(
        opts.rules.clone(),
        Downstream {
            writer: writer.sender(),
            responder: to_responder,
            board: board.clone(),
            live: live.clone(),
            spare: cfg.response.alert_guard(),
        },
    )?;
    let rule_watcher = match opts.rule_dir {
        Some(rd) => Some(rule_watch::start(
            rd,
            engine.clone(),
            stop.clone(),
            board.clone(),
            live.clone(),
        )?),
        None => None,
    };
    let (intake, ingest) = crate::sources::ingest::channel();
    let env = registry::Env {
        data_dir: data_dir.clone(),
        journal_only: opts.journal_only,
        snapshot: Default::default(),
        baseline: crate::sources::snapshot::baseline::PortBaseline::new(cfg.port_allowlist()),
        host: Default::default(),
        checks: checks_runner(&cfg)?,
        live: live.clone(),
        ingest: RefCell::new(Some(ingest)),
    };
    let sources = registry::sources(&cfg, &env).map_err(anyhow::Error::msg)?;
    let web = crate::web::WebState::new(
        crate::web::db::Db::open(&data_dir, 4)?,
        live.clone(),
        board,
        crate::web::HostParts {
            host: env.host.clone(),
            snapshot: env.snapshot.clone(),
            checks: env.checks.clone(),
            baseline: env.baseline.clone(),
            blocker: cfg.response.blocker(),
            intake: Some(intake),
            notify: sink_env.notify_board.take().unwrap_or_default(),
        },
    );
    let bound = listener.local_addr().unwrap_or(cfg.listen);
    let (web_stop_tx, mut web_stop) = tokio::sync::watch::channel(false);
    let server = rt.spawn(crate::web::serve(web.clone(), listener, async move {
        let _ = web_stop.changed().await;
    }));
    tracing::info!("store {}", crate::store::db_path(&data_dir).display());
    let output = output(engine.clone(), writer.sender());
    let workers = start_sources(sources, &output, &stop, &data_dir)?;
    tracing::info!(
        "dashboard and API on http://{bound} (create an account with `picket user add NAME`)"
    );
    service::ready(&format!("watching; dashboard on http://{bound}"));
    let watchdog = service::watchdog(stop.clone(), writer.heartbeat(), move || {
        engine_alive.strong_count() > 0
    });

    rt.block_on(wait_for_stop_signal())?;
    tracing::info!("stopping");
    service::stopping();
    // In reverse order: the web, the sources, the rule watcher, the engine, the
    // responder, the store and its sinks.
    let _ = web_stop_tx.send(true);
    // Open event streams would hold a graceful shutdown forever: give it a moment.
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), server).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    // The web state holds a way into the pipeline (`POST /api/alert`): let go of it.
    drop(web);
    stop.set();
    for w in workers {
        let _ = w.join();
    }
    if let Some(w) = rule_watcher {
        let _ = w.join();
    }
    drop((engine, output));
    let _ = engine_stage.join();
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    let _ = responder.join();
    writer.close()?;
    Ok(())
}

/// A source's output: into the engine stage; a flush waits for the store.
fn output(engine: std::sync::mpsc::SyncSender<EngineMsg>, writer: WriterSender) -> Output {
    Output::new(
        move |m| engine.send(EngineMsg::Source(m)).map_err(|_| Closed),
        move || writer.flush().map_err(|_| Closed),
    )
}

/// Starts each source on a thread of its own, with its saved checkpoint.
fn start_sources(
    sources: Vec<Box<dyn Source>>,
    output: &Output,
    stop: &Stop,
    data_dir: &Path,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let conn = crate::store::open(data_dir)?;
    let mut threads = Vec::new();
    for source in sources {
        let saved = match source.checkpoint_name() {
            Some(name) => crate::store::load_checkpoint(&conn, &name)?,
            None => None,
        };
        tracing::info!(source = %source.id(), "{}", source.describe());
        let ctx = Context {
            output: output.clone(),
            stop: stop.clone(),
            saved,
        };
        threads.push(
            std::thread::Builder::new()
                .name(source.id())
                .spawn(move || source.run(ctx))?,
        );
    }
    if threads.is_empty() {
        tracing::warn!("no source is on: nothing to watch");
    }
    Ok(threads)
}

/// The responder stage on its own thread: every action an alert asks for.
fn start_responder(
    cfg: &Config,
    data_dir: &Path,
    alerts: std::sync::mpsc::Receiver<crate::model::Alert>,
    live: &Live,
) -> anyhow::Result<JoinHandle<()>> {
    let on_ban = {
        let live = live.clone();
        Arc::new(move |ip: std::net::IpAddr| {
            live.send(LiveMsg::Bans(serde_json::json!({ "ip": ip })))
        })
    };
    let env = crate::response::registry::Env {
        blocker: cfg.response.blocker(),
        killer: cfg.response.kill_process.clone(),
        data_dir: data_dir.to_path_buf(),
        on_ban,
    };
    let live = live.clone();
    Ok(std::thread::Builder::new()
        .name("responder".into())
        .spawn(move || {
            crate::response::worker::run(env, alerts, |ids| live.send(LiveMsg::Incidents(ids)))
        })?)
}

/// The configuration checks' runner: over this host's `/`, from the configured directory,
/// else /etc/picket/checks when it exists, else the built-in checks.
fn checks_runner(cfg: &Config) -> anyhow::Result<crate::checks::runner::Runner> {
    let system = Path::new("/etc/picket/checks");
    let dir = cfg
        .checks_dir
        .clone()
        .or_else(|| system.is_dir().then(|| system.to_path_buf()));
    if let Some(d) = &dir {
        anyhow::ensure!(
            d.is_dir(),
            "the check directory {} does not exist",
            d.display()
        );
    }
    Ok(crate::checks::runner::Runner::new(
        dir,
        crate::checks::Host::new("/")?,
        Duration::from_secs(cfg.checks_interval_secs),
    ))
}

async fn wait_for_stop_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
