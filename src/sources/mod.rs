//! Where raw input comes from: files (tailed, rotation-proof), the journal, the host
//! snapshot collectors, host metrics, and file integrity watches. Log sources hand lines
//! and checkpoints on; they never parse.

pub mod fim;
pub mod journald;
pub mod lan;
pub mod metrics;
pub mod netlink;
pub mod snapshot;
pub mod tail;
pub mod traffic;
