//! Hot reload of the rule directory: each debounced change rescans it, a changed rule set
//! goes to the engine, and the board (what the API shows) learns the new rules and the
//! files that do not compile (their last good version keeps running).

use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::engine_stage::EngineMsg;
use crate::base::stop::Stop;
use crate::bus::board::RuleBoard;
use crate::bus::live::{Live, LiveMsg};
use crate::engine::reload::RuleDir;

/// Watches `rd`'s directory until `stop`.
pub fn start(
    mut rd: RuleDir,
    engine: SyncSender<EngineMsg>,
    stop: Stop,
    board: RuleBoard,
    live: Live,
) -> anyhow::Result<JoinHandle<()>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let debouncer = crate::base::watch::watch_dir(rd.dir(), tx)?;
    let handle = std::thread::Builder::new()
        .name("rule watcher".into())
        .spawn(move || {
            let _keep = debouncer;
            let mut last_errors: Vec<String> = Vec::new();
            while !stop.is_set() {
                let mut relevant = match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(relevant) => relevant,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                // Coalesce whatever else arrived meanwhile.
                while let Ok(more) = rx.try_recv() {
                    relevant |= more;
                }
                if !relevant {
                    continue;
                }
                let scan = match rd.rescan() {
                    Ok(scan) => scan,
                    Err(e) => {
                        tracing::error!(
                            file = %rd.dir().display(),
                            "cannot read the rule directory {}: {e}",
                            rd.dir().display()
                        );
                        continue;
                    }
                };
                let errors: Vec<String> = scan.errors.iter().map(|e| e.to_string()).collect();
                let errors_changed = errors != last_errors;
                if errors_changed {
                    for e in errors.iter().filter(|e| !last_errors.contains(e)) {
                        tracing::warn!("rule not reloaded (the last good version stays): {e}");
                    }
                    last_errors = errors;
                }
                if scan.changed || errors_changed {
                    board.set_rules(scan.ruleset.clone(), scan.errors.clone());
                    live.send(LiveMsg::Rules);
                }
                if scan.changed {
                    tracing::info!("rules reloaded: {} rules", scan.ruleset.len());
                    if engine.send(EngineMsg::Rules(scan.ruleset)).is_err() {
                        return;
                    }
                }
            }
        })?;
    Ok(handle)
}
