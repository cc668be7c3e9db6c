//! The shapes of sshd's messages: the address tail sshd writes (` from HOST port P`,
//! checked against what must follow it, so a user name holding ` from 1.2.3.4` cannot
//! choose the address), user names, and the builders of the events they become.

use super::Ctx;
use crate::model::event::{Event, EventType, Outcome};
use crate::parse::common::{parse_port, parse_remote, Pattern, RPattern, Remote};

/// The word at the start of `s` (up to a space) and the rest (starting at that space).
pub(super) fn word(s: &str) -> (&str, &str) {
    let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

pub(super) static FROM: Pattern = Pattern::new(" from ");
pub(super) static RFROM: RPattern = RPattern::new(" from ");
pub(super) static PORT: Pattern = Pattern::new(" port ");
pub(super) static RPORT: RPattern = RPattern::new(" port ");
pub(super) static NOT_ALLOWED: Pattern = Pattern::new(" not allowed because ");

pub(super) fn strip_preauth(s: &str) -> (&str, bool) {
    match s.strip_suffix(" [preauth]") {
        Some(r) => (r, true),
        None => (s, false),
    }
}

/// What may follow the address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tail {
    /// `Failed`/`Accepted`/`maximum …`: `[ port N][ on X][ sshN][: auth info][ [preauth]]`.
    Auth,
    /// `Invalid user`, `ROOT LOGIN REFUSED`: `[ port N][ on X][ [preauth]]`, nothing else.
    Strict,
}

/// Parses `HOST…` per `tail`; the address and port when the whole text fits.
pub(super) fn addr_tail(t: &str, tail: Tail) -> Option<(Remote, Option<u16>)> {
    let (host, mut rest) = word(t);
    let remote = parse_remote(host)?;
    let mut port = None;
    for _ in 0..2 {
        if let Some(r) = rest.strip_prefix(" port ") {
            let (w, r2) = word(r);
            let w = if tail == Tail::Auth {
                w.strip_suffix(':').unwrap_or(w)
            } else {
                w
            };
            port = Some(parse_port(w)?);
            rest = r2;
            if tail == Tail::Auth && r.as_bytes().get(w.len()) == Some(&b':') {
                return Some((remote, port));
            }
        } else if let Some(r) = rest.strip_prefix(" on ") {
            rest = word(r).1;
        } else {
            break;
        }
    }
    if tail == Tail::Auth {
        if let Some(r) = rest.strip_prefix(" ssh") {
            let (w, r2) = word(r);
            let digits = w.trim_end_matches(':');
            if !digits.bytes().all(|c| c.is_ascii_digit()) || w.len() > digits.len() + 1 {
                return None;
            }
            if w.len() > digits.len() {
                // `ssh2: auth info` — whatever follows is the method's info.
                return Some((remote, port));
            }
            rest = r2;
        }
        if rest.is_empty() || rest == " [preauth]" || rest.starts_with(": ") {
            return Some((remote, port));
        }
        return None;
    }
    (rest.is_empty() || rest == " [preauth]").then_some((remote, port))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    /// The first candidate that fits (auth info may follow the address and hold ` from `).
    Leftmost,
    /// The last one (nothing of the client's follows the address).
    Rightmost,
}

/// Splits ` USER from HOST…` (note the leading space; USER may be empty or hold spaces and
/// ` from `). The connection's remembered address, when it is one of the candidates, wins.
pub(super) fn user_from<'a>(
    s: &'a str,
    tail: Tail,
    pick: Pick,
    known: Option<&Remote>,
) -> Option<(&'a str, Remote, Option<u16>)> {
    if !s.starts_with(' ') {
        return None;
    }
    let mut chosen: Option<(&str, Remote, Option<u16>)> = None;
    for pos in FROM.occurrences(s) {
        if pos == 0 {
            continue;
        }
        let Some((remote, port)) = addr_tail(&s[pos + " from ".len()..], tail) else {
            continue;
        };
        let user = &s[1..pos];
        if known == Some(&remote) {
            return Some((user, remote, port));
        }
        if chosen.is_none() || pick == Pick::Rightmost {
            chosen = Some((user, remote, port));
        }
    }
    chosen
}

/// `HOST[ port N]…` at the start of `s`: the address, the port and the rest.
pub(super) fn host_port(s: &str) -> Option<(Remote, Option<u16>, &str)> {
    let (host, rest) = word(s);
    let remote = parse_remote(host.trim_end_matches(':'))?;
    if let Some(r) = rest.strip_prefix(" port ") {
        // `port 58846:11: Bye Bye` (no space before the code) or `port 22 on …`.
        let end = r
            .bytes()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(r.len());
        return Some((remote, Some(parse_port(&r[..end])?), &r[end..]));
    }
    Some((remote, None, rest))
}

// ---------------------------------------------------------------------------------------
// Event building

/// Pushes a new event with the connection's address and port onto `out` and returns it,
/// to be filled in where it lies. An event is a few hundred bytes: built in a local and
/// returned through these helpers, it was copied three times on its way into `out`.
pub(super) fn base<'o>(
    out: &'o mut Vec<Event>,
    ctx: &Ctx<'_>,
    kind: EventType,
    remote: Option<&Remote>,
    port: Option<u16>,
) -> &'o mut Event {
    let i = out.len();
    out.push(ctx.event(kind));
    let e = &mut out[i];
    match remote {
        Some(Remote::Ip(ip)) => e.src_ip = Some(*ip),
        Some(Remote::Host(h)) => e.src_host = Some(h.clone()),
        None => {}
    }
    e.src_port = port;
    e
}

/// Pushes a failed attempt (see [`base`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn failure<'o>(
    out: &'o mut Vec<Event>,
    ctx: &Ctx<'_>,
    kind: EventType,
    remote: Option<&Remote>,
    port: Option<u16>,
    user: Option<&str>,
    method: Option<&str>,
    invalid: bool,
    reason: Option<&str>,
) -> &'o mut Event {
    let e = base(out, ctx, kind, remote, port);
    e.user = user.map(str::to_string);
    e.method = method.map(str::to_string);
    e.outcome = Some(Outcome::Failure);
    if invalid {
        e.extra.insert("invalid_user".into(), "true".into());
    }
    if let Some(r) = reason {
        e.extra.insert("reason".into(), r.to_string());
    }
    e
}

/// Pushes a disconnect before authentication (see [`base`]).
pub(super) fn preauth(
    out: &mut Vec<Event>,
    ctx: &Ctx<'_>,
    remote: &Remote,
    port: Option<u16>,
    user: Option<&str>,
    reason: &str,
) {
    let e = base(out, ctx, EventType::PreauthDisconnect, Some(remote), port);
    e.user = user.map(str::to_string);
    e.extra.insert("reason".into(), reason.to_string());
}
