//! Which kind of input a file or stream is: syslog text, dpkg.log, or a `journalctl -o json`
//! export. Decided from the name first and the content second, so `picket replay` needs
//! no flags for the common cases.

use std::path::Path;

/// The input families `picket replay` and `picket run` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// Syslog text (auth.log, syslog, kern.log, messages): RFC 3339, BSD or RFC 5424 headers.
    Syslog,
    /// `/var/log/dpkg.log`.
    Dpkg,
    /// One JSON object per line, as `journalctl -o json` writes.
    JournalJson,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Syslog => "syslog",
            InputFormat::Dpkg => "dpkg",
            InputFormat::JournalJson => "journal-json",
        }
    }

    /// Guesses from the file name alone; `None` when the name says nothing.
    pub fn from_name(path: &Path) -> Option<InputFormat> {
        let name = path.file_name()?.to_str()?;
        if name.starts_with("dpkg.log") {
            return Some(InputFormat::Dpkg);
        }
        if name.ends_with(".json")
            || name.ends_with(".jsonl")
            || name.contains("journal") && name.contains("json")
        {
            return Some(InputFormat::JournalJson);
        }
        None
    }

    /// Guesses from the first non-empty lines of content.
    pub fn from_content(head: &[u8]) -> InputFormat {
        for line in head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        {
            let line = trim_ascii_start(line);
            if line.is_empty() {
                continue;
            }
            if line.first() == Some(&b'{') {
                return InputFormat::JournalJson;
            }
            if super::dpkg::looks_like_dpkg(line) {
                return InputFormat::Dpkg;
            }
            return InputFormat::Syslog;
        }
        InputFormat::Syslog
    }

    /// Name first, then content.
    pub fn detect(path: &Path, head: &[u8]) -> InputFormat {
        InputFormat::from_name(path).unwrap_or_else(|| InputFormat::from_content(head))
    }
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_then_content() {
        assert_eq!(
            InputFormat::from_name(Path::new("/var/log/dpkg.log.1")),
            Some(InputFormat::Dpkg)
        );
        assert_eq!(InputFormat::from_name(Path::new("/var/log/auth.log")), None);
        assert_eq!(
            InputFormat::from_content(b"\n{\"MESSAGE\":\"x\"}\n"),
            InputFormat::JournalJson
        );
        assert_eq!(
            InputFormat::from_content(b"2026-11-21 10:00:01 install foo:amd64 <none> 1.0\n"),
            InputFormat::Dpkg
        );
        assert_eq!(
            InputFormat::from_content(b"Dec 10 06:55:46 LabSZ sshd[24200]: x\n"),
            InputFormat::Syslog
        );
    }
}
