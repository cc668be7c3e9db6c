//! The checks as `picket run` runs them: at start, every `checks_interval_secs`, within a
//! second of a change to the check directory (hot reload), and on demand from the API.
//! Each run is stored with its security score.
//!
//! A check file that stops compiling keeps its last good version running (as rules do)
//! and its error is stored with the run, for the Config page to show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::Value;

use super::load::{self, Loaded};
use super::{Check, Host};
use crate::base::diag::CompileError;
use crate::base::timestamp::Timestamp;
use crate::model::score::{self, Score};
use crate::store::checks as stored;

/// How soon a failed run is tried again.
const RETRY: Duration = Duration::from_secs(10);

/// What one run gave.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub ran_at: Timestamp,
    pub score: Score,
    pub checks: usize,
    pub errors: Vec<String>,
}

/// Why a run did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read the check directory {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot store the check results: {0}")]
    Store(#[from] rusqlite::Error),
}

/// Runs the checks of one source (a directory, or the built-in checks) against one host.
/// Cheap to clone; runs are serialized.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    dir: Option<PathBuf>,
    host: Host,
    interval: Duration,
    /// The last version of each file that compiled; held while a run is under way.
    last_good: Mutex<HashMap<PathBuf, Check>>,
}

impl Runner {
    pub fn new(dir: Option<PathBuf>, host: Host, interval: Duration) -> Runner {
        Runner {
            inner: Arc::new(Inner {
                dir,
                host,
                interval,
                last_good: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The directory checks come from; `None` for the built-in checks.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    pub fn interval(&self) -> Duration {
        self.inner.interval
    }

    /// Loads the checks, runs them, scores them against the open alerts and stores it all.
    pub fn run_now(&self, conn: &Connection) -> Result<RunSummary, RunError> {
        let mut last_good = self
            .inner
            .last_good
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let loaded = load_source(self.dir()).map_err(|source| RunError::Dir {
            dir: self.inner.dir.clone().unwrap_or_default(),
            source,
        })?;
        let checks = keep_last_good(&mut last_good, loaded.checks, &loaded.errors);
        let results = super::run(&checks, &self.inner.host);
        let score = score::compute(&results, stored::open_alerts(conn)?);
        let ran_at = Timestamp::now();
        let errors: Vec<Value> = loaded.errors.iter().map(CompileError::to_json).collect();
        stored::save_run(conn, ran_at, &results, &score, &Value::Array(errors))?;
        Ok(RunSummary {
            ran_at,
            score,
            checks: results.len(),
            errors: loaded.errors.iter().map(|e| e.to_string()).collect(),
        })
    }

    /// Runs at once, then every interval and after each change to the check directory,
    /// until `stop`; `after` hears of each run. Meant for its own thread.
    pub fn serve(
        self,
        data_dir: PathBuf,
        stop: &crate::base::stop::Stop,
        after: impl Fn(&RunSummary),
    ) -> anyhow::Result<()> {
        let (tx, changes) = std::sync::mpsc::channel();
        let _watcher = match &self.inner.dir {
            Some(dir) => Some(crate::base::watch::watch_dir(dir, tx)?),
            None => None,
        };
        let conn = crate::store::open(&data_dir)?;
        let mut reported: Vec<String> = Vec::new();
        loop {
            // A failed run (the store busy, the directory unreadable) is tried again soon,
            // not an interval later.
            let wait = match self.run_now(&conn) {
                Ok(summary) => {
                    for e in summary.errors.iter().filter(|e| !reported.contains(e)) {
                        tracing::warn!("check not loaded (its last good version runs): {e}");
                    }
                    reported = summary.errors.clone();
                    after(&summary);
                    self.inner.interval
                }
                Err(e) => {
                    tracing::warn!("checks: {e}");
                    self.inner.interval.min(RETRY)
                }
            };
            // Wait for the interval or a change, looking at `stop` twice a second.
            let mut waited = Duration::ZERO;
            loop {
                if stop.is_set() {
                    return Ok(());
                }
                let step = Duration::from_millis(500);
                match changes.recv_timeout(step) {
                    Ok(true) => {
                        while changes.try_recv().is_ok() {}
                        break;
                    }
                    Ok(false) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    // No watcher (built-in checks): only the interval wakes us.
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(step)
                    }
                }
                waited += step;
                if waited >= wait {
                    break;
                }
            }
        }
    }
}

/// The configuration checks as a pipeline source: it reads this host's configuration on
/// an interval and on changes to the check directory, stores the results and the score,
/// and tells `after` of each run. It raises no events.
pub struct ChecksSource {
    pub runner: Runner,
    pub data_dir: PathBuf,
    pub after: Box<dyn Fn(&RunSummary) + Send>,
}

impl crate::sources::Source for ChecksSource {
    fn id(&self) -> String {
        "checks".to_string()
    }

    fn describe(&self) -> String {
        format!(
            "running the configuration checks{} every {} s",
            self.runner
                .dir()
                .map(|d| format!(" of {}", d.display()))
                .unwrap_or_default(),
            self.runner.interval().as_secs()
        )
    }

    fn run(self: Box<Self>, ctx: crate::sources::Context) {
        let ChecksSource {
            runner,
            data_dir,
            after,
        } = *self;
        if let Err(e) = runner.serve(data_dir, &ctx.stop, after) {
            tracing::error!(source = "checks", "the configuration checks stopped: {e:#}");
        }
    }
}

/// The checks to run: those that compiled now, plus the last good version of each file
/// that failed to compile this time.
fn keep_last_good(
    last_good: &mut HashMap<PathBuf, Check>,
    compiled: Vec<Check>,
    errors: &[CompileError],
) -> Vec<Check> {
    let mut now: HashMap<PathBuf, Check> =
        compiled.into_iter().map(|c| (c.file.clone(), c)).collect();
    for e in errors {
        if !now.contains_key(&e.file) {
            if let Some(old) = last_good.get(&e.file) {
                // A later file may have taken the id meanwhile: it wins.
                if !now.values().any(|c| c.id == old.id) {
                    now.insert(e.file.clone(), old.clone());
                }
            }
        }
    }
    *last_good = now.clone();
    let mut checks: Vec<Check> = now.into_values().collect();
    checks.sort_by(|a, b| a.file.cmp(&b.file));
    checks
}

/// The loaded checks of a directory as `picket check` and the API see them.
pub fn load_source(dir: Option<&Path>) -> std::io::Result<Loaded> {
    match dir {
        Some(d) => load::load_dir(d),
        None => Ok(load::defaults()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK: &str = "id: root-login\ntitle: T\ncategory: ssh\nseverity: high\nremediation: r\nsshd: {keyword: PermitRootLogin, expect: [\"no\"]}\n";

    #[test]
    fn a_broken_file_keeps_its_last_good_check_and_its_error_is_stored() {
        let data = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let checks = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/ssh")).unwrap();
        std::fs::write(
            root.path().join("etc/ssh/sshd_config"),
            "PermitRootLogin yes\n",
        )
        .unwrap();
        let file = checks.path().join("root-login.yaml");
        std::fs::write(&file, CHECK).unwrap();
        let runner = Runner::new(
            Some(checks.path().to_path_buf()),
            Host::new(root.path()).unwrap(),
            Duration::from_secs(60),
        );
        let conn = crate::store::open(data.path()).unwrap();
        let first = runner.run_now(&conn).unwrap();
        assert_eq!((first.checks, first.score.score), (1, 0));
        std::fs::write(&file, CHECK.replace("severity: high", "severity: extreme")).unwrap();
        let second = runner.run_now(&conn).unwrap();
        assert_eq!(second.checks, 1, "the last good version still runs");
        assert_eq!(second.errors.len(), 1);
        assert!(
            second.errors[0].contains("root-login.yaml:4:"),
            "{second:?}"
        );
        let run = stored::latest(&conn).unwrap().unwrap();
        assert_eq!(run.results[0]["status"], "FAIL");
        assert_eq!(run.errors[0]["line"], 4);
        // Fixed: the error goes, the check runs in its new form.
        std::fs::write(&file, CHECK.replace("[\"no\"]", "[\"yes\"]")).unwrap();
        let third = runner.run_now(&conn).unwrap();
        assert!(third.errors.is_empty());
        assert_eq!(third.score.score, 100);
        // Deleted: the check goes.
        std::fs::remove_file(&file).unwrap();
        assert_eq!(runner.run_now(&conn).unwrap().checks, 0);
    }
}
