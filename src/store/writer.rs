//! The one writer: a thread that owns the write connection, batches inserts into
//! transactions, saves source checkpoints atomically with their events, and applies
//! retention.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use super::incidents::IncidentConfig;
use super::sink::Sink;
use super::StoreError;
use crate::base::timestamp::Timestamp;
use crate::model::event::Event;

/// A source's position, saved in the same transaction as the events read before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// `file:/var/log/auth.log`, `journald`, …
    pub name: String,
    /// The source's own serialized state.
    pub value: String,
}

/// Events, the alerts they raised, and the checkpoint that covers them.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    pub alerts: Vec<crate::model::Alert>,
    pub checkpoints: Vec<Checkpoint>,
}

/// How long events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Events older than this many days (by event time) are deleted. 0 keeps them forever.
    pub max_age_days: u32,
    /// At most this many events are kept; the oldest go first. 0 means no limit.
    pub max_rows: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age_days: 90,
            max_rows: 5_000_000,
        }
    }
}

/// What one commit stored, for live subscribers (the dashboard's stream): every alert
/// inserted or updated, with its row id, and the newest events (at most
/// [`COMMITTED_EVENTS`] per commit; `events_stored` says how many there were).
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub alerts: Vec<super::alerts::StoredAlert>,
    /// Incidents opened or grown by this commit's alerts.
    pub incidents: Vec<i64>,
    pub events: Vec<super::events::StoredEvent>,
    pub events_stored: usize,
}

/// Most events one [`Committed`] carries.
pub const COMMITTED_EVENTS: usize = 100;

enum Msg {
    Batch(Batch),
    Flush(SyncSender<Result<(), String>>),
}

/// Handle to the writer thread. Dropping it (after [`Writer::close`]) stops the thread.
pub struct Writer {
    tx: Option<SyncSender<Msg>>,
    /// When the writer's loop last turned (seconds on a monotonic clock).
    beat: Heartbeat,
    handle: Option<JoinHandle<Result<(), String>>>,
}

/// How many events one transaction takes at most, and how long a batch may wait.
const MAX_BATCH_EVENTS: usize = 20_000;
const MAX_BATCH_DELAY: Duration = Duration::from_millis(50);
/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
/// Most rows one retention pass deletes, so the writer never stalls for long.
const RETENTION_CHUNK: i64 = 50_000;

impl Writer {
    /// Starts the writer on `data_dir`'s database (created and migrated if needed).
    #[cfg(test)]
    pub fn start(data_dir: &Path, retention: Retention) -> Result<Writer, StoreError> {
        Writer::start_with_sinks(data_dir, retention, IncidentConfig::default(), Vec::new())
    }

    /// [`Writer::start`], handing each commit to `sinks` in order, and closing them after
    /// the last commit.
    pub fn start_with_sinks(
        data_dir: &Path,
        retention: Retention,
        incidents: IncidentConfig,
        sinks: Vec<Box<dyn Sink>>,
    ) -> Result<Writer, StoreError> {
        let conn = super::open(data_dir)?;
        let path = super::db_path(data_dir);
        // Bounded: a flood of events applies back-pressure to the sources.
        let (tx, rx) = sync_channel::<Msg>(256);
        let beat = Heartbeat::default();
        let beating = beat.clone();
        let handle = std::thread::Builder::new()
            .name("picket-store".into())
            .spawn(move || run(conn, path, rx, retention, incidents, sinks, beating))
            .map_err(|e| StoreError::DataDir {
                path: data_dir.to_path_buf(),
                source: e,
            })?;
        Ok(Writer {
            tx: Some(tx),
            beat,
            handle: Some(handle),
        })
    }

    /// Queues a batch; blocks when the writer is behind (back-pressure).
    #[cfg(test)]
    pub fn send(&self, batch: Batch) -> Result<(), StoreError> {
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(Msg::Batch(batch))
            .map_err(|_| StoreError::WriterGone)
    }

    /// A cloneable sender for async sources.
    pub fn sender(&self) -> WriterSender {
        WriterSender {
            tx: self.tx.clone(),
        }
    }

    /// Waits until everything queued so far is committed.
    #[cfg(test)]
    pub fn flush(&self) -> Result<(), StoreError> {
        self.sender().flush()
    }

    /// Commits what is queued and stops the thread.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.tx.take();
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(Ok(()))) | None => Ok(()),
            _ => Err(StoreError::WriterGone),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Whether the writer's loop is turning: it beats at least once a second, whether
/// commits succeed or not (a watchdog must not restart Picket for a full disk).
#[derive(Clone)]
pub struct Heartbeat(std::sync::Arc<(Instant, std::sync::atomic::AtomicU64)>);

impl Default for Heartbeat {
    fn default() -> Heartbeat {
        Heartbeat(std::sync::Arc::new((Instant::now(), 0.into())))
    }
}

impl Heartbeat {
    fn beat(&self) {
        let secs = self.0 .0.elapsed().as_secs();
        self.0 .1.store(secs, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether it beat within `within`.
    pub fn alive(&self, within: Duration) -> bool {
        let last = self.0 .1.load(std::sync::atomic::Ordering::Relaxed);
        self.0 .0.elapsed().as_secs().saturating_sub(last) <= within.as_secs()
    }
}

impl Writer {
    /// The writer's heartbeat, for a watchdog.
    pub fn heartbeat(&self) -> Heartbeat {
        self.beat.clone()
    }
}

/// A clone of the writer's queue.
#[derive(Clone)]
pub struct WriterSender {
    tx: Option<SyncSender<Msg>>,
}

impl WriterSender {
    pub fn send(&self, batch: Batch) -> Result<(), StoreError> {
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(Msg::Batch(batch))
            .map_err(|_| StoreError::WriterGone)
    }
    pub fn flush(&self) -> Result<(), StoreError> {
        let (ack_tx, ack_rx) = sync_channel(1);
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(Msg::Flush(ack_tx))
            .map_err(|_| StoreError::WriterGone)?;
        match ack_rx.recv() {
            Ok(Ok(())) => Ok(()),
            _ => Err(StoreError::WriterGone),
        }
    }
}

fn run(
    mut conn: Connection,
    path: PathBuf,
    rx: Receiver<Msg>,
    retention: Retention,
    incidents: IncidentConfig,
    mut sinks: Vec<Box<dyn Sink>>,
    beat: Heartbeat,
) -> Result<(), String> {
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_events = 0usize;
    let mut oldest: Option<Instant> = None;
    let mut last_retention = Instant::now();
    let report = |e: rusqlite::Error| format!("database {}: {e}", path.display());
    loop {
        beat.beat();
        let timeout = oldest.map_or(Duration::from_secs(1), |t| {
            MAX_BATCH_DELAY.saturating_sub(t.elapsed())
        });
        let msg = rx.recv_timeout(timeout);
        let mut flush_ack = None;
        let mut closing = false;
        match msg {
            Ok(Msg::Batch(b)) => {
                pending_events += b.events.len();
                pending.push(b);
                oldest.get_or_insert_with(Instant::now);
            }
            Ok(Msg::Flush(ack)) => flush_ack = Some(ack),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => closing = true,
        }
        let due = oldest.is_some_and(|t| t.elapsed() >= MAX_BATCH_DELAY)
            || pending_events >= MAX_BATCH_EVENTS;
        if !pending.is_empty() && (due || flush_ack.is_some() || closing) {
            match commit(&mut conn, &pending, &incidents, !sinks.is_empty()).map_err(report) {
                Ok(c) => {
                    for s in sinks.iter_mut() {
                        s.on_commit(&c);
                    }
                }
                Err(e) => tracing::warn!("{e}; {pending_events} events not stored"),
            }
            pending.clear();
            pending_events = 0;
            oldest = None;
        }
        if let Some(ack) = flush_ack {
            let _ = ack.send(Ok(()));
        }
        if last_retention.elapsed() >= RETENTION_EVERY {
            last_retention = Instant::now();
            if let Err(e) = apply_retention(&conn, retention, Timestamp::now()) {
                tracing::warn!("retention on {}: {e}", path.display());
            }
            match super::incidents::close_quiet(&conn, &incidents, Timestamp::now()) {
                Ok(closed) if closed.is_empty() => {}
                Ok(closed) => {
                    let c = Committed {
                        incidents: closed,
                        ..Default::default()
                    };
                    for s in sinks.iter_mut() {
                        s.on_commit(&c);
                    }
                }
                Err(e) => tracing::warn!("closing quiet incidents in {}: {e}", path.display()),
            }
        }
        if closing {
            for s in sinks {
                let id = s.id();
                s.close();
                tracing::debug!(sink = id, "closed");
            }
            return Ok(());
        }
    }
}

/// Commits `batches` in one transaction, grouping new alerts into incidents; with
/// `report`, says what was stored.
fn commit(
    conn: &mut Connection,
    batches: &[Batch],
    incidents: &IncidentConfig,
    report: bool,
) -> rusqlite::Result<Committed> {
    let mut done = Committed::default();
    let mut event_ids: Vec<(i64, &Event)> = Vec::new();
    // The last emission of each alert in this commit, in order of first emission, and
    // whether any emission was its first (an alert raised and updated within one commit
    // is still new to the commit's subscribers: notifications go out for new alerts).
    let mut alert_ids: Vec<(i64, &crate::model::Alert, crate::model::AlertStatus, bool)> =
        Vec::new();
    let mut alert_slot: std::collections::HashMap<i64, usize> = Default::default();
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (ts, type, host, program, src_ip, user, source, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut save = tx.prepare_cached(
            "INSERT INTO checkpoints (name, value, updated) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        )?;
        let now = Timestamp::now().as_micros();
        for b in batches {
            for e in &b.events {
                let json = serde_json::to_string(e)
                    .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
                insert.execute(params![
                    e.ts.as_micros(),
                    e.kind.as_str(),
                    e.host.as_deref(),
                    e.program.as_deref(),
                    e.src_ip.map(crate::model::ip::ip_text),
                    e.user,
                    &*e.source,
                    json
                ])?;
                if report {
                    if event_ids.len() == 2 * COMMITTED_EVENTS {
                        event_ids.drain(..COMMITTED_EVENTS);
                    }
                    event_ids.push((tx.last_insert_rowid(), e));
                }
            }
            done.events_stored += b.events.len();
            for a in &b.alerts {
                let (id, status, incident) = super::alerts::upsert(&tx, a)?;
                let incident = match incident {
                    None => super::incidents::attach(&tx, id, a, incidents)?,
                    Some(i) => {
                        super::incidents::touch(&tx, i, a)?;
                        i
                    }
                };
                if report && !done.incidents.contains(&incident) {
                    done.incidents.push(incident);
                }
                if report {
                    match alert_slot.get(&id) {
                        Some(&i) => alert_ids[i] = (id, a, status, a.is_new || alert_ids[i].3),
                        None => {
                            alert_slot.insert(id, alert_ids.len());
                            alert_ids.push((id, a, status, a.is_new));
                        }
                    }
                }
            }
            for c in &b.checkpoints {
                save.execute(params![c.name, c.value, now])?;
            }
        }
    }
    tx.commit()?;
    done.alerts = alert_ids
        .into_iter()
        .map(|(id, a, status, is_new)| {
            let mut alert = a.clone();
            // An update of an alert someone resolved stays resolved on the stream too.
            alert.status = status;
            alert.is_new = is_new;
            super::alerts::StoredAlert { id, alert }
        })
        .collect();
    let skip = event_ids.len().saturating_sub(COMMITTED_EVENTS);
    done.events = event_ids[skip..]
        .iter()
        .map(|(id, e)| super::events::StoredEvent {
            id: *id,
            event: (*e).clone(),
        })
        .collect();
    Ok(done)
}

/// Deletes events past their age, then the oldest beyond the row cap, a chunk at a time.
pub fn apply_retention(
    conn: &Connection,
    retention: Retention,
    now: Timestamp,
) -> rusqlite::Result<usize> {
    let mut deleted = 0;
    if retention.max_age_days > 0 {
        let cutoff = now.as_micros() - retention.max_age_days as i64 * 86_400 * 1_000_000;
        deleted += conn.execute(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ?1 LIMIT ?2)",
            params![cutoff, RETENTION_CHUNK],
        )?;
    }
    if retention.max_rows > 0 {
        let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let excess = count - retention.max_rows as i64;
        if excess > 0 {
            deleted += conn.execute(
                "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?1)",
                params![excess.min(RETENTION_CHUNK)],
            )?;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::EventType;

    fn ev(secs: i64) -> Event {
        Event::new(
            Timestamp::from_secs(secs),
            EventType::FailedLogin,
            "test",
            "line",
        )
    }

    #[test]
    fn events_and_checkpoints_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let w = Writer::start(dir.path(), Retention::default()).unwrap();
        w.send(Batch {
            events: vec![ev(1), ev(2)],
            alerts: vec![],
            checkpoints: vec![Checkpoint {
                name: "file:x".into(),
                value: "42".into(),
            }],
        })
        .unwrap();
        w.close().unwrap();
        let conn = super::super::open(dir.path()).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            super::super::load_checkpoint(&conn, "file:x")
                .unwrap()
                .as_deref(),
            Some("42")
        );
    }

    #[test]
    fn an_alert_raised_and_updated_in_one_commit_is_new_to_the_sinks() {
        struct Alerts(std::sync::mpsc::Sender<Vec<super::super::alerts::StoredAlert>>);
        impl Sink for Alerts {
            fn id(&self) -> &'static str {
                "test"
            }
            fn on_commit(&mut self, c: &Committed) {
                let _ = self.0.send(c.alerts.clone());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Writer::start_with_sinks(
            dir.path(),
            Retention::default(),
            IncidentConfig::default(),
            vec![Box::new(Alerts(tx))],
        )
        .unwrap();
        let raised = crate::notify::test_alert(1, crate::model::Severity::High, &[]).alert;
        let updated = crate::model::Alert {
            count: 6,
            last_seen: Timestamp::from_secs(6),
            is_new: false,
            ..raised.clone()
        };
        // Raised at the 5th line and updated by the 6th, in one batch (the engine folds
        // suppressed repeats at the end of a batch).
        w.send(Batch {
            alerts: vec![raised, updated.clone()],
            ..Default::default()
        })
        .unwrap();
        w.flush().unwrap();
        let first = rx.recv().unwrap();
        assert_eq!(first.len(), 1);
        assert!(first[0].alert.is_new, "the commit raised it");
        assert_eq!(first[0].alert.count, 6, "in its last state");
        // A later update alone is not new.
        w.send(Batch {
            alerts: vec![crate::model::Alert {
                count: 7,
                ..updated
            }],
            ..Default::default()
        })
        .unwrap();
        w.close().unwrap();
        let second = rx.recv().unwrap();
        assert!(!second[0].alert.is_new);
    }

    #[test]
    fn retention_by_age_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let w = Writer::start(dir.path(), Retention::default()).unwrap();
        let day = 86_400;
        w.send(Batch {
            events: (0..10).map(|d| ev(d * day)).collect(),
            ..Default::default()
        })
        .unwrap();
        w.close().unwrap();
        let conn = super::super::open(dir.path()).unwrap();
        // Now = day 10; keep 5 days: days 0..=4 go.
        let gone = apply_retention(
            &conn,
            Retention {
                max_age_days: 5,
                max_rows: 0,
            },
            Timestamp::from_secs(10 * day),
        )
        .unwrap();
        assert_eq!(gone, 5);
        let gone = apply_retention(
            &conn,
            Retention {
                max_age_days: 0,
                max_rows: 3,
            },
            Timestamp::from_secs(10 * day),
        )
        .unwrap();
        assert_eq!(gone, 2);
        let oldest: i64 = conn
            .query_row("SELECT min(ts) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(oldest, Timestamp::from_secs(7 * day).as_micros());
    }
}
