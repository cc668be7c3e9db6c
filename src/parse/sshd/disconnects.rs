//! The ends of connections: too many failures, maximum attempts exceeded, disconnects
//! and closes, and the failures they settle (kept attempts, a failure waiting for its
//! address).

use super::grammar::*;
use super::pid_table::{clip, Deferred};
use super::{Ctx, Sshd};
use crate::model::event::{Event, EventType};
use crate::parse::common::{parse_port, parse_remote, split_colon_space};

impl Sshd {
    /// `error: maximum authentication attempts exceeded for [invalid user ]U from HOST …`
    /// (after `… for`, so `r` starts with a space).
    pub(super) fn max_exceeded(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (rest, invalid) = match r.strip_prefix(" invalid user") {
            Some(x) if x.starts_with(' ') => (x, true),
            _ => (r, false),
        };
        let (user, remote, port) = user_from(rest, Tail::Auth, Pick::Leftmost, self.known(ctx))?;
        self.learn(ctx, &remote, port, out);
        let attempts = match self.state(ctx) {
            Some(st) => {
                st.add_user(user);
                st.max_exceeded = true;
                let a = st.pending + 1;
                st.pending = 0;
                a
            }
            None => 1,
        };
        let e = failure(
            out,
            ctx,
            EventType::FailedLogin,
            Some(&remote),
            port,
            Some(user),
            None,
            invalid,
            Some("maximum authentication attempts exceeded"),
        );
        e.extra.insert("attempts".into(), attempts.to_string());
        Some(())
    }

    /// `Disconnecting: Too many authentication failures[ for U][ [preauth]]`.
    pub(super) fn disconnecting_old(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (r, _) = strip_preauth(r);
        let (user, reason) = if let Some(rest) = r.strip_prefix("Too many authentication failures")
        {
            let user = rest.strip_prefix(" for ").filter(|u| !u.is_empty());
            (user, "too many authentication failures")
        } else if r.starts_with("Change of username or service not allowed") {
            (None, "change of user name not allowed")
        } else {
            return Some(());
        };
        self.too_many(ctx, user, reason, false, out);
        Some(())
    }

    /// One failure for a connection that gave up: now if its address is known, else later.
    pub(super) fn too_many(
        &mut self,
        ctx: &Ctx<'_>,
        user: Option<&str>,
        reason: &'static str,
        invalid: bool,
        out: &mut Vec<Event>,
    ) {
        let known = self.known_remote(ctx);
        let Some(st) = self.state(ctx) else {
            return;
        };
        if reason == "too many authentication failures" && st.max_exceeded {
            // Already counted by `maximum authentication attempts exceeded`.
            return;
        }
        let attempts = st.pending + 1;
        st.pending = 0;
        if let Some(u) = user {
            st.add_user(u);
        }
        match known {
            Some((remote, port)) => {
                let e = failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    Some(&remote),
                    port,
                    user,
                    None,
                    invalid,
                    Some(reason),
                );
                e.extra.insert("attempts".into(), attempts.to_string());
            }
            None => {
                st.deferred = Some(Deferred {
                    user: user.map(|u| clip(u).into()),
                    reason,
                    attempts,
                });
            }
        }
    }

    /// `Disconnecting (invalid|authenticating) user U HOST port P: REASON[ [preauth]]`.
    pub(super) fn disconnecting_user(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (r, invalid) = if let Some(x) = r.strip_prefix("invalid user ") {
            (x, true)
        } else if let Some(x) = r.strip_prefix("authenticating user ") {
            (x, false)
        } else if let Some(x) = r.strip_prefix("user ") {
            (x, false)
        } else {
            return None;
        };
        let (r, _) = strip_preauth(r);
        let mut parsed = None;
        for pos in PORT.occurrences(r) {
            let left = &r[..pos];
            let right = &r[pos + " port ".len()..];
            let Some((digits, why)) = split_colon_space(right) else {
                continue;
            };
            let Some(port) = parse_port(digits) else {
                continue;
            };
            let Some((user, host)) = left.rsplit_once(' ') else {
                continue;
            };
            let Some(remote) = parse_remote(host) else {
                continue;
            };
            let known_reason = why.starts_with("Too many authentication failures")
                || why.starts_with("Change of username or service not allowed");
            if parsed.is_none() || known_reason {
                parsed = Some((user, remote, port, why));
            }
            if known_reason {
                break;
            }
        }
        let (user, remote, port, why) = parsed?;
        let (remote, port) = match self.known_remote(ctx) {
            Some((k, p)) => (k, p.or(Some(port))),
            None => (remote, Some(port)),
        };
        self.learn(ctx, &remote, port, out);
        let reason = if why.starts_with("Too many authentication failures") {
            "too many authentication failures"
        } else if why.starts_with("Change of username or service not allowed") {
            "change of user name not allowed"
        } else {
            return Some(());
        };
        self.too_many(ctx, Some(user), reason, invalid, out);
        Some(())
    }

    /// `Received disconnect from HOST[ port P]:[ ]CODE: TEXT`.
    pub(super) fn received_disconnect(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (r, _) = strip_preauth(r);
        let (remote, port, rest) = if let Some((remote, port, rest)) = host_port(r) {
            (remote, port, rest)
        } else {
            // `HOST: CODE: …` where HOST (IPv6) itself holds colons.
            let (host, rest) = split_colon_space(r)?;
            (parse_remote(host)?, None, rest)
        };
        let rest = rest.trim_start_matches([':', ' ']);
        let (code, text) = rest.split_once(':').unwrap_or((rest, ""));
        let text = text.trim_start();
        self.learn(ctx, &remote, port, out);
        match code.trim() {
            "3" if text.ends_with("Auth fail") => {
                failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    Some(&remote),
                    port,
                    None,
                    None,
                    false,
                    Some("client reported auth fail"),
                );
            }
            "14" => preauth(
                out,
                ctx,
                &remote,
                port,
                None,
                "no supported authentication methods",
            ),
            _ => {}
        }
        self.pids.remove(ctx.pid);
        Some(())
    }

    /// `Connection closed by|reset by|Disconnected from [invalid user U |authenticating
    /// user U |user U ]HOST[ port P][ [preauth]]`.
    pub(super) fn closed(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        reason: &'static str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (s, preauth_tag) = strip_preauth(r);
        let (s, port) = match RPORT.rsplit_once(s) {
            Some((l, p)) => match parse_port(p) {
                Some(port) => (l, Some(port)),
                None => (s, None),
            },
            None => (s, None),
        };
        let (prefix, host) = s.rsplit_once(' ').unwrap_or(("", s));
        let remote = parse_remote(host)?;
        let (user, post_auth) = if prefix.is_empty() {
            (None, false)
        } else if let Some(u) = prefix.strip_prefix("invalid user ") {
            (Some(u), false)
        } else if prefix == "invalid user" {
            (Some(""), false)
        } else if let Some(u) = prefix.strip_prefix("authenticating user ") {
            (Some(u), false)
        } else if let Some(u) = prefix.strip_prefix("user ") {
            (Some(u), true)
        } else {
            return None;
        };
        self.learn(ctx, &remote, port, out);
        let authenticated = self.pids.get(ctx.pid).is_some_and(|s| s.authenticated);
        if preauth_tag || !(post_auth || authenticated) {
            preauth(out, ctx, &remote, port, user, reason);
        }
        self.pids.remove(ctx.pid);
        Some(())
    }
}
