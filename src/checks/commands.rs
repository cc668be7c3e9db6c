//! The read-only commands a check may run, and running them safely.
//!
//! Only the command lines in [`ALLOWLIST`] run, each mapped to a fixed program and fixed
//! arguments (nothing from a check reaches an argument vector, and there is no shell).
//! They run only when the audited root is `/`: under another root the host is an image
//! or a fixture, and this machine's firewall or sshd says nothing about it. The program
//! is looked for in fixed system directories (not `$PATH`), with an empty environment
//! but for `PATH` and `LC_ALL=C`, stdin closed, a [`TIMEOUT`], and at most
//! [`MAX_OUTPUT`] bytes kept of each output stream.
//!
//! Owns: the allowlist and process handling. Must not: take arguments from callers.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::host::Host;

/// A command a check may run: the line a check names, the program and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub line: &'static str,
    pub program: &'static str,
    pub args: &'static [&'static str],
    pub doc: &'static str,
}

/// Every command a check can run.
pub const ALLOWLIST: &[Allowed] = &[
    Allowed {
        line: "sshd -T",
        program: "sshd",
        args: &["-T"],
        doc: "sshd's effective configuration (needs root and the host keys)",
    },
    Allowed {
        line: "nft list ruleset",
        program: "nft",
        args: &["list", "ruleset"],
        doc: "the loaded nftables ruleset (needs root)",
    },
    Allowed {
        line: "iptables -S",
        program: "iptables",
        args: &["-S"],
        doc: "the loaded iptables rules of the filter table (needs root)",
    },
];

/// How long a command may run before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes kept of stdout and of stderr; the rest is read and dropped.
pub const MAX_OUTPUT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("`{0}` is not an allowed command (allowed: sshd -T, nft list ruleset, iptables -S)")]
    NotAllowed(String),
    #[error("`{0}` not run: the audited root is not / (an image is not the running host)")]
    NotRunningHost(String),
    #[error("`{0}` not run: {1} is not installed")]
    NotInstalled(String, &'static str),
    #[error("`{line}` could not be started: {source}")]
    Spawn {
        line: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` killed after {1:?}")]
    TimedOut(String, Duration),
}

/// What a command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub line: String,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// An output stream was longer than [`MAX_OUTPUT`].
    pub truncated: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// The allowlist entry for a command line (spaces normalised).
pub fn allowed(line: &str) -> Option<&'static Allowed> {
    let words: Vec<&str> = line.split_whitespace().collect();
    ALLOWLIST
        .iter()
        .find(|a| a.line.split_whitespace().eq(words.iter().copied()))
}

pub use crate::base::programs::find_program;

/// Runs an allowlisted command on the running host.
pub fn run(host: &Host, line: &str) -> Result<Output, CommandError> {
    let a = allowed(line).ok_or_else(|| CommandError::NotAllowed(line.to_string()))?;
    if !host.is_running_system() {
        return Err(CommandError::NotRunningHost(a.line.to_string()));
    }
    let program =
        find_program(a.program).ok_or(CommandError::NotInstalled(a.line.to_string(), a.program))?;
    run_program(a.line, &program, a.args, TIMEOUT)
}

/// Runs `program args` with the limits described above.
fn run_program(
    line: &str,
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Output, CommandError> {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CommandError::Spawn {
            line: line.to_string(),
            source,
        })?;
    let out = child.stdout.take().map(capped_reader);
    let err = child.stderr.take().map(capped_reader);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let collect = |h: Option<std::thread::JoinHandle<(Vec<u8>, bool)>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    let (stdout, t1) = collect(out);
    let (stderr, t2) = collect(err);
    let Some(status) = status else {
        return Err(CommandError::TimedOut(line.to_string(), timeout));
    };
    Ok(Output {
        line: line.to_string(),
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        truncated: t1 || t2,
    })
}

/// Reads a pipe to its end on a thread, keeping at most [`MAX_OUTPUT`] bytes (draining
/// the rest so the child is never blocked on a full pipe).
fn capped_reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_OUTPUT - kept.len();
                    if n > room {
                        truncated = true;
                    }
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        (kept, truncated)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowlisted_lines_run() {
        assert_eq!(allowed("nft  list ruleset").unwrap().program, "nft");
        assert!(allowed("nft list ruleset; rm -rf /").is_none());
        assert!(allowed("nft flush ruleset").is_none());
        assert!(allowed("sh -c id").is_none());
        let t = tempfile::tempdir().unwrap();
        let h = Host::new(t.path()).unwrap();
        assert!(matches!(
            run(&h, "cat /etc/shadow"),
            Err(CommandError::NotAllowed(_))
        ));
        // Another root is an image: nothing runs.
        assert!(matches!(
            run(&h, "nft list ruleset"),
            Err(CommandError::NotRunningHost(_))
        ));
    }

    #[test]
    fn output_is_kept_and_capped_and_slow_commands_are_killed() {
        let o = run_program("t", Path::new("/bin/echo"), &["hello"], TIMEOUT).unwrap();
        assert_eq!((o.code, o.stdout.as_str()), (Some(0), "hello\n"));
        assert!(!o.truncated);
        // `head -c` of /dev/zero: more than the cap.
        let big = (MAX_OUTPUT + 10).to_string();
        let o = run_program(
            "t",
            Path::new("/usr/bin/head"),
            &["-c", &big, "/dev/zero"],
            TIMEOUT,
        )
        .unwrap();
        assert!(o.truncated);
        assert_eq!(o.stdout.len(), MAX_OUTPUT);
        let started = Instant::now();
        let e = run_program(
            "t",
            Path::new("/bin/sleep"),
            &["5"],
            Duration::from_millis(100),
        )
        .unwrap_err();
        assert!(matches!(e, CommandError::TimedOut(..)));
        assert!(started.elapsed() < Duration::from_secs(3));
        // The environment is not inherited.
        let o = run_program("t", Path::new("/usr/bin/env"), &[], TIMEOUT).unwrap();
        let mut vars: Vec<&str> = o.stdout.lines().collect();
        vars.sort();
        assert_eq!(vars, ["LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
    }
}
