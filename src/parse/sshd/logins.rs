//! Login attempts: failed, accepted, invalid users, users not allowed, refused
//! connections, PAM errors and PAM lines under sshd's tag.

use super::grammar::*;
use super::pid_table::{clip, Deferred};
use super::{Ctx, Sshd};
use crate::model::event::{Event, EventType, Outcome};
use crate::parse::common::{parse_remote, split_colon_space};

impl Sshd {
    /// `Failed <method> for [invalid user ]U from HOST[ port P][ sshN][: info]`.
    pub(super) fn failed(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
        let (method, rest) = word(r);
        let rest = rest.strip_prefix(" for")?;
        let (rest, mut invalid) = match rest.strip_prefix(" invalid user") {
            Some(r) if r.starts_with(' ') => (r, true),
            _ => (rest, false),
        };
        let (user, remote, port) = user_from(rest, Tail::Auth, Pick::Leftmost, self.known(ctx))?;
        if user == "<invalid username>" {
            invalid = true;
        }
        self.learn(ctx, &remote, port, out);
        if method == "publickey" && !invalid {
            // A valid user's key that did not fit: routine for users with several keys.
            if let Some(st) = self.state(ctx) {
                st.add_user(user);
                st.pending = st.pending.saturating_add(1);
            }
            return Some(());
        }
        if let Some(st) = self.state(ctx) {
            st.add_user(user);
            st.pending = 0;
        }
        failure(
            out,
            ctx,
            EventType::FailedLogin,
            Some(&remote),
            port,
            Some(user),
            Some(method),
            invalid,
            None,
        );
        Some(())
    }

    /// `Accepted <method> for U from HOST port P ssh2[: info]`.
    pub(super) fn accepted(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
        let (method, rest) = word(r);
        let rest = rest.strip_prefix(" for")?;
        let (user, remote, port) = user_from(rest, Tail::Auth, Pick::Leftmost, self.known(ctx))?;
        self.learn(ctx, &remote, port, out);
        if let Some(st) = self.state(ctx) {
            let u = clip(user);
            let other = st
                .users
                .iter()
                .find(|x| x.as_bytes() != u.as_bytes())
                .map(|x| x.as_str().to_string());
            if let Some(other) = other {
                st.add_user(user);
                let e = failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    Some(&remote),
                    port,
                    Some(&other),
                    Some(method),
                    false,
                    Some("other users tried before this login"),
                );
                e.extra
                    .insert("attempts".into(), (st.pending + 1).to_string());
                e.extra.insert("users".into(), st.users_joined());
            }
            st.users.clear();
            st.pending = 0;
            st.deferred = None;
            st.max_exceeded = false;
            st.authenticated = true;
        }
        let e = base(out, ctx, EventType::LoginSuccess, Some(&remote), port);
        e.user = Some(user.to_string());
        e.method = Some(method.to_string());
        e.outcome = Some(Outcome::Success);
        if user == "root" {
            let mut root = e.clone();
            root.kind = EventType::RootLogin;
            out.push(root);
        }
        Some(())
    }

    /// `Invalid user U from HOST[ port P]` (after `Invalid user`, so `r` starts with a space).
    pub(super) fn invalid_user(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let (user, remote, port) = user_from(r, Tail::Strict, Pick::Rightmost, None)?;
        self.learn(ctx, &remote, port, out);
        if let Some(st) = self.state(ctx) {
            st.add_user(user);
        }
        failure(
            out,
            ctx,
            EventType::InvalidUser,
            Some(&remote),
            port,
            Some(user),
            None,
            true,
            None,
        );
        Some(())
    }

    /// `User U from HOST not allowed because …`, or without `from HOST`
    /// (`User root not allowed because account is locked`).
    pub(super) fn not_allowed(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        const MARK: &str = " not allowed because ";
        for pos in NOT_ALLOWED.occurrences(r) {
            let before = &r[..pos];
            let why = &r[pos + MARK.len()..];
            if let Some((user, host)) = RFROM.rsplit_once(before) {
                let Some(remote) = parse_remote(host) else {
                    continue;
                };
                self.learn(ctx, &remote, None, out);
                if let Some(st) = self.state(ctx) {
                    st.add_user(user);
                }
                let e = failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    Some(&remote),
                    None,
                    Some(user),
                    None,
                    false,
                    Some("denied"),
                );
                e.extra
                    .insert("detail".into(), format!("not allowed because {why}"));
                return Some(());
            }
            // No address on the line: the connection's, now or when it becomes known.
            let user = before;
            if let Some((remote, port)) = self.known_remote(ctx) {
                let e = failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    Some(&remote),
                    port,
                    Some(user),
                    None,
                    false,
                    Some("denied"),
                );
                e.extra
                    .insert("detail".into(), format!("not allowed because {why}"));
            } else if let Some(st) = self.state(ctx) {
                st.add_user(user);
                st.deferred = Some(Deferred {
                    user: Some(clip(user).into()),
                    reason: "denied",
                    attempts: 1,
                });
            }
            return Some(());
        }
        None
    }

    /// tcp-wrappers: `refused connect from NAME (ADDR)` or `… from ADDR`.
    pub(super) fn refused_connect(
        &mut self,
        ctx: &Ctx<'_>,
        r: &str,
        out: &mut Vec<Event>,
    ) -> Option<()> {
        let inner = r
            .strip_suffix(')')
            .and_then(|s| s.rsplit_once(" ("))
            .map(|(_, a)| a);
        let addr = match inner {
            Some(a) => a,
            None => {
                let w = word(r).0;
                w.rsplit_once('@').map_or(w, |(_, a)| a)
            }
        };
        let remote = parse_remote(addr)?;
        self.learn(ctx, &remote, None, out);
        failure(
            out,
            ctx,
            EventType::FailedLogin,
            Some(&remote),
            None,
            None,
            None,
            false,
            Some("refused connect (tcp wrappers)"),
        );
        Some(())
    }

    /// `error: PAM: Authentication failure for [illegal user ]U from HOST[ via ADDR]`.
    pub(super) fn pam_error(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
        let (head, rest) = r.split_once(" for ")?;
        let head_ok = head.eq_ignore_ascii_case("authentication failure")
            || head.eq_ignore_ascii_case("authentication error")
            || head.starts_with("User not known to the underlying authentication module");
        if !head_ok {
            return None;
        }
        let (rest, invalid) = match rest
            .strip_prefix("illegal user ")
            .or_else(|| rest.strip_prefix("invalid user "))
        {
            Some(r) => (r, true),
            None => (rest, false),
        };
        // Rightmost ` from ` whose tail is `HOST[ via ADDR]`.
        let mut found = None;
        for pos in FROM.occurrences(rest) {
            let tail = &rest[pos + " from ".len()..];
            let (host, after) = word(tail);
            let after_ok = after.is_empty()
                || after
                    .strip_prefix(" via ")
                    .is_some_and(|v| !v.is_empty() && !v.contains(' '));
            if let (true, Some(remote)) = (after_ok, parse_remote(host)) {
                found = Some((&rest[..pos], remote));
            }
        }
        let (user, remote) = found?;
        self.learn(ctx, &remote, None, out);
        if let Some(st) = self.state(ctx) {
            st.add_user(user);
        }
        failure(
            out,
            ctx,
            EventType::FailedLogin,
            Some(&remote),
            None,
            Some(user),
            Some("pam"),
            invalid,
            Some("pam authentication failure"),
        );
        Some(())
    }

    /// `pam_*(sshd:auth): authentication failure; …` echoes a `Failed …` line: only
    /// remembered, unless the connection tries a second user name.
    pub(super) fn pam_line(&mut self, ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Option<()> {
        let Some((head, text)) = split_colon_space(m) else {
            return Some(());
        };
        if !head.ends_with(":auth)") {
            return Some(());
        }
        let Some(rest) = text.strip_prefix("authentication failure;") else {
            return Some(());
        };
        let Some(f) = crate::parse::pam::auth_failure_fields(rest.trim_start()) else {
            return Some(());
        };
        let remote = parse_remote(f.rhost);
        if let Some(remote) = &remote {
            self.learn(ctx, remote, None, out);
        }
        let Some(st) = self.state(ctx) else {
            return Some(());
        };
        st.add_user(f.ruser);
        if let Some(u) = f.user {
            st.add_user(u);
        }
        st.pending = st.pending.saturating_add(1);
        if st.users.len() > 1 {
            let user = f.user.filter(|u| !u.is_empty()).unwrap_or(f.ruser);
            let remote = remote.or_else(|| st.remote.clone());
            // An event needs an address to be of use to any rule.
            if remote.is_some() {
                let e = failure(
                    out,
                    ctx,
                    EventType::FailedLogin,
                    remote.as_ref(),
                    st.port,
                    (!user.is_empty()).then_some(user),
                    Some("pam"),
                    false,
                    Some("several user names in one connection"),
                );
                e.extra.insert("attempts".into(), st.pending.to_string());
                e.extra.insert("users".into(), st.users_joined());
            }
            st.pending = 0;
        }
        Some(())
    }
}
