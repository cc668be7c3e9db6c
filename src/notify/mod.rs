//! Notifications: alerts sent to webhooks (Picket's JSON or Slack's), and by email over
//! SMTP, per channel filtered by severity, rate-limited with a digest for the overflow,
//! retried with backoff, and every delivery recorded in the store for the Settings page.
//!
//! Detection never waits for a notification. The store writer's commit hook hands each
//! new alert to [`Notifier::offer`], which only does a `try_send` into each channel's
//! bounded queue: a full queue (a channel stuck on a dead server) drops the alert for that
//! channel, counts it, and the drop is recorded as a failed delivery. Each channel has its
//! own worker thread, so a blackholed SMTP server delays only its own channel.
//!
//! - `config`: `notifications:` in picket.yaml, validated when it is read;
//! - `render`: the message in each shape, hostile log text escaped;
//! - `limit`: the token bucket and the digest; `worker`: one channel's loop (limit,
//!   send, retry, record); `http`, `email`: the two transports.
//!
//! This module does not touch the dashboard's pop-ups: those are the browser's, fed by
//! the live stream.

pub(crate) mod config;
pub(crate) mod email;
pub(crate) mod http;
pub(crate) mod limit;
pub(crate) mod render;
mod worker;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use config::{ChannelConfig, ChannelError, Kind, NotifyConfig, RateLimit};

use crate::model::{AlertStatus, Severity};
use crate::store::alerts::StoredAlert;
use crate::store::sink::Sink;
use crate::store::writer::Committed;

/// Alerts waiting in one channel's queue at most; beyond it they are dropped (and the
/// drop recorded), never waited for.
pub const QUEUE: usize = 1000;

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt: a refused or broken connection, a timeout, a 5xx or a 4xx
    /// SMTP answer.
    #[error("{0}")]
    Transient(String),
    /// Another attempt would fail the same way: a 4xx HTTP answer, a 5xx SMTP answer, a
    /// server that does not offer the required STARTTLS.
    #[error("{0}")]
    Permanent(String),
}

/// Where a channel sends.
pub enum Target {
    Http(http::HttpTarget),
    Email(email::EmailTarget),
}

/// A channel, compiled from its [`ChannelConfig`]: ready to send.
pub struct Channel {
    pub name: String,
    pub kind: Kind,
    pub min_severity: Severity,
    pub rate_limit: Option<RateLimit>,
    pub digest: Duration,
    pub retries: u32,
    pub target: Target,
}

impl Channel {
    /// Builds the transport (reading the SMTP password and extra roots); `host` is this
    /// machine's name, used in EHLO.
    pub fn compile(c: &ChannelConfig, host: &str) -> Result<Channel, ChannelError> {
        let err = |message: String| ChannelError {
            channel: c.name.clone(),
            message,
        };
        let target = match c.kind {
            Kind::Webhook | Kind::Slack => {
                let url = c
                    .url
                    .clone()
                    .ok_or_else(|| err("`url` is missing".into()))?;
                config::parse_url(&url).map_err(err)?;
                let shape = if c.kind == Kind::Slack {
                    http::Shape::Slack
                } else {
                    http::Shape::Picket
                };
                let headers = c
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Target::Http(http::HttpTarget::new(url, headers, shape, c.timeout()))
            }
            Kind::Email => {
                let smtp = c
                    .smtp
                    .as_ref()
                    .ok_or_else(|| err("`smtp` is missing".into()))?;
                let from = c
                    .from
                    .as_deref()
                    .unwrap_or("")
                    .parse()
                    .map_err(|e| err(format!("from: {e}")))?;
                let to =
                    c.to.iter()
                        .map(|t| t.parse().map_err(|e| err(format!("to `{t}`: {e}"))))
                        .collect::<Result<Vec<_>, _>>()?;
                Target::Email(
                    email::EmailTarget::new(smtp, from, to, c.timeout(), host).map_err(err)?,
                )
            }
        };
        Ok(Channel {
            name: c.name.clone(),
            kind: c.kind,
            min_severity: c.min_severity,
            rate_limit: c.rate_limit,
            digest: Duration::from_secs(c.digest_secs),
            retries: c.retries,
            target,
        })
    }

    /// One attempt.
    pub fn send(&self, msg: &render::Outgoing) -> Result<(), SendError> {
        match &self.target {
            Target::Http(t) => t.send(msg),
            Target::Email(t) => t.send(msg),
        }
    }

    /// What the API may show: never a URL's path, a header value or a password.
    pub fn summary(&self, stats: &Stats) -> ChannelSummary {
        ChannelSummary {
            name: self.name.clone(),
            kind: self.kind.as_str(),
            min_severity: self.min_severity,
            target: match &self.target {
                Target::Http(t) => t.host(),
                Target::Email(t) => {
                    t.to.iter()
                        .map(|m| m.email.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            },
            rate_limit: self.rate_limit,
            digest_secs: self.digest.as_secs(),
            retries: self.retries,
            dropped: stats.dropped.load(Ordering::Relaxed),
        }
    }
}

/// A channel as `/api/notifications` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelSummary {
    pub name: String,
    pub kind: &'static str,
    pub min_severity: Severity,
    /// The URL's host, or the email recipients.
    pub target: String,
    pub rate_limit: Option<RateLimit>,
    pub digest_secs: u64,
    pub retries: u32,
    /// Alerts dropped since Picket started because the channel's queue was full.
    pub dropped: u64,
}

/// A channel's counters, shared by the commit hook, its worker and the API.
#[derive(Debug, Default)]
pub struct Stats {
    /// Alerts dropped since start (the queue was full).
    pub dropped: AtomicU64,
    /// Drops the worker has not recorded as a failed delivery yet.
    unrecorded: AtomicU64,
}

/// The channels as the web layer sees them: summaries, and a test message on demand.
#[derive(Clone, Default)]
pub struct Board {
    channels: Arc<Vec<(Arc<Channel>, Arc<Stats>)>>,
    host: String,
}

impl Board {
    pub fn summaries(&self) -> Vec<ChannelSummary> {
        self.channels.iter().map(|(c, s)| c.summary(s)).collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.channels.iter().map(|(c, _)| c.name.clone()).collect()
    }

    pub fn channel(&self, name: &str) -> Option<Arc<Channel>> {
        self.channels
            .iter()
            .find(|(c, _)| c.name == name)
            .map(|(c, _)| c.clone())
    }

    /// The message "Send test" sends.
    pub fn test_message(&self) -> render::Outgoing {
        render::Outgoing::test(&self.host)
    }
}

/// The dispatch side: lives in the store writer's commit hook.
pub struct Notifier {
    lanes: Vec<Lane>,
    /// Alert ids already offered: an alert is notified once, even when a commit says it
    /// is new again (another detector posting the same incident id to `POST /api/alert`
    /// updates its alert, and says so as a new one).
    offered: std::sync::Mutex<RecentIds>,
}

/// The last [`RECENT_IDS`] ids seen, oldest forgotten first.
#[derive(Default)]
struct RecentIds {
    set: std::collections::HashSet<i64>,
    order: std::collections::VecDeque<i64>,
}

const RECENT_IDS: usize = 10_000;

impl RecentIds {
    /// True the first time `id` is seen (within the last [`RECENT_IDS`]).
    fn first(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

struct Lane {
    min: Severity,
    tx: SyncSender<StoredAlert>,
    stats: Arc<Stats>,
}

/// The channels' worker threads.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Waits up to `limit` for the workers to finish (they do once the notifier is
    /// dropped, after sending what their digests hold); a worker stuck on a dead server
    /// is left behind.
    pub fn join_for(self, limit: Duration) {
        let start = Instant::now();
        for h in self.handles {
            while !h.is_finished() && start.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(20));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

/// The notification channels as a sink of the store's commits: each commit's new alerts
/// are offered to the channels' queues (never waiting on them); at the end the channels
/// get a few seconds to send what their digests hold.
pub struct NotifySink {
    notifier: Notifier,
    workers: Workers,
}

/// How long the channels get to send what they hold when Picket stops.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

impl NotifySink {
    pub fn new(notifier: Notifier, workers: Workers) -> NotifySink {
        NotifySink { notifier, workers }
    }
}

impl Sink for NotifySink {
    fn id(&self) -> &'static str {
        "notifications"
    }

    fn on_commit(&mut self, c: &Committed) {
        self.notifier.offer(&c.alerts);
    }

    fn close(self: Box<Self>) {
        let NotifySink { notifier, workers } = *self;
        // Dropping the notifier closes the channels' queues: they send what they hold
        // and stop.
        drop(notifier);
        workers.join_for(CLOSE_WAIT);
    }
}

/// A configuration that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("notifications: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ChannelError>),
    #[error("notifications: cannot start a worker thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("notifications: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Compiles the channels and starts one worker per channel, recording deliveries in
/// `data_dir`'s store.
pub fn start(
    cfg: &NotifyConfig,
    data_dir: &Path,
) -> Result<(Notifier, Board, Workers), StartError> {
    start_with_queue(cfg, data_dir, QUEUE)
}

/// [`start`] with another queue length (the tests fill a short one).
pub fn start_with_queue(
    cfg: &NotifyConfig,
    data_dir: &Path,
    queue: usize,
) -> Result<(Notifier, Board, Workers), StartError> {
    cfg.validate().map_err(StartError::Invalid)?;
    let host = this_host();
    let mut compiled = Vec::new();
    let mut errors = Vec::new();
    for c in &cfg.channels {
        match Channel::compile(c, &host) {
            Ok(ch) => compiled.push(Arc::new(ch)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(StartError::Invalid(errors));
    }
    let mut lanes = Vec::new();
    let mut handles = Vec::new();
    let mut board = Vec::new();
    for ch in compiled {
        let (tx, rx) = sync_channel(queue.max(1));
        let stats = Arc::new(Stats::default());
        // Opened here, not in the thread: the first open of a new store migrates it, which
        // must not race with the store writer's own first open.
        let conn = crate::store::open(data_dir)?;
        let w = worker::Worker {
            channel: ch.clone(),
            stats: stats.clone(),
            rx,
            conn,
            host: host.clone(),
        };
        handles.push(
            std::thread::Builder::new()
                .name(format!("notify {}", ch.name))
                .spawn(move || w.run())?,
        );
        lanes.push(Lane {
            min: ch.min_severity,
            tx,
            stats: stats.clone(),
        });
        board.push((ch, stats));
    }
    Ok((
        Notifier {
            lanes,
            offered: Default::default(),
        },
        Board {
            channels: Arc::new(board),
            host,
        },
        Workers { handles },
    ))
}

impl Notifier {
    /// Hands every new, open alert at or above a channel's minimum severity to that
    /// channel. Never blocks: a full queue counts a drop.
    pub fn offer(&self, alerts: &[StoredAlert]) {
        if self.lanes.is_empty() {
            return;
        }
        let mut offered = self.offered.lock().unwrap_or_else(|p| p.into_inner());
        for a in alerts
            .iter()
            .filter(|a| a.alert.is_new && a.alert.status == AlertStatus::Open)
            .filter(|a| offered.first(a.id))
        {
            for lane in self.lanes.iter().filter(|l| a.alert.severity >= l.min) {
                match lane.tx.try_send(a.clone()) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        lane.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        lane.stats.unrecorded.fetch_add(1, Ordering::Relaxed);
                    }
                    // The worker is gone (stopping): nothing to do.
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }
}

/// An alert for the unit tests, built through serde so that fields other work adds to
/// `Alert` (with their serde defaults) need no change here.
#[cfg(test)]
pub(crate) fn test_alert(id: i64, severity: Severity, group: &[(&str, &str)]) -> StoredAlert {
    let group: std::collections::BTreeMap<&str, &str> = group.iter().copied().collect();
    let mut alert: crate::model::Alert = serde_json::from_value(serde_json::json!({
        "key": format!("k{id}"),
        "rule": "ssh-brute-force",
        "title": "SSH brute force",
        "severity": severity,
        "mitre": ["T1110.001"],
        "group": group,
        "count": 5,
        "first_seen": "2023-11-14T22:13:20Z",
        "last_seen": "2023-11-14T22:13:25Z",
        "status": "open",
        "evidence": [],
    }))
    .expect("a test alert");
    alert.is_new = true;
    StoredAlert { id, alert }
}

/// This machine's name (the kernel's), for messages and EHLO.
pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: i64, severity: Severity, is_new: bool) -> StoredAlert {
        let mut a = test_alert(id, severity, &[]);
        a.alert.is_new = is_new;
        a
    }

    /// A lane with a queue of `n` that nobody reads (a channel stuck on a dead server).
    fn stuck_lane(
        min: Severity,
        n: usize,
    ) -> (Notifier, Arc<Stats>, std::sync::mpsc::Receiver<StoredAlert>) {
        let (tx, rx) = sync_channel(n);
        let stats = Arc::new(Stats::default());
        (
            Notifier {
                lanes: vec![Lane {
                    min,
                    tx,
                    stats: stats.clone(),
                }],
                offered: Default::default(),
            },
            stats,
            rx,
        )
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (n, stats, rx) = stuck_lane(Severity::Low, 3);
        let alerts: Vec<_> = (0..10).map(|i| alert(i, Severity::High, true)).collect();
        let t = Instant::now();
        n.offer(&alerts);
        assert!(t.elapsed() < Duration::from_millis(100), "offer waited");
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 7);
        assert_eq!(rx.try_iter().count(), 3);
    }

    #[test]
    fn only_new_open_alerts_at_the_minimum_severity_are_offered() {
        let (n, _, rx) = stuck_lane(Severity::High, 100);
        let mut resolved = alert(4, Severity::Critical, true);
        resolved.alert.status = AlertStatus::Resolved;
        n.offer(&[
            alert(1, Severity::Medium, true),
            alert(2, Severity::High, true),
            alert(3, Severity::Critical, false),
            resolved,
            alert(5, Severity::Critical, true),
        ]);
        assert_eq!(rx.try_iter().map(|a| a.id).collect::<Vec<_>>(), [2, 5]);
    }

    #[test]
    fn an_alert_is_offered_once_even_when_said_to_be_new_again() {
        let (n, _, rx) = stuck_lane(Severity::Low, 100);
        n.offer(&[alert(1, Severity::High, true)]);
        // Another detector posts the same incident again: stored as an update of alert 1,
        // but new to the engine's path.
        n.offer(&[
            alert(1, Severity::High, true),
            alert(2, Severity::High, true),
        ]);
        assert_eq!(rx.try_iter().map(|a| a.id).collect::<Vec<_>>(), [1, 2]);
        let mut ids = RecentIds::default();
        assert!((0..RECENT_IDS as i64 + 1).all(|i| ids.first(i)));
        assert!(ids.first(0), "the oldest id is forgotten beyond the bound");
        assert!(!ids.first(RECENT_IDS as i64));
    }

    #[test]
    fn no_channels_start_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (n, board, workers) = start(&NotifyConfig::default(), dir.path()).unwrap();
        assert!(n.is_empty() && board.summaries().is_empty());
        workers.join_for(Duration::from_secs(1));
    }
}
