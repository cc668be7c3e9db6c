//! The stop signal every long-running stage watches, and a sleep that ends the moment it
//! is given.
//!
//! One [`Stop`] is shared (cloned) by every stage of a run. Stages that sleep between
//! rounds call [`Stop::sleep`]; stages blocked elsewhere (a tailer waiting on inotify, a
//! journal reader waiting on `journalctl`) register a waker with [`Stop::on_stop`] so the
//! stop reaches them at once instead of at their next timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Waker = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Inner {
    set: AtomicBool,
    /// Guards the condition variable's wait; holds the registered wakers.
    wakers: Mutex<Vec<Waker>>,
    changed: Condvar,
}

/// A stop signal: cheap to clone, set once, never cleared.
#[derive(Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stop({})", self.is_set())
    }
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.inner.set.load(Ordering::SeqCst)
    }

    /// Asks everything watching this signal to stop: sleepers wake, wakers run.
    pub fn set(&self) {
        let wakers = {
            let mut w = self.inner.wakers.lock().unwrap_or_else(|p| p.into_inner());
            if self.inner.set.swap(true, Ordering::SeqCst) {
                return;
            }
            std::mem::take(&mut *w)
        };
        self.inner.changed.notify_all();
        for wake in wakers {
            wake();
        }
    }

    /// Sleeps `total` unless the stop comes first. Returns `true` if it came.
    pub fn sleep(&self, total: Duration) -> bool {
        let deadline = Instant::now() + total;
        let mut guard = self.inner.wakers.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.is_set() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .inner
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until the stop comes.
    pub fn wait(&self) {
        while !self.sleep(Duration::from_secs(3600)) {}
    }

    /// Runs `wake` when the stop comes (at once if it already came): for a stage blocked
    /// somewhere a sleep cannot reach.
    pub fn on_stop(&self, wake: impl Fn() + Send + Sync + 'static) {
        let mut w = self.inner.wakers.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_set() {
            drop(w);
            wake();
        } else {
            w.push(Box::new(wake));
        }
    }

    /// A guard that sets this signal when dropped: an early return of whoever started the
    /// stages still stops them.
    pub fn on_drop(&self) -> StopOnDrop {
        StopOnDrop(self.clone())
    }
}

/// Sets its [`Stop`] when dropped.
pub struct StopOnDrop(Stop);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_sleep_ends_when_the_stop_comes_and_wakers_run_once() {
        let stop = Stop::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        stop.on_stop(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!stop.sleep(Duration::from_millis(10)));
        let s = stop.clone();
        let t = std::thread::spawn(move || {
            let started = Instant::now();
            assert!(s.sleep(Duration::from_secs(30)));
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(50));
        stop.set();
        stop.set();
        assert!(t.join().unwrap() < Duration::from_secs(10));
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        let late = woken.clone();
        stop.on_stop(move || {
            late.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 2, "a late waker runs at once");
        assert!(stop.sleep(Duration::from_secs(30)));
    }
}
