//! What consumes the store's commits: the live stream for the dashboard, the notification
//! channels, and (later) other outputs such as a fleet transport. A sink sees each commit
//! after it is durable, with the row ids the store gave it, so nothing it acts on can be
//! lost by a crash before the commit.

use super::writer::Committed;

/// A consumer of commits, called on the store writer's thread.
pub trait Sink: Send {
    /// Its name in logs and in the pipeline's registry.
    fn id(&self) -> &'static str;

    /// Called after each commit. It must not block: queue the work and return (a slow
    /// sink must never hold up the store).
    fn on_commit(&mut self, committed: &Committed);

    /// Called once, after the writer's last commit, as the pipeline stops: finish what is
    /// queued (within a bounded time) and let go.
    fn close(self: Box<Self>) {}
}
