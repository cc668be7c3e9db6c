//! PAM modules (`pam_unix`, `pam_sss` …) under any program, reached by the Normalizer's
//! fallback when a program's own parser does not know a PAM-shaped message.
//!
//! # Policy: one failed attempt is one `FAILED_LOGIN`
//!
//! PAM usually *echoes* a failure that the program logs itself: sshd writes
//! `pam_unix(sshd:auth): authentication failure; …` and then `Failed password for …`;
//! sudo and su write their own failure lines too. Counting both would double every
//! attempt, so:
//!
//! * a modern `pam_X(SERVICE:auth): authentication failure; …` whose service or program
//!   has its own parser reporting the failure (sshd, sudo, su) is [`Parsed::Ignored`];
//! * the **legacy** tag style of old Red Hat systems, `sshd(pam_unix)[pid]: authentication
//!   failure; …` (and the `(pam_unix) authentication failure; …` message style), is one
//!   `FAILED_LOGIN`: in those logs (e.g. loghub `Linux_2k.log`) these lines are the only
//!   record of the failure;
//! * an auth failure from any other service (login, vsftpd, ftpd, gdm, dovecot …), which
//!   logs nothing else, is one `FAILED_LOGIN`.
//!
//! Such an event has `method` `pam`, `user` from `user=` (else the non-empty `ruser=`),
//! `src_ip`/`src_host` from `rhost=` (none when empty) and extra `service`.
//! `check pass; user unknown`, `PAM N more authentication failures` (a summary of
//! failures already counted) and session lines are understood and [`Parsed::Ignored`].
use super::common::{parse_remote, split_colon_space, Pattern, Remote};
use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType, Outcome};

/// Programs (or PAM services) whose own parser reports the failure that PAM echoes.
const OWN_PARSER: &[&str] = &["sshd", "sudo", "sudo-i", "su", "su-l"];

#[derive(Default)]
pub struct Pam {}

impl MessageParser for Pam {
    fn id(&self) -> &'static str {
        "pam"
    }
    fn doc(&self) -> &'static str {
        "PAM modules (pam_unix …) under any program"
    }
    fn programs(&self) -> &'static [&'static str] {
        &[]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        parse_message(ctx, message, out)
    }
}

/// The fields of `authentication failure; logname= uid= euid= tty= ruser= rhost= [user=]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthFailure<'a> {
    pub ruser: &'a str,
    pub rhost: &'a str,
    pub user: Option<&'a str>,
}

/// Parses the `k=v` list after `authentication failure;`.
///
/// `ruser=` and `user=` are attacker-controlled and may contain ` rhost=`; `rhost=` itself
/// never holds a space. The real `rhost=` is the first one whose value is followed by the
/// end, by `user=` or by ` [preauth]`; `user=` runs to the end of the line.
pub(crate) fn auth_failure_fields(s: &str) -> Option<AuthFailure<'_>> {
    static RHOST: Pattern = Pattern::new("rhost=");
    static RUSER: Pattern = Pattern::new("ruser=");
    for at in RHOST.occurrences(s) {
        if at > 0 && s.as_bytes()[at - 1] != b' ' {
            continue;
        }
        let v = &s[at + "rhost=".len()..];
        let end = memchr::memchr(b' ', v.as_bytes()).unwrap_or(v.len());
        let rhost = &v[..end];
        let after = v[end..].trim_start_matches(' ');
        let user = if after.is_empty() || after == "[preauth]" {
            None
        } else if let Some(u) = after.strip_prefix("user=") {
            Some(u.strip_suffix(" [preauth]").unwrap_or(u).trim_end())
        } else {
            continue;
        };
        let before = &s[..at];
        let ruser = match RUSER.find(before) {
            Some(r) => before[r + "ruser=".len()..].trim_end_matches(' '),
            None => "",
        };
        return Some(AuthFailure { ruser, rhost, user });
    }
    None
}

/// The PAM parser's work, also called by the sshd parser for the old
/// `sshd[pid]: (pam_unix) authentication failure; …` message style.
pub(crate) fn parse_message(ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
    let m = message.trim_end();
    let legacy_tag = ctx.tag.contains("(pam_");
    let (service, text, legacy) = if let Some(r) = m.strip_prefix("pam_") {
        // `pam_unix(sshd:auth): text`, `pam_unix(auth): text`, `pam_unix: text`.
        let Some((head, text)) = split_colon_space(r) else {
            return Parsed::Unknown;
        };
        let service = match head.split_once('(') {
            Some((_, inner)) => {
                let inner = inner.strip_suffix(')').unwrap_or(inner);
                match inner.split_once(':') {
                    Some((svc, _kind)) => svc,
                    None => ctx.program,
                }
            }
            None => ctx.program,
        };
        (service, text, legacy_tag)
    } else if let Some(r) = m.strip_prefix("(pam_") {
        // `(pam_unix) authentication failure; …` (Linux-PAM before 0.99).
        let Some((_, text)) = r.split_once(") ") else {
            return Parsed::Unknown;
        };
        (ctx.program, text, true)
    } else if m.starts_with("PAM ") {
        // `PAM 2 more authentication failures; …`, `PAM service(sshd) ignoring max retries`:
        // summaries of failures each already reported once.
        return Parsed::Ignored;
    } else if legacy_tag {
        (ctx.program, m, true)
    } else {
        return Parsed::Unknown;
    };

    if let Some(rest) = text.strip_prefix("authentication failure") {
        if !legacy && (OWN_PARSER.contains(&service) || OWN_PARSER.contains(&ctx.program)) {
            return Parsed::Ignored;
        }
        let rest = rest.strip_prefix(';').unwrap_or(rest).trim_start();
        let fields = auth_failure_fields(rest);
        let mut e = ctx.event(EventType::FailedLogin);
        e.method = Some("pam".to_string());
        e.outcome = Some(Outcome::Failure);
        if let Some(f) = fields {
            match parse_remote(f.rhost) {
                Some(Remote::Ip(ip)) => e.src_ip = Some(ip),
                Some(Remote::Host(h)) => e.src_host = Some(h),
                None => {}
            }
            let user = f.user.filter(|u| !u.is_empty()).or(Some(f.ruser));
            e.user = user.filter(|u| !u.is_empty()).map(str::to_string);
        }
        e.extra.insert("service".into(), service.to_string());
        out.push(e);
        return Parsed::Events;
    }
    if text.starts_with("check pass;")
        || text.contains("more authentication failure")
        || text.starts_with("session opened")
        || text.starts_with("session closed")
    {
        return Parsed::Ignored;
    }
    if legacy {
        return Parsed::Unknown;
    }
    // Any other well-formed module line (account, password, pam_systemd …) matters to no rule.
    Parsed::Ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tag: &str, msg: &str) -> (Parsed, Vec<Event>) {
        crate::parse::feed_message(|c, m, o| Pam::default().parse(c, m, o), tag, Some(1), msg)
    }

    #[test]
    fn fields_resist_injection() {
        let f = auth_failure_fields(
            "logname= uid=0 euid=0 tty=xxx ruser=test rhost=192.0.2.151 rhost=192.0.2.1",
        )
        .unwrap();
        assert_eq!(f.rhost, "192.0.2.1");
        assert_eq!(f.ruser, "test rhost=192.0.2.151");
        let f = auth_failure_fields(
            "logname= uid=0 euid=0 tty=xxx ruser= rhost=192.0.2.2 user=test rhost=192.0.2.152",
        )
        .unwrap();
        assert_eq!(f.rhost, "192.0.2.2");
        assert_eq!(f.user, Some("test rhost=192.0.2.152"));
        let f =
            auth_failure_fields("logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root")
                .unwrap();
        assert_eq!((f.ruser, f.rhost, f.user), ("", "1.2.3.4", Some("root")));
        let f = auth_failure_fields("logname= uid=0 euid=0 tty=ssh ruser= rhost= ").unwrap();
        assert_eq!(f.rhost, "");
    }

    #[test]
    fn legacy_tag_is_the_only_record_and_counts() {
        let (r, ev) = run(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
        );
        assert_eq!(r, Parsed::Events);
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.kind, EventType::FailedLogin);
        assert_eq!(
            e.src_host.as_deref(),
            Some("220-135-151-1.hinet-ip.hinet.net")
        );
        assert_eq!(e.user.as_deref(), Some("root"));
        assert_eq!(e.method.as_deref(), Some("pam"));
        assert_eq!(e.extra.get("service").map(String::as_str), Some("sshd"));

        let (_, ev) = run(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
        );
        assert_eq!(ev[0].src_ip, Some("218.188.2.4".parse().unwrap()));
        assert_eq!(ev[0].user, None);
        assert_eq!(
            run("sshd(pam_unix)", "check pass; user unknown").0,
            Parsed::Ignored
        );
        assert_eq!(
            run("su(pam_unix)", "session opened for user news by (uid=0)").0,
            Parsed::Ignored
        );
    }

    #[test]
    fn modern_echoes_of_self_reporting_programs_are_ignored() {
        for (tag, msg) in [
            ("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root"),
            ("sudo", "pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob"),
            ("su", "pam_unix(su:auth): authentication failure; logname=bob uid=1000 euid=0 tty=pts/0 ruser=bob rhost=  user=root"),
            ("sshd", "pam_unix(sshd:session): session opened for user root by (uid=0)"),
            ("sshd", "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root"),
            ("sshd", "pam_unix(sshd:auth): check pass; user unknown"),
        ] {
            let (r, ev) = run(tag, msg);
            assert_eq!(r, Parsed::Ignored, "{msg}");
            assert!(ev.is_empty());
        }
    }

    #[test]
    fn other_services_count() {
        let (r, ev) = run(
            "vsftpd",
            "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=an8767 rhost=www.google.com",
        );
        assert_eq!(r, Parsed::Events);
        assert_eq!(ev[0].src_host.as_deref(), Some("www.google.com"));
        assert_eq!(ev[0].user.as_deref(), Some("an8767"));
        assert_eq!(
            ev[0].extra.get("service").map(String::as_str),
            Some("vsftpd")
        );

        let (_, ev) = run(
            "login",
            "pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=alice",
        );
        assert_eq!(ev[0].src_ip, None);
        assert_eq!(ev[0].src_host, None);
        assert_eq!(ev[0].user.as_deref(), Some("alice"));

        let (_, ev) = run(
            "daemon",
            "pam_unix(auth): authentication failure; logname= uid=0 euid=0 tty=xxx ruser= rhost=::ffff:192.0.2.2 user=<img src=x onerror=alert(1)>",
        );
        assert_eq!(ev[0].src_ip, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(ev[0].user.as_deref(), Some("<img src=x onerror=alert(1)>"));
        assert_eq!(
            ev[0].extra.get("service").map(String::as_str),
            Some("daemon")
        );

        let (_, ev) = run(
            "dovecot",
            "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=bob rhost=2001:db8::1",
        );
        assert_eq!(ev[0].src_ip, Some("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn prefixes_never_panic() {
        let line = "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=an8767 rhost=www.google.com user=é";
        for (i, _) in line.char_indices() {
            let _ = run("vsftpd", &line[..i]);
            let _ = run("sshd(pam_unix)", &line[i..]);
        }
        assert_eq!(run("x", "unrelated").0, Parsed::Unknown);
    }
}
