//! `picket run`: wires sources → normalizer → store, and stops cleanly on a signal.
//!
//! One thread per tailed file and one for the journal, each owning its own
//! [`Normalizer`] (year reference, per-pid parser state). They hand batches of events,
//! together with the checkpoint that covers them, to the single store writer, which
//! commits both in one transaction. A stop (SIGINT, SIGTERM) lets every source finish its
//! current batch, then flushes the writer; a kill loses only uncommitted batches, whose
//! checkpoints were not saved either, so the next run reads those lines again: nothing
//! lost, nothing twice.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

use crate::base::timestamp::{LocalZone, Timestamp};
use crate::config::{Config, JournaldMode, LogConfig, StartPosition, AUTH_LOGS, DEFAULT_LOGS};
use crate::engine::{Engine, RuleSet};
use crate::model::event::Event;
use crate::model::journal::Entry;
use crate::parse::{InputFormat, Normalizer};
use crate::sources::journald::{self, Follower};
use crate::sources::snapshot::baseline::PortBaseline;
use crate::sources::tail::{StartAt, Tailer};
use crate::store::writer::{Batch, Checkpoint, Writer, WriterSender};

pub struct DaemonOptions {
    pub config: Config,
    /// The compiled rules the engine runs.
    pub rules: Arc<RuleSet>,
    /// The directory they came from, watched for changes (none for the built-in rules).
    pub rule_dir: Option<crate::engine::reload::RuleDir>,
    /// Files of that directory that did not compile.
    pub rule_errors: Vec<crate::base::diag::CompileError>,
    /// Read only the journal, no log files.
    pub journal_only: bool,
}

/// Which inputs a run reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub files: Vec<LogConfig>,
    pub journald: bool,
}

/// Decides the inputs: the configured logs, else the defaults that exist; the journal
/// when asked for, or (auto) when no authentication log exists.
pub fn plan(cfg: &Config) -> Plan {
    let files: Vec<LogConfig> = if cfg.logs.is_empty() {
        DEFAULT_LOGS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .map(|path| LogConfig { path, format: None })
            .collect()
    } else {
        cfg.logs.clone()
    };
    let journald = match cfg.journald {
        JournaldMode::On => true,
        JournaldMode::Off => false,
        JournaldMode::Auto => !AUTH_LOGS.iter().any(|p| Path::new(p).exists()),
    };
    Plan { files, journald }
}

pub fn run(opts: DaemonOptions) -> anyhow::Result<()> {
    let cfg = opts.config;
    let data_dir = cfg.data_dir();
    let mut plan = plan(&cfg);
    if opts.journal_only {
        plan.files.clear();
    }
    // Listen first: a taken address must end the run before any thread starts (threads
    // holding the pipeline open would keep an early return from ever finishing).
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
    let live = crate::bus::live::Live::new();
    // Each committed new alert goes to the notification channels' queues (never waiting
    // on them), then to the live stream.
    let (notifier, notify_board, notify_workers) =
        crate::notify::start(&cfg.notifications, &data_dir)?;
    if !notifier.is_empty() {
        eprintln!("picket: notifying {}", notify_board.names().join(", "));
    }
    let writer = Writer::start_with_hook(
        &data_dir,
        cfg.retention,
        cfg.incidents,
        Some(notifier.hook(live.commit_hook())),
    )
    .with_context(|| format!("starting the store in {}", data_dir.display()))?;
    let conn = crate::store::open(&data_dir)?;
    let stop = Arc::new(AtomicBool::new(false));
    // An error from here on returns early: every thread must still be told to stop, or
    // those holding the pipeline open keep the writer (and the process) waiting.
    let _stop_on_return = StopOnDrop(stop.clone());
    let board = crate::bus::board::RuleBoard::new(
        opts.rules.clone(),
        opts.rule_errors,
        opts.rule_dir.as_ref().map(|rd| rd.dir().to_path_buf()),
    );
    let (respond, orders) = std::sync::mpsc::channel();
    let responder = start_responder(
        cfg.response.blocker(),
        cfg.response.kill_process.clone(),
        data_dir.clone(),
        orders,
        live.clone(),
    )?;
    let (sink, engine_stage) = start_engine(
        opts.rules.clone(),
        writer.sender(),
        board.clone(),
        live.clone(),
        respond,
        cfg.response.alert_guard(),
    )?;
    let rule_watcher = match opts.rule_dir {
        Some(rd) => Some(watch_rules(
            rd,
            sink.clone(),
            stop.clone(),
            board.clone(),
            live.clone(),
        )?),
        None => None,
    };
    let bound = listener.local_addr().unwrap_or(cfg.listen);
    let snapshot = crate::sources::snapshot::SharedSnapshot::default();
    let checks = checks_runner(&cfg)?;
    let baseline = PortBaseline::new(cfg.port_allowlist());
    let web = crate::web::WebState::new(
        crate::web::db::Db::open(&data_dir, 4)?,
        live.clone(),
        board,
        crate::web::HostParts {
            host: crate::web::host::HostMetrics::default(),
            snapshot: snapshot.clone(),
            checks: checks.clone(),
            baseline: baseline.clone(),
            blocker: cfg.response.blocker(),
            intake: Some(intake(sink.clone(), writer.sender())),
            notify: notify_board,
        },
    );
    let (web_stop_tx, web_stop) = tokio::sync::watch::channel(false);
    let server = {
        let mut web_stop = web_stop.clone();
        rt.spawn(crate::web::serve(web.clone(), listener, async move {
            let _ = web_stop.changed().await;
        }))
    };
    let zone = cfg.zone();
    let mut workers: Vec<JoinHandle<()>> = Vec::new();

    eprintln!(
        "picket: store {}",
        crate::store::db_path(&data_dir).display()
    );
    // One inotify watch wakes the tailers; without it (no inotify) they poll.
    let wakeups = match crate::sources::tail::wake::Wakeups::new() {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!(
                "picket: cannot watch the logs for changes ({e}); polling them every {} ms",
                cfg.poll_interval_ms
            );
            None
        }
    };
    for log in &plan.files {
        let name = crate::sources::tail::checkpoint_name(&log.path);
        let saved = crate::store::load_checkpoint(&conn, &name)?;
        let start = match cfg.start_at {
            StartPosition::End => StartAt::End,
            StartPosition::Beginning => StartAt::Beginning,
        };
        eprintln!("picket: tailing {}", log.path.display());
        let ctx = FileWorker {
            path: log.path.clone(),
            format: log.format,
            saved,
            start,
            zone: zone.clone(),
            poll: Duration::from_millis(cfg.poll_interval_ms),
            wake: wakeups.as_ref().and_then(|w| match w.subscribe(&log.path) {
                Ok(rx) => Some(rx),
                Err(e) => {
                    eprintln!(
                        "picket: cannot watch {} for changes ({e}); polling it",
                        log.path.display()
                    );
                    None
                }
            }),
            writer: sink.clone(),
            stop: stop.clone(),
        };
        workers.push(
            std::thread::Builder::new()
                .name(format!("tail {}", log.path.display()))
                .spawn(move || ctx.run())?,
        );
    }
    if plan.journald {
        let cursor = crate::store::load_checkpoint(&conn, journald::CHECKPOINT)?;
        eprintln!(
            "picket: reading the systemd journal{}",
            if cursor.is_some() {
                " from the saved cursor"
            } else {
                ""
            }
        );
        let ctx = JournalWorker {
            cursor,
            from_beginning: cfg.start_at == StartPosition::Beginning,
            zone: zone.clone(),
            writer: sink.clone(),
            stop: stop.clone(),
        };
        workers.push(
            std::thread::Builder::new()
                .name("journald".into())
                .spawn(move || ctx.run())?,
        );
    }
    if cfg.snapshot_interval_secs > 0 {
        eprintln!(
            "picket: reading processes and listening ports every {} s",
            cfg.snapshot_interval_secs
        );
        let ctx = SnapshotWorker {
            interval: Duration::from_secs(cfg.snapshot_interval_secs),
            shared: snapshot,
            baseline: baseline.clone(),
            data_dir: data_dir.clone(),
            writer: sink.clone(),
            stop: stop.clone(),
        };
        workers.push(
            std::thread::Builder::new()
                .name("snapshots".into())
                .spawn(move || ctx.run())?,
        );
    }
    if cfg.lan.interval_secs > 0 {
        let (lan, data_dir, stop, sink) = (
            cfg.lan.clone(),
            data_dir.clone(),
            stop.clone(),
            sink.clone(),
        );
        eprintln!(
            "picket: discovering LAN devices every {} s",
            cfg.lan.interval_secs
        );
        workers.push(
            std::thread::Builder::new()
                .name("lan".into())
                .spawn(move || {
                    crate::sources::lan::worker::run(lan, data_dir, to_engine(&sink), stop)
                })?,
        );
    }
    if cfg.traffic.interval_secs > 0 {
        let (traffic, data_dir, stop, sink) = (
            cfg.traffic.clone(),
            data_dir.clone(),
            stop.clone(),
            sink.clone(),
        );
        workers.push(
            std::thread::Builder::new()
                .name("traffic".into())
                .spawn(move || {
                    crate::sources::traffic::worker::run(traffic, &data_dir, to_engine(&sink), stop)
                })?,
        );
    }
    if cfg.metrics_interval_secs > 0 {
        let ctx = MetricsWorker {
            interval: Duration::from_secs(cfg.metrics_interval_secs),
            host: web.host.clone(),
            data_dir: data_dir.clone(),
            stop: stop.clone(),
        };
        workers.push(
            std::thread::Builder::new()
                .name("metrics".into())
                .spawn(move || ctx.run())?,
        );
    }
    if cfg.file_integrity.enabled {
        let fi = &cfg.file_integrity;
        let saved = crate::store::load_checkpoint(&conn, crate::sources::fim::CHECKPOINT)?;
        let fim = crate::sources::fim::Fim::new(
            crate::sources::fim::FimOptions {
                paths: fi.paths.clone(),
                log_dir: fi.log_dir.clone(),
                verify_every: Duration::from_secs(fi.verify_interval_secs),
            },
            saved.as_deref(),
        );
        eprintln!(
            "picket: watching {} file patterns{} for changes",
            fi.paths.len(),
            fi.log_dir
                .as_ref()
                .map(|d| format!(" and the logs under {}", d.display()))
                .unwrap_or_default()
        );
        let (sink, stop) = (sink.clone(), stop.clone());
        workers.push(
            std::thread::Builder::new()
                .name("file integrity".into())
                .spawn(move || {
                    let send = |b: Batch| sink.send(EngineMsg::Batch(b)).is_ok();
                    if let Err(e) = fim.run(stop, send) {
                        eprintln!("picket: file integrity stopped: {e}");
                    }
                })?,
        );
    }
    if cfg.checks_interval_secs > 0 {
        eprintln!(
            "picket: running the configuration checks{} every {} s",
            checks
                .dir()
                .map(|d| format!(" of {}", d.display()))
                .unwrap_or_default(),
            cfg.checks_interval_secs
        );
        let (live, stop, data_dir) = (live.clone(), stop.clone(), data_dir.clone());
        workers.push(
            std::thread::Builder::new()
                .name("checks".into())
                .spawn(move || {
                    let after = |s: &crate::checks::runner::RunSummary| {
                        live.send(crate::web::api_config::run_message(s))
                    };
                    if let Err(e) = checks.serve(data_dir, stop, after) {
                        eprintln!("picket: the configuration checks stopped: {e:#}");
                    }
                })?,
        );
    }
    if plan.files.is_empty() && !plan.journald {
        eprintln!("picket: no log to read: none of {} exists and the journal is off; pass --log PATH or --journald on", DEFAULT_LOGS.join(", "));
    }
    eprintln!(
        "picket: dashboard and API on http://{} (create an account with `picket user add NAME`)",
        bound
    );
    drop(conn);

    rt.block_on(wait_for_stop_signal())?;
    eprintln!("picket: stopping");
    let _ = web_stop_tx.send(true);
    // Open event streams would hold a graceful shutdown forever: give it a moment.
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), server).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    // The web state holds a way into the engine (`POST /api/alert`): let go of it, or the
    // engine stage waits for more forever.
    drop(web);
    stop.store(true, Ordering::SeqCst);
    if let Some(w) = &wakeups {
        w.wake_all();
    }
    for w in workers {
        let _ = w.join();
    }
    if let Some(w) = rule_watcher {
        let _ = w.join();
    }
    drop(sink);
    let _ = engine_stage.join();
    let _ = responder.join();
    let closed = writer.close();
    // The writer dropped the hook: the channels send what their digests hold and stop.
    notify_workers.join_for(Duration::from_secs(5));
    closed?;
    Ok(())
}

/// Sets the stop flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
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

/// Where sources send their batches: the engine stage, which adds the alerts the events
/// raise and passes each batch on to the store writer unchanged otherwise (so checkpoints
/// still commit with their events).
type Sink = std::sync::mpsc::SyncSender<EngineMsg>;

/// `POST /api/alert`'s way into the engine's path: the alerts go through the engine
/// stage (logged, their `block_ip` ordered) to the store, which groups them into
/// incidents and notifies; the call returns once they are committed.
fn intake(sink: Sink, writer: WriterSender) -> crate::web::Intake {
    Arc::new(move |alerts| {
        let (done, handed_on) = std::sync::mpsc::sync_channel(1);
        sink.send(EngineMsg::External(alerts, done))
            .map_err(|_| "the engine has stopped".to_string())?;
        handed_on
            .recv()
            .map_err(|_| "the engine has stopped".to_string())?;
        writer.flush().map_err(|e| e.to_string())
    })
}

/// What the engine stage receives.
pub enum EngineMsg {
    Batch(Batch),
    /// A reloaded rule set to swap in.
    Rules(Arc<RuleSet>),
    /// Alerts from other detectors (`POST /api/alert`), to store, group and act on as the
    /// rules' own; `handed_on` is told once they are queued for the store.
    External(Vec<crate::model::Alert>, std::sync::mpsc::SyncSender<()>),
}

/// Most batches waiting for the engine; sources block beyond it (back-pressure).
const ENGINE_QUEUE: usize = 64;

fn start_engine(
    rules: Arc<RuleSet>,
    writer: WriterSender,
    board: crate::bus::board::RuleBoard,
    live: crate::bus::live::Live,
    respond: std::sync::mpsc::Sender<crate::response::Order>,
    spare: Option<crate::response::Guard>,
) -> anyhow::Result<(Sink, JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<EngineMsg>(ENGINE_QUEUE);
    let handle = std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || {
            let mut engine = Engine::new(rules);
            for msg in rx {
                let mut handed_on = None;
                let mut batch = match msg {
                    EngineMsg::Batch(b) => b,
                    EngineMsg::External(alerts, done) => {
                        handed_on = Some(done);
                        Batch {
                            alerts,
                            ..Batch::default()
                        }
                    }
                    EngineMsg::Rules(rules) => {
                        // Pending alert updates of the old rules go out in a batch of their own.
                        let mut batch = Batch::default();
                        engine.replace_rules(rules, &mut batch.alerts);
                        batch
                    }
                };
                for e in &batch.events {
                    engine.on_event(e, &mut batch.alerts);
                }
                engine.flush(&mut batch.alerts);
                // `allowlist_applies_to: alerts`: protected addresses raise nothing.
                if let Some(g) = &spare {
                    batch.alerts.retain(|a| !g.spares_alert(a));
                }
                if board.set_scripts(engine.script_statuses()) {
                    live.send(crate::bus::live::LiveMsg::Rules);
                }
                for a in batch.alerts.iter().filter(|a| a.is_new) {
                    eprintln!(
                        "picket: alert {} [{}] {} {:?}",
                        a.rule,
                        a.severity.as_str(),
                        a.title,
                        a.group
                    );
                }
                // Before the store: a ban must not wait for a commit.
                for order in batch
                    .alerts
                    .iter()
                    .flat_map(crate::response::Order::from_alert)
                {
                    let _ = respond.send(order);
                }
                if writer.send(batch).is_err() {
                    return;
                }
                if let Some(done) = handed_on {
                    let _ = done.send(());
                }
            }
        })?;
    Ok((tx, handle))
}

/// Carries out `block_ip` and `kill_process` for the alerts that ask for them, on its own
/// thread so a slow `nft` never holds up detection (a kill, which waits out its grace
/// period, gets a thread of its own); restores enforced bans first.
fn start_responder(
    blocker: crate::response::Blocker,
    killer: crate::response::kill::KillConfig,
    data_dir: PathBuf,
    orders: std::sync::mpsc::Receiver<crate::response::Order>,
    live: crate::bus::live::Live,
) -> anyhow::Result<JoinHandle<()>> {
    use crate::response::{Mode, Order};
    let mode = blocker.config.mode;
    eprintln!(
        "picket: block_ip is {}, kill_process is {}",
        mode.as_str(),
        killer.mode.as_str()
    );
    Ok(std::thread::Builder::new()
        .name("responder".into())
        .spawn(move || {
            let conn = match crate::store::open(&data_dir) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("picket: responses are off: {e}");
                    return;
                }
            };
            if mode == Mode::Enforce {
                match blocker.restore(&conn) {
                    Ok(0) => {}
                    Ok(n) => eprintln!("picket: restored {n} running bans"),
                    Err(e) => eprintln!("picket: cannot restore the bans: {e}"),
                }
            }
            let started = crate::response::kill::own_start();
            // (pid, executable, first seen): a later process reusing the pid is another.
            let mut killing: Vec<(i32, String, i64)> = Vec::new();
            // Bans waiting for their alert's incident (the order comes before the commit).
            let mut pending: Vec<PendingAction> = Vec::new();
            loop {
                // Idle, it sleeps until an order comes; with actions waiting for their
                // incident, it looks again every 200 ms.
                let order = if pending.is_empty() {
                    match orders.recv() {
                        Ok(order) => Some(order),
                        Err(_) => break,
                    }
                } else {
                    match orders.recv_timeout(Duration::from_millis(200)) {
                        Ok(order) => Some(order),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                };
                match order {
                    None => {}
                    Some(Order::Block(order)) => match blocker.respond(&conn, &order) {
                        Ok(Some(outcome)) => {
                            eprintln!("picket: {} ({})", outcome, order.rule);
                            live.send(crate::bus::live::LiveMsg::Bans(
                                serde_json::json!({ "ip": order.ip }),
                            ));
                            pending.push(PendingAction {
                                alert_key: order.alert_key.clone(),
                                ip: Some(order.ip),
                                actor: order.rule.clone(),
                                text: outcome.to_string(),
                                since: std::time::Instant::now(),
                            });
                        }
                        Ok(None) => {}
                        Err(e) => eprintln!("picket: block_ip for {} failed: {e}", order.ip),
                    },
                    // Each alert update repeats the order: one kill per process.
                    Some(Order::Kill(order))
                        if killing.contains(&(order.pid, order.exe.clone(), order.seen)) => {}
                    Some(Order::Kill(order)) => {
                        killing.push((order.pid, order.exe.clone(), order.seen));
                        if killing.len() > 1000 {
                            killing.remove(0);
                        }
                        let (killer, data_dir) = (killer.clone(), data_dir.clone());
                        let _ = std::thread::Builder::new()
                            .name("kill".into())
                            .spawn(move || {
                                let outcome = killer.kill(&order, killer.mode, started);
                                eprintln!("picket: {outcome} ({}, {})", order.rule, order.exe);
                                record_kill(&data_dir, &order, &outcome);
                            });
                    }
                }
                let mut recorded = Vec::new();
                pending.retain(|p| match p.try_record(&conn) {
                    None => true,
                    Some(id) => {
                        recorded.extend(id);
                        false
                    }
                });
                if !recorded.is_empty() {
                    live.send(crate::bus::live::LiveMsg::Incidents(recorded));
                }
            }
        })?)
}

/// An action waiting to go on its incident's timeline.
struct PendingAction {
    alert_key: String,
    ip: Option<std::net::IpAddr>,
    actor: String,
    text: String,
    since: std::time::Instant,
}

/// How long an action waits for its alert's incident before it is given up.
const PENDING_ACTION_WAIT: Duration = Duration::from_secs(30);

impl PendingAction {
    /// Records it on its incident. `None` while the incident is not there yet; then
    /// `Some` with the incident's id, or `Some(None)` when given up (an error, or waited
    /// too long).
    fn try_record(&self, conn: &rusqlite::Connection) -> Option<Option<i64>> {
        match crate::store::incidents::record_action(
            conn,
            Some(&self.alert_key),
            self.ip,
            Some(&self.actor),
            &self.text,
        ) {
            Ok(Some(id)) => Some(Some(id)),
            Ok(None) if self.since.elapsed() > PENDING_ACTION_WAIT => Some(None),
            Ok(None) => None,
            Err(e) => {
                eprintln!("picket: cannot record `{}` on its incident: {e}", self.text);
                Some(None)
            }
        }
    }
}

/// A kill (or a refusal, or a dry-run) in the audit log, where the dashboard shows it,
/// and on its alert's incident.
fn record_kill(
    data_dir: &Path,
    order: &crate::response::kill::KillOrder,
    outcome: &crate::response::kill::KillOutcome,
) {
    use crate::response::kill::KillOutcome;
    if matches!(outcome, KillOutcome::Off) {
        return;
    }
    let target = format!("pid {} {}", order.pid, order.exe);
    let detail = format!("{outcome} (rule {})", order.rule);
    if let Ok(conn) = crate::store::open(data_dir) {
        let action = PendingAction {
            alert_key: order.alert_key.clone(),
            ip: None,
            actor: order.rule.clone(),
            text: format!("{outcome} ({})", order.exe),
            since: std::time::Instant::now(),
        };
        let _ = crate::store::audit::record(
            &conn,
            &crate::store::audit::NewEntry {
                user: None,
                address: None,
                action: "process.kill",
                target: Some(&target),
                detail: Some(&detail),
                ok: matches!(
                    outcome,
                    KillOutcome::Terminated { .. } | KillOutcome::WouldKill { .. }
                ),
            },
        );
        while action.try_record(&conn).is_none() {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Watches the rule directory and sends each changed rule set to the engine.
fn watch_rules(
    mut rd: crate::engine::reload::RuleDir,
    sink: Sink,
    stop: Arc<AtomicBool>,
    board: crate::bus::board::RuleBoard,
    live: crate::bus::live::Live,
) -> anyhow::Result<JoinHandle<()>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let debouncer = crate::base::watch::watch_dir(rd.dir(), tx)?;
    let handle = std::thread::Builder::new()
        .name("rule watcher".into())
        .spawn(move || {
            let _keep = debouncer;
            let mut last_errors: Vec<String> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let mut relevant = match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(relevant) => relevant,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                };
                // Coalesce whatever else arrived meanwhile.
                while let Ok(more) = rx.try_recv() {
                    relevant |= more;
                }
                if !relevant {
                    continue;
                }
                match rd.rescan() {
                    Ok(scan) => {
                        let errors: Vec<String> =
                            scan.errors.iter().map(|e| e.to_string()).collect();
                        let errors_changed = errors != last_errors;
                        if errors_changed {
                            for e in errors.iter().filter(|e| !last_errors.contains(e)) {
                                eprintln!(
                                    "picket: rule not reloaded (the last good version stays): {e}"
                                );
                            }
                            last_errors = errors;
                        }
                        if scan.changed || errors_changed {
                            board.set_rules(scan.ruleset.clone(), scan.errors.clone());
                            live.send(crate::bus::live::LiveMsg::Rules);
                        }
                        if scan.changed {
                            eprintln!("picket: rules reloaded: {} rules", scan.ruleset.len());
                            if sink.send(EngineMsg::Rules(scan.ruleset)).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => eprintln!(
                        "picket: cannot read the rule directory {}: {e}",
                        rd.dir().display()
                    ),
                }
            }
        })?;
    Ok(handle)
}

async fn wait_for_stop_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

/// A collector's way to hand its events to the engine: `false` once the engine is gone.
fn to_engine(sink: &Sink) -> impl Fn(Vec<Event>) -> bool + '_ {
    move |events| {
        sink.send(EngineMsg::Batch(Batch {
            events,
            ..Batch::default()
        }))
        .is_ok()
    }
}

/// Samples the host's metrics every `interval`: the newest for the API, all of them into
/// the store's downsampled series.
struct MetricsWorker {
    interval: Duration,
    host: crate::web::host::HostMetrics,
    data_dir: PathBuf,
    stop: Arc<AtomicBool>,
}

impl MetricsWorker {
    fn run(self) {
        let conn = match crate::store::open(&self.data_dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("picket: metrics are not stored: {e}");
                return;
            }
        };
        let mut sampler = crate::sources::metrics::Sampler::new();
        let mut failing = false;
        while !self.stop.load(Ordering::SeqCst) {
            let sample = sampler.sample();
            self.host.record(&sample);
            match crate::store::metrics::record(&conn, sample.ts, &sample.values) {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    eprintln!("picket: cannot store metrics: {e}");
                    failing = true;
                }
                Err(_) => {}
            }
            sleep_unless_stopped(&self.stop, self.interval);
        }
    }
}

/// Reads the process table and listening sockets every `interval` and sends their
/// changes, as events, to the engine.
struct SnapshotWorker {
    interval: Duration,
    shared: crate::sources::snapshot::SharedSnapshot,
    baseline: PortBaseline,
    data_dir: PathBuf,
    writer: Sink,
    stop: Arc<AtomicBool>,
}

impl SnapshotWorker {
    /// The first snapshot Picket ever takes is the port baseline.
    fn learn_baseline(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use crate::store::port_baseline as stored;
        if !stored::learned(conn)? {
            let snap = self.shared.read().unwrap_or_else(|p| p.into_inner());
            let now = Timestamp::now();
            let entries: Vec<stored::Entry> = snap
                .ports
                .iter()
                .map(|q| stored::Entry {
                    proto: q.proto.to_string(),
                    port: q.port,
                    source: "learned".into(),
                    process: q.process.clone(),
                    note: None,
                    added: now,
                })
                .collect();
            stored::learn(conn, &entries)?;
            eprintln!(
                "picket: learned {} listening ports as the expected baseline",
                entries.len()
            );
        }
        let list = stored::list(conn)?;
        self.baseline
            .set(list.into_iter().map(|e| (e.proto, e.port)));
        Ok(())
    }

    fn run(self) {
        let mut collector = crate::sources::snapshot::Collector::new();
        let mut failing = false;
        let conn = crate::store::open(&self.data_dir);
        let mut first = true;
        while !self.stop.load(Ordering::SeqCst) {
            match collector.collect(&self.shared) {
                Ok(mut events) => {
                    if first {
                        first = false;
                        match &conn {
                            Ok(c) => {
                                if let Err(e) = self.learn_baseline(c) {
                                    eprintln!("picket: the port baseline: {e}");
                                }
                            }
                            Err(e) => eprintln!("picket: the port baseline: {e}"),
                        }
                    }
                    self.baseline.annotate(&mut events);
                    failing = false;
                    if !events.is_empty() {
                        let batch = Batch {
                            events,
                            ..Batch::default()
                        };
                        if self.writer.send(EngineMsg::Batch(batch)).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    // Said once, not every round.
                    if !failing {
                        eprintln!("picket: cannot read processes and ports: {e}");
                    }
                    failing = true;
                }
            }
            sleep_unless_stopped(&self.stop, self.interval);
        }
    }
}

struct FileWorker {
    path: PathBuf,
    format: Option<InputFormat>,
    saved: Option<String>,
    start: StartAt,
    zone: LocalZone,
    poll: Duration,
    /// Told when the file changes; without it the worker polls every `poll`.
    wake: Option<std::sync::mpsc::Receiver<()>>,
    writer: Sink,
    stop: Arc<AtomicBool>,
}

/// How often a tailer that is woken by file changes still looks by itself (a lost event
/// costs this much latency, never lines).
const WAKE_FALLBACK: Duration = Duration::from_secs(1);

impl FileWorker {
    fn run(self) {
        let source = crate::sources::tail::checkpoint_name(&self.path);
        let mut tailer = Tailer::new(self.path.clone(), self.saved.as_deref(), self.start);
        let mut normalizer: Option<Normalizer> = None;
        let mut events: Vec<Event> = Vec::new();
        loop {
            let stopping = self.stop.load(Ordering::SeqCst);
            let poll = tailer.poll();
            if let Some(e) = &poll.error {
                eprintln!("picket: {e}");
            }
            for notice in &poll.notices {
                eprintln!("picket: {}: {notice}", self.path.display());
            }
            if let Some(first) = poll.lines.iter().next() {
                let n = normalizer.get_or_insert_with(|| {
                    let format = self
                        .format
                        .unwrap_or_else(|| InputFormat::detect(&self.path, first));
                    Normalizer::new(format, &source, self.zone.clone(), Timestamp::now())
                });
                n.advance_reference(Timestamp::now());
                for line in poll.lines.iter() {
                    n.push_line(line, &mut events);
                }
            }
            if let Some(value) = poll.checkpoint {
                let batch = Batch {
                    events: std::mem::take(&mut events),
                    alerts: Vec::new(),
                    checkpoints: vec![Checkpoint {
                        name: source.clone(),
                        value,
                    }],
                };
                if self.writer.send(EngineMsg::Batch(batch)).is_err() {
                    return;
                }
            }
            if stopping {
                return;
            }
            if !poll.more {
                match &self.wake {
                    Some(rx) => {
                        let _ = rx.recv_timeout(self.poll.max(WAKE_FALLBACK));
                    }
                    None => std::thread::sleep(self.poll),
                }
            }
        }
    }
}

struct JournalWorker {
    cursor: Option<String>,
    from_beginning: bool,
    zone: LocalZone,
    writer: Sink,
    stop: Arc<AtomicBool>,
}

/// Most journal lines per batch when the journal is busy.
const JOURNAL_BATCH: usize = 2000;

impl JournalWorker {
    fn run(mut self) {
        let mut normalizer = Normalizer::new(
            InputFormat::JournalJson,
            "journald",
            self.zone.clone(),
            Timestamp::now(),
        );
        let mut reported = false;
        while !self.stop.load(Ordering::SeqCst) {
            let mut follower = match Follower::spawn(self.cursor.as_deref(), self.from_beginning) {
                Ok(f) => f,
                Err(e) => {
                    if !reported {
                        eprintln!("picket: {e}");
                        reported = true;
                    }
                    sleep_unless_stopped(&self.stop, Duration::from_secs(5));
                    continue;
                }
            };
            self.follow(&mut follower, &mut normalizer);
            if !self.stop.load(Ordering::SeqCst) {
                eprintln!(
                    "picket: journalctl (pid {}) ended; restarting it",
                    follower.pid()
                );
                sleep_unless_stopped(&self.stop, Duration::from_secs(1));
            }
        }
    }

    /// Reads until journalctl ends or a stop is asked for. The stop is noticed at the next
    /// journal line or when the follower is killed on drop.
    fn follow(&mut self, follower: &mut Follower, normalizer: &mut Normalizer) {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(JOURNAL_BATCH);
        // Taken now: the child stays unreaped (so its pid cannot be reused) until the
        // follower is dropped by the caller.
        let child_pid = follower.pid() as libc::pid_t;
        // journalctl blocks while the journal is quiet; a reader thread lets this one keep
        // watching the stop flag.
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut buf = Vec::new();
                loop {
                    match follower.next_line(&mut buf) {
                        Ok(true) => {
                            if tx.send(Some(std::mem::take(&mut buf))).is_err() {
                                return;
                            }
                        }
                        _ => {
                            let _ = tx.send(None);
                            return;
                        }
                    }
                }
            });
            let mut events = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut pending = 0usize;
                let mut ended = false;
                let mut next = rx
                    .recv_timeout(Duration::from_millis(50))
                    .map_err(|e| e == std::sync::mpsc::RecvTimeoutError::Disconnected);
                loop {
                    match next {
                        Ok(Some(line)) => {
                            let text = String::from_utf8_lossy(&line);
                            if let Some(entry) = Entry::from_json(&text) {
                                let raw = entry.as_syslog_line();
                                normalizer.advance_reference(Timestamp::now());
                                normalizer.push_journal_entry(&entry, &raw, &mut events);
                                if entry.cursor.is_some() {
                                    cursor = entry.cursor;
                                }
                            }
                            pending += 1;
                        }
                        Ok(None) | Err(true) => ended = true,
                        Err(false) => {}
                    }
                    if ended || pending == 0 || pending >= JOURNAL_BATCH {
                        break;
                    }
                    // Take what is already waiting, so a busy journal is written in batches.
                    next = match rx.try_recv() {
                        Ok(m) => Ok(m),
                        Err(std::sync::mpsc::TryRecvError::Empty) => break,
                        Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(true),
                    };
                }
                if pending > 0 {
                    let checkpoints = cursor.take().map(|c| {
                        self.cursor = Some(c.clone());
                        Checkpoint {
                            name: journald::CHECKPOINT.into(),
                            value: c,
                        }
                    });
                    let batch = Batch {
                        events: std::mem::take(&mut events),
                        alerts: Vec::new(),
                        checkpoints: checkpoints.into_iter().collect(),
                    };
                    if self.writer.send(EngineMsg::Batch(batch)).is_err() {
                        ended = true;
                    }
                }
                if ended || self.stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            drop(rx);
            // Unblock the reader: killing journalctl closes its stdout.
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own unreaped child.
            unsafe {
                libc::kill(child_pid, libc::SIGTERM);
            }
            let _ = reader.join();
        });
    }
}

pub(crate) fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        slept += step;
    }
}
