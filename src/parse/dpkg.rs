//! dpkg.log: `2026-11-21 10:00:01 install foo:amd64 <none> 1.0-1`, in local time.
use crate::event::Event;
use crate::timestamp::LocalZone;

use super::Parsed;

/// True when a line has dpkg.log's shape (used for format detection).
pub fn looks_like_dpkg(line: &[u8]) -> bool {
    line.len() > 20 && line[4] == b'-' && line[10] == b' ' && line[13] == b':' && line[19] == b' '
}

/// Parses one dpkg.log line. `None` when it is not dpkg.log's shape.
pub fn parse_line(
    _line: &str,
    _source: &str,
    _zone: &mut LocalZone,
    _out: &mut Vec<Event>,
) -> Option<Parsed> {
    None
}
