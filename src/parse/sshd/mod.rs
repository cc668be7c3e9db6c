//! sshd (and `sshd-session`, OpenSSH ≥ 9.8): failed, invalid and accepted logins,
//! preauth disconnects.
//!
//! Hand-written prefix/suffix matching, no regexes, no allocation except for the fields of
//! events actually emitted (and the bounded per-pid memory below).
//!
//! What counts as a failure follows fail2ban's sshd filter in its default (`normal`) mode:
//! one failed attempt is one `FAILED_LOGIN` (`Invalid user …` is one `INVALID_USER`):
//!
//! * `Failed <method> for [invalid user] U from HOST …`, except `Failed publickey` for a
//!   valid user: users with several keys log those routinely, so they are only remembered
//!   and become one failure (extra `attempts`) when the same connection ends with
//!   `Disconnecting: Too many authentication failures`;
//! * `User U from HOST not allowed because …`, `ROOT LOGIN REFUSED`, tcp-wrappers
//!   `refused connect`, `error: PAM: Authentication failure for …`, `maximum authentication
//!   attempts exceeded`, jsch's `Received disconnect …: 3: …: Auth fail`, the change of user
//!   name in one connection;
//! * an `Accepted` login after PAM failures of the same connection that named *other*
//!   users is a failure too (an intruder cannot "wash" failed guesses with a known login);
//!   so is a second user name in one connection's PAM failures.
//!
//! `pam_unix(sshd:auth): authentication failure` lines echo `Failed password` lines and
//! count for nothing on their own (see [`super::pam`]).
//!
//! Some lines carry no address (`Disconnecting: Too many authentication failures`,
//! `User root not allowed because account is locked`, `fatal: Read from socket failed`):
//! the parser remembers, per sshd pid, the remote of earlier lines of the same connection
//! (`Connection from`, `Failed …`, `Invalid user …`), and when none is known yet it keeps
//! the failure until a later line of that pid names the address (`Connection closed by`,
//! `Received disconnect from`). That memory holds at most [`MAX_PIDS`] connections, oldest
//! evicted first, and is dropped when a connection closes.
//!
//! Attacker-controlled text (user names, auth info) may contain ` from 1.2.3.4 port 1`: the
//! address is taken from the position sshd writes it in, checked against the grammar that
//! must follow it, and the connection's remembered address wins over any other candidate.
//!
//! - `pid_table`: the per-connection memory (bounded, FIFO eviction); `grammar`: the
//!   address tails and event builders; `logins`: failed, accepted, invalid and refused
//!   logins and PAM lines; `disconnects`: the ends of connections and what they settle.

mod disconnects;
mod grammar;
mod logins;
mod pid_table;
#[cfg(test)]
mod tests;

use super::common::Remote;
use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType};
use grammar::*;
use pid_table::{PidState, PidTable};

/// Most sshd connections (pids) remembered at once.
pub const MAX_PIDS: usize = 10_000;
/// Most distinct user names remembered per connection.
const MAX_USERS: usize = 8;
/// Longest user name kept in the per-pid memory (sshd itself logs at most 100 bytes).
const MAX_USER_LEN: usize = 128;

#[derive(Default)]
pub struct Sshd {
    pids: PidTable,
}

impl MessageParser for Sshd {
    fn id(&self) -> &'static str {
        "sshd"
    }
    fn doc(&self) -> &'static str {
        "OpenSSH server: failed, invalid and accepted logins, preauth disconnects"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["sshd"]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        if ctx.tag.contains('(') {
            // Legacy `sshd(pam_unix)[pid]:` lines belong to the PAM parser.
            return Parsed::Unknown;
        }
        let before = out.len();
        match self.dispatch(ctx, message, out) {
            None => {
                out.truncate(before);
                Parsed::Unknown
            }
            Some(()) if out.len() > before => Parsed::Events,
            Some(()) => Parsed::Ignored,
        }
    }
}

impl Sshd {
    fn known(&self, ctx: &Ctx<'_>) -> Option<&Remote> {
        self.pids.get(ctx.pid).and_then(|s| s.remote.as_ref())
    }

    /// The connection's address as remembered, with its port.
    fn known_remote(&self, ctx: &Ctx<'_>) -> Option<(Remote, Option<u16>)> {
        let s = self.pids.get(ctx.pid)?;
        Some((s.remote.clone()?, s.port))
    }

    /// Remembers the connection's address; a failure kept for lack of it is emitted now.
    fn learn(&mut self, ctx: &Ctx<'_>, remote: &Remote, port: Option<u16>, out: &mut Vec<Event>) {
        let Some(pid) = ctx.pid else {
            return;
        };
        let st = self.pids.entry(pid);
        if st.remote.as_ref() != Some(remote) {
            st.remote = Some(remote.clone());
        }
        if port.is_some() {
            st.port = port;
        }
        if let Some(d) = st.deferred.take() {
            let e = failure(
                out,
                ctx,
                EventType::FailedLogin,
                Some(remote),
                port.or(st.port),
                d.user.as_deref(),
                None,
                false,
                Some(d.reason),
            );
            e.extra.insert("attempts".into(), d.attempts.to_string());
        }
    }

    fn state(&mut self, ctx: &Ctx<'_>) -> Option<&mut PidState> {
        ctx.pid.map(|p| self.pids.entry(p))
    }

    fn dispatch(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Option<()> {
        let mut m = message.trim_end_matches([' ', '\t', '\r', '\n']);
        // A journal entry relayed through the kernel ring: `kernel:[  970.699396]: Failed …`.
        if let Some(r) = m.strip_prefix("kernel:") {
            let r = r.trim_start_matches(' ');
            if let Some((stamp, rest)) = r.strip_prefix('[').and_then(|x| x.split_once(']')) {
                if stamp
                    .trim_start()
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c == b'.')
                {
                    m = rest
                        .strip_prefix(':')
                        .unwrap_or(rest)
                        .trim_start_matches(' ');
                }
            }
        }
        // Solaris: `[ID 800047 auth.info] Failed …`.
        if let Some(r) = m.strip_prefix("[ID ") {
            m = r.split_once("] ").map_or(m, |(_, r)| r);
        }
        let m = m
            .strip_prefix("error: ")
            .or_else(|| m.strip_prefix("fatal: "))
            .unwrap_or(m);
        let first = *m.as_bytes().first()?;
        match first {
            b'F' => {
                if let Some(r) = m.strip_prefix("Failed ") {
                    return self.failed(ctx, r, out);
                }
            }
            b'A' => {
                if let Some(r) = m.strip_prefix("Accepted ") {
                    return self.accepted(ctx, r, out);
                }
                if m.starts_with("Address ") && m.contains("POSSIBLE BREAK-IN ATTEMPT") {
                    return Some(());
                }
                if m.starts_with("Authentication refused") || m.starts_with("Authorized to ") {
                    return Some(());
                }
            }
            b'I' => {
                if let Some(r) = m
                    .strip_prefix("Invalid user")
                    .or_else(|| m.strip_prefix("Illegal user"))
                {
                    return self.invalid_user(ctx, r, out);
                }
            }
            b'i' => {
                if let Some(r) = m
                    .strip_prefix("invalid user")
                    .or_else(|| m.strip_prefix("illegal user"))
                {
                    return self.invalid_user(ctx, r, out);
                }
                if m.starts_with("input_userauth_request: ") {
                    return Some(());
                }
            }
            b'U' => {
                if let Some(r) = m.strip_prefix("User ") {
                    return self.not_allowed(ctx, r, out);
                }
                if let Some(r) = m.strip_prefix("Unable to negotiate with ") {
                    return self.preauth_at(ctx, r, "unable to negotiate", out);
                }
                if m.starts_with("Unable to negotiate") {
                    return self.preauth_known(ctx, None, "unable to negotiate", out);
                }
            }
            b'R' => {
                if let Some(r) = m.strip_prefix("ROOT LOGIN REFUSED FROM ") {
                    let (remote, port) = addr_tail(r, Tail::Strict)?;
                    self.learn(ctx, &remote, port, out);
                    failure(
                        out,
                        ctx,
                        EventType::FailedLogin,
                        Some(&remote),
                        port,
                        Some("root"),
                        None,
                        false,
                        Some("root login refused"),
                    );
                    return Some(());
                }
                if let Some(r) = m.strip_prefix("Received disconnect from ") {
                    return self.received_disconnect(ctx, r, out);
                }
                if m.starts_with("Received signal ") {
                    return Some(());
                }
                if let Some(r) = m.strip_prefix("Read from socket failed: ") {
                    return self.preauth_known(ctx, Some(r), "connection reset", out);
                }
            }
            b'r' => {
                if let Some(r) = m.strip_prefix("refused connect from ") {
                    return self.refused_connect(ctx, r, out);
                }
                if m.starts_with("reverse mapping checking") {
                    return Some(());
                }
            }
            b'P' => {
                if let Some(r) = m.strip_prefix("PAM: ") {
                    return self.pam_error(ctx, r, out);
                }
                if m.starts_with("PAM ") || m.starts_with("Postponed ") {
                    return Some(());
                }
            }
            b'p' if m.starts_with("pam_") => return self.pam_line(ctx, m, out),
            b'(' if m.starts_with("(pam_") => {
                return match super::pam::parse_message(ctx, m, out) {
                    Parsed::Unknown => None,
                    _ => Some(()),
                };
            }
            b'm' => {
                if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for") {
                    return self.max_exceeded(ctx, r, out);
                }
            }
            b'D' => {
                if let Some(r) = m.strip_prefix("Disconnecting: ") {
                    return self.disconnecting_old(ctx, r, out);
                }
                if let Some(r) = m.strip_prefix("Disconnecting ") {
                    return self.disconnecting_user(ctx, r, out);
                }
                if let Some(r) = m.strip_prefix("Disconnected from ") {
                    return self.closed(ctx, r, "disconnected", out);
                }
                if let Some(r) = m.strip_prefix("Did not receive identification string from ") {
                    return self.preauth_at(ctx, r, "no identification string", out);
                }
            }
            b'C' => {
                if let Some(r) = m.strip_prefix("Connection closed by ") {
                    return self.closed(ctx, r, "connection closed", out);
                }
                if let Some(r) = m.strip_prefix("Connection reset by ") {
                    if r.starts_with("peer") {
                        return self.preauth_known(ctx, Some(r), "connection reset", out);
                    }
                    return self.closed(ctx, r, "connection reset", out);
                }
                if let Some(r) = m.strip_prefix("Connection from ") {
                    let (remote, port, _) = host_port(r)?;
                    self.learn(ctx, &remote, port, out);
                    return Some(());
                }
                if m.starts_with("Close session") || m.starts_with("Changed root directory") {
                    return Some(());
                }
            }
            b'B' => {
                if let Some(r) = m.strip_prefix("Bad protocol version identification ") {
                    let (_, addr) = r.rsplit_once(" from ")?;
                    return self.preauth_at(ctx, addr, "bad protocol version", out);
                }
            }
            b'b' => {
                if let Some(r) = m.strip_prefix("banner exchange: Connection from ") {
                    return self.preauth_at(ctx, r, "banner exchange", out);
                }
            }
            b'k' => {
                if let Some(r) = m.strip_prefix("kex_exchange_identification: ") {
                    return self.preauth_known(ctx, Some(r), "kex_exchange_identification", out);
                }
            }
            b's' => {
                if let Some(r) = m.strip_prefix("ssh_dispatch_run_fatal: Connection from ") {
                    return self.preauth_at(ctx, r, "ssh_dispatch_run_fatal", out);
                }
                if m.starts_with("ssh_dispatch_run_fatal: ") {
                    return self.preauth_known(ctx, None, "ssh_dispatch_run_fatal", out);
                }
                if m.starts_with("subsystem request") || m.starts_with("session opened") {
                    return Some(());
                }
            }
            b'T' => {
                if let Some(r) = m.strip_prefix("Timeout before authentication for ") {
                    let r = r.strip_prefix("connection from ").unwrap_or(r);
                    return self.preauth_at(ctx, r, "timeout before authentication", out);
                }
                if m.starts_with("Transferred: ") {
                    return Some(());
                }
            }
            b'W' => {
                if let Some(r) = m.strip_prefix("Write failed: ") {
                    return self.preauth_known(ctx, Some(r), "connection reset", out);
                }
            }
            b'n' if m.starts_with("no matching ") => {
                return self.preauth_known(ctx, None, "unable to negotiate", out);
            }
            b'S' if m.starts_with("Server listening on ")
                || m.starts_with("SSH: Server;")
                || m.starts_with("Starting session: ")
                || m.starts_with("Set /proc/self/oom_score_adj") =>
            {
                return Some(());
            }
            b'E' if m.starts_with("Exiting on signal") => return Some(()),
            _ => {}
        }
        None
    }

    /// A preauth disconnect whose line starts with `HOST[ port P]…`.
    fn preauth_at(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        reason: &'static str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (remote, port, _) = host_port(r)?;
        let (remote, port) = match self.known_remote(ctx) {
            Some((k, p)) if k == remote => (k, p.or(port)),
            _ => (remote, port),
        };
        self.learn(ctx, &remote, port, out);
        preauth(out, ctx, &remote, port, None, reason);
        Some(())
    }

    /// A preauth failure with no address of its own: the connection's, when known.
    fn preauth_known(
        &mut self,
        ctx: &Ctx<'_>,
        _detail: Option<&str>,
        reason: &'static str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        if let Some((remote, port)) = self.known_remote(ctx) {
            preauth(out, ctx, &remote, port, None, reason);
        }
        Some(())
    }
}
