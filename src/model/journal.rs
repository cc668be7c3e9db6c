//! A systemd journal entry, reduced to the fields the parsers read (`MESSAGE`,
//! `SYSLOG_IDENTIFIER`, `_COMM`, `_PID`, `__REALTIME_TIMESTAMP`, `_HOSTNAME`, `_TRANSPORT`,
//! `__CURSOR`), and its decoding from `journalctl -o json`. The journal source reads
//! them; the parsers map them onto the same message parsers as syslog lines.

use serde_json::Value;

use crate::base::timestamp::Timestamp;

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
