//! sudo: commands run, denied and failed.
//!
//! sudo logs one line per decision, `user : [reason ; ]TTY=… ; PWD=… ; USER=… ; COMMAND=…`:
//!
//! * `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash` — allowed:
//!   one `SUDO` event, outcome `success`;
//! * `alice : command not allowed ; …`, `alice : user NOT in sudoers ; …`,
//!   `alice : user NOT authorized on host ; …`, `alice : 3 incorrect password attempts ; …`,
//!   `alice : a password is required ; …` — refused: one `SUDO` event, outcome `failure`,
//!   with `extra.reason` (and `extra.attempts` when the line counts them).
//!
//! Counting: that decision line is the only line that makes an event. The PAM lines sudo
//! also writes for the same invocation (`pam_unix(sudo:auth): authentication failure`,
//! `pam_unix(sudo:session): session opened …`, `pam_systemd(sudo-i:session) …`) are
//! [`Parsed::Ignored`] here, so the PAM fallback never turns a sudo password typo into a
//! second, login-shaped event. `COMMAND=` is the last field sudo writes, so everything after
//! it, ` ; ` included, is the command.

use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType, Outcome};

#[derive(Default)]
pub struct Sudo {}

/// Fields sudo writes before `COMMAND=` that are kept as `extra` (wire key, logged key).
const KEPT: &[(&str, &str)] = &[
    ("tty", "TTY="),
    ("pwd", "PWD="),
    ("group", "GROUP="),
    ("env", "ENV="),
    ("chroot", "CHROOT="),
    ("cwd", "CWD="),
];

impl MessageParser for Sudo {
    fn id(&self) -> &'static str {
        "sudo"
    }
    fn doc(&self) -> &'static str {
        "sudo: commands run, denied and failed"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["sudo"]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        parse(ctx, message, out)
    }
}

/// True for `pam_xxx(sudo:…)` / `pam_xxx(sudo-i:…)`: PAM's echo of a sudo invocation.
fn is_sudo_pam_echo(message: &str) -> bool {
    let Some(rest) = message.strip_prefix("pam_") else {
        return false;
    };
    let Some((_, service)) = rest.split_once('(') else {
        return false;
    };
    service.starts_with("sudo:") || service.starts_with("sudo-i:")
}

fn parse(ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
    if is_sudo_pam_echo(message) || ctx.tag.contains("(pam_") {
        return Parsed::Ignored;
    }
    let body = message.trim_start();
    let Some((user, rest)) = body.split_once(" : ") else {
        return other(body);
    };
    let user = user.trim();
    if user.is_empty() {
        return Parsed::Unknown;
    }
    if rest.starts_with("(command continued)") {
        // sudo splits commands longer than its syslog line limit; the first part made
        // the event.
        return Parsed::Ignored;
    }
    // The command is everything after the first `COMMAND=` at a field start.
    let (fields, command) = match find_field(rest, "COMMAND=") {
        Some(at) => (&rest[..at], Some(&rest[at + "COMMAND=".len()..])),
        None => (rest, None),
    };
    let mut reason: Option<&str> = None;
    let mut target: Option<&str> = None;
    let mut seen_field = false;
    let mut kept: [Option<&str>; KEPT.len()] = [None; KEPT.len()];
    for part in fields.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some(v) = part.strip_prefix("USER=") {
            target = Some(v);
            seen_field = true;
            continue;
        }
        let mut matched = false;
        for (i, (_, key)) in KEPT.iter().enumerate() {
            if let Some(v) = part.strip_prefix(key) {
                kept[i] = Some(v);
                matched = true;
                break;
            }
        }
        if matched || is_key_value(part) {
            seen_field = true;
            continue;
        }
        if !seen_field && reason.is_none() {
            reason = Some(part);
        }
    }
    if command.is_none() && !seen_field {
        return Parsed::Unknown;
    }
    let mut e = ctx.event(EventType::Sudo);
    e.user = Some(user.to_string());
    e.target_user = target.filter(|t| !t.is_empty()).map(str::to_string);
    e.command = command
        .map(str::trim_end)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    for (i, (name, _)) in KEPT.iter().enumerate() {
        if let Some(v) = kept[i] {
            e.extra.insert((*name).into(), v.to_string());
        }
    }
    match reason {
        None => e.outcome = Some(Outcome::Success),
        Some(r) => {
            e.outcome = Some(Outcome::Failure);
            if let Some(n) = attempts(r) {
                e.extra.insert("attempts".into(), n.to_string());
            }
            e.extra.insert("reason".into(), r.to_string());
        }
    }
    out.push(e);
    Parsed::Events
}

/// Messages without `user : `: known sudo chatter is ignored, the rest is unknown.
fn other(body: &str) -> Parsed {
    const KNOWN: &[&str] = &[
        "unable to resolve host",
        "PAM ",
        "pam_",
        "auth could not identify password",
        "conversation failed",
        "sorry, you must have a tty",
        "unable to open",
        "unable to send audit message",
        "no valid sudoers sources found",
        "sudo_putenv",
    ];
    if KNOWN.iter().any(|k| body.starts_with(k)) {
        Parsed::Ignored
    } else {
        Parsed::Unknown
    }
}

/// Position of `key` at the start of a ` ; `-separated field (or of the whole text).
fn find_field(s: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = s[from..].find(key) {
        let at = from + pos;
        let before = s[..at].trim_end_matches(' ');
        if before.is_empty() || before.ends_with(';') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// `KEY=value` with an upper-case key: a sudo field this parser does not keep (`TSID=`…).
fn is_key_value(part: &str) -> bool {
    match part.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.bytes()
                    .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
        }
        None => false,
    }
}

/// `3 incorrect password attempts` → 3.
fn attempts(reason: &str) -> Option<u32> {
    let (n, rest) = reason.split_once(' ')?;
    if rest.starts_with("incorrect password attempt") {
        n.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(msg: &str) -> (Parsed, Vec<Event>) {
        crate::parse::feed_message(parse, "sudo", None, msg)
    }

    fn one(msg: &str) -> Event {
        let (r, mut out) = run(msg);
        assert_eq!(r, Parsed::Events, "{msg}");
        assert_eq!(out.len(), 1, "{msg}");
        out.pop().unwrap()
    }

    #[test]
    fn allowed_command() {
        let e = one(
            "    ubuntu : TTY=pts/1 ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/bin/apt-get update",
        );
        assert_eq!(e.kind, EventType::Sudo);
        assert_eq!(e.outcome, Some(Outcome::Success));
        assert_eq!(e.user.as_deref(), Some("ubuntu"));
        assert_eq!(e.target_user.as_deref(), Some("root"));
        assert_eq!(e.command.as_deref(), Some("/usr/bin/apt-get update"));
        assert_eq!(e.extra["tty"], "pts/1");
        assert_eq!(e.extra["pwd"], "/home/ubuntu");
        assert!(!e.extra.contains_key("reason"));
    }

    #[test]
    fn tsid_group_and_semicolons_in_command() {
        let e = one("cplummer : TTY=pts/2 ; PWD=/home/cplummer1 ; USER=root ; TSID=0000UM ; COMMAND=/bin/bash");
        assert_eq!(e.command.as_deref(), Some("/bin/bash"));
        let e = one("alice : TTY=pts/0 ; PWD=/ ; USER=postgres ; GROUP=adm ; ENV=A=1 ; COMMAND=/bin/sh -c 'a ; b ; USER=x'");
        assert_eq!(e.target_user.as_deref(), Some("postgres"));
        assert_eq!(e.extra["group"], "adm");
        assert_eq!(e.command.as_deref(), Some("/bin/sh -c 'a ; b ; USER=x'"));
    }

    #[test]
    fn denials() {
        let e = one("    mike : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls");
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.extra["reason"], "3 incorrect password attempts");
        assert_eq!(e.extra["attempts"], "3");
        let e = one("mike : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls");
        assert_eq!(e.extra["attempts"], "1");
        let e = one(
            "ddp2 : user NOT in sudoers ; TTY=ttypZ ; PWD=/home/ddp2 ; USER=root ; COMMAND=/bin/ls",
        );
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.extra["reason"], "user NOT in sudoers");
        assert!(!e.extra.contains_key("attempts"));
        let e = one("alice : command not allowed ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/passwd root");
        assert_eq!(e.extra["reason"], "command not allowed");
        assert_eq!(e.command.as_deref(), Some("/usr/bin/passwd root"));
        let e = one("alice : a password is required ; TTY=unknown ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id");
        assert_eq!(e.extra["reason"], "a password is required");
        assert_eq!(e.extra["tty"], "unknown");
        let e =
            one("bob : user NOT authorized on host ; TTY=pts/3 ; PWD=/ ; USER=root ; COMMAND=list");
        assert_eq!(e.outcome, Some(Outcome::Failure));
    }

    #[test]
    fn pam_echoes_and_chatter_are_ignored() {
        for m in [
            "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
            "pam_unix(sudo:session): session closed for user root",
            "pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
            "pam_unix(sudo-i:session): session opened for user root(uid=0) by alice(uid=1000)",
            "pam_systemd(sudo:session): Cannot create session: Already running in a session",
            "unable to resolve host web01: Name or service not known",
            "alice : (command continued) --more-args",
        ] {
            assert_eq!(run(m).0, Parsed::Ignored, "{m}");
        }
        assert_eq!(run("something else entirely").0, Parsed::Unknown);
        assert_eq!(run("a : b").0, Parsed::Unknown);
    }

    #[test]
    fn hostile_values_are_kept_as_data() {
        let xss = "<img src=x onerror=alert(1)>";
        let e = one(&format!(
            "{xss} : TTY=pts/0 ; PWD=/tmp/{xss} ; USER={xss} ; COMMAND=/bin/echo {xss}"
        ));
        assert_eq!(e.user.as_deref(), Some(xss));
        assert_eq!(e.target_user.as_deref(), Some(xss));
        assert_eq!(
            e.command.as_deref(),
            Some(format!("/bin/echo {xss}").as_str())
        );
    }

    #[test]
    fn prefixes_never_panic() {
        let lines = [
            "    mike : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls",
            "alice : TTY=pts/0 ; PWD=/ü/ß ; USER=root ; COMMAND=/bin/echo é",
        ];
        for l in lines {
            for (i, _) in l.char_indices() {
                let _ = run(&l[..i]);
            }
        }
    }
}
