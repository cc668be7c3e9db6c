//! The stop signal every long-running stage watches, and a sleep that ends early when it
//! is given.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Sleeps `total`, in steps of 100 ms, returning early once `stop` is set.
pub fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step.min(total - slept));
        slept += step;
    }
}
