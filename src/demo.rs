//! `picket demo`'s feed: bundled sample attack logs (in `examples/demo/`) written into
//! log files the daemon tails, at the pace they were originally logged and with fresh
//! timestamps, so the real pipeline (tailer → parser → rules → store → dashboard) turns
//! them into live alerts.
//!
//! The samples tell one story on a host named `web1`: a port scan, an account scan, a
//! brute force that succeeds, a root shell and a backdoor account, a crashing service, a
//! botnet guessing one account, a local user trying to become root, a direct root login
//! and an out-of-memory kill. One user name in the scan is an HTML payload, so the demo
//! also shows that hostile text is shown as text.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::base::timestamp::Timestamp;

/// The sample logs: file name and content, each line starting with an RFC 3339 stamp.
pub const SAMPLES: [(&str, &str); 3] = [
    ("auth.log", include_str!("../examples/demo/auth.log")),
    ("syslog", include_str!("../examples/demo/syslog")),
    ("kern.log", include_str!("../examples/demo/kern.log")),
];

/// The longest pause the feed keeps between two lines, so a newcomer never waits long.
const MAX_GAP: Duration = Duration::from_secs(5);

/// One sample line: when it was logged, in which file, and the text after the stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLine {
    pub at: Timestamp,
    pub file: usize,
    pub rest: String,
}

/// The samples merged into one time-ordered feed. A line without a leading RFC 3339
/// stamp is an error naming the file and line (the samples ship in the binary, so a unit
/// test catches it).
pub fn merged(samples: &[(&str, &str)]) -> Result<Vec<SampleLine>, String> {
    let mut out = Vec::new();
    for (file, (name, text)) in samples.iter().enumerate() {
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let (stamp, rest) = line.split_once(' ').unwrap_or((line, ""));
            let at = Timestamp::parse_rfc3339(stamp)
                .ok_or_else(|| format!("{name}:{}: no RFC 3339 stamp at the start", n + 1))?;
            out.push(SampleLine {
                at,
                file,
                rest: rest.to_string(),
            });
        }
    }
    // Stable: lines of one file logged at the same instant keep their order.
    out.sort_by_key(|l| l.at);
    Ok(out)
}

/// How long to wait before writing `line`, after `previous`, at `speed` times real pace.
pub fn pause(previous: Timestamp, line: Timestamp, speed: f64) -> Duration {
    let micros = (line.as_micros() - previous.as_micros()).max(0);
    Duration::from_micros(micros as u64)
        .min(MAX_GAP)
        .div_f64(speed.max(0.001))
}

/// The line as a log would hold it now: `rest` behind a current local RFC 3339 stamp, the
/// format Debian 12's rsyslog writes.
pub fn restamp(rest: &str) -> String {
    let now = jiff::Zoned::now();
    format!("{} {rest}", now.strftime("%Y-%m-%dT%H:%M:%S%.6f%:z"))
}

/// Writes the merged samples into `dir/<sample name>`, pausing between lines as they were
/// logged (divided by `speed`), until done or `stop` is set. Returns how many lines were
/// written.
pub fn feed(dir: &Path, speed: f64, stop: &AtomicBool) -> std::io::Result<usize> {
    let lines = merged(&SAMPLES).map_err(std::io::Error::other)?;
    let mut files = SAMPLES
        .iter()
        .map(|(name, _)| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut previous = lines.first().map(|l| l.at);
    let mut written = 0;
    for line in &lines {
        let wait = pause(previous.unwrap_or(line.at), line.at, speed);
        previous = Some(line.at);
        if !sleep_unless_stopped(wait, stop) {
            break;
        }
        // One write per line: the tailer never sees half a line.
        files[line.file].write_all(format!("{}\n", restamp(&line.rest)).as_bytes())?;
        written += 1;
    }
    Ok(written)
}

/// Sleeps `d` in short steps; `false` when `stop` was set meanwhile.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(100);
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
    !stop.load(Ordering::SeqCst)
}

/// The sample files' paths under `dir`, as the daemon should tail them.
pub fn log_paths(dir: &Path) -> Vec<PathBuf> {
    SAMPLES.iter().map(|(name, _)| dir.join(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_sample_line_has_a_stamp_and_the_feed_is_in_time_order() {
        let lines = merged(&SAMPLES).unwrap();
        assert_eq!(
            lines.len(),
            SAMPLES
                .iter()
                .map(|(_, t)| t.lines().count())
                .sum::<usize>()
        );
        assert!(lines.windows(2).all(|w| w[0].at <= w[1].at));
        // All three files take part.
        for f in 0..SAMPLES.len() {
            assert!(lines.iter().any(|l| l.file == f), "sample {f} is empty");
        }
    }

    #[test]
    fn a_line_without_a_stamp_is_named() {
        let err =
            merged(&[("x.log", "2026-11-20T02:14:00+00:00 h a: b\nnot a stamp\n")]).unwrap_err();
        assert_eq!(err, "x.log:2: no RFC 3339 stamp at the start");
    }

    #[test]
    fn pauses_follow_the_original_gaps_capped_and_scaled() {
        let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        let a = t("2026-11-20T02:14:00+00:00");
        assert_eq!(
            pause(a, t("2026-11-20T02:14:01.5+00:00"), 1.0),
            Duration::from_millis(1500)
        );
        assert_eq!(
            pause(a, t("2026-11-20T02:14:01.5+00:00"), 10.0),
            Duration::from_millis(150)
        );
        assert_eq!(pause(a, t("2026-11-20T03:00:00+00:00"), 1.0), MAX_GAP);
        assert_eq!(
            pause(a, t("2026-11-20T02:13:00+00:00"), 1.0),
            Duration::ZERO
        );
    }

    #[test]
    fn restamped_lines_parse_as_now() {
        let line = restamp("web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2");
        let (stamp, rest) = line.split_once(' ').unwrap();
        let at = Timestamp::parse_rfc3339(stamp).unwrap();
        let drift = (Timestamp::now().as_micros() - at.as_micros()).abs();
        assert!(drift < 5_000_000, "{line}");
        assert!(stamp.contains('.') && stamp.len() >= 26, "{stamp}");
        assert!(rest.starts_with("web1 sshd[1]:"));
    }

    #[test]
    fn the_feed_writes_every_line_into_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let n = feed(dir.path(), 1_000_000.0, &stop).unwrap();
        assert_eq!(n, merged(&SAMPLES).unwrap().len());
        for (name, text) in SAMPLES {
            let got = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert_eq!(got.lines().count(), text.lines().count(), "{name}");
            // Same text after the stamp, line for line.
            for (g, want) in got.lines().zip(text.lines()) {
                assert_eq!(
                    g.split_once(' ').unwrap().1,
                    want.split_once(' ').unwrap().1
                );
            }
        }
    }

    #[test]
    fn a_stopped_feed_writes_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(true);
        assert_eq!(feed(dir.path(), 1.0, &stop).unwrap(), 0);
    }
}
