//! dpkg.log: `2026-11-21 10:00:01 install foo:amd64 <none> 1.0-1`, in local time.
//!
//! One package action is one event:
//!
//! * `install PKG:ARCH <none> NEW` → `PACKAGE_INSTALLED` (version NEW);
//! * `upgrade PKG:ARCH OLD NEW` → `PACKAGE_UPGRADED` (version NEW, extra old_version);
//!   dpkg also writes `upgrade` for a reinstall of the same version;
//! * `remove PKG:ARCH OLD <none>` and `purge PKG:ARCH OLD <none>` → `PACKAGE_REMOVED`
//!   (version OLD, extra action `remove`/`purge`). Purging an installed package is two dpkg
//!   actions and logs both lines, so it gives two events told apart by `extra.action`; a
//!   rule counting removals should match `action=remove`.
//!
//! `status …`, `configure …`, `trigproc …`, `startup …` and `conffile …` lines describe
//! the steps of those actions and are [`Parsed::Ignored`]. `package` is the name without
//! the architecture, which goes to `extra.arch`; `program` is `dpkg`.

use crate::base::timestamp::{parse_naive_datetime_prefix, LocalZone};
use crate::model::event::{Event, EventType};

use super::Parsed;

/// The action words dpkg.log lines carry after the timestamp.
const ACTIONS: &[&str] = &[
    "install",
    "upgrade",
    "remove",
    "purge",
    "status",
    "configure",
    "trigproc",
    "startup",
    "conffile",
];

/// True when a line has dpkg.log's shape (used for format detection): a
/// `YYYY-MM-DD HH:MM:SS ` stamp followed by one of dpkg's action words.
pub fn looks_like_dpkg(line: &[u8]) -> bool {
    if line.len() <= 20 || line[10] != b' ' || line[19] != b' ' {
        return false;
    }
    if parse_naive_datetime_prefix(line).map(|(_, n)| n) != Some(19) {
        return false;
    }
    let rest = &line[20..];
    let word_end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
    let word = &rest[..word_end];
    ACTIONS.iter().any(|a| a.as_bytes() == word)
}

/// Parses one dpkg.log line. `None` when it is not dpkg.log's shape.
pub fn parse_line(
    line: &str,
    source: &str,
    zone: &mut LocalZone,
    out: &mut Vec<Event>,
) -> Option<Parsed> {
    let (civil, used) = parse_naive_datetime_prefix(line.as_bytes())?;
    if used != 19 {
        return None;
    }
    let rest = line[used..].strip_prefix(' ')?;
    let mut words = rest.split(' ');
    let action = words.next()?;
    let kind = match action {
        "install" => EventType::PackageInstalled,
        "upgrade" => EventType::PackageUpgraded,
        "remove" | "purge" => EventType::PackageRemoved,
        "status" | "configure" | "trigproc" | "startup" | "conffile" => {
            return Some(Parsed::Ignored)
        }
        _ => return Some(Parsed::Unknown),
    };
    let (Some(pkg), Some(old), Some(new)) = (words.next(), words.next(), words.next()) else {
        return Some(Parsed::Unknown);
    };
    if pkg.is_empty() || words.next().is_some() {
        return Some(Parsed::Unknown);
    }
    let (name, arch) = match pkg.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (pkg, None),
    };
    if name.is_empty() {
        return Some(Parsed::Unknown);
    }
    let known = |v: &str| (!v.is_empty() && v != "<none>").then(|| v.to_string());
    let ts = zone.to_utc(&civil);
    let mut e = Event::new(ts, kind, source, line);
    e.program = Some(std::sync::Arc::from("dpkg"));
    e.package = Some(name.to_string());
    if let Some(a) = arch.filter(|a| !a.is_empty()) {
        e.extra.insert("arch".into(), a.to_string());
    }
    match kind {
        EventType::PackageRemoved => {
            e.version = known(old);
            e.extra.insert("action".into(), action.to_string());
        }
        EventType::PackageUpgraded => {
            e.version = known(new);
            if let Some(o) = known(old) {
                e.extra.insert("old_version".into(), o);
            }
        }
        _ => e.version = known(new),
    }
    out.push(e);
    Some(Parsed::Events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::timestamp::Timestamp;

    fn run(line: &str, zone: &mut LocalZone) -> (Option<Parsed>, Vec<Event>) {
        let mut out = Vec::new();
        let r = parse_line(line, "file:/var/log/dpkg.log", zone, &mut out);
        (r, out)
    }
    fn one(line: &str) -> Event {
        let (r, mut out) = run(line, &mut LocalZone::utc());
        assert_eq!(r, Some(Parsed::Events), "{line}");
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    #[test]
    fn actions() {
        let e = one("2026-11-21 10:00:01 install foo:amd64 <none> 1.2-1");
        assert_eq!(e.kind, EventType::PackageInstalled);
        assert_eq!(e.package.as_deref(), Some("foo"));
        assert_eq!(e.version.as_deref(), Some("1.2-1"));
        assert_eq!(e.extra["arch"], "amd64");
        assert_eq!(e.program.as_deref(), Some("dpkg"));
        assert_eq!(
            e.ts,
            Timestamp::parse_rfc3339("2026-11-21T10:00:01Z").unwrap()
        );
        let e = one("2026-11-21 10:00:02 upgrade libssl3:amd64 3.0.11-1~deb12u1 3.0.11-1~deb12u2");
        assert_eq!(e.kind, EventType::PackageUpgraded);
        assert_eq!(e.version.as_deref(), Some("3.0.11-1~deb12u2"));
        assert_eq!(e.extra["old_version"], "3.0.11-1~deb12u1");
        let e = one("2026-11-21 10:00:03 remove foo:amd64 1.2-1 <none>");
        assert_eq!(e.kind, EventType::PackageRemoved);
        assert_eq!(e.version.as_deref(), Some("1.2-1"));
        assert_eq!(e.extra["action"], "remove");
        let e = one("2026-11-21 10:00:04 purge foo:amd64 1.2-1 <none>");
        assert_eq!(e.extra["action"], "purge");
        let e = one("2010-03-01 10:00:00 install bar <none> 2.0");
        assert_eq!(e.package.as_deref(), Some("bar"));
        assert!(!e.extra.contains_key("arch"));
        let e = one("2026-11-21 10:00:05 install tzdata:all <none> 2024a-0+deb12u1");
        assert_eq!(e.extra["arch"], "all");
    }

    #[test]
    fn steps_are_ignored_and_other_shapes_rejected() {
        let mut z = LocalZone::utc();
        for l in [
            "2026-11-21 10:00:01 startup archives unpack",
            "2026-11-21 10:00:01 startup packages configure",
            "2026-11-21 10:00:01 status half-configured foo:amd64 1.2-1",
            "2026-11-21 10:00:01 status installed foo:amd64 1.2-1",
            "2026-11-21 10:00:01 configure foo:amd64 1.2-1 <none>",
            "2026-11-21 10:00:01 trigproc man-db:amd64 2.11.2-2 <none>",
            "2026-11-21 10:00:01 conffile /etc/foo.conf keep",
        ] {
            assert_eq!(run(l, &mut z).0, Some(Parsed::Ignored), "{l}");
        }
        assert_eq!(run("Dec 10 06:55:46 h sshd[1]: x", &mut z).0, None);
        assert_eq!(run("", &mut z).0, None);
        assert_eq!(
            run("2026-11-21 10:00:01 frobnicate x", &mut z).0,
            Some(Parsed::Unknown)
        );
        assert_eq!(
            run("2026-11-21 10:00:01 install foo:amd64", &mut z).0,
            Some(Parsed::Unknown)
        );
    }

    #[test]
    fn local_time_is_converted() {
        let mut z = LocalZone::named("Europe/Zurich").unwrap();
        let (_, out) = run("2026-07-01 12:00:00 install foo:amd64 <none> 1", &mut z);
        assert_eq!(
            out[0].ts,
            Timestamp::parse_rfc3339("2026-07-01T10:00:00Z").unwrap()
        );
    }

    #[test]
    fn shape_detection() {
        assert!(looks_like_dpkg(
            b"2026-11-21 10:00:01 install foo:amd64 <none> 1.0"
        ));
        assert!(looks_like_dpkg(
            b"2026-11-21 10:00:01 startup archives unpack"
        ));
        assert!(!looks_like_dpkg(
            b"2026-11-21 10:00:01 myhost sshd[1]: Accepted"
        ));
        assert!(!looks_like_dpkg(b"2026-11-21T10:00:01 install foo"));
        assert!(!looks_like_dpkg(b"Dec 10 06:55:46 LabSZ sshd[24200]: x"));
        assert!(!looks_like_dpkg(b"short"));
    }

    #[test]
    fn hostile_and_prefixes() {
        let x = "<img src=x onerror=alert(1)>";
        let line = format!("2026-11-21 10:00:01 install {x}:amd64 <none> 1");
        let mut z = LocalZone::utc();
        let (r, out) = run(&line, &mut z);
        // The name has spaces, so the line has too many fields.
        assert_eq!(r, Some(Parsed::Unknown));
        assert!(out.is_empty());
        let e = one("2026-11-21 10:00:01 install <script>:amd64 <none> <b>");
        assert_eq!(e.package.as_deref(), Some("<script>"));
        for l in [
            "2026-11-21 10:00:02 upgrade libssl3:amd64 3.0.11-1~deb12u1 3.0.11-1~deb12u2",
            "2026-11-21 10:00:03 remove föo:amd64 1.2-1 <none>",
        ] {
            for (i, _) in l.char_indices() {
                let _ = run(&l[..i], &mut z);
                let _ = looks_like_dpkg(&l.as_bytes()[..i]);
            }
        }
    }
}
