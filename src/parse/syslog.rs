//! The syslog header: timestamp, host, program tag and pid, in front of every line of
//! auth.log, syslog, kern.log and /var/log/messages.
//!
//! Styles understood: RFC 3339 (`2026-11-21T11:45:39.328904+00:00 host sshd[8018]: msg`,
//! Debian 12+ rsyslog), BSD (`Dec 10 06:55:46 host sshd[24200]: msg`), RFC 5424
//! (`<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - - msg`), an optional `<PRI>`
//! in front of the first two, and old tags such as `sshd(pam_unix)[19939]:` and `[sshd]:`.
//! This module only splits; it never interprets the message.

use crate::base::timestamp::{parse_bsd_prefix, parse_rfc3339_prefix, Timestamp, YearlessStamp};

/// The header's timestamp, before a BSD stamp has been given its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Absolute(Timestamp),
    Yearless(YearlessStamp),
}

/// A split syslog line. All slices borrow from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub stamp: Stamp,
    pub host: &'a str,
    /// The tag as logged, without pid: `sshd`, `sshd-session`, `sshd(pam_unix)`, `kernel`.
    pub program: &'a str,
    pub pid: Option<u32>,
    pub message: &'a str,
}

fn skip_spaces(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

fn word(s: &str, i: usize) -> (&str, usize) {
    let rest = &s[i..];
    let end = memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
    (&rest[..end], i + end)
}

fn parse_pid(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let mut v: u32 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

/// Splits a syslog line. `None` when the line has no recognizable header.
pub fn split(line: &str) -> Option<Header<'_>> {
    let mut start = 0;
    let b = line.as_bytes();
    // Optional `<PRI>` (RFC 3164 on the wire, and RFC 5424).
    if b.first() == Some(&b'<') {
        let close = memchr::memchr(b'>', &b[..b.len().min(6)])?;
        if !b[1..close].iter().all(u8::is_ascii_digit) || close == 1 {
            return None;
        }
        start = close + 1;
        if b.get(start) == Some(&b'1') && b.get(start + 1) == Some(&b' ') {
            return split_rfc5424(line, start + 2);
        }
    }
    let rest = &b[start..];
    let (stamp, used) = if let Some((ts, n)) = parse_rfc3339_prefix(rest) {
        (Stamp::Absolute(ts), n)
    } else if let Some((ys, n)) = parse_bsd_prefix(rest) {
        (Stamp::Yearless(ys), n)
    } else {
        return None;
    };
    let mut i = start + used;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i = skip_spaces(line, i);
    // Some writers (syslog-ng with year, old klogd) put the year after a BSD stamp.
    // The host comes next, unless the line goes straight to the tag (`[sshd]: …`,
    // `Jun 21 … sshd[1]: …` without a host is not a format rsyslog writes).
    let (first, after_first) = word(line, i);
    if first.is_empty() {
        return None;
    }
    // `[sshd]` with no colon after it (old syslogds) is a tag with no host before it.
    if first.len() > 2 && first.starts_with('[') && first.ends_with(']') {
        let message = line.get(after_first + 1..).unwrap_or("");
        return Some(Header {
            stamp,
            host: "",
            program: &first[1..first.len() - 1],
            pid: None,
            message,
        });
    }
    let (host, tag_start) =
        if first.ends_with(':') || first.starts_with('[') && first.ends_with("]:") {
            ("", i)
        } else {
            (first, skip_spaces(line, after_first))
        };
    split_tag(line, tag_start).map(|(program, pid, message)| Header {
        stamp,
        host,
        program,
        pid,
        message,
    })
}

/// Splits `prog[pid]: msg`, `prog: msg`, `prog(pam_unix)[pid]: msg` or `[prog]: msg` at `i`.
fn split_tag(line: &str, i: usize) -> Option<(&str, Option<u32>, &str)> {
    let rest = &line[i..];
    // The tag ends at the first ": " (or ":" at end of line) before any space.
    let sp = memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
    let tag_with_colon = &rest[..sp];
    let Some(tag) = tag_with_colon.strip_suffix(':') else {
        return versioned_tag(line, i, sp);
    };
    let msg_start = (i + sp + 1).min(line.len());
    let message = &line[msg_start..];
    if tag.is_empty() {
        return None;
    }
    if let Some(inner) = tag.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        // `[sshd]:` — an old syslogd's tag with no pid.
        return Some((inner, None, message));
    }
    if let Some(open) = memchr::memrchr(b'[', tag.as_bytes()) {
        let close = tag.len() - 1;
        if tag.as_bytes()[close] == b']' && open > 0 {
            let pid = parse_pid(&tag[open + 1..close]);
            return Some((&tag[..open], pid, message));
        }
    }
    Some((tag, None, message))
}

/// `syslogd 1.4.1: restart.` — sysklogd marks its own lines with its version after the
/// name. `sp` is the end of the name.
fn versioned_tag(line: &str, i: usize, sp: usize) -> Option<(&str, Option<u32>, &str)> {
    let name = &line[i..i + sp];
    let after = line.get(i + sp + 1..)?;
    let (version, message) = after.split_once(' ').unwrap_or((after, ""));
    let version = version.strip_suffix(':')?;
    let is_version =
        !version.is_empty() && version.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    (is_version && !name.is_empty()).then_some((name, None, message))
}

/// RFC 5424: `TIMESTAMP HOST APP PROCID MSGID [SD] MSG` after `<PRI>1 `.
fn split_rfc5424(line: &str, i: usize) -> Option<Header<'_>> {
    let (ts_s, i) = word(line, i);
    let stamp = Stamp::Absolute(Timestamp::parse_rfc3339(ts_s)?);
    let (host, i) = word(line, skip_spaces(line, i));
    let (app, i) = word(line, skip_spaces(line, i));
    let (procid, i) = word(line, skip_spaces(line, i));
    let (_msgid, i) = word(line, skip_spaces(line, i));
    let mut i = skip_spaces(line, i);
    // Structured data: `-` or one or more `[...]` elements.
    if line[i..].starts_with('-') {
        i += 1;
    } else {
        while line[i..].starts_with('[') {
            i += sd_element_len(&line[i..])?;
        }
    }
    let i = skip_spaces(line, i);
    let message = line[i..].strip_prefix('\u{feff}').unwrap_or(&line[i..]);
    fn nil(s: &str) -> &str {
        if s == "-" {
            ""
        } else {
            s
        }
    }
    Some(Header {
        stamp,
        host: nil(host),
        program: nil(app),
        pid: parse_pid(procid),
        message,
    })
}

/// Length of one RFC 5424 SD-ELEMENT (`[id k="v" …]`) at the start of `s`. Inside a quoted
/// value `]` is data, and `\"`, `\\`, `\]` are escapes.
fn sd_element_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut in_quotes = false;
    let mut i = 1;
    while i < b.len() {
        match (b[i], in_quotes) {
            (b'\\', true) => i += 1,
            (b'"', _) => in_quotes = !in_quotes,
            (b']', false) => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_header() {
        let h = split("2026-11-21T11:45:39.328904+00:00 host sshd[8018]: Accepted publickey for a")
            .unwrap();
        assert_eq!(
            (h.host, h.program, h.pid, h.message),
            ("host", "sshd", Some(8018), "Accepted publickey for a")
        );
        assert!(matches!(h.stamp, Stamp::Absolute(_)));
    }

    #[test]
    fn bsd_header_and_odd_tags() {
        let h = split("Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping").unwrap();
        assert_eq!((h.host, h.program, h.pid), ("LabSZ", "sshd", Some(24200)));
        let h = split("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; x")
            .unwrap();
        assert_eq!((h.program, h.pid), ("sshd(pam_unix)", Some(19939)));
        let h = split("Mar  3 00:17:22 [sshd]: User root from 211.188.220.49 not allowed").unwrap();
        assert_eq!((h.host, h.program, h.pid), ("", "sshd", None));
        let h = split("Feb  4 23:33:37 hostname kernel: FIREWALL_OUT IN= OUT=eth0").unwrap();
        assert_eq!(
            (h.program, h.pid, h.message),
            ("kernel", None, "FIREWALL_OUT IN= OUT=eth0")
        );
        let h = split("Jul  3 14:59:17 host sshd-session[1571]: Failed password").unwrap();
        assert_eq!(h.program, "sshd-session");
    }

    #[test]
    fn versioned_tags() {
        let h = split("Jun 19 04:09:11 combo syslogd 1.4.1: restart.").unwrap();
        assert_eq!(
            (h.host, h.program, h.message),
            ("combo", "syslogd", "restart.")
        );
        assert!(split("Jun 19 04:09:11 combo syslogd one: restart.").is_none());
    }

    #[test]
    fn bracketed_tag_without_colon() {
        let h = split("Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed").unwrap();
        assert_eq!(
            (h.host, h.program, h.message),
            ("", "sshd", "User root from 1.2.3.4 not allowed")
        );
    }

    #[test]
    fn rfc5424_structured_data_with_brackets_in_values() {
        let h = split(r#"<38>1 2019-07-08T17:40:17.954167-04:00 h sshd 55555 - [timeQuality tzKnown="1"][x@1 t="[b\"r]"] Failed x"#).unwrap();
        assert_eq!(h.message, "Failed x");
    }

    #[test]
    fn rfc5424_header() {
        let h = split(
            "<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - - Failed password for x",
        )
        .unwrap();
        assert_eq!(
            (h.host, h.program, h.pid, h.message),
            ("host", "sshd", Some(57915), "Failed password for x")
        );
    }

    #[test]
    fn garbage_is_not_a_header() {
        for l in [
            "",
            "hello world",
            "Dec",
            "Dec 10 06:55:46",
            "<999999>x",
            "2026-11-21T11:45:39Z",
        ] {
            assert!(split(l).is_none(), "{l:?}");
        }
    }
}
