//! A channel's rate limit and digest: a token bucket decides whether an alert goes out on
//! its own; the alerts it refuses are held (never lost) and go out together as one digest
//! `digest_secs` after the first of them was held.
//!
//! Time is passed in (`Instant`), so the tests drive it without sleeping.

use std::time::{Duration, Instant};

use super::config::RateLimit;
use super::render::DIGEST_MAX;
use crate::store::alerts::StoredAlert;

/// `max` tokens, refilled evenly over `per`: bursts up to `max`, then `max` per `per`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_sec: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(limit: RateLimit, now: Instant) -> TokenBucket {
        let capacity = f64::from(limit.max.max(1));
        TokenBucket {
            capacity,
            tokens: capacity,
            per_sec: capacity / limit.per_secs.max(1) as f64,
            last: now,
        }
    }

    /// Takes a token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Alerts held back for the next digest: at most [`DIGEST_MAX`] kept whole, the rest
/// counted, so a flood cannot grow memory.
#[derive(Debug)]
pub struct Digest {
    every: Duration,
    held: Vec<StoredAlert>,
    more: usize,
    since: Option<Instant>,
}

impl Digest {
    pub fn new(every: Duration) -> Digest {
        Digest {
            every,
            held: Vec::new(),
            more: 0,
            since: None,
        }
    }

    pub fn hold(&mut self, a: StoredAlert, now: Instant) {
        self.since.get_or_insert(now);
        if self.held.len() < DIGEST_MAX {
            self.held.push(a);
        } else {
            self.more += 1;
        }
    }

    /// When the held alerts are to go out.
    pub fn due_at(&self) -> Option<Instant> {
        self.since.map(|t| t + self.every)
    }

    /// The held alerts and how many more there were, once due (or at once when `force`d,
    /// at shutdown).
    pub fn take_if_due(&mut self, now: Instant, force: bool) -> Option<(Vec<StoredAlert>, usize)> {
        let due = self.due_at()?;
        if now < due && !force {
            return None;
        }
        self.since = None;
        Some((
            std::mem::take(&mut self.held),
            std::mem::take(&mut self.more),
        ))
    }
}

/// A channel's limiter: which alerts go out now, which wait for the digest.
#[derive(Debug)]
pub struct Limiter {
    bucket: Option<TokenBucket>,
    pub digest: Digest,
}

impl Limiter {
    pub fn new(limit: Option<RateLimit>, digest_every: Duration, now: Instant) -> Limiter {
        Limiter {
            bucket: limit.map(|l| TokenBucket::new(l, now)),
            digest: Digest::new(digest_every),
        }
    }

    /// The alert back if it may go out now; else it is held for the digest.
    pub fn admit(&mut self, a: StoredAlert, now: Instant) -> Option<StoredAlert> {
        let allowed = self.bucket.as_mut().is_none_or(|b| b.try_take(now));
        if allowed {
            Some(a)
        } else {
            self.digest.hold(a, now);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: i64) -> StoredAlert {
        crate::notify::test_alert(id, crate::model::Severity::High, &[])
    }

    #[test]
    fn two_per_minute_lets_two_through_and_holds_three_for_one_digest() {
        let t0 = Instant::now();
        let mut l = Limiter::new(
            Some(RateLimit {
                max: 2,
                per_secs: 60,
            }),
            Duration::from_secs(5),
            t0,
        );
        let passed: Vec<i64> = (1..=5)
            .filter_map(|i| l.admit(alert(i), t0 + Duration::from_millis(i as u64)))
            .map(|a| a.id)
            .collect();
        assert_eq!(passed, [1, 2]);
        // Held since the third alert (t0 + 3 ms): due 5 s later, not before.
        assert_eq!(
            l.digest.due_at(),
            Some(t0 + Duration::from_millis(3) + Duration::from_secs(5))
        );
        assert!(l
            .digest
            .take_if_due(t0 + Duration::from_secs(5), false)
            .is_none());
        let (held, more) = l
            .digest
            .take_if_due(t0 + Duration::from_secs(6), false)
            .unwrap();
        assert_eq!(held.iter().map(|a| a.id).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(more, 0);
        assert!(
            l.digest
                .take_if_due(t0 + Duration::from_secs(60), false)
                .is_none(),
            "sent once"
        );
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(
            RateLimit {
                max: 2,
                per_secs: 60,
            },
            t0,
        );
        assert!(b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0 + Duration::from_secs(29)));
        // One token per 30 s.
        assert!(b.try_take(t0 + Duration::from_secs(31)));
        assert!(!b.try_take(t0 + Duration::from_secs(32)));
        // Never more than max after a long quiet spell.
        let later = t0 + Duration::from_secs(3600);
        assert!(b.try_take(later) && b.try_take(later) && !b.try_take(later));
    }

    #[test]
    fn a_flood_is_counted_not_kept() {
        let t0 = Instant::now();
        let mut d = Digest::new(Duration::from_secs(1));
        for i in 0..(DIGEST_MAX as i64 + 25) {
            d.hold(alert(i), t0);
        }
        let (held, more) = d.take_if_due(t0, true).unwrap();
        assert_eq!(held.len(), DIGEST_MAX);
        assert_eq!(more, 25);
    }

    #[test]
    fn without_a_limit_everything_goes_out() {
        let t0 = Instant::now();
        let mut l = Limiter::new(None, Duration::from_secs(5), t0);
        assert!((0..100).all(|i| l.admit(alert(i), t0).is_some()));
        assert!(l.digest.due_at().is_none());
    }
}
