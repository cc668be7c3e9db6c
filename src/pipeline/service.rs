//! Picket under systemd (`Type=notify`): readiness once every stage runs, and the
//! watchdog kept fed only while the pipeline's own threads are alive. Without systemd
//! (no `NOTIFY_SOCKET`) every call here does nothing.

use std::thread::JoinHandle;
use std::time::Duration;

use crate::base::stop::Stop;
use crate::store::writer::Heartbeat;

/// Tells systemd the service is up, with a status line for `systemctl status`.
pub fn ready(status: &str) {
    let _ = sd_notify::notify(
        false,
        &[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status(status),
        ],
    );
}

/// Tells systemd the service is stopping.
pub fn stopping() {
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
}

/// While `stop` is not set, pings the watchdog at half its interval as long as the store
/// writer's loop turns and `engine` has not ended. `None` when systemd asked for no
/// watchdog.
pub fn watchdog(
    stop: Stop,
    writer: Heartbeat,
    engine_alive: impl Fn() -> bool + Send + 'static,
) -> Option<JoinHandle<()>> {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return None;
    }
    let every = Duration::from_micros(usec) / 2;
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            while !stop.sleep(every) {
                if writer.alive(every) && engine_alive() {
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                } else {
                    tracing::error!("a pipeline stage is stuck: not feeding the watchdog");
                }
            }
        })
        .ok()
}
