//! Raw log lines in, normalized [`Event`]s out.
//!
//! The [`Normalizer`] owns everything per input stream: line decoding (CR, invalid UTF-8,
//! over-long lines), the syslog header, BSD year inference, rsyslog's `message repeated N
//! times: [ … ]` expansion, and routing each message to the one family parser registered
//! for its program. Family parsers (one module each) only turn a message into events;
//! they never see bytes, never panic, and keep at most bounded per-pid state.
//!
//! Every family sits in [`registry`]: adding a log family means adding one module and one
//! line there.

pub(crate) mod common;
pub(crate) mod dpkg;
pub(crate) mod format;
pub(crate) mod kernel;
pub(crate) mod pam;
pub(crate) mod shadow;
pub(crate) mod sshd;
pub(crate) mod su;
pub(crate) mod sudo;
pub(crate) mod syslog;
pub(crate) mod systemd;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::base::timestamp::{LocalZone, Timestamp, YearInference};
use crate::model::event::{Event, EventType};

pub use format::InputFormat;

/// What a family parser knows about the line besides its message.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub ts: Timestamp,
    pub host: &'a str,
    /// The canonical program name (`sshd-session` is given as `sshd`).
    pub program: &'a str,
    /// The program tag exactly as logged (`sshd(pam_unix)`, `sshd-session`, …).
    pub tag: &'a str,
    pub pid: Option<u32>,
    pub source: &'a str,
    /// The whole raw line, kept as the event's evidence.
    pub line: &'a str,
    /// Shared copies of source, host and program for the events built from this line.
    pub shared: &'a Shared,
}

/// The `Arc<str>` copies events of one line share: made once per stream (source), and
/// once per host or program name among the last few seen (an auth.log alternates between
/// sshd, CRON and sudo; a new copy at each change was about 4 % of a replay's
/// allocations).
#[derive(Debug, Clone)]
pub struct Shared {
    source: Arc<str>,
    host: Option<Arc<str>>,
    program: Option<Arc<str>>,
    /// Host and program names seen lately, newest last, at most [`RECENT_NAMES`].
    recent: Vec<Arc<str>>,
}

/// Names [`Shared`] keeps for reuse.
const RECENT_NAMES: usize = 8;

impl Shared {
    /// The shared values for one line (parsers' unit tests build their `Ctx` with it).
    pub fn for_line(source: &str, host: &str, program: &str) -> Shared {
        let mut s = Shared::new(source);
        s.set(host, program);
        s
    }

    fn new(source: &str) -> Shared {
        Shared {
            source: Arc::from(source),
            host: None,
            program: None,
            recent: Vec::new(),
        }
    }

    fn set(&mut self, host: &str, program: &str) {
        fn update(slot: &mut Option<Arc<str>>, recent: &mut Vec<Arc<str>>, value: &str) {
            match slot {
                Some(s) if &**s == value => return,
                _ if value.is_empty() => {
                    *slot = None;
                    return;
                }
                _ => {}
            }
            let name = match recent.iter().find(|n| &***n == value) {
                Some(n) => n.clone(),
                None => {
                    let n: Arc<str> = Arc::from(value);
                    if recent.len() >= RECENT_NAMES {
                        recent.remove(0);
                    }
                    recent.push(n.clone());
                    n
                }
            };
            *slot = Some(name);
        }
        update(&mut self.host, &mut self.recent, host);
        update(&mut self.program, &mut self.recent, program);
    }
}

impl Ctx<'_> {
    /// A new event with the line's common fields filled in.
    #[inline]
    pub fn event(&self, kind: EventType) -> Event {
        let mut e = Event::with_source(self.ts, kind, self.shared.source.clone(), self.line);
        e.host = self.shared.host.clone();
        e.program = self.shared.program.clone();
        e.pid = self.pid;
        e
    }
}

/// What a family parser made of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// It produced one or more events (pushed to the output).
    Events,
    /// It understood the message and it matters to no rule (or only fed parser state).
    Ignored,
    /// Not a message this parser knows.
    Unknown,
}

/// One log family's message parser (sshd, sudo, kernel …).
pub trait MessageParser: Send {
    /// Short stable id, e.g. `sshd`; used in stats and `--help`.
    fn id(&self) -> &'static str;
    /// One line saying what it reads.
    fn doc(&self) -> &'static str;
    /// Canonical program names it wants (after `sshd-session` → `sshd`, `X(pam_unix)` → `X`).
    fn programs(&self) -> &'static [&'static str];
    /// Turns a message into events, pushed onto `out`.
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed;
}

/// Every message family, in routing order: the first whose `programs()` names the
/// line's program gets it; PAM lines (`pam_*(…)`) are offered to the PAM parser when the
/// program's own parser does not know them.
pub fn registry() -> Vec<Box<dyn MessageParser>> {
    vec![
        Box::new(sshd::Sshd::default()),
        Box::new(sudo::Sudo::default()),
        Box::new(su::Su::default()),
        Box::new(shadow::ShadowUtils::default()),
        Box::new(systemd::Systemd::default()),
        Box::new(kernel::Kernel::default()),
        Box::new(pam::Pam::default()),
    ]
}

/// Maps a logged program tag to its canonical name.
pub fn canonical_program(tag: &str) -> &str {
    let base = tag.split_once('(').map_or(tag, |(b, _)| b);
    match base {
        "sshd-session" | "sshd-auth" | "sshd-unpriv" => "sshd",
        other => other,
    }
}

/// Line counts per outcome, kept for `picket replay`'s summary and `/api/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Lines read, including blank and unparsable ones.
    pub lines: u64,
    /// Events produced.
    pub events: u64,
    /// Lines understood that produced no event (they matter to no rule).
    pub ignored: u64,
    /// Lines with a header whose program or message no parser knows.
    pub unknown: u64,
    /// Lines with no recognizable header or format.
    pub unparsable: u64,
    /// Lines longer than [`MAX_LINE`], cut before parsing.
    pub truncated: u64,
    /// Lines that were not valid UTF-8 (decoded lossily).
    pub invalid_utf8: u64,
    /// Events per type (serialized with the types' wire names as keys).
    pub by_type: BTreeMap<crate::model::event::EventType, u64>,
}

impl Stats {
    pub fn merge(&mut self, other: &Stats) {
        self.lines += other.lines;
        self.events += other.events;
        self.ignored += other.ignored;
        self.unknown += other.unknown;
        self.unparsable += other.unparsable;
        self.truncated += other.truncated;
        self.invalid_utf8 += other.invalid_utf8;
        for (k, v) in &other.by_type {
            *self.by_type.entry(*k).or_default() += v;
        }
    }
}

/// Longest line parsed. Longer ones are cut here (and counted): no auth or kernel message
/// is anywhere near this, and the raw line is stored as evidence.
pub const MAX_LINE: usize = 64 * 1024;

/// Most events one `message repeated N times` line may expand to.
const MAX_REPEAT: u32 = 1000;

/// Turns the lines of one input stream into events. Not shared between streams: it keeps
/// that stream's year reference and its parsers' per-pid state.
pub struct Normalizer {
    parsers: Vec<Box<dyn MessageParser>>,
    pam_index: usize,
    zone: LocalZone,
    years: YearInference,
    format: InputFormat,
    shared: Shared,
    stats: Stats,
}

impl Normalizer {
    /// A normalizer for a stream of `format`, reading BSD stamps in `zone`, with
    /// `reference` as "now" for year inference.
    pub fn new(
        format: InputFormat,
        source: &str,
        zone: LocalZone,
        reference: Timestamp,
    ) -> Normalizer {
        let parsers = registry();
        let pam_index = parsers.iter().position(|p| p.id() == "pam").unwrap_or(0);
        let years = YearInference::new(reference, &zone);
        Normalizer {
            parsers,
            pam_index,
            zone,
            years,
            format,
            shared: Shared::new(source),
            stats: Stats::default(),
        }
    }

    pub fn format(&self) -> InputFormat {
        self.format
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn source(&self) -> &str {
        &self.shared.source
    }
    /// Moves the year reference forward (live tails call this with the wall clock).
    pub fn advance_reference(&mut self, now: Timestamp) {
        self.years.advance_to(now, &self.zone);
    }

    /// Parses one raw line (without its `\n`; a trailing `\r` is removed here). Returns
    /// how many events were pushed onto `out`.
    pub fn push_line(&mut self, raw: &[u8], out: &mut Vec<Event>) -> usize {
        self.stats.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if raw.len() > MAX_LINE {
            self.stats.truncated += 1;
            &raw[..MAX_LINE]
        } else {
            raw
        };
        let line = match ascii_or_utf8(raw) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                self.stats.invalid_utf8 += 1;
                String::from_utf8_lossy(raw)
            }
        };
        let before = out.len();
        let outcome = match self.format {
            InputFormat::Syslog => self.syslog_line(&line, out),
            InputFormat::Dpkg => dpkg::parse_line(&line, &self.shared.source, &mut self.zone, out),
            InputFormat::JournalJson => match crate::model::journal::Entry::from_json(&line) {
                Some(entry) => self.journal_entry(&entry, out),
                None => None,
            },
        };
        self.count(outcome, out, before)
    }

    fn count(&mut self, outcome: Option<Parsed>, out: &[Event], before: usize) -> usize {
        match outcome {
            None => self.stats.unparsable += 1,
            Some(Parsed::Unknown) => self.stats.unknown += 1,
            Some(Parsed::Ignored) => self.stats.ignored += 1,
            Some(Parsed::Events) => {}
        }
        let n = out.len() - before;
        if n == 0 && outcome == Some(Parsed::Events) {
            self.stats.ignored += 1;
        }
        self.stats.events += n as u64;
        for e in &out[before..] {
            *self.stats.by_type.entry(e.kind).or_default() += 1;
        }
        n
    }

    fn syslog_line(&mut self, line: &str, out: &mut Vec<Event>) -> Option<Parsed> {
        let h = syslog::split(line)?;
        let ts = match h.stamp {
            syslog::Stamp::Absolute(ts) => ts,
            syslog::Stamp::Yearless(ys) => self.years.resolve(&ys, &mut self.zone),
        };
        Some(self.message(ts, h.host, h.program, h.pid, h.message, line, out))
    }

    /// Parses a journal entry (from `journalctl -o json`), already split into fields.
    pub fn push_journal_entry(
        &mut self,
        entry: &crate::model::journal::Entry,
        raw: &str,
        out: &mut Vec<Event>,
    ) -> usize {
        self.stats.lines += 1;
        let before = out.len();
        let outcome = self.journal_entry_with_line(entry, raw, out);
        self.count(outcome, out, before)
    }

    fn journal_entry(
        &mut self,
        entry: &crate::model::journal::Entry,
        out: &mut Vec<Event>,
    ) -> Option<Parsed> {
        let line = entry.as_syslog_line();
        self.journal_entry_with_line(entry, &line, out)
    }

    fn journal_entry_with_line(
        &mut self,
        entry: &crate::model::journal::Entry,
        line: &str,
        out: &mut Vec<Event>,
    ) -> Option<Parsed> {
        let ts = entry.timestamp?;
        let program = entry.program();
        Some(self.message(
            ts,
            &entry.hostname,
            program,
            entry.pid,
            &entry.message,
            line,
            out,
        ))
    }

    /// Parses one message whose header is already known: the entry point for sources that
    /// get fields rather than lines (journald) and for tests.
    #[allow(clippy::too_many_arguments)]
    pub fn message(
        &mut self,
        ts: Timestamp,
        host: &str,
        tag: &str,
        pid: Option<u32>,
        message: &str,
        line: &str,
        out: &mut Vec<Event>,
    ) -> Parsed {
        let program = canonical_program(tag);
        self.shared.set(host, program);
        let ctx = Ctx {
            ts,
            host,
            program,
            tag,
            pid,
            source: &self.shared.source,
            line,
            shared: &self.shared,
        };
        let parsers = &mut self.parsers;
        let pam = self.pam_index;
        if let Some((times, inner)) = repeated(message) {
            let mut result = Parsed::Unknown;
            for _ in 0..times.min(MAX_REPEAT) {
                result = route(parsers, pam, &ctx, inner, out);
                if result != Parsed::Events {
                    break;
                }
            }
            return result;
        }
        route(parsers, pam, &ctx, message, out)
    }
}

/// No byte has its top bit set: sixteen bytes per step (`<[u8]>::is_ascii` compiled to
/// a byte loop here, barely cheaper than full validation).
fn is_ascii(b: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(16);
    for c in &mut chunks {
        let (lo, hi) = c.split_at(8);
        let lo = u64::from_ne_bytes(lo.try_into().unwrap_or_default());
        let hi = u64::from_ne_bytes(hi.try_into().unwrap_or_default());
        if (lo | hi) & HIGH != 0 {
            return false;
        }
    }
    chunks.remainder().is_ascii()
}

/// The line as text. Log lines are nearly always ASCII, which a word-at-a-time check
/// confirms in about a third of the instructions full UTF-8 validation takes; anything
/// else is validated in full.
fn ascii_or_utf8(raw: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if is_ascii(raw) {
        // SAFETY: every sequence of ASCII bytes is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(raw) });
    }
    std::str::from_utf8(raw)
}

/// Offers a message to the parser registered for its program, then (for PAM-shaped
/// messages) to the PAM parser.
fn route(
    parsers: &mut [Box<dyn MessageParser>],
    pam: usize,
    ctx: &Ctx<'_>,
    message: &str,
    out: &mut Vec<Event>,
) -> Parsed {
    let mut tried_pam = false;
    for (i, p) in parsers.iter_mut().enumerate() {
        if p.programs().contains(&ctx.program) {
            let r = p.parse(ctx, message, out);
            if r != Parsed::Unknown {
                return r;
            }
            tried_pam = i == pam;
            break;
        }
    }
    let looks_pam =
        message.starts_with("pam_") || ctx.tag.contains("(pam_") || message.starts_with("PAM ");
    if looks_pam && !tried_pam {
        return parsers[pam].parse(ctx, message, out);
    }
    Parsed::Unknown
}

/// Splits rsyslog's `message repeated N times: [ inner]` into (N, inner).
fn repeated(message: &str) -> Option<(u32, &str)> {
    let rest = message.strip_prefix("message repeated ")?;
    let (n, rest) = rest.split_once(' ')?;
    let n: u32 = n.parse().ok()?;
    let rest = rest.strip_prefix("times: [")?;
    let inner = rest.strip_suffix(']').unwrap_or(rest).trim();
    Some((n, inner))
}

/// Runs one message through one parser, as the normalizer would: the scaffolding every
/// parser's unit tests share.
#[cfg(test)]
pub(crate) fn feed_message(
    parse: impl FnOnce(&Ctx<'_>, &str, &mut Vec<Event>) -> Parsed,
    tag: &str,
    pid: Option<u32>,
    msg: &str,
) -> (Parsed, Vec<Event>) {
    let program = canonical_program(tag);
    let shared = Shared::for_line("test", "h", program);
    let ctx = Ctx {
        ts: Timestamp::from_micros(0),
        host: "h",
        program,
        tag,
        pid,
        source: "test",
        line: msg,
        shared: &shared,
    };
    let mut out = Vec::new();
    let r = parse(&ctx, msg, &mut out);
    (r, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_fast_path_agrees_with_utf8_validation() {
        for len in 0..40 {
            let clean = vec![b'a'; len];
            assert!(is_ascii(&clean));
            assert_eq!(ascii_or_utf8(&clean).ok(), std::str::from_utf8(&clean).ok());
            for at in 0..len {
                let mut high = clean.clone();
                high[at] = 0x80;
                assert!(!is_ascii(&high), "len {len}, high bit at {at}");
                assert!(ascii_or_utf8(&high).is_err());
                // Valid UTF-8 that is not ASCII still reads as text.
                let mut utf8 = clean.clone();
                utf8.splice(at..=at, "é".bytes());
                assert_eq!(ascii_or_utf8(&utf8).ok(), std::str::from_utf8(&utf8).ok());
            }
        }
    }

    #[test]
    fn stats_count_types_under_their_wire_names() {
        let mut s = Stats::default();
        s.by_type
            .insert(crate::model::event::EventType::FailedLogin, 2);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["by_type"]["FAILED_LOGIN"], 2);
    }

    fn normalizer() -> Normalizer {
        Normalizer::new(
            InputFormat::Syslog,
            "test",
            LocalZone::utc(),
            Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap(),
        )
    }

    #[test]
    fn repeated_messages_split() {
        assert_eq!(
            repeated("message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]"),
            Some((5, "Failed password for root from 5.36.59.76 port 42393 ssh2"))
        );
        assert_eq!(repeated("message repeated five times: [ x]"), None);
    }

    #[test]
    fn hostile_bytes_never_panic_and_are_counted() {
        let mut n = normalizer();
        let mut out = Vec::new();
        let huge = vec![b'A'; 1 << 20];
        n.push_line(&huge, &mut out);
        n.push_line(
            b"Dec 10 06:55:46 h sshd[1]: Failed password for \xff\xfe from 1.2.3.4 port 1 ssh2\r",
            &mut out,
        );
        n.push_line(b"", &mut out);
        n.push_line(b"\x00\x01\x02", &mut out);
        let s = n.stats();
        assert_eq!(s.lines, 4);
        assert_eq!(s.truncated, 1);
        assert_eq!(s.invalid_utf8, 1);
    }

    #[test]
    fn canonical_programs() {
        assert_eq!(canonical_program("sshd-session"), "sshd");
        assert_eq!(canonical_program("sshd(pam_unix)"), "sshd");
        assert_eq!(canonical_program("CRON"), "CRON");
    }
}
