//! shadow-utils: useradd, userdel, usermod, groupadd, groupdel, groupmod, gpasswd,
//! chpasswd, passwd, chage, chsh, chfn — accounts and groups created, changed, removed.
//!
//! Convention: `target_user` is the account acted on, `user` the actor when the line names
//! one (gpasswd, shadow's passwd); `extra.group` the group.
//!
//! One change is one event. The tools log most changes once per database file; only one
//! of those lines counts:
//!
//! * `new user: name=bob, UID=1001, …` → `USER_ADDED` (extra uid, gid, home, shell, from);
//! * `new group: name=bob, GID=1001` → `GROUP_ADDED`; groupadd's `group added to
//!   /etc/group: …` and `… /etc/gshadow: …` echoes are ignored;
//! * `add 'bob' to group 'sudo'` → `GROUP_MEMBER_ADDED`; the `… to shadow group …` echo is
//!   ignored (it only exists when the group is also in /etc/gshadow); likewise
//!   `delete 'bob' from group 'sudo'` → `GROUP_MEMBER_REMOVED`;
//! * `delete user 'bob'` → `USER_DELETED`;
//! * `removed group 'bob' owned by 'bob'` (userdel) and `group 'bob' removed` (groupdel)
//!   → `GROUP_DELETED`; `removed shadow group …` and `group 'bob' removed from /etc/…`
//!   are ignored;
//! * gpasswd `user bob added by root to group sudo` / `user bob removed by root from group
//!   sudo` → `GROUP_MEMBER_ADDED` / `_REMOVED`; `members of group sudo set by root to a,b`
//!   → one `GROUP_MEMBER_ADDED` per listed member (extra `change=set_members`): the log
//!   does not say which of them are new;
//! * usermod `change user 'bob' shell from 'a' to 'b'` (also home, UID, GID, expiration,
//!   inactive), `change user name 'a' to 'b'`, `lock/unlock user 'bob' password`, chage
//!   `changed password expiry for bob`, chsh `changed user 'bob' shell to '/bin/zsh'`, chfn
//!   `changed user 'bob' information` → `USER_MODIFIED` with `extra.change`;
//! * `pam_unix(passwd:chauthtok): password changed for bob` (passwd, chpasswd), usermod
//!   `change user 'bob' password` and shadow passwd's `password for 'bob' changed by
//!   'root'` → `PASSWORD_CHANGED`. passwd built with PAM writes only the PAM line for a
//!   plain change and only the shadow line for `-l`/`-u`/`-d`/`-e`, so neither doubles.
//!
//! groupmod's `group changed in /etc/group (…)` has no event type and is ignored. adduser,
//! deluser, addgroup and delgroup run the tools above, whose lines count; their own lines
//! are ignored. Other PAM lines of these programs are left to the PAM parser.

use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType};

#[derive(Default)]
pub struct ShadowUtils {}

/// At most this many events from one `members of group … set … to a,b,…` line.
const MAX_MEMBERS: usize = 64;

impl MessageParser for ShadowUtils {
    fn id(&self) -> &'static str {
        "shadow"
    }
    fn doc(&self) -> &'static str {
        "shadow-utils: useradd, userdel, usermod, groupadd, groupdel, gpasswd, chpasswd, passwd"
    }
    fn programs(&self) -> &'static [&'static str] {
        &[
            "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd",
            "chpasswd", "passwd", "chage", "chsh", "chfn", "adduser", "deluser", "addgroup",
            "delgroup",
        ]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        parse(ctx, message.trim(), out)
    }
}

/// `'text' rest` → (`text`, `rest` after the closing quote).
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('\'')?;
    let end = s.find('\'')?;
    Some((&s[..end], &s[end + 1..]))
}

/// A message whose only content is `'text'`.
fn only_quoted(s: &str) -> Option<&str> {
    let (q, rest) = quoted(s)?;
    rest.is_empty().then_some(q)
}

fn ev(ctx: &Ctx<'_>, kind: EventType, target: Option<&str>) -> Event {
    let mut e = ctx.event(kind);
    e.target_user = target.filter(|t| !t.is_empty()).map(str::to_string);
    e
}

fn put(e: &mut Event, key: &'static str, value: &str) {
    e.extra.insert(key.into(), value.to_string());
}

fn parse(ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Parsed {
    if matches!(ctx.program, "adduser" | "deluser" | "addgroup" | "delgroup") {
        return Parsed::Ignored;
    }
    if let Some(r) = m.strip_prefix("pam_") {
        return pam(ctx, r, out);
    }
    if let Some(r) = m.strip_prefix("new user: ") {
        return new_user(ctx, r, out);
    }
    if let Some(r) = m.strip_prefix("new group: ") {
        let name = field(r, "name");
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Parsed::Unknown;
        };
        let mut e = ev(ctx, EventType::GroupAdded, None);
        put(&mut e, "group", name);
        if let Some(gid) = field(r, "GID") {
            put(&mut e, "gid", gid);
        }
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("add ") {
        return membership(ctx, r, " to ", EventType::GroupMemberAdded, out);
    }
    if let Some(r) = m.strip_prefix("delete user ") {
        let Some(name) = only_quoted(r) else {
            return Parsed::Unknown;
        };
        out.push(ev(ctx, EventType::UserDeleted, Some(name)));
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("delete ") {
        return membership(ctx, r, " from ", EventType::GroupMemberRemoved, out);
    }
    if let Some(r) = m.strip_prefix("removed group ") {
        // userdel: `removed group 'bob' owned by 'bob'`
        let Some((group, rest)) = quoted(r) else {
            return Parsed::Unknown;
        };
        let mut e = ev(ctx, EventType::GroupDeleted, None);
        put(&mut e, "group", group);
        if let Some(owner) = rest.strip_prefix(" owned by ").and_then(only_quoted) {
            put(&mut e, "owner", owner);
        }
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("group ") {
        // groupdel: `group 'x' removed` counts, `group 'x' removed from /etc/group` echoes.
        if let Some((group, rest)) = quoted(r) {
            if rest == " removed" {
                let mut e = ev(ctx, EventType::GroupDeleted, None);
                put(&mut e, "group", group);
                out.push(e);
                return Parsed::Events;
            }
            if rest.starts_with(" removed from ") {
                return Parsed::Ignored;
            }
        }
        if r.starts_with("added to ") || r.starts_with("changed in ") {
            return Parsed::Ignored;
        }
        return Parsed::Unknown;
    }
    if let Some(r) = m.strip_prefix("user ") {
        if r.starts_with('"') {
            // chpasswd: `user "x" does not exist in /etc/passwd`
            return Parsed::Ignored;
        }
        return gpasswd_user(ctx, r, out);
    }
    if let Some(r) = m.strip_prefix("members of group ") {
        return gpasswd_members(ctx, r, out);
    }
    if m.starts_with("change ") || m.starts_with("lock user ") || m.starts_with("unlock user ") {
        return usermod(ctx, m, out);
    }
    if let Some(r) = m.strip_prefix("changed password expiry for ") {
        let mut e = ev(ctx, EventType::UserModified, Some(r));
        put(&mut e, "change", "expiry");
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("changed user ") {
        // chsh: `changed user 'bob' shell to '/bin/zsh'`; chfn: `changed user 'bob' information`
        let Some((name, rest)) = quoted(r) else {
            return Parsed::Unknown;
        };
        let mut e = ev(ctx, EventType::UserModified, Some(name));
        if let Some(to) = rest.strip_prefix(" shell to ").and_then(only_quoted) {
            put(&mut e, "change", "shell");
            put(&mut e, "to", to);
        } else if rest == " information" {
            put(&mut e, "change", "information");
        } else {
            return Parsed::Unknown;
        }
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("password for ") {
        // shadow passwd: `password for 'bob' changed by 'root'`
        let Some((name, rest)) = quoted(r) else {
            return Parsed::Unknown;
        };
        let Some(actor) = rest.strip_prefix(" changed by ").and_then(only_quoted) else {
            return Parsed::Unknown;
        };
        let mut e = ev(ctx, EventType::PasswordChanged, Some(name));
        e.user = Some(actor.to_string());
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("password changed for ") {
        out.push(ev(ctx, EventType::PasswordChanged, Some(r)));
        return Parsed::Events;
    }
    const CHATTER: &[&str] = &[
        "failed adding user ",
        "password of group ",
        "access to group ",
        "administrators of group ",
        "removed shadow group ",
        "cannot ",
        "failure while ",
        "display aging info for ",
        "password locked for ",
        "user \"",
    ];
    if CHATTER.iter().any(|c| m.starts_with(c)) || m.contains(" failed to ") {
        return Parsed::Ignored;
    }
    Parsed::Unknown
}

/// `pam_xxx(service:chauthtok): …` under passwd/chpasswd (`pam_` already stripped).
fn pam(ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Parsed {
    let Some((_, msg)) = r.split_once("): ") else {
        return Parsed::Unknown;
    };
    if let Some(name) = msg.strip_prefix("password changed for ") {
        let name = name.trim();
        if name.is_empty() {
            return Parsed::Unknown;
        }
        out.push(ev(ctx, EventType::PasswordChanged, Some(name)));
        return Parsed::Events;
    }
    if msg.starts_with("user \"") && msg.contains("\" does not exist in ") {
        return Parsed::Ignored;
    }
    Parsed::Unknown
}

/// The value of `key=` in `name=bob, UID=1001, home=/home/bob`.
fn field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.split(", ").find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn new_user(ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Parsed {
    let Some(name) = field(r, "name").filter(|n| !n.is_empty()) else {
        return Parsed::Unknown;
    };
    let mut e = ev(ctx, EventType::UserAdded, Some(name));
    for (key, logged) in [
        ("uid", "UID"),
        ("gid", "GID"),
        ("home", "home"),
        ("shell", "shell"),
        ("from", "from"),
    ] {
        if let Some(v) = field(r, logged) {
            put(&mut e, key, v);
        }
    }
    out.push(e);
    Parsed::Events
}

/// useradd/usermod/userdel `'bob' to group 'sudo'` / `'bob' from group 'sudo'`; the
/// `shadow group` form echoes it and is ignored.
fn membership(ctx: &Ctx<'_>, r: &str, word: &str, kind: EventType, out: &mut Vec<Event>) -> Parsed {
    let Some((user, rest)) = quoted(r) else {
        return Parsed::Unknown;
    };
    let Some(rest) = rest.strip_prefix(word) else {
        return Parsed::Unknown;
    };
    if rest
        .strip_prefix("shadow group ")
        .and_then(only_quoted)
        .is_some()
    {
        return Parsed::Ignored;
    }
    let Some(group) = rest.strip_prefix("group ").and_then(only_quoted) else {
        return Parsed::Unknown;
    };
    let mut e = ev(ctx, kind, Some(user));
    put(&mut e, "group", group);
    out.push(e);
    Parsed::Events
}

/// gpasswd: `user bob added by root to group sudo[ in /etc/group]` and
/// `user bob removed by root from group sudo`.
fn gpasswd_user(ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Parsed {
    let (user, rest) = match r.split_once(" added by ") {
        Some(x) => x,
        None => match r.split_once(" removed by ") {
            Some(x) => x,
            None => return Parsed::Unknown,
        },
    };
    let (kind, actor, group) = if let Some((a, g)) = rest.split_once(" to group ") {
        (EventType::GroupMemberAdded, a, g)
    } else if let Some((a, g)) = rest.split_once(" from group ") {
        (EventType::GroupMemberRemoved, a, g)
    } else {
        return Parsed::Unknown;
    };
    // A partial failure adds ` in /etc/group`; group names have no spaces.
    let group = group.split(' ').next().unwrap_or(group);
    if user.is_empty() || group.is_empty() {
        return Parsed::Unknown;
    }
    let mut e = ev(ctx, kind, Some(user));
    e.user = Some(actor.to_string()).filter(|a| !a.is_empty());
    put(&mut e, "group", group);
    out.push(e);
    Parsed::Events
}

/// gpasswd -M: `members of group sudo set by root to alice,bob`.
fn gpasswd_members(ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Parsed {
    let Some((group, rest)) = r.split_once(" set by ") else {
        return Parsed::Unknown;
    };
    let split = rest.split_once(" to ");
    let Some((actor, members)) = split.or_else(|| rest.strip_suffix(" to").map(|a| (a, ""))) else {
        return Parsed::Unknown;
    };
    let members = members.split(' ').next().unwrap_or("");
    let mut n = 0;
    for member in members
        .split(',')
        .filter(|m| !m.is_empty())
        .take(MAX_MEMBERS)
    {
        let mut e = ev(ctx, EventType::GroupMemberAdded, Some(member));
        e.user = Some(actor.to_string());
        put(&mut e, "group", group);
        put(&mut e, "change", "set_members");
        out.push(e);
        n += 1;
    }
    if n == 0 {
        Parsed::Ignored
    } else {
        Parsed::Events
    }
}

/// usermod's `change …`, `lock user 'x' password`, `unlock user 'x' password`.
fn usermod(ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Parsed {
    for (prefix, change) in [("lock user ", "lock"), ("unlock user ", "unlock")] {
        if let Some(r) = m.strip_prefix(prefix) {
            let Some((name, rest)) = quoted(r) else {
                return Parsed::Unknown;
            };
            if rest != " password" {
                return Parsed::Unknown;
            }
            let mut e = ev(ctx, EventType::UserModified, Some(name));
            put(&mut e, "change", change);
            out.push(e);
            return Parsed::Events;
        }
    }
    if let Some(r) = m.strip_prefix("change user name ") {
        // `change user name 'old' to 'new'`
        let Some((old, rest)) = quoted(r) else {
            return Parsed::Unknown;
        };
        let Some(new) = rest.strip_prefix(" to ").and_then(only_quoted) else {
            return Parsed::Unknown;
        };
        let mut e = ev(ctx, EventType::UserModified, Some(old));
        put(&mut e, "change", "name");
        put(&mut e, "from", old);
        put(&mut e, "to", new);
        out.push(e);
        return Parsed::Events;
    }
    if let Some(r) = m.strip_prefix("change user ") {
        // `change user 'bob' shell from '/bin/sh' to '/bin/bash'`, `change user 'bob' password`
        let Some((name, rest)) = quoted(r) else {
            return Parsed::Unknown;
        };
        if rest == " password" {
            let mut e = ev(ctx, EventType::PasswordChanged, Some(name));
            put(&mut e, "via", "usermod");
            out.push(e);
            return Parsed::Events;
        }
        let Some(rest) = rest.strip_prefix(' ') else {
            return Parsed::Unknown;
        };
        let Some((what, rest)) = rest.split_once(" from ") else {
            return Parsed::Unknown;
        };
        if what.is_empty() || what.contains(' ') {
            return Parsed::Unknown;
        }
        let mut e = ev(ctx, EventType::UserModified, Some(name));
        put(&mut e, "change", &what.to_ascii_lowercase());
        if let Some((from, rest)) = quoted(rest) {
            put(&mut e, "from", from);
            if let Some(to) = rest.strip_prefix(" to ").and_then(only_quoted) {
                put(&mut e, "to", to);
            }
        }
        out.push(e);
        return Parsed::Events;
    }
    // `change 'old' to 'new' in group 'x'` (rename echo): the name change counted.
    if m.starts_with("change '") {
        return Parsed::Ignored;
    }
    Parsed::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(program: &str, msg: &str) -> (Parsed, Vec<Event>) {
        crate::parse::feed_message(
            |c, m, o| ShadowUtils::default().parse(c, m, o),
            program,
            Some(9),
            msg,
        )
    }
    fn one(program: &str, msg: &str) -> Event {
        let (r, mut out) = run(program, msg);
        assert_eq!(r, Parsed::Events, "{msg}");
        assert_eq!(out.len(), 1, "{msg}");
        out.pop().unwrap()
    }
    fn ignored(program: &str, msg: &str) {
        let (r, out) = run(program, msg);
        assert_eq!(r, Parsed::Ignored, "{msg}");
        assert!(out.is_empty());
    }

    #[test]
    fn useradd() {
        let e = one("useradd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0");
        assert_eq!(e.kind, EventType::UserAdded);
        assert_eq!(e.target_user.as_deref(), Some("bob"));
        assert_eq!(e.extra["uid"], "1001");
        assert_eq!(e.extra["gid"], "1001");
        assert_eq!(e.extra["home"], "/home/bob");
        assert_eq!(e.extra["shell"], "/bin/bash");
        assert_eq!(e.extra["from"], "/dev/pts/0");
        // The elastic corpus (Ubuntu 16.04): no `from=`.
        let e = one("useradd", "new user: name=elastic_user_0, UID=1001, GID=1001, home=/home/elastic_user_0, shell=/bin/bash");
        assert_eq!(e.target_user.as_deref(), Some("elastic_user_0"));
        assert!(!e.extra.contains_key("from"));
        let e = one("useradd", "new group: name=bob, GID=1001");
        assert_eq!(e.kind, EventType::GroupAdded);
        assert_eq!(e.extra["group"], "bob");
        assert_eq!(e.extra["gid"], "1001");
        ignored(
            "useradd",
            "failed adding user 'elastic_user_3', data deleted",
        );
        ignored("groupadd", "group added to /etc/group: name=devs, GID=1002");
        ignored("groupadd", "group added to /etc/gshadow: name=devs");
        assert_eq!(
            one("groupadd", "new group: name=devs, GID=1002").kind,
            EventType::GroupAdded
        );
    }

    #[test]
    fn membership_counts_once() {
        let e = one("usermod", "add 'bob' to group 'sudo'");
        assert_eq!(e.kind, EventType::GroupMemberAdded);
        assert_eq!(e.target_user.as_deref(), Some("bob"));
        assert_eq!(e.extra["group"], "sudo");
        ignored("usermod", "add 'bob' to shadow group 'sudo'");
        let e = one("userdel", "delete 'bob' from group 'sudo'");
        assert_eq!(e.kind, EventType::GroupMemberRemoved);
        ignored("userdel", "delete 'bob' from shadow group 'sudo'");
        let e = one("gpasswd", "user bob added by root to group sudo");
        assert_eq!(e.kind, EventType::GroupMemberAdded);
        assert_eq!(e.user.as_deref(), Some("root"));
        assert_eq!(e.target_user.as_deref(), Some("bob"));
        assert_eq!(e.extra["group"], "sudo");
        let e = one("gpasswd", "user bob removed by alice from group docker");
        assert_eq!(e.kind, EventType::GroupMemberRemoved);
        assert_eq!(e.user.as_deref(), Some("alice"));
        assert_eq!(e.extra["group"], "docker");
        let (r, out) = run("gpasswd", "members of group sudo set by root to alice,bob");
        assert_eq!(r, Parsed::Events);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].target_user.as_deref(), Some("bob"));
        ignored("gpasswd", "members of group sudo set by root to ");
        ignored("gpasswd", "password of group sudo changed by root");
    }

    #[test]
    fn deletions() {
        let e = one("userdel", "delete user 'bob'");
        assert_eq!(e.kind, EventType::UserDeleted);
        assert_eq!(e.target_user.as_deref(), Some("bob"));
        let e = one("userdel", "removed group 'bob' owned by 'bob'");
        assert_eq!(e.kind, EventType::GroupDeleted);
        assert_eq!(e.extra["group"], "bob");
        assert_eq!(e.extra["owner"], "bob");
        ignored("userdel", "removed shadow group 'bob' owned by 'bob'");
        let e = one("groupdel", "group 'devs' removed");
        assert_eq!(e.kind, EventType::GroupDeleted);
        ignored("groupdel", "group 'devs' removed from /etc/group");
        ignored("groupdel", "group 'devs' removed from /etc/gshadow");
        ignored(
            "groupmod",
            "group changed in /etc/group (group devs/1002, new name: ops)",
        );
    }

    #[test]
    fn modifications() {
        let e = one(
            "usermod",
            "change user 'bob' shell from '/bin/sh' to '/bin/bash'",
        );
        assert_eq!(e.kind, EventType::UserModified);
        assert_eq!(e.extra["change"], "shell");
        assert_eq!(e.extra["from"], "/bin/sh");
        assert_eq!(e.extra["to"], "/bin/bash");
        let e = one(
            "usermod",
            "change user 'bob' home from '/home/bob' to '/srv/bob'",
        );
        assert_eq!(e.extra["change"], "home");
        let e = one("usermod", "change user 'bob' UID from '1001' to '0'");
        assert_eq!(e.extra["change"], "uid");
        assert_eq!(e.extra["to"], "0");
        let e = one("usermod", "lock user 'bob' password");
        assert_eq!(e.extra["change"], "lock");
        let e = one("usermod", "unlock user 'bob' password");
        assert_eq!(e.extra["change"], "unlock");
        let e = one("usermod", "change user name 'a' to 'b'");
        assert_eq!(e.target_user.as_deref(), Some("a"));
        assert_eq!(e.extra["to"], "b");
        ignored("usermod", "change 'a' to 'b' in group 'sudo'");
        let e = one("usermod", "change user 'bob' password");
        assert_eq!(e.kind, EventType::PasswordChanged);
        let e = one("chage", "changed password expiry for bob");
        assert_eq!(e.kind, EventType::UserModified);
        assert_eq!(e.extra["change"], "expiry");
        let e = one("chsh", "changed user 'bob' shell to '/bin/zsh'");
        assert_eq!(e.extra["to"], "/bin/zsh");
        let e = one("chfn", "changed user 'bob' information");
        assert_eq!(e.extra["change"], "information");
    }

    #[test]
    fn passwords() {
        let e = one(
            "chpasswd",
            "pam_unix(chpasswd:chauthtok): password changed for elastic_user_0",
        );
        assert_eq!(e.kind, EventType::PasswordChanged);
        assert_eq!(e.target_user.as_deref(), Some("elastic_user_0"));
        let e = one(
            "passwd",
            "pam_unix(passwd:chauthtok): password changed for bob",
        );
        assert_eq!(e.target_user.as_deref(), Some("bob"));
        let e = one("passwd", "password for 'bob' changed by 'root'");
        assert_eq!(e.user.as_deref(), Some("root"));
        ignored("chpasswd", "pam_unix(chpasswd:chauthtok): user \"elastic_user_$login_count\" does not exist in /etc/passwd");
        assert_eq!(
            run(
                "passwd",
                "pam_unix(passwd:chauthtok): authentication token manipulation error"
            )
            .0,
            Parsed::Unknown
        );
        ignored("adduser", "Adding user `bob' ...");
        ignored("chpasswd", "user \"ghost\" does not exist in /etc/passwd");
    }

    #[test]
    fn hostile_values() {
        let x = "<img src=x onerror=alert(1)>";
        let e = one("usermod", &format!("add '{x}' to group '{x}'"));
        assert_eq!(e.target_user.as_deref(), Some(x));
        assert_eq!(e.extra["group"], x);
        let e = one(
            "useradd",
            &format!("new user: name={x}, UID=0, GID=0, home=/, shell={x}"),
        );
        assert_eq!(e.target_user.as_deref(), Some(x));
        assert_eq!(e.extra["uid"], "0");
    }

    #[test]
    fn prefixes_never_panic() {
        for (p, l) in [
            (
                "useradd",
                "new user: name=bob, UID=1001, GID=1001, home=/home/bøb, shell=/bin/bash",
            ),
            (
                "usermod",
                "change user 'bob' shell from '/bin/sh' to '/bin/bash'",
            ),
            ("usermod", "change user name 'a' to 'b'"),
            ("gpasswd", "user bob added by root to group sudo"),
            ("gpasswd", "members of group sudo set by root to alice,bob"),
            ("userdel", "removed group 'bob' owned by 'bob'"),
            ("passwd", "password for 'bob' changed by 'root'"),
            (
                "chpasswd",
                "pam_unix(chpasswd:chauthtok): password changed for bob",
            ),
        ] {
            for (i, _) in l.char_indices() {
                let _ = run(p, &l[..i]);
            }
        }
    }
}
