//! The systemd journal as a source: entries from `journalctl -o json`, mapped onto the same
//! message parsers as syslog lines.
//!
//! A fresh Debian 12 has no /var/log/auth.log (rsyslog is not installed), so this is the
//! only place its sshd failures can be read. This module owns the mapping of journal fields
//! (`MESSAGE`, `SYSLOG_IDENTIFIER`, `_COMM`, `_PID`, `__REALTIME_TIMESTAMP`, `_HOSTNAME`,
//! `__CURSOR`) and the follower process; it does not parse messages. The entry's shape is
//! [`crate::model::journal::Entry`].

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
