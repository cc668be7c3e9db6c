//! One channel's worker: takes alerts from the channel's queue, lets the rate limit
//! decide between sending now and holding for the digest, sends, schedules retries with
//! exponential backoff, and records every delivery (and every drop) in the store.
//!
//! A send blocks this thread only (up to the channel's timeout); alerts arriving
//! meanwhile wait in the queue.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::limit::Limiter;
use super::render::{Occasion, Outgoing};
use super::{Channel, SendError, Stats};
use crate::base::timestamp::Timestamp;
use crate::store::alerts::StoredAlert;
use crate::store::notifications::{self as stored, NewDelivery, Status};

/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Messages waiting for a retry at most; beyond it the oldest is given up on.
const MAX_RETRYING: usize = 100;
/// The table is pruned after this many recorded deliveries.
const PRUNE_EVERY: u32 = 100;

/// The wait before attempt `attempts + 1`, after `attempts` failed ones.
pub fn backoff(attempts: u32) -> Duration {
    let shift = attempts.saturating_sub(1).min(16);
    (FIRST_BACKOFF * (1u32 << shift)).min(MAX_BACKOFF)
}

pub(super) struct Worker {
    pub channel: Arc<Channel>,
    pub stats: Arc<Stats>,
    pub rx: Receiver<StoredAlert>,
    /// Where deliveries are recorded.
    pub conn: Connection,
    pub host: String,
}

/// A message and its delivery so far.
struct Pending {
    msg: Outgoing,
    /// Its row in the store, once recorded.
    row: Option<i64>,
    attempts: u32,
    next: Instant,
}

impl Pending {
    fn new(msg: Outgoing) -> Pending {
        Pending {
            msg,
            row: None,
            attempts: 0,
            next: Instant::now(),
        }
    }
}

/// The worker's state between messages.
struct Run {
    channel: Arc<Channel>,
    stats: Arc<Stats>,
    host: String,
    conn: Connection,
    retrying: Vec<Pending>,
    recorded: u32,
    store_failing: bool,
}

impl Worker {
    pub fn run(self) {
        let Worker {
            channel,
            stats,
            rx,
            conn,
            host,
        } = self;
        let mut limiter = Limiter::new(channel.rate_limit, channel.digest, Instant::now());
        let mut run = Run {
            channel,
            stats,
            host,
            conn,
            retrying: Vec::new(),
            recorded: 0,
            store_failing: false,
        };
        loop {
            run.record_drops();
            let now = Instant::now();
            if let Some((held, more)) = limiter.digest.take_if_due(now, false) {
                let digest = run.digest(held, more);
                run.attempt(Pending::new(digest), true);
            }
            run.retry_due(now);
            let wake = [
                limiter.digest.due_at(),
                run.retrying.iter().map(|p| p.next).min(),
            ]
            .into_iter()
            .flatten()
            .min()
            .map_or(Duration::from_secs(1), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .min(Duration::from_secs(1));
            match rx.recv_timeout(wake) {
                Ok(a) => {
                    if let Some(a) = limiter.admit(a, Instant::now()) {
                        let single = Outgoing::single(&run.host, a);
                        run.attempt(Pending::new(single), true);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // Stopping: what the digest holds goes out now, one attempt; messages
                    // waiting for a retry are given up on.
                    run.record_drops();
                    if let Some((held, more)) = limiter.digest.take_if_due(Instant::now(), true) {
                        let digest = run.digest(held, more);
                        run.attempt(Pending::new(digest), false);
                    }
                    for p in std::mem::take(&mut run.retrying) {
                        run.give_up(p, "Picket stopped before the next attempt");
                    }
                    return;
                }
            }
        }
    }
}

impl Run {
    fn digest(&self, held: Vec<StoredAlert>, more: usize) -> Outgoing {
        Outgoing {
            occasion: Occasion::Digest,
            host: self.host.clone(),
            alerts: held,
            more,
        }
    }

    /// Alerts the commit hook could not queue become one failed delivery.
    fn record_drops(&mut self) {
        let n = self.stats.unrecorded.swap(0, Ordering::Relaxed);
        if n == 0 {
            return;
        }
        let error = format!(
            "the channel's queue was full ({} alerts waiting): {n} alerts were dropped rather than hold up detection",
            super::QUEUE
        );
        tracing::warn!("notification channel {}: {error}", self.channel.name);
        let subject = format!("{n} alerts not sent");
        let (channel, kind) = (self.channel.name.clone(), self.channel.kind.as_str());
        self.store(|c| {
            stored::record(
                c,
                &NewDelivery {
                    channel: &channel,
                    kind,
                    status: Status::Failed,
                    attempts: 0,
                    alerts: n.min(u32::MAX as u64) as u32,
                    subject: &subject,
                    error: Some(&error),
                },
                Timestamp::now(),
            )
            .map(|_| ())
        });
    }

    /// Attempts every message whose retry is due.
    fn retry_due(&mut self, now: Instant) {
        let (due, wait): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.retrying)
            .into_iter()
            .partition(|p| p.next <= now);
        self.retrying = wait;
        for p in due {
            self.attempt(p, true);
        }
    }

    /// One attempt; on a failure worth retrying (and `may_retry`), schedules the next.
    fn attempt(&mut self, mut p: Pending, may_retry: bool) {
        p.attempts += 1;
        let result = self.channel.send(&p.msg);
        let allowed = self.channel.retries + 1;
        let (status, error) = match &result {
            Ok(()) => (Status::Sent, None),
            Err(SendError::Transient(e)) if may_retry && p.attempts < allowed => {
                (Status::Retrying, Some(e.clone()))
            }
            Err(e) => (Status::Failed, Some(e.to_string())),
        };
        if let Some(e) = &error {
            tracing::warn!(
                "notification to {} failed (attempt {} of {}{}): {e}",
                self.channel.name,
                p.attempts,
                allowed,
                if status == Status::Retrying {
                    format!(", next in {} s", backoff(p.attempts).as_secs())
                } else {
                    String::new()
                }
            );
        }
        self.write(&mut p, status, error.as_deref());
        if status == Status::Retrying {
            p.next = Instant::now() + backoff(p.attempts);
            self.retrying.push(p);
            if self.retrying.len() > MAX_RETRYING {
                let oldest = self.retrying.remove(0);
                self.give_up(oldest, "too many messages were waiting for a retry");
            }
        }
    }

    fn give_up(&mut self, mut p: Pending, why: &str) {
        self.write(&mut p, Status::Failed, Some(why));
    }

    /// Records the message's state: a new row at its first attempt, an update after.
    fn write(&mut self, p: &mut Pending, status: Status, error: Option<&str>) {
        let now = Timestamp::now();
        let (channel, kind) = (self.channel.name.clone(), self.channel.kind.as_str());
        let subject = p.msg.subject();
        let alerts = p.msg.alert_count().min(u32::MAX as usize) as u32;
        let attempts = p.attempts;
        let mut row = p.row;
        self.store(|c| {
            match row {
                Some(id) => stored::update(c, id, status, attempts, error, now)?,
                None => {
                    row = Some(stored::record(
                        c,
                        &NewDelivery {
                            channel: &channel,
                            kind,
                            status,
                            attempts,
                            alerts,
                            subject: &subject,
                            error,
                        },
                        now,
                    )?)
                }
            }
            Ok(())
        });
        p.row = row;
    }

    /// Runs a store write; a failing store is reported once, not at every message.
    fn store(&mut self, f: impl FnOnce(&Connection) -> rusqlite::Result<()>) {
        let c = &self.conn;
        match f(c) {
            Ok(()) => {
                self.store_failing = false;
                self.recorded += 1;
                if self.recorded % PRUNE_EVERY == 0 {
                    let _ = stored::prune(c, Timestamp::now());
                }
            }
            Err(e) if !self.store_failing => {
                self.store_failing = true;
                tracing::warn!("cannot record a notification of {}: {e}", self.channel.name);
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
