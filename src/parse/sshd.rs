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
use std::collections::VecDeque;

use hashbrown::HashTable;

use super::common::{parse_port, parse_remote, split_colon_space, Pattern, RPattern, Remote};
use super::{Ctx, MessageParser, Parsed};
use crate::base::small_bytes::SmallBytes;
use crate::model::event::{Event, EventType, Outcome};

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

// ---------------------------------------------------------------------------------------
// Per-pid memory

/// What one connection (sshd pid) told us so far.
#[derive(Default)]
struct PidState {
    remote: Option<Remote>,
    port: Option<u16>,
    /// Distinct user names tried (failures, PAM helpers), at most [`MAX_USERS`].
    users: Users,
    /// Attempts seen that are not failures on their own (`Failed publickey` for a valid
    /// user, PAM auth-failure echoes) and not yet counted in an emitted failure.
    pending: u32,
    /// A failure logged before the connection's address was known.
    deferred: Option<Deferred>,
    /// `maximum authentication attempts exceeded` already counted for this connection.
    max_exceeded: bool,
    /// An `Accepted` login happened on this connection.
    authenticated: bool,
}

struct Deferred {
    user: Option<Box<str>>,
    reason: &'static str,
    attempts: u32,
}

/// A pid's hash: pids are small integers the kernel hands out, not attacker-chosen
/// strings, so a multiply spreads them well enough.
fn pid_hash(pid: u32) -> u64 {
    u64::from(pid).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One connection's place in the [`PidTable`].
#[derive(Default)]
struct PidSlot {
    pid: u32,
    /// Bumped each time the slot is given to a connection, so that an `order` entry of an
    /// earlier occupant is recognised as stale.
    gen: u32,
    live: bool,
    state: PidState,
}

/// Bounded pid → state table, evicting the oldest connection first.
///
/// The states live in a vector of slots and the hash table holds only slot numbers (four
/// bytes each, so probing it stays in cache even when full); a slot freed by a closed or
/// evicted connection is reused in place. Under a brute force the table is full and
/// every new connection evicts one: with the states inside the hash table that cost a
/// cache miss on the evicted entry and another on wherever the new one landed.
#[derive(Default)]
struct PidTable {
    table: HashTable<u32>,
    slots: Vec<PidSlot>,
    /// Slots of closed connections, reused first.
    free: Vec<u32>,
    /// (slot, generation) in creation order: the front is evicted first. Entries whose
    /// slot has since been freed or given to another connection are skipped.
    order: VecDeque<(u32, u32)>,
}

impl PidTable {
    fn find(&self, pid: u32) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(pid_hash(pid), |&i| slots[i as usize].pid == pid)
            .copied()
    }

    fn get(&self, pid: Option<u32>) -> Option<&PidState> {
        let i = self.find(pid?)?;
        Some(&self.slots[i as usize].state)
    }

    fn entry(&mut self, pid: u32) -> &mut PidState {
        if let Some(i) = self.find(pid) {
            return &mut self.slots[i as usize].state;
        }
        let i = self.take_slot();
        let slot = &mut self.slots[i as usize];
        slot.pid = pid;
        slot.gen = slot.gen.wrapping_add(1);
        slot.live = true;
        let gen = slot.gen;
        let slots = &self.slots;
        self.table
            .insert_unique(pid_hash(pid), i, |&j| pid_hash(slots[j as usize].pid));
        self.order.push_back((i, gen));
        if self.order.len() > 2 * MAX_PIDS + 64 {
            let slots = &self.slots;
            self.order
                .retain(|&(i, g)| slots[i as usize].live && slots[i as usize].gen == g);
        }
        &mut self.slots[i as usize].state
    }

    /// A slot for a new connection: a freed one, a new one while there are fewer than
    /// [`MAX_PIDS`], else the oldest connection's.
    fn take_slot(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        if self.slots.len() < MAX_PIDS {
            if self.slots.len() == self.slots.capacity() {
                // Doubling, but never past the bound: a full table holds exactly
                // MAX_PIDS slots rather than the next power of two (1.7 MB, not 2.8).
                let want = (2 * self.slots.len()).clamp(64, MAX_PIDS);
                self.slots.reserve_exact(want - self.slots.len());
            }
            self.slots.push(PidSlot::default());
            return (self.slots.len() - 1) as u32;
        }
        while let Some((i, g)) = self.order.pop_front() {
            let slot = &self.slots[i as usize];
            if slot.live && slot.gen == g {
                self.unlink(i);
                return i;
            }
        }
        // Every live slot has its entry in `order`, so a full table always finds one
        // above; should that ever fail, grow rather than lose the connection.
        debug_assert!(false, "a full pid table with no live entry in its order");
        self.slots.push(PidSlot::default());
        (self.slots.len() - 1) as u32
    }

    /// Takes slot `i`'s connection out of the table and drops its state.
    fn unlink(&mut self, i: u32) {
        let pid = self.slots[i as usize].pid;
        if let Ok(entry) = self.table.find_entry(pid_hash(pid), |&j| j == i) {
            entry.remove();
        }
        let slot = &mut self.slots[i as usize];
        slot.live = false;
        slot.state = PidState::default();
    }

    fn remove(&mut self, pid: Option<u32>) {
        if let Some(i) = pid.and_then(|p| self.find(p)) {
            self.unlink(i);
            self.free.push(i);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }
}

fn clip(u: &str) -> &str {
    if u.len() <= MAX_USER_LEN {
        return u;
    }
    let mut end = MAX_USER_LEN;
    while !u.is_char_boundary(end) {
        end -= 1;
    }
    &u[..end]
}

/// A remembered user name: inline when short (nearly all are), so that remembering one
/// costs no allocation.
#[derive(Clone)]
struct Name(SmallBytes<30>);

impl Name {
    fn new(s: &str) -> Name {
        Name(SmallBytes::new(s.as_bytes()))
    }
    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
    fn as_str(&self) -> &str {
        // Always valid: built from a whole `&str`.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// The distinct user names of one connection, at most [`MAX_USERS`]; the first is kept
/// inline.
#[derive(Default)]
struct Users {
    first: Option<Name>,
    rest: Vec<Name>,
}

impl Users {
    fn iter(&self) -> impl Iterator<Item = &Name> {
        self.first.iter().chain(self.rest.iter())
    }
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
    fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
    }
}

impl PidState {
    fn add_user(&mut self, user: &str) {
        let user = clip(user);
        if user.is_empty() || self.users.iter().any(|u| u.as_bytes() == user.as_bytes()) {
            return;
        }
        if self.users.first.is_none() {
            self.users.first = Some(Name::new(user));
        } else if self.users.len() < MAX_USERS {
            self.users.rest.push(Name::new(user));
        }
    }
    fn users_joined(&self) -> String {
        let mut s = String::new();
        for (i, u) in self.users.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(u.as_str());
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// Small text helpers

/// The word at the start of `s` (up to a space) and the rest (starting at that space).
fn word(s: &str) -> (&str, &str) {
    let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

static FROM: Pattern = Pattern::new(" from ");
static RFROM: RPattern = RPattern::new(" from ");
static PORT: Pattern = Pattern::new(" port ");
static RPORT: RPattern = RPattern::new(" port ");
static NOT_ALLOWED: Pattern = Pattern::new(" not allowed because ");

fn strip_preauth(s: &str) -> (&str, bool) {
    match s.strip_suffix(" [preauth]") {
        Some(r) => (r, true),
        None => (s, false),
    }
}

/// What may follow the address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// `Failed`/`Accepted`/`maximum …`: `[ port N][ on X][ sshN][: auth info][ [preauth]]`.
    Auth,
    /// `Invalid user`, `ROOT LOGIN REFUSED`: `[ port N][ on X][ [preauth]]`, nothing else.
    Strict,
}

/// Parses `HOST…` per `tail`; the address and port when the whole text fits.
fn addr_tail(t: &str, tail: Tail) -> Option<(Remote, Option<u16>)> {
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
enum Pick {
    /// The first candidate that fits (auth info may follow the address and hold ` from `).
    Leftmost,
    /// The last one (nothing of the client's follows the address).
    Rightmost,
}

/// Splits ` USER from HOST…` (note the leading space; USER may be empty or hold spaces and
/// ` from `). The connection's remembered address, when it is one of the candidates, wins.
fn user_from<'a>(
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
fn host_port(s: &str) -> Option<(Remote, Option<u16>, &str)> {
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
fn base<'o>(
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
fn failure<'o>(
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
fn preauth(
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

// ---------------------------------------------------------------------------------------
// Messages

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

    /// `Failed <method> for [invalid user ]U from HOST[ port P][ sshN][: info]`.
    fn failed(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn accepted(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn invalid_user(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn not_allowed(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn refused_connect(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn pam_error(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn pam_line(&mut self, ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Option<()> {
        let Some((head, text)) = split_colon_space(m) else {
            return Some(());
        };
        if !head.ends_with(":auth)") {
            return Some(());
        }
        let Some(rest) = text.strip_prefix("authentication failure;") else {
            return Some(());
        };
        let Some(f) = super::pam::auth_failure_fields(rest.trim_start()) else {
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

    /// `error: maximum authentication attempts exceeded for [invalid user ]U from HOST …`
    /// (after `… for`, so `r` starts with a space).
    fn max_exceeded(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn disconnecting_old(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn too_many(
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
    fn disconnecting_user(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn received_disconnect(&mut self, ctx: &Ctx<'_>, r: &str, out: &mut Vec<Event>) -> Option<()> {
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
    fn closed(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::timestamp::Timestamp;
    use std::net::IpAddr;

    fn feed_tag(p: &mut Sshd, tag: &str, pid: u32, msg: &str) -> (Parsed, Vec<Event>) {
        let ctx = Ctx {
            ts: Timestamp::from_micros(1_000_000),
            host: "h",
            program: super::super::canonical_program(tag),
            tag,
            pid: Some(pid),
            source: "test",
            line: msg,
            shared: &crate::parse::Shared::for_line(
                "test",
                "h",
                super::super::canonical_program(tag),
            ),
        };
        let mut out = Vec::new();
        let r = p.parse(&ctx, msg, &mut out);
        assert_eq!(r == Parsed::Events, !out.is_empty(), "{msg}");
        (r, out)
    }

    fn feed(p: &mut Sshd, pid: u32, msg: &str) -> (Parsed, Vec<Event>) {
        feed_tag(p, "sshd", pid, msg)
    }

    /// The one event a message must produce.
    fn one(msg: &str) -> Event {
        let (_, mut ev) = feed(&mut Sshd::default(), 1, msg);
        assert_eq!(ev.len(), 1, "{msg}: {ev:?}");
        ev.remove(0)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn failures(ev: &[Event]) -> usize {
        ev.iter()
            .filter(|e| matches!(e.kind, EventType::FailedLogin | EventType::InvalidUser))
            .count()
    }

    #[test]
    fn failed_password_shapes() {
        let e = one("Failed password for root from 1.2.3.4 port 22 ssh2");
        assert_eq!(e.kind, EventType::FailedLogin);
        assert_eq!(e.user.as_deref(), Some("root"));
        assert_eq!(e.src_ip, ip("1.2.3.4"));
        assert_eq!(e.src_port, Some(22));
        assert_eq!(e.method.as_deref(), Some("password"));
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert!(!e.extra.contains_key("invalid_user"));

        let e = one("Failed password for invalid user ROOT from aaaa:bbbb:cccc:1234::1:1");
        assert_eq!(e.src_ip, ip("aaaa:bbbb:cccc:1234::1:1"));
        assert_eq!(e.src_port, None);
        assert_eq!(
            e.extra.get("invalid_user").map(String::as_str),
            Some("true")
        );

        let e = one("Failed none for invalid user 0 from ::ffff:5.188.10.180 port 49054 ssh2");
        assert_eq!(e.src_ip, ip("5.188.10.180"));
        assert_eq!(e.method.as_deref(), Some("none"));

        let e = one("Failed keyboard-interactive/pam for invalid user jamedds from 205.186.180.77 port 33723 ssh2");
        assert_eq!(e.method.as_deref(), Some("keyboard-interactive/pam"));
        assert_eq!(e.user.as_deref(), Some("jamedds"));

        let e = one("[ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2");
        assert_eq!(
            e.extra.get("invalid_user").map(String::as_str),
            Some("true")
        );

        let e = one("Failed hostbased for dan from 127.0.0.1 port 45785 ssh2: RSA 8c:e3:aa, client user \"dan\", client host \"localhost.localdomain\"");
        assert_eq!(e.src_ip, ip("127.0.0.1"));
        assert_eq!(e.method.as_deref(), Some("hostbased"));

        let e = one("Failed password for dan from example.com port 1 ssh1");
        assert_eq!(e.src_host.as_deref(), Some("example.com"));
        assert_eq!(e.src_ip, None);

        // Leading zeros are never read as an address.
        let e = one("Failed password for x from 192.030.0.6 port 1 ssh2");
        assert_eq!(
            (e.src_ip, e.src_host.as_deref()),
            (None, Some("192.030.0.6"))
        );

        let e = one("Failed password for invalid user  from 192.0.2.68 port 34916 ssh2");
        assert_eq!(e.user.as_deref(), Some(""));
    }

    #[test]
    fn hostile_user_names() {
        let e = one("Failed password for invalid user <img src=x onerror=alert(1)> from 1.2.3.4 port 5 ssh2");
        assert_eq!(e.user.as_deref(), Some("<img src=x onerror=alert(1)>"));
        assert_eq!(e.src_ip, ip("1.2.3.4"));

        let e =
            one("Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2");
        assert_eq!(e.src_ip, ip("127.0.0.1"));
        assert_eq!(e.user.as_deref(), Some("from 10.10.1.1"));

        let e = one("Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2");
        assert_eq!(e.src_ip, ip("127.0.0.1"));
        assert_eq!(
            e.user.as_deref(),
            Some("test from 10.10.1.2 port 55555 ssh2")
        );

        let e = one("Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2");
        assert_eq!(e.src_ip, ip("127.0.0.1"));

        let e = one("Invalid user x from 6.6.6.6 from 1.2.3.4 port 5");
        assert_eq!(e.src_ip, ip("1.2.3.4"));
        assert_eq!(e.user.as_deref(), Some("x from 6.6.6.6"));

        // The connection's remembered address wins over an injected candidate.
        let mut p = Sshd::default();
        feed(
            &mut p,
            7,
            "Connection from 1.2.3.4 port 5 on 10.0.0.1 port 22",
        );
        let (_, ev) = feed(&mut p, 7, "Failed password for invalid user x from 6.6.6.6 port 1 ssh2: y from 1.2.3.4 port 5 ssh2");
        assert_eq!(ev[0].src_ip, ip("1.2.3.4"));
    }

    #[test]
    fn invalid_users() {
        let e = one("Invalid user ftp from 192.0.2.2 port 37220");
        assert_eq!(e.kind, EventType::InvalidUser);
        assert_eq!(
            (e.user.as_deref(), e.src_ip, e.src_port),
            (Some("ftp"), ip("192.0.2.2"), Some(37220))
        );
        assert_eq!(
            e.extra.get("invalid_user").map(String::as_str),
            Some("true")
        );
        let e = one("Illegal user test from 2001:db8::5");
        assert_eq!(e.src_ip, ip("2001:db8::5"));
        let e = one("Invalid user  from 192.0.2.68 port 34916");
        assert_eq!(e.user.as_deref(), Some(""));
        let e = one("Invalid user john smith from 192.0.2.9 port 1 [preauth]");
        assert_eq!(e.user.as_deref(), Some("john smith"));
    }

    #[test]
    fn denied_refused_and_pam_errors() {
        let e = one("User root from 46.45.128.3 not allowed because listed in DenyUsers");
        assert_eq!(e.kind, EventType::FailedLogin);
        assert_eq!(e.extra.get("reason").map(String::as_str), Some("denied"));
        assert_eq!(e.user.as_deref(), Some("root"));
        assert_eq!(
            e.extra.get("detail").map(String::as_str),
            Some("not allowed because listed in DenyUsers")
        );
        let e = one("ROOT LOGIN REFUSED FROM ::ffff:1.2.3.4");
        assert_eq!((e.src_ip, e.user.as_deref()), (ip("1.2.3.4"), Some("root")));
        let e = one("ROOT LOGIN REFUSED FROM 1.2.3.4 port 12345 [preauth]");
        assert_eq!(e.src_port, Some(12345));
        let e = one("refused connect from _U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_@::ffff:218.249.210.161 (::ffff:218.249.210.161)");
        assert_eq!(e.src_ip, ip("218.249.210.161"));
        let e = one("refused connect from 1.2.3.4");
        assert_eq!(e.src_ip, ip("1.2.3.4"));
        let e =
            one("error: PAM: Authentication failure for test-ipv6 from 2001:db8::80da:af6b:8b2c");
        assert_eq!(e.src_ip, ip("2001:db8::80da:af6b:8b2c"));
        let e =
            one("error: PAM: authentication error for james from example.com via 192.168.1.201");
        assert_eq!(e.src_host.as_deref(), Some("example.com"));
        let e = one("error: PAM: User not known to the underlying authentication module for illegal user kernelitshell from 10.215.4.227 ");
        assert_eq!(e.user.as_deref(), Some("kernelitshell"));
        assert_eq!(
            e.extra.get("invalid_user").map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn accepted_and_root() {
        let (_, ev) = feed(
            &mut Sshd::default(),
            1,
            "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
        );
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, EventType::LoginSuccess);
        assert_eq!(ev[0].outcome, Some(Outcome::Success));
        assert_eq!(ev[0].user.as_deref(), Some("fztu"));
        let (_, ev) = feed(
            &mut Sshd::default(),
            1,
            "Accepted publickey for root from 2001:db8::1 port 4 ssh2: ED25519 SHA256:abc",
        );
        let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventType::LoginSuccess, EventType::RootLogin]);
        assert_eq!(ev[1].src_ip, ip("2001:db8::1"));
    }

    #[test]
    fn publickey_helpers_and_too_many() {
        let mut p = Sshd::default();
        // A valid user's unfitting keys are not failures …
        let (r, ev) = feed(
            &mut p,
            10,
            "Failed publickey for git from 192.0.2.111 port 57910 ssh2: ECDSA 1e:fe",
        );
        assert_eq!((r, ev.len()), (Parsed::Ignored, 0));
        feed(
            &mut p,
            10,
            "Failed publickey for git from 192.0.2.111 port 57910 ssh2: RSA 14:ba",
        );
        // … until the connection gives up.
        let (_, ev) = feed(
            &mut p,
            10,
            "Disconnecting: Too many authentication failures for git [preauth]",
        );
        assert_eq!(failures(&ev), 1);
        assert_eq!(ev[0].src_ip, ip("192.0.2.111"));
        assert_eq!(ev[0].extra.get("attempts").map(String::as_str), Some("3"));
        let (_, ev) = feed(&mut p, 10, "Connection closed by 192.0.2.111 [preauth]");
        assert_eq!(failures(&ev), 0);
        assert_eq!(ev[0].kind, EventType::PreauthDisconnect);

        // Accepted after the helpers: nothing.
        let mut p = Sshd::default();
        feed(
            &mut p,
            11,
            "Failed publickey for git from 192.0.2.1 port 57904 ssh2: ECDSA 0e:ff",
        );
        let (_, ev) = feed(
            &mut p,
            11,
            "Accepted publickey for git from 192.0.2.1 port 57904 ssh2: DSA 36:48",
        );
        assert_eq!(failures(&ev), 0);
        let (r, _) = feed(&mut p, 11, "Connection closed by 192.0.2.1");
        assert_eq!(r, Parsed::Ignored);

        // A failed publickey for an invalid user counts at once.
        let e = one("Failed publickey for invalid user graysky from 127.0.0.1 port 37954 ssh2: RSA SHA256:v3dp");
        assert_eq!(e.kind, EventType::FailedLogin);
    }

    #[test]
    fn address_learned_later() {
        let mut p = Sshd::default();
        let (r, ev) = feed(
            &mut p,
            8148,
            "Disconnecting: Too many authentication failures for root [preauth]",
        );
        assert_eq!((r, ev.len()), (Parsed::Ignored, 0));
        let (_, ev) = feed(&mut p, 7148, "Connection closed by 61.0.0.1");
        assert_eq!(failures(&ev), 0, "another pid");
        let (_, ev) = feed(&mut p, 8148, "Connection closed by 61.0.0.1 [preauth]");
        assert_eq!(failures(&ev), 1);
        assert_eq!(ev[0].src_ip, ip("61.0.0.1"));
        assert_eq!(ev[0].user.as_deref(), Some("root"));

        let mut p = Sshd::default();
        feed(
            &mut p,
            3719,
            "User root not allowed because account is locked",
        );
        feed(
            &mut p,
            3719,
            "input_userauth_request: invalid user root [preauth]",
        );
        let (_, ev) = feed(
            &mut p,
            3719,
            "error: Received disconnect from 198.51.100.34: 11: Bye Bye [preauth]",
        );
        assert_eq!(failures(&ev), 1);
        assert_eq!(ev[0].src_ip, ip("198.51.100.34"));

        // Without a pending failure, `Received disconnect … 11:` is nothing.
        let (r, _) = feed(
            &mut Sshd::default(),
            1,
            "Received disconnect from 1.2.3.4 port 58846:11: Bye Bye [preauth]",
        );
        assert_eq!(r, Parsed::Ignored);

        let mut p = Sshd::default();
        feed(
            &mut p,
            2,
            "Connection from 115.249.163.77 port 51353 on 127.0.0.1 port 22",
        );
        let (_, ev) = feed(
            &mut p,
            2,
            "Disconnecting: Too many authentication failures [preauth]",
        );
        assert_eq!(ev[0].src_ip, ip("115.249.163.77"));
        assert_eq!(ev[0].src_port, Some(51353));
    }

    #[test]
    fn max_attempts_counted_once() {
        let mut p = Sshd::default();
        let (_, ev) = feed(&mut p, 5, "error: maximum authentication attempts exceeded for invalid user xxx from 192.0.2.7 port 49941 ssh2 [preauth]");
        assert_eq!(failures(&ev), 1);
        assert_eq!(ev[0].user.as_deref(), Some("xxx"));
        assert_eq!(
            ev[0].extra.get("invalid_user").map(String::as_str),
            Some("true")
        );
        let (_, ev) = feed(&mut p, 5, "Disconnecting invalid user xxx 192.0.2.7 port 49941: Too many authentication failures [preauth]");
        assert_eq!(failures(&ev), 0);

        let e = one("Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]");
        assert_eq!(
            (e.src_ip, e.user.as_deref()),
            (ip("192.0.2.117"), Some("admin"))
        );
        let e = one("Disconnecting authenticating user root 2001:db8::7 port 1: Too many authentication failures [preauth]");
        assert_eq!(e.src_ip, ip("2001:db8::7"));
    }

    #[test]
    fn user_switch_in_one_connection() {
        let mut p = Sshd::default();
        let (r, _) = feed(&mut p, 1558, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=root rhost=192.0.2.114");
        assert_eq!(r, Parsed::Ignored);
        let (_, ev) = feed(&mut p, 1558, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=sudoer rhost=192.0.2.114");
        assert_eq!(failures(&ev), 1);
        assert_eq!(ev[0].extra.get("attempts").map(String::as_str), Some("2"));
        let (_, ev) = feed(
            &mut p,
            1558,
            "Accepted password for known from 192.0.2.114 port 52100 ssh2",
        );
        assert_eq!(failures(&ev), 1);
        assert_eq!(
            ev[0].extra.get("users").map(String::as_str),
            Some("root,sudoer,known")
        );
        assert!(ev.iter().any(|e| e.kind == EventType::LoginSuccess));

        // The PAM echo of the same user never counts.
        let mut p = Sshd::default();
        for _ in 0..3 {
            let (r, _) = feed(&mut p, 9, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.62.140.253  user=root");
            assert_eq!(r, Parsed::Ignored);
            let (_, ev) = feed(
                &mut p,
                9,
                "Failed password for root from 183.62.140.253 port 1 ssh2",
            );
            assert_eq!(failures(&ev), 1);
        }
        let (_, ev) = feed(
            &mut p,
            9,
            "Accepted password for root from 183.62.140.253 port 1 ssh2",
        );
        assert_eq!(failures(&ev), 0);
    }

    #[test]
    fn preauth_disconnects() {
        for (msg, reason, host) in [
            ("Did not receive identification string from 69.61.56.114", "no identification string", "69.61.56.114"),
            ("Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778", "bad protocol version", "69.61.56.115"),
            ("Connection closed by 192.0.2.212 [preauth]", "connection closed", "192.0.2.212"),
            ("Connection reset by authenticating user root 192.0.2.20 port 1558 [preauth]", "connection reset", "192.0.2.20"),
            ("Connection closed by invalid user  192.0.2.68 port 34916 [preauth]", "connection closed", "192.0.2.68"),
            ("Disconnected from 192.0.2.4 port 36985 [preauth]", "disconnected", "192.0.2.4"),
            ("Unable to negotiate with 192.0.2.1 port 55419: no matching cipher found. Their offer: aes256-cbc [preauth]", "unable to negotiate", "192.0.2.1"),
            ("fatal: Timeout before authentication for 192.0.2.14 port 55555", "timeout before authentication", "192.0.2.14"),
            ("Timeout before authentication for connection from 192.0.2.17 to 127.0.0.1, pid = 29098", "timeout before authentication", "192.0.2.17"),
            ("banner exchange: Connection from 192.0.2.12 port 44105: invalid format", "banner exchange", "192.0.2.12"),
            ("ssh_dispatch_run_fatal: Connection from 192.0.2.13 port 33738: message authentication code incorrect [preauth]", "ssh_dispatch_run_fatal", "192.0.2.13"),
            ("error: Received disconnect from 192.168.2.92 port 1684:14: No supported authentication methods available [preauth]", "no supported authentication methods", "192.168.2.92"),
        ] {
            let e = one(msg);
            assert_eq!(e.kind, EventType::PreauthDisconnect, "{msg}");
            assert_eq!(e.extra.get("reason").map(String::as_str), Some(reason), "{msg}");
            assert_eq!(e.remote().as_deref(), Some(host), "{msg}");
        }
        let e = one("Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]");
        assert_eq!(e.user.as_deref(), Some("test 127.0.0.1 port 12345"));
        assert_eq!(e.src_ip, ip("192.0.2.11"));

        // No address of its own: the connection's.
        let mut p = Sshd::default();
        feed(
            &mut p,
            3,
            "Connection from 192.0.2.16 port 51280 on 192.0.2.16 port 22 rdomain \"\"",
        );
        let (_, ev) = feed(
            &mut p,
            3,
            "error: kex_exchange_identification: read: Connection reset by peer",
        );
        assert_eq!(ev[0].src_ip, ip("192.0.2.16"));
        let (_, ev) = feed(
            &mut p,
            3,
            "fatal: Read from socket failed: Connection reset by peer [preauth]",
        );
        assert_eq!(ev[0].kind, EventType::PreauthDisconnect);
        let (r, _) = feed(
            &mut Sshd::default(),
            4,
            "fatal: Write failed: Connection reset by peer [preauth]",
        );
        assert_eq!(r, Parsed::Ignored);
    }

    #[test]
    fn jsch_auth_fail() {
        let e = one(
            "Received disconnect from 89.24.13.192: 3: com.jcraft.jsch.JSchException: Auth fail",
        );
        assert_eq!(
            (e.kind, e.src_ip),
            (EventType::FailedLogin, ip("89.24.13.192"))
        );
        let e = one("error: Received disconnect from 10.0.0.1 port 7736:3: com.jcraft.jsch.JSchException: Auth fail [preauth]");
        assert_eq!((e.src_ip, e.src_port), (ip("10.0.0.1"), Some(7736)));
        let e =
            one("Received disconnect from 2001:db8::1: 3: Ha ha, suckers!: Auth fail [preauth]");
        assert_eq!(e.src_ip, ip("2001:db8::1"));
    }

    #[test]
    fn ignored_and_unknown() {
        for msg in [
            "Connection from 192.0.2.5",
            "pam_unix(sshd:session): session opened for user rda by (uid=0)",
            "pam_unix(sshd:auth): check pass; user unknown",
            "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
            "PAM service(sshd) ignoring max retries; 6 > 3",
            "Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]",
            "Server listening on 0.0.0.0 port 22.",
            "reverse mapping checking getaddrinfo for 191-210-223-172.user.vivozap.com.br [191.210.223.172] failed - POSSIBLE BREAK-IN ATTEMPT!",
            "Address 1.2.3.4 maps to 1234.bbbbbb.com, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
            "input_userauth_request: invalid user root [preauth]",
            "Postponed publickey for git from 192.0.2.1 port 57904 ssh2 [preauth]",
            "SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;Protocol: 2.0;Client: libssh2_1.4.3",
        ] {
            let (r, ev) = feed(&mut Sshd::default(), 1, msg);
            assert_eq!((r, ev.len()), (Parsed::Ignored, 0), "{msg}");
        }
        for msg in [
            "",
            "hello world",
            "Failed",
            "Failed password for",
            "Accepted password for x from nowhere!",
            "User x",
        ] {
            assert_eq!(
                feed(&mut Sshd::default(), 1, msg).0,
                Parsed::Unknown,
                "{msg:?}"
            );
        }
        // Legacy `sshd(pam_unix)` lines are the PAM parser's.
        let (r, _) = feed_tag(
            &mut Sshd::default(),
            "sshd(pam_unix)",
            1,
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=1.2.3.4",
        );
        assert_eq!(r, Parsed::Unknown);
        // The older message style under sshd is handed over directly.
        let e = one("(pam_unix) authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=71-13-115-12.static.mdsn.wi.charter.com  user=root");
        assert_eq!(
            e.src_host.as_deref(),
            Some("71-13-115-12.static.mdsn.wi.charter.com")
        );
    }

    #[test]
    fn prefixes_and_suffixes_never_panic() {
        let lines = [
            "Failed password for invalid user é<img> from ::ffff:1.2.3.4 port 50273 ssh2: RSA SHA256:x",
            "Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]",
            "error: Received disconnect from 10.0.0.1 port 7736:3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
            "refused connect from _U2F@::ffff:218.249.210.161 (::ffff:218.249.210.161)",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=root rhost=192.0.2.114 user=x",
            "User root from 46.45.128.3 not allowed because listed in DenyUsers",
            "kernel:[  970.699396]: [ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2",
            "Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
            "error: PAM: User not known to the underlying authentication module for illegal user k from 10.215.4.227 via x",
            "Timeout before authentication for connection from 192.0.2.17 to 127.0.0.1, pid = 29098",
        ];
        let mut p = Sshd::default();
        for line in lines {
            for (i, _) in line.char_indices() {
                let _ = feed(&mut p, 1, &line[..i]);
                let _ = feed(&mut p, 2, &line[i..]);
            }
        }
    }

    #[test]
    fn pid_memory_is_bounded() {
        let mut p = Sshd::default();
        for pid in 0..(3 * MAX_PIDS as u32) {
            feed(&mut p, pid, "Connection from 192.0.2.5 port 1");
        }
        assert!(p.pids.len() <= MAX_PIDS);
        assert!(p.pids.order.len() <= 2 * MAX_PIDS + 64);
        // The newest are kept.
        assert!(p.pids.get(Some(3 * MAX_PIDS as u32 - 1)).is_some());
        assert!(p.pids.get(Some(0)).is_none());
        // A closed connection is forgotten.
        feed(&mut p, 7, "Connection from 192.0.2.5 port 1");
        feed(&mut p, 7, "Connection closed by 192.0.2.5 port 1 [preauth]");
        assert!(p.pids.get(Some(7)).is_none());
        // Its slot is the next one given out, and the table never holds more slots than
        // connections allowed, whatever mix of opens and closes.
        let freed = p.pids.free.clone();
        feed(&mut p, 8, "Connection from 192.0.2.6 port 2");
        assert!(p.pids.free.len() < freed.len());
        for pid in 100_000..(100_000 + 2 * MAX_PIDS as u32) {
            feed(&mut p, pid, "Connection from 192.0.2.5 port 1");
            if pid % 3 == 0 {
                feed(
                    &mut p,
                    pid,
                    "Connection closed by 192.0.2.5 port 1 [preauth]",
                );
            }
        }
        assert!(p.pids.slots.len() <= MAX_PIDS);
        assert!(p.pids.len() <= MAX_PIDS);
        assert_eq!(
            p.pids.get(Some(100_001)).map(|s| s.remote.is_some()),
            None,
            "evicted long ago"
        );
        let newest = 100_000 + 2 * MAX_PIDS as u32 - 1;
        assert!(p.pids.get(Some(newest)).is_some() || newest % 3 == 0);
    }
}
