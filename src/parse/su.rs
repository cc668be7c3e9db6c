//! su: successful and failed switches of user.
//!
//! `user` is who ran su, `target_user` whom they became (or tried to), `extra.tty` the
//! terminal when the counting line names it.
//!
//! One su attempt is one event. Each su implementation logs its outcome once in a line of
//! its own, and some add echoes of it; only the outcome line counts:
//!
//! | su | counts (success / failure) | echoes, [`Parsed::Ignored`] |
//! |---|---|---|
//! | util-linux (Debian ≥ 10, RHEL ≥ 8, Arch) | `(to root) alice on pts/0` / `FAILED SU (to root) alice on pts/0` | `pam_unix(su:auth): authentication failure; …`, `pam_unix(su-l:session) …` |
//! | shadow-utils (Ubuntu, older Debian) | `Successful su for root by alice` / `FAILED su for root by alice` | `+ /dev/pts/0 alice:root`, `- /dev/pts/0 alice:root` (only written with `SYSLOG_SU_ENAB`, so never the counting line), `pam_authenticate: Authentication failure` |
//! | old BSD-style su | `alice to root on /dev/ttyp1` / `BAD SU alice to root on /dev/ttyp1` | |
//! | IRIX/Solaris-style | — / `failed: ttyq4 changing from alice to root` | |
//! | old coreutils | `'su root' succeeded for alice on /dev/pts/0` / `'su root' failed for alice on /dev/pts/0` | |
//!
//! Every PAM line under su (`pam_unix(su:…)`, `su(pam_unix)[…]: …`, `pam_systemd(su:…)`)
//! is ignored: it echoes an attempt that the su line itself counts.

use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType};

#[derive(Default)]
pub struct Su {}

impl MessageParser for Su {
    fn id(&self) -> &'static str {
        "su"
    }
    fn doc(&self) -> &'static str {
        "su: successful and failed switches of user"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["su"]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        parse(ctx, message, out)
    }
}

struct Switch<'a> {
    ok: bool,
    user: &'a str,
    target: &'a str,
    tty: Option<&'a str>,
}

fn parse(ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
    if ctx.tag.contains("(pam_") || is_echo(message) {
        return Parsed::Ignored;
    }
    let Some(s) = switch(message.trim()) else {
        return Parsed::Unknown;
    };
    if s.user.is_empty() || s.target.is_empty() {
        return Parsed::Unknown;
    }
    let mut e = ctx.event(if s.ok {
        EventType::SuSuccess
    } else {
        EventType::SuFailed
    });
    e.user = Some(s.user.to_string());
    e.target_user = Some(s.target.to_string());
    if let Some(tty) = s.tty.filter(|t| !t.is_empty()) {
        e.extra.insert("tty".into(), tty.to_string());
    }
    out.push(e);
    Parsed::Events
}

/// PAM and sulog echoes of an attempt counted by another line.
fn is_echo(m: &str) -> bool {
    m.starts_with("pam_")
        || m.starts_with("PAM ")
        || m.starts_with("+ ")
        || m.starts_with("- ")
        || m.starts_with("cannot open session")
        || m.starts_with("System error")
}

fn switch(m: &str) -> Option<Switch<'_>> {
    // util-linux: `[FAILED SU ](to TARGET) USER on TTY`
    let (ok, rest) = match m.strip_prefix("FAILED SU ") {
        Some(r) => (false, r),
        None => (true, m),
    };
    if let Some(r) = rest.strip_prefix("(to ") {
        let (target, r) = r.split_once(") ")?;
        let (user, tty) = split_tty(r);
        return Some(Switch {
            ok,
            user,
            target,
            tty,
        });
    }
    // shadow-utils: `Successful su for TARGET by USER` / `FAILED su for TARGET by USER`
    for (prefix, ok) in [("Successful su for ", true), ("FAILED su for ", false)] {
        if let Some(r) = m.strip_prefix(prefix) {
            let (target, user) = r.rsplit_once(" by ")?;
            return Some(Switch {
                ok,
                user,
                target,
                tty: None,
            });
        }
    }
    // IRIX/Solaris: `failed: TTY changing from USER to TARGET`
    if let Some(r) = m.strip_prefix("failed: ") {
        let (tty, r) = r.split_once(" changing from ")?;
        let (user, target) = r.rsplit_once(" to ")?;
        return Some(Switch {
            ok: false,
            user,
            target,
            tty: Some(tty),
        });
    }
    // coreutils: `'su TARGET' succeeded for USER on TTY` / `… failed for …`
    if let Some(r) = m.strip_prefix("'su ") {
        let (target, r) = r.split_once("' ")?;
        let (ok, r) = if let Some(r) = r.strip_prefix("succeeded for ") {
            (true, r)
        } else {
            (false, r.strip_prefix("failed for ")?)
        };
        let (user, tty) = split_tty(r);
        return Some(Switch {
            ok,
            user,
            target,
            tty,
        });
    }
    // BSD: `[BAD SU ]USER to TARGET on TTY` — single words only, so that no free-form
    // message is mistaken for a switch.
    let (ok, r) = match m.strip_prefix("BAD SU ") {
        Some(r) => (false, r),
        None => (true, m),
    };
    let (user, r) = r.split_once(" to ")?;
    let (target, tty) = r.split_once(" on ")?;
    let one_word = |s: &str| !s.is_empty() && !s.contains(' ');
    (one_word(user) && one_word(target) && one_word(tty)).then_some(Switch {
        ok,
        user,
        target,
        tty: Some(tty),
    })
}

/// `USER on TTY` → (user, tty); the tty is optional.
fn split_tty(r: &str) -> (&str, Option<&str>) {
    match r.rsplit_once(" on ") {
        Some((u, t)) => (u, Some(t)),
        None => (r, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_tag(tag: &str, msg: &str) -> (Parsed, Vec<Event>) {
        crate::parse::feed_message(parse, tag, Some(1), msg)
    }
    fn run(msg: &str) -> (Parsed, Vec<Event>) {
        run_tag("su", msg)
    }
    fn one(msg: &str) -> Event {
        let (r, mut out) = run(msg);
        assert_eq!(r, Parsed::Events, "{msg}");
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }
    fn check(msg: &str, kind: EventType, user: &str, target: &str, tty: Option<&str>) {
        let e = one(msg);
        assert_eq!(e.kind, kind, "{msg}");
        assert_eq!(e.user.as_deref(), Some(user), "{msg}");
        assert_eq!(e.target_user.as_deref(), Some(target), "{msg}");
        assert_eq!(e.extra.get("tty").map(String::as_str), tty, "{msg}");
    }

    #[test]
    fn every_style() {
        use EventType::{SuFailed, SuSuccess};
        check(
            "(to root) alice on pts/0",
            SuSuccess,
            "alice",
            "root",
            Some("pts/0"),
        );
        check(
            "FAILED SU (to root) alice on pts/0",
            SuFailed,
            "alice",
            "root",
            Some("pts/0"),
        );
        check(
            "(to postgres) root on none",
            SuSuccess,
            "root",
            "postgres",
            Some("none"),
        );
        check(
            "Successful su for root by root",
            SuSuccess,
            "root",
            "root",
            None,
        );
        check(
            "Successful su for root by alice",
            SuSuccess,
            "alice",
            "root",
            None,
        );
        check(
            "FAILED su for root by alice",
            SuFailed,
            "alice",
            "root",
            None,
        );
        check(
            "BAD SU ger to fwmaster on /dev/ttyp0",
            SuFailed,
            "ger",
            "fwmaster",
            Some("/dev/ttyp0"),
        );
        check(
            "dcid to root on /dev/ttyp1",
            SuSuccess,
            "dcid",
            "root",
            Some("/dev/ttyp1"),
        );
        check(
            "failed: ttyq4 changing from ldap to root",
            SuFailed,
            "ldap",
            "root",
            Some("ttyq4"),
        );
        check(
            "'su root' failed for alice on /dev/pts/1",
            SuFailed,
            "alice",
            "root",
            Some("/dev/pts/1"),
        );
        check(
            "'su root' succeeded for alice on /dev/pts/1",
            SuSuccess,
            "alice",
            "root",
            Some("/dev/pts/1"),
        );
    }

    #[test]
    fn echoes_are_ignored() {
        for m in [
            "+ /dev/pts/0 alice:root",
            "- /dev/pts/0 alice:root",
            "pam_authenticate: Authentication failure",
            "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
            "pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
            "pam_unix(su-l:session): session closed for user root",
            "pam_systemd(su:session): Cannot create session: Already running in a session",
        ] {
            assert_eq!(run(m).0, Parsed::Ignored, "{m}");
        }
        assert_eq!(
            run_tag("su(pam_unix)", "session opened for user news by (uid=0)").0,
            Parsed::Ignored
        );
        assert_eq!(
            run_tag("su(pam_unix)", "authentication failure; logname= uid=1342 euid=0 tty= ruser=dcid rhost=  user=root").0,
            Parsed::Ignored
        );
        assert_eq!(
            run("Switching to the other thing on a whim").0,
            Parsed::Unknown
        );
        assert_eq!(run("nothing").0, Parsed::Unknown);
    }

    #[test]
    fn hostile_values() {
        let x = "<img src=x onerror=alert(1)>";
        let e = one(&format!("FAILED SU (to {x}) {x} on pts/0"));
        assert_eq!(e.user.as_deref(), Some(x));
        assert_eq!(e.target_user.as_deref(), Some(x));
        let e = one(&format!("Successful su for {x} by {x}"));
        assert_eq!(e.user.as_deref(), Some(x));
    }

    #[test]
    fn prefixes_never_panic() {
        for l in [
            "FAILED SU (to root) alice on pts/0",
            "Successful su for root by ålice",
            "failed: ttyq4 changing from ldap to root",
            "'su root' succeeded for alice on /dev/pts/1",
            "BAD SU ger to fwmaster on /dev/ttyp0",
        ] {
            for (i, _) in l.char_indices() {
                let _ = run(&l[..i]);
            }
        }
    }
}
