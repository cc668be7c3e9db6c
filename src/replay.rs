//! Offline processing of whole inputs: the engine behind `picket replay` and the corpus
//! tests. Reads a file or stdin as a stream (constant memory whatever its size), detects
//! its family, and hands every event to a sink.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::base::lines::for_each_line;
use crate::base::timestamp::{LocalZone, Timestamp};
use crate::model::event::Event;
use crate::parse::{InputFormat, Normalizer, Stats};

/// One input of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// `-` is stdin; anything else a path.
    pub fn from_arg(arg: &Path) -> Input {
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(arg.to_path_buf())
        }
    }
    /// The `source` recorded in events.
    pub fn source(&self) -> String {
        match self {
            Input::Stdin => "stdin".into(),
            Input::File(p) => format!("file:{}", p.display()),
        }
    }
}

/// Why an input could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {source}{hint}")]
    Open {
        path: PathBuf,
        source: io::Error,
        hint: &'static str,
    },
    #[error("error reading {path} after {bytes} bytes: {source}")]
    Read {
        path: String,
        bytes: u64,
        source: io::Error,
    },
}

/// A fix to suggest for an I/O error on a log file.
pub fn permission_hint(e: &io::Error) -> &'static str {
    if e.kind() == io::ErrorKind::PermissionDenied {
        " (logs under /var/log are readable by root and the `adm` group: run as root, or `sudo usermod -aG adm $USER` and log in again)"
    } else {
        ""
    }
}

/// Options that apply to every input of a replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Zone of BSD stamps and dpkg.log.
    pub zone: LocalZone,
    /// Forces the input family instead of detecting it.
    pub format: Option<InputFormat>,
    /// "Now" for year inference; default: the file's modification time (stdin: the clock).
    pub reference: Option<Timestamp>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            zone: LocalZone::system(),
            format: None,
            reference: None,
        }
    }
}

/// What a replay of one input did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub source: String,
    pub format: InputFormat,
    pub bytes: u64,
    pub stats: Stats,
}

/// Events are handed to the sink in batches of about this many lines' worth.
const SINK_BATCH: usize = 4096;

/// Replays one input, calling `sink` with each batch of events and `progress` with the
/// bytes read so far.
pub fn replay(
    input: &Input,
    opts: &ReplayOptions,
    mut sink: impl FnMut(&[Event]),
    mut progress: impl FnMut(u64),
) -> Result<Summary, ReplayError> {
    let source = input.source();
    let (reader, reference, name): (Box<dyn Read>, Timestamp, PathBuf) = match input {
        Input::Stdin => (
            Box::new(io::stdin().lock()),
            Timestamp::now(),
            PathBuf::from("-"),
        ),
        Input::File(path) => {
            let file = File::open(path).map_err(|e| ReplayError::Open {
                path: path.clone(),
                hint: permission_hint(&e),
                source: e,
            })?;
            let mtime = file
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| Timestamp::from_micros(d.as_micros() as i64))
                .unwrap_or_else(Timestamp::now);
            (Box::new(file), mtime, path.clone())
        }
    };
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let read_err = |bytes, source| ReplayError::Read {
        path: source_name(&name),
        bytes,
        source,
    };
    let head = reader.fill_buf().map_err(|e| read_err(0, e))?;
    let format = opts
        .format
        .unwrap_or_else(|| InputFormat::detect(&name, head));
    let mut normalizer = Normalizer::new(
        format,
        &source,
        opts.zone.clone(),
        opts.reference.unwrap_or(reference),
    );
    let mut events = Vec::with_capacity(SINK_BATCH);
    let mut lines_in_batch = 0usize;
    let mut bytes = 0u64;
    let result = for_each_line(&mut reader, |line| {
        bytes += line.len() as u64 + 1;
        normalizer.push_line(line, &mut events);
        lines_in_batch += 1;
        if lines_in_batch >= SINK_BATCH {
            sink(&events);
            events.clear();
            lines_in_batch = 0;
            progress(bytes);
        }
    });
    sink(&events);
    progress(bytes);
    let bytes = result.map_err(|e| read_err(bytes, e))?;
    Ok(Summary {
        source,
        format,
        bytes,
        stats: normalizer.stats().clone(),
    })
}

fn source_name(p: &Path) -> String {
    if p.as_os_str() == "-" {
        "stdin".into()
    } else {
        p.display().to_string()
    }
}

/// Replays an in-memory text (tests and rule tests).
pub fn replay_text(
    text: &str,
    format: InputFormat,
    zone: LocalZone,
    reference: Timestamp,
) -> (Vec<Event>, Stats) {
    let mut n = Normalizer::new(format, "inline", zone, reference);
    let mut out = Vec::new();
    for_each_line(text.as_bytes(), |l| {
        n.push_line(l, &mut out);
    })
    .expect("reading from memory cannot fail");
    (out, n.stats().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_a_file_and_reports_what_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(
            &p,
            "Dec 10 06:55:46 h sshd[1]: Server listening on 0.0.0.0 port 22.\nnot a log line\n",
        )
        .unwrap();
        let mut n = 0;
        let s = replay(
            &Input::File(p),
            &ReplayOptions {
                zone: LocalZone::utc(),
                ..Default::default()
            },
            |e| n += e.len(),
            |_| {},
        )
        .unwrap();
        assert_eq!(s.format, InputFormat::Syslog);
        assert_eq!(s.stats.lines, 2);
        assert_eq!(s.stats.unparsable, 1);
    }

    #[test]
    fn unreadable_files_name_the_file() {
        let err = replay(
            &Input::File("/nonexistent/auth.log".into()),
            &ReplayOptions::default(),
            |_| {},
            |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/auth.log"), "{err}");
    }
}
