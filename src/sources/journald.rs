//! The systemd journal as a source: entries from `journalctl -o json`, mapped onto the same
//! message parsers as syslog lines.
//!
//! A fresh Debian 12 has no /var/log/auth.log (rsyslog is not installed), so this is the
//! only place its sshd failures can be read. This module owns the mapping of journal fields
//! (`MESSAGE`, `SYSLOG_IDENTIFIER`, `_COMM`, `_PID`, `__REALTIME_TIMESTAMP`, `_HOSTNAME`,
//! `__CURSOR`) and the follower process; it does not parse messages.

use serde_json::Value;

use crate::timestamp::Timestamp;

/// One journal entry, reduced to what the parsers need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub timestamp: Option<Timestamp>,
    pub hostname: String,
    /// `SYSLOG_IDENTIFIER` (what syslog would show as the tag).
    pub identifier: String,
    /// `_COMM` (the process name the kernel reports).
    pub comm: String,
    pub pid: Option<u32>,
    pub message: String,
    /// `_TRANSPORT`: `kernel` for kernel messages.
    pub transport: String,
    pub cursor: Option<String>,
}

/// A journal field as text. `journalctl -o json` writes non-UTF-8 or binary values as an
/// array of byte values; those are decoded lossily. Multi-valued fields come as an array
/// of strings; the first is taken.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64())
                .map(|b| b as u8)
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.first().and_then(|first| text(Some(first))),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Entry {
    /// Parses one line of `journalctl -o json`. `None` for anything that is not a JSON
    /// object with a `MESSAGE`.
    pub fn from_json(line: &str) -> Option<Entry> {
        let v: Value = serde_json::from_str(line).ok()?;
        let obj = v.as_object()?;
        let message = text(obj.get("MESSAGE"))?;
        let timestamp = text(obj.get("__REALTIME_TIMESTAMP"))
            .or_else(|| text(obj.get("_SOURCE_REALTIME_TIMESTAMP")))
            .and_then(|s| s.parse::<i64>().ok())
            .map(Timestamp::from_micros);
        let pid = text(obj.get("_PID"))
            .or_else(|| text(obj.get("SYSLOG_PID")))
            .and_then(|s| s.parse().ok());
        Some(Entry {
            timestamp,
            hostname: text(obj.get("_HOSTNAME")).unwrap_or_default(),
            identifier: text(obj.get("SYSLOG_IDENTIFIER")).unwrap_or_default(),
            comm: text(obj.get("_COMM")).unwrap_or_default(),
            pid,
            message,
            transport: text(obj.get("_TRANSPORT")).unwrap_or_default(),
            cursor: text(obj.get("__CURSOR")),
        })
    }

    /// The program tag the parsers route on: the syslog identifier, else the command
    /// name; kernel-transport messages are `kernel` whatever else they say.
    pub fn program(&self) -> &str {
        if self.transport == "kernel" {
            "kernel"
        } else if !self.identifier.is_empty() {
            &self.identifier
        } else {
            &self.comm
        }
    }

    /// The entry rendered as an RFC 3339 syslog line: the event's evidence line, so an
    /// event from the journal reads like one from auth.log.
    pub fn as_syslog_line(&self) -> String {
        let ts = self
            .timestamp
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into());
        match self.pid {
            Some(pid) => format!(
                "{ts} {} {}[{pid}]: {}",
                self.hostname,
                self.program(),
                self.message
            ),
            None => format!(
                "{ts} {} {}: {}",
                self.hostname,
                self.program(),
                self.message
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_journal_fields() {
        let line = r#"{"__CURSOR":"s=abc;i=1","__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"deb12","SYSLOG_IDENTIFIER":"sshd","_COMM":"sshd","_PID":"4242","MESSAGE":"Failed password for root from 203.0.113.9 port 22 ssh2","_TRANSPORT":"syslog"}"#;
        let e = Entry::from_json(line).unwrap();
        assert_eq!(e.program(), "sshd");
        assert_eq!(e.pid, Some(4242));
        assert_eq!(
            e.timestamp,
            Some(Timestamp::from_micros(1_700_000_000_123_456))
        );
        assert_eq!(e.cursor.as_deref(), Some("s=abc;i=1"));
        assert_eq!(e.as_syslog_line(), "2023-11-14T22:13:20.123456Z deb12 sshd[4242]: Failed password for root from 203.0.113.9 port 22 ssh2");
    }

    #[test]
    fn binary_messages_and_kernel_transport() {
        let line = r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,105,255],"_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel"}"#;
        let e = Entry::from_json(line).unwrap();
        assert_eq!(e.message, "hi\u{fffd}");
        assert_eq!(e.program(), "kernel");
        assert!(Entry::from_json("not json").is_none());
        assert!(Entry::from_json(r#"{"NO_MESSAGE":1}"#).is_none());
    }
}

/// The arguments for `journalctl` to follow the journal from a saved cursor (exclusive),
/// from its start, or from now.
pub fn follow_args(cursor: Option<&str>, from_beginning: bool) -> Vec<String> {
    let mut args: Vec<String> = ["--output=json", "--follow", "--no-pager", "--quiet"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match cursor {
        Some(c) => args.push(format!("--after-cursor={c}")),
        None if from_beginning => args.push("--no-tail".into()),
        None => args.push("--lines=0".into()),
    }
    args
}

/// The name under which the journal cursor is checkpointed.
pub const CHECKPOINT: &str = "journald";

/// A running `journalctl --follow`, read line by line.
pub struct Follower {
    child: std::process::Child,
    reader: std::io::BufReader<std::process::ChildStdout>,
}

/// `journalctl` could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot run journalctl ({0}); install systemd's journalctl or set `journald: off`")]
pub struct SpawnError(#[source] std::io::Error);

impl Follower {
    /// Starts `journalctl` (looked up on PATH, or `PICKET_JOURNALCTL`) without a shell.
    pub fn spawn(cursor: Option<&str>, from_beginning: bool) -> Result<Follower, SpawnError> {
        let program = std::env::var_os("PICKET_JOURNALCTL").unwrap_or_else(|| "journalctl".into());
        let mut child = std::process::Command::new(program)
            .args(follow_args(cursor, from_beginning))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(SpawnError)?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SpawnError(std::io::Error::other("no stdout pipe")))?;
        Ok(Follower {
            child,
            reader: std::io::BufReader::with_capacity(256 * 1024, stdout),
        })
    }

    /// Reads the next line (without `\n`) into `buf`; `Ok(false)` when journalctl ended.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        use std::io::BufRead;
        buf.clear();
        let n = self.reader.read_until(b'\n', buf)?;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(n > 0)
    }

    /// True when more output is already buffered (so a batch can wait for it).
    pub fn has_buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod follow_tests {
    use super::*;

    #[test]
    fn resumes_after_the_saved_cursor_or_starts_at_now() {
        assert!(follow_args(Some("s=1;i=2"), false).contains(&"--after-cursor=s=1;i=2".to_string()));
        assert!(follow_args(None, false).contains(&"--lines=0".to_string()));
        assert!(follow_args(None, true).contains(&"--no-tail".to_string()));
    }
}
