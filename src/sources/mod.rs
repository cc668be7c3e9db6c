//! Where raw input comes from: files (tailed, rotation-proof), the journal, and later the
//! host snapshot collectors. Sources hand lines and checkpoints on; they never parse.

pub mod journald;
pub mod snapshot;
pub mod tail;
