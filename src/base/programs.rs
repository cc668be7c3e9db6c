//! System programs Picket runs (`nft`, `iptables`, `journalctl`, the checks' read-only
//! commands), found in the fixed system directories only: a `$PATH` set by whoever
//! started Picket must not choose what runs as root.

use std::path::{Path, PathBuf};

/// Where programs are looked for, in order.
const SEARCH_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// A system program by name, from the fixed system directories only (never `$PATH`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    SEARCH_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}
